#!/bin/sh
# Discovery of a system with units at unusual places (0 through 100, 30,
# 33, 204, 215, 223, 225, 227, 246), in the current firmware's mode and in
# the old one (0x0B for units with nothing, the system block's old gaps):
# every service found, in far fewer requests than a full scan (at most
# 600, within 10 s), and the scan mode prints the units line.
. "$top_srcdir/tests/e2e/lib.sh"
. "$srcdir/tests/lib.sh"

want="100 system
100 settings
100 hub4
100 solarcharger
30 grid
33 grid
204 battery
215 solarcharger
223 solarcharger
225 battery
227 vebus
239 inverter
246 vebus"
nwant=$(printf '%s\n' "$want" | wc -l)

for mode in current old; do
  if [ $mode = old ]; then start_sim sim$mode --system "$srcdir/tests/system.txt" --old-firmware
  else start_sim sim$mode --system "$srcdir/tests/system.txt"; fi
  gx_pipeline "$tmp/$mode.ini" "$sim_port" "mode = scan"
  run 30 "$VICACQ" -c "$tmp/$mode.ini"
  expect_rc 0 "scan ($mode firmware)"
  printf '%s\n' "$want" | while read -r unit service; do
    grep -E -q "^$unit +$service " "$tmp/out" || { cat "$tmp/out" >&2; fail "$mode: $unit $service not found"; }
  done
  expect_contains "$tmp/out" "$nwant services"
  expect_contains "$tmp/out" "units = 30, 33, 100, 204, 215, 223, 225, 227, 239, 246"
  # Device ids: system/settings/hub4 are 100, the instance-0 MPPT is 0.
  expect_match "$tmp/out" "^100 +solarcharger +0 "
  expect_match "$tmp/out" "^100 +hub4 +100 "
  # The product named from the inverter's ProductId by the shared table.
  expect_match "$tmp/out" "^239 +inverter +239 +Phoenix Inverter 12V 800VA 230V "
  n=$(sed -n 's/.*discovery: [0-9]* services in \([0-9]*\) requests.*/\1/p' "$tmp/err")
  [ -n "$n" ] || { show "$tmp/err"; fail "$mode: no discovery line"; }
  ms=$(sed -n 's/.*discovery: [0-9]* services in [0-9]* requests, \([0-9]*\) ms.*/\1/p' "$tmp/err")
  note "$mode firmware: $n requests in $ms ms for $nwant services (hass-victron's scan: about 6,200), $(requests sim$mode) with the identity reads"
  [ "$n" -le 600 ] || fail "$mode: discovery took $n requests (at most 600)"
  [ -n "$ms" ] && [ "$ms" -le 10000 ] || fail "$mode: discovery took ${ms:-?} ms (at most 10 s)"
  [ "$(requests sim$mode)" -ge "$n" ] || fail "$mode: the simulator saw fewer requests than counted"
  kill "$sim_pid"
done

# The plugin's scan tool, through the core's generic tool runner.
start_sim tool --system "$srcdir/tests/system.txt"
run 30 "$VICACQ" scan modbus-gx --host 127.0.0.1 --port "$sim_port"
expect_rc 0 "vicacq scan modbus-gx --host 127.0.0.1 --port $sim_port"
expect_contains "$tmp/out" "units = 30, 33, 100, 204, 215, 223, 225, 227, 239, 246"
kill "$sim_pid"

# Old firmware: the poll splits the system block around its gaps and still
# reads every value the firmware has.
start_sim old --system "$srcdir/tests/system.txt" --old-firmware
gx_pipeline "$tmp/poll.ini" "$sim_port" "units = 100"
run 20 timeout --foreground --preserve-status -s TERM 3 "$VICACQ" -c "$tmp/poll.ini"
expect_rc 0 "poll on old firmware"
expect_value "$tmp/out" 100 battery.voltage 26.3
expect_value "$tmp/out" 100 pv.power 1234
expect_contains "$tmp/err" "block_splits"
grep -q '^100 3 800 120 ex02' "$tmp/old.log" || fail "the system block was not refused whole"
# The split is remembered: after the first cycle no more 0x02 answers.
first=$(grep -n ' ex02' "$tmp/old.log" | tail -n 1 | cut -d: -f1)
total=$(requests old)
[ $((total - first)) -gt 20 ] || fail "the poll did not go on after the splits"
exit 0

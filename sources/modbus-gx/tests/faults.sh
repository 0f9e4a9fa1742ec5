#!/bin/sh
# modbus-gx when the GX misbehaves: killed and restarted (reconnect with
# back-off, one line each way, no restart of vicacq), a unit that vanishes
# and comes back (link.online false, then data again), answers slower than
# the timeout (flushed: no answer is ever taken for the next request's).
. "$top_srcdir/tests/e2e/lib.sh"
. "$srcdir/tests/lib.sh"

start_sim sim --system "$srcdir/tests/system.txt" --control "$tmp/sim.control"
port=$sim_port
gx_pipeline "$tmp/gx.ini" "$port" "units = 100, 223, 227"
start gx -c "$tmp/gx.ini"
daemon=$pid
out=$tmp/gx.out
wait_for "$out" '"device":"227","quantity":"battery.voltage","value":26.41' 10

# 1. The GX goes away and comes back on the same port.
kill "$sim_pid"; wait "$sim_pid" 2>/dev/null; forget "$sim_pid"
wait_for "$tmp/gx.err" "lost" 10
sleep 2
start_sim sim2 --system "$srcdir/tests/system.txt" --port "$port" --control "$tmp/sim.control"
wait_for "$tmp/gx.err" "connected to 127.0.0.1:$port again" 15
before=$(wc -l <"$out")
wait_lines "$out" '"device":"223","quantity":"pv.voltage","value":71.25' 2 10
# One line per state change: lost, (cannot connect), connected again.
lost=$(grep -c "warn: source.gx: connection to .* lost" "$tmp/gx.err")
refused=$(grep -c "warn: source.gx: cannot connect" "$tmp/gx.err")
[ "$lost" = 1 ] && [ "$refused" -le 1 ] ||
  { show "$tmp/gx.err"; fail "$lost 'lost' and $refused 'cannot connect' warnings for one outage"; }

# 2. A unit vanishes (0x0A) and comes back.
sim_control sim "absent 223"
wait_for "$out" '"device":"223","quantity":"link.online","value":false' 10
expect_contains "$tmp/gx.err" "unit 223: solarcharger no longer answers"
sim_control sim "present 223"
wait_for "$tmp/gx.err" "unit 223: solarcharger answers again" 10
n=$(wc -l <"$out")
wait_for "$out" '"device":"223","quantity":"link.online","value":true' 10

# 3. Answers later than the timeout (500 ms), then on time again: every
# value read afterwards is still the right register's.
sim_control sim "delay 800"
wait_lines "$tmp/gx.err" "connection to .* lost" 2 10
sim_control sim "delay 0"
sleep 3
: >"$tmp/after"
tail -n 400 "$out" >"$tmp/after"
for q in 'device":"227","quantity":"battery.voltage","value":26.41' \
         'device":"227","quantity":"battery.current","value":-30.2' \
         'device":"223","quantity":"pv.voltage","value":71.25'; do
  expect_contains "$tmp/after" "$q"
done
# No value of 227 other than the simulator's after the slow phase.
if grep -F '"device":"227","quantity":"battery.voltage"' "$tmp/after" |
   grep -v '"value":26.41' | grep -q .; then
  fail "a desynchronised answer was decoded"
fi
kill -TERM "$daemon"
wait_exit "$daemon" 10
expect_rc 0 "vicacq after the faults"

# 4. With units = auto, a device that moves to another unit id (another
# USB port) is found again in the background while the rest is polled.
gx_pipeline "$tmp/auto.ini" "$port"
start auto -c "$tmp/auto.ini"
wait_for "$tmp/auto.out" '"device":"223","quantity":"pv.voltage","value":71.25' 10
sim_control sim "move 223 222"
wait_for "$tmp/auto.err" "discovery refreshed: 1 new services" 20
wait_for "$tmp/auto.out" '"device":"222","quantity":"pv.voltage","value":71.25' 10
n=$(grep -c '"device":"227","quantity":"battery.voltage"' "$tmp/auto.out")
[ "$n" -gt 5 ] || fail "polling stopped during the background discovery"
kill -TERM "$pid"
wait_exit "$pid" 10
expect_rc 0 "vicacq after the move"
grep -q '^222 solarcharger$' "$tmp/state/modbus-gx.gx.discovery" ||
  fail "the refreshed discovery was not kept"
exit 0

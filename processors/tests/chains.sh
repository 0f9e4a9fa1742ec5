#!/bin/sh
# The processing stage in the daemon: a BLE replay through a source chain
# (calibrate, then energy) and a sink chain (average), the order of a
# chain, what skips a processor (match), the stop flushing a window, and
# --check refusing what cannot work (exit 2, FILE:LINE and key).
. "$top_srcdir/tests/e2e/lib.sh"

capture=$top_srcdir/examples/ble-adv-demo.capture
cat >"$tmp/p.ini" <<EOT
[vicacq]
state_dir = $tmp/state
[source.shunt]
plugin = ble-adv
capture = $capture
address = C0:3B:98:00:00:01
key = aff4d0995b7d1e176c0c33ecb9e70dcd
process = cal, meters
[process.cal]
plugin = calibrate
scale.battery.voltage = 2
offset.battery.voltage = 0.5
[process.meters]
plugin = energy
[sink.raw]
plugin = stdout
format = json
[sink.slow]
plugin = stdout
format = json
process = smooth
[process.smooth]
plugin = average
match = battery.voltage
period = 10s
[route.raw]
from = shunt
to = raw
[route.slow]
from = shunt
to = slow
match = battery.voltage, battery.soc
EOT
run 30 "$VICACQ" --check -c "$tmp/p.ini"
expect_rc 0 "--check"
run 30 "$VICACQ" -c "$tmp/p.ini"
expect_rc 0 "the replay"
# Both sinks print to standard output; the raw one has the energy meters.
expect_contains "$tmp/out" '"quantity":"battery.energy_in"'
expect_contains "$tmp/out" '"quantity":"battery.cycles"'
# Calibrated before routing: every voltage is 2 x the raw one + 0.5 (the
# raw SmartShunt in this capture reads 12.53..12.56 V).
v=$(grep '"quantity":"battery.voltage"' "$tmp/out" | head -n 1 |
    sed 's/.*"value":\([0-9.]*\).*/\1/')
awk -v v="$v" 'BEGIN { exit !(v > 25.5 && v < 25.7) }' ||
  fail "battery.voltage $v was not calibrated (2 x V + 0.5)"
# The average windows end at multiples of 10 s; soc skipped the average
# (not in its match) and goes through as is.
grep -q '"time":"[0-9T:-]*[0-9]0.000000Z".*"quantity":"battery.voltage"' "$tmp/out" ||
  fail "no window-aligned average"
expect_contains "$tmp/err" "process.meters: saves:"

# Order: calibrate then deadband differs from deadband then calibrate.
order() {
  cat >"$tmp/o.ini" <<EOT
[source.shunt]
plugin = ble-adv
capture = $capture
address = C0:3B:98:00:00:01
key = aff4d0995b7d1e176c0c33ecb9e70dcd
process = $1
[process.big]
plugin = calibrate
scale.battery.voltage = 1000
[process.quiet]
plugin = deadband
threshold = 1
match = battery.voltage
[sink.out]
plugin = stdout
format = json
[route.all]
from = *
to = out
EOT
  run 30 "$VICACQ" -c "$tmp/o.ini"
  expect_rc 0 "order $1"
  grep -c '"quantity":"battery.voltage"' "$tmp/out"
}
a=$(order "big, quiet")
b=$(order "quiet, big")
note "voltages through calibrate->deadband: $a, deadband->calibrate: $b"
[ "$a" -gt "$b" ] || fail "the chain's order made no difference ($a, $b)"

# --check: the rules of the processing stage, each with FILE:LINE.
bad() {
  printf '%s\n' "$2" >"$tmp/bad.ini"
  run 10 "$VICACQ" --check -c "$tmp/bad.ini"
  expect_rc 2 "--check of $1"
  expect_match "$tmp/err" "$3"
}
bad "a processor in two sink chains" "[source.s]
plugin = ble-adv
capture = $capture
[sink.a]
plugin = stdout
process = x
[sink.b]
plugin = stdout
process = x
[process.x]
plugin = average
[route.all]
from = *
to = a, b" 'bad.ini:[0-9]+: \[sink\.(a|b)\] key .process.: \[process\.x\] is already in the chain of \[sink\.(a|b)\]'
bad "a processor on a source and a sink" "[source.s]
plugin = ble-adv
capture = $capture
process = x
[sink.a]
plugin = stdout
process = x
[process.x]
plugin = average
[route.all]
from = *
to = a" 'bad.ini:[0-9]+: .*\[process\.x\] is already in the chain of .*not both'
bad "an unknown processor" "[source.s]
plugin = ble-adv
capture = $capture
process = nope
[sink.a]
plugin = stdout
[route.all]
from = *
to = a" "bad.ini:4: \[source.s\] key 'process': no \[process.nope\] section"
bad "calibrating an enum" "[source.s]
plugin = ble-adv
capture = $capture
process = c
[process.c]
plugin = calibrate
scale.device.state = 2
[sink.a]
plugin = stdout
[route.all]
from = *
to = a" "bad.ini:7: \[process.c\] key 'scale.device.state': device.state is not a number"
bad "a source plugin as a processor" "[source.s]
plugin = ble-adv
capture = $capture
process = c
[process.c]
plugin = ble-adv
[sink.a]
plugin = stdout
[route.all]
from = *
to = a" "is not a process plugin"
exit 0

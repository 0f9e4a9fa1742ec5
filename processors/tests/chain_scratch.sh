#!/bin/sh
# One processor in two source chains (a source's and a group's, allowed):
# the records its `match` leaves out go on from its scratch buffer while
# the group they feed emits through the same processor, which must not
# reuse (or move) that buffer under them.  g2 sums only battery.soc, a
# record of the left-out part: its values must be the shunt's.
. "$top_srcdir/tests/e2e/lib.sh"

capture=$top_srcdir/examples/ble-adv-demo.capture
q="battery.voltage, battery.current, battery.power, battery.consumed_ah, battery.temperature, battery.midpoint_voltage, battery.starter_voltage, battery.time_to_go"
cat >"$tmp/p.ini" <<EOT
[source.shunt]
plugin = ble-adv
capture = $capture
address = C0:3B:98:00:00:01
key = aff4d0995b7d1e176c0c33ecb9e70dcd
process = cal
[process.cal]
plugin = calibrate
match = battery.voltage
scale.battery.voltage = 2
[source.g1]
plugin = group
members = shunt
process = cal
sum = $q
max = battery.soc, $q
[source.g2]
plugin = group
members = shunt
sum = battery.soc
[sink.raw]
plugin = stdout
format = json
[route.raw]
from = shunt, g1, g2
to = raw
EOT
run 30 "$VICACQ" -c "$tmp/p.ini"
expect_rc 0 "the replay"
soc() {
  grep "\"device\":\"$1\"" "$tmp/out" | grep -o '"quantity":"battery.soc"[^}]*' |
    sed -n 's/.*"value":\([0-9.]*\).*/\1/p' | sort -u
}
[ -n "$(soc g2)" ] || { show "$tmp/out"; fail "g2 emitted no battery.soc"; }
[ "$(soc g2)" = "$(soc c03b98000001)" ] ||
  fail "g2's battery.soc ($(soc g2)) is not the shunt's ($(soc c03b98000001))"
exit 0

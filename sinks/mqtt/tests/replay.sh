#!/bin/sh
# Real replays (the bundled BLE capture: SmartShunt, SmartSolar, IP22
# charger; the bundled VE.Direct dump of a BlueSolar MPPT) through the mqtt
# sink and, as the oracle, the stdout sink: every Home Assistant config is
# valid (required keys, device_class/unit pairs HA accepts,
# doc/protocols/sinks.md §1.5),
# every quantity has one, and every record arrives on its state topic with
# the right plain payload, in order.
. "${srcdir:-.}/tests/lib.sh"

start_broker
sub all '#'
sleep 0.3
{
  cat <<INI
[vicacq]
log_level = debug

[source.shunt]
plugin = ble-adv
capture = examples/ble-adv-demo.capture
address = C0:3B:98:00:00:01
key = aff4d0995b7d1e176c0c33ecb9e70dcd

[source.solar]
plugin = ble-adv
capture = examples/ble-adv-demo.capture
address = C0:3B:98:00:00:02
key = adeccb947395801a4dd45a2eaa44bf17

[source.charger]
plugin = ble-adv
capture = examples/ble-adv-demo.capture
address = C0:3B:98:00:00:08
key = c129cf8f75c3fe5a1655b481e205fb7d

[source.mppt]
plugin = vedirect
port = file:examples/vedirect-demo.dump

[sink.console]
plugin = stdout
format = json
path = $tmp/records.json

INI
  mqtt_section
  cat <<INI

[route.everything]
from = *
to = console, mq
INI
} > "$tmp/replay.ini"

run_vicacq replay
n=0
while kill -0 "$vicacq_pid" 2>/dev/null && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done
kill -0 "$vicacq_pid" 2>/dev/null && { show "$tmp/replay.log"; fail "the replay did not end in 30 s"; }
wait "$vicacq_pid" || { show "$tmp/replay.log"; fail "vicacq exited with an error"; }
wait_for "$tmp/all" "vicacq/status offline" 5
expect_records=$(wc -l < "$tmp/records.json")
[ "$expect_records" -gt 100 ] || fail "only $expect_records records from the replays"
note "$expect_records records replayed"

"$PY" "$srcdir/tests/ha_check.py" discovery "$tmp/all" "$tmp/records.json" \
  c03b98000001.manufacturer="Victron Energy" \
  c03b98000002.manufacturer="Victron Energy" \
  c03b98000008.manufacturer="Victron Energy" \
  HQ1411MYIKN.model="BlueSolar MPPT 75|15" \
  HQ1411MYIKN.sw_version="1.23" \
  HQ1411MYIKN.serial_number="HQ1411MYIKN" ||
  { show "$tmp/replay.log"; fail "discovery check failed"; }
"$PY" "$srcdir/tests/ha_check.py" state "$tmp/all" "$tmp/records.json" ||
  fail "state check failed"
grep -q '^homeassistant/sensor/vicacq_n/shunt_c03b98000001_battery_soc/config .*"device_class":"battery"' "$tmp/all" ||
  fail "no battery SOC entity for the SmartShunt"
grep -q '^homeassistant/sensor/vicacq_n/shunt_c03b98000001_battery_soc/config .*"default_entity_id":"sensor.vicacq_shunt_battery_soc"' "$tmp/all" ||
  fail "no default_entity_id for the SmartShunt's SOC"
# The charger's state: an enum whose options are the whole label set
# (doc/quantities.md), not only the states the replay happens to show.
grep '^homeassistant/sensor/vicacq_n/charger_c03b98000008_device_state/config ' "$tmp/all" |
  grep -q '"device_class":"enum","options":\["off","low_power","fault","bulk","absorption","float","storage","equalize"' ||
  fail "the charger's state is not an enum sensor with the full label set"
exit 0

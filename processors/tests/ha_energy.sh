#!/bin/sh
# End to end into a real mosquitto: BLE (a SmartShunt) and VE.Direct (an
# MPPT) replays through calibrate -> energy on the sources and average on
# the Home Assistant sink, plus a group device.  The energy entities are
# what HA's Energy dashboard takes (device_class energy, kWh,
# total_increasing; net: total), the group is announced as a device, and
# every discovery config passes sinks/mqtt/tests/ha_check.py.
. "$top_srcdir/tests/e2e/lib.sh"
for p in mosquitto mosquitto_sub /usr/bin/python3; do
  command -v $p >/dev/null 2>&1 || skip "$p is not installed"
done
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
  echo "listener $port 127.0.0.1"
  echo "allow_anonymous true"
  [ "$(id -u)" -eq 0 ] && echo "user root"
} >"$tmp/mosquitto.conf"
mosquitto -c "$tmp/mosquitto.conf" >"$tmp/broker.out" 2>&1 &
pids="$pids $!"
end=$(($(date +%s) + 10))
until mosquitto_sub -h 127.0.0.1 -p "$port" -t probe -W 1 -C 1 -E 2>/dev/null; do
  [ "$(date +%s)" -lt "$end" ] || fail "mosquitto did not start"
  sleep 0.1
done
mosquitto_sub -h 127.0.0.1 -p "$port" -v -q 1 -t 'homeassistant/#' -t 'vicacq/#' \
  >"$tmp/sub" 2>"$tmp/sub.err" &
pids="$pids $!"
sleep 0.3

cat >"$tmp/h.ini" <<EOT
[vicacq]
state_dir = $tmp/state
[source.shunt]
plugin = ble-adv
capture = $top_srcdir/examples/ble-adv-demo.capture
address = C0:3B:98:00:00:01
key = aff4d0995b7d1e176c0c33ecb9e70dcd
process = cal, meters
[source.mppt]
plugin = vedirect
capture = $top_srcdir/examples/vedirect-demo.dump
process = meters
[source.bank]
plugin = group
members = shunt, mppt
sum = battery.current
mean = battery.voltage
[process.cal]
plugin = calibrate
scale.battery.current = 1.01
[process.meters]
plugin = energy
input = battery.power, pv.power
[process.smooth]
plugin = average
match = battery.voltage, battery.current, pv.power
period = 30s
[sink.ha]
plugin = mqtt
host = 127.0.0.1
port = $port
node_id = n
discovery_delay = 0
process = smooth
[sink.json]
plugin = stdout
format = json
[route.all]
from = *
to = ha, json
EOT
run 60 "$VICACQ" -c "$tmp/h.ini"
expect_rc 0 "the replays"
sleep 1
kill "$(echo $pids | awk '{print $NF}')" 2>/dev/null
/usr/bin/python3 "$top_srcdir/sinks/mqtt/tests/ha_check.py" discovery "$tmp/sub" "$tmp/out" ||
  fail "the discovery does not pass Home Assistant's rules"
# The energy meters as the Energy dashboard wants them.
for q in battery_energy_in battery_energy_out pv_energy_in; do
  grep "homeassistant/sensor/.*_${q}/config" "$tmp/sub" >"$tmp/cfg.$q" ||
    { show "$tmp/sub"; fail "no discovery config for $q"; }
  expect_contains "$tmp/cfg.$q" '"device_class":"energy"'
  expect_contains "$tmp/cfg.$q" '"state_class":"total_increasing"'
  expect_match "$tmp/cfg.$q" '"unit_of_measurement":"kWh"|"unit_of_meas":"kWh"'
done
grep "homeassistant/sensor/.*_battery_energy_net/config" "$tmp/sub" | grep -q '"state_class":"total"' ||
  fail "battery.energy_net is not state_class total"
grep "homeassistant/sensor/.*_battery_cycles/config" "$tmp/sub" | grep -q '"state_class":"total_increasing"' ||
  fail "battery.cycles is not announced as total_increasing"
# The group is a device of its own.
expect_match "$tmp/sub" 'homeassistant/sensor/[^ ]*bank[^ ]*battery_current/config'
expect_contains "$tmp/out" '"source":"bank","device":"bank","quantity":"battery.current"'
exit 0

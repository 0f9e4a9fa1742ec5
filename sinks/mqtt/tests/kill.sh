#!/bin/sh
# kill -9 of the daemon: the broker publishes the will (vicacq/status
# offline); a restart says online again and re-sends discovery.  Also: a
# device that stops sending is marked unavailable after device_timeout,
# and a graceful stop publishes offline itself.
. "${srcdir:-.}/tests/lib.sh"

start_broker
sub st vicacq/status 'vicacq/fx/fixture1/availability' \
  'homeassistant/sensor/vicacq_n/fx_fixture1_fixture_value_0/config'
sleep 0.3
{
  cat <<INI
[source.fx]
plugin = fixture-source
count = 3
interval = 50ms
burst = 1
finish = no

INI
  mqtt_section "device_timeout = 1s" "keepalive = 60s"
  cat <<INI

[route.all]
from = *
to = mq
INI
} > "$tmp/k.ini"
run_vicacq k
wait_for "$tmp/st" "vicacq/status online" 10
wait_for "$tmp/st" "homeassistant/sensor/vicacq_n/fx_fixture1_fixture_value_0/config {" 10
wait_for "$tmp/st" "vicacq/fx/fixture1/availability online" 10
note "the source went quiet: the device becomes unavailable"
wait_for "$tmp/st" "vicacq/fx/fixture1/availability offline" 5

note "kill -9"
kill -KILL "$vicacq_pid"
wait "$vicacq_pid" 2>/dev/null
wait_for "$tmp/st" "vicacq/status offline" 3
[ "$(grep -c 'fixture_value_0/config {' "$tmp/st")" -eq 1 ] ||
  fail "discovery sent more than once before the restart"

note "restart"
run_vicacq k
n=0
while [ "$(grep -c 'vicacq/status online' "$tmp/st")" -lt 2 ] && [ $n -lt 200 ]; do
  sleep 0.05; n=$((n+1)); done
[ "$(grep -c 'vicacq/status online' "$tmp/st")" -ge 2 ] || { show "$tmp/st"; fail "no online after the restart"; }
n=0
while [ "$(grep -c 'fixture_value_0/config {' "$tmp/st")" -lt 2 ] && [ $n -lt 200 ]; do
  sleep 0.05; n=$((n+1)); done
[ "$(grep -c 'fixture_value_0/config {' "$tmp/st")" -ge 2 ] || { show "$tmp/st"; fail "no discovery after the restart"; }

note "Home Assistant restarts: discovery again"
mosquitto_pub -h 127.0.0.1 -p "$port" -t homeassistant/status -m online
n=0
while [ "$(grep -c 'fixture_value_0/config {' "$tmp/st")" -lt 3 ] && [ $n -lt 100 ]; do
  sleep 0.05; n=$((n+1)); done
[ "$(grep -c 'fixture_value_0/config {' "$tmp/st")" -ge 3 ] || { show "$tmp/st"; fail "no discovery after HA's birth"; }

note "graceful stop: offline"
offline_before=$(grep -c 'vicacq/status offline' "$tmp/st")
kill -TERM "$vicacq_pid"
wait "$vicacq_pid" 2>/dev/null
sleep 0.3
[ "$(grep -c 'vicacq/status offline' "$tmp/st")" -gt "$offline_before" ] ||
  { show "$tmp/st"; fail "no offline on a graceful stop"; }
exit 0

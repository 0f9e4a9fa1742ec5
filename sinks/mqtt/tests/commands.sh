#!/bin/sh
# Command round trip with the fixture source's writable fixture.setpoint:
# a number on .../set reaches the source through the core's control path,
# the confirmed value is published on the state topic and the outcome on
# .../result.  Out of range, not a number, and retained commands (live and
# stale after a restart) are refused and never reach the source.
. "${srcdir:-.}/tests/lib.sh"
# A host name: resolved with uv_getaddrinfo, never on the loop.
MQTT_HOST=localhost

t=vicacq/fx/fixture1/fixture/setpoint
start_broker
sub cmd "$t" "$t/result" "homeassistant/number/vicacq_n/fx_fixture1_fixture_setpoint/config"
sleep 0.3
{
  cat <<INI
[source.fx]
plugin = fixture-source
count = 0
interval = 200ms
burst = 1
kinds = yes
write.fixture.setpoint = 0..50

INI
  mqtt_section
  cat <<INI

[route.all]
from = *
to = mq
INI
} > "$tmp/c.ini"
run_vicacq c
wait_for "$tmp/cmd" '"command_topic":"vicacq/fx/fixture1/fixture/setpoint/set","min":0,"max":50,"step":0.1' 10
wait_for "$tmp/cmd" "$t 10" 10
sleep 0.5 # the subscription to .../set follows the first reading

pub() { mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 "$@"; }

note "a valid command"
pub -t "$t/set" -m 42.5
wait_for "$tmp/cmd" '"status":"accepted","value":42.5' 5
wait_for "$tmp/cmd" '"status":"ok","value":42.5' 5
wait_for "$tmp/cmd" "$t 42.5" 5

note "out of range"
pub -t "$t/set" -m 99
wait_for "$tmp/cmd" '"status":"refused","value":99,"message":"value outside the range' 5

note "not a number"
pub -t "$t/set" -m 'lots'
wait_for "$tmp/cmd" '"message":"payload is not a number"' 5

note "JSON value"
pub -t "$t/set" -m '{"value": 12}'
wait_for "$tmp/cmd" '"status":"ok","value":12,' 5
wait_for "$tmp/cmd" "$t 12" 5

note "a retained command (live)"
pub -r -t "$t/set" -m 7
wait_for "$tmp/cmd" '"status":"refused","value":7,"message":"retained commands are not accepted"' 5

note "a stale retained command meets a restarted daemon"
kill -TERM "$vicacq_pid"
wait "$vicacq_pid"
run_vicacq c
wait_for "$tmp/c.log" "retained command on $t/set refused" 10
sleep 1
pub -r -n -t "$t/set" # clear it
grep -q "^$t 7$" "$tmp/cmd" && fail "a retained command reached the source"
grep -q "^$t 99$" "$tmp/cmd" && fail "an out-of-range command reached the source"
grep -q '"status":"ok","value":7' "$tmp/cmd" && fail "a retained command was carried out"
grep -q "retain" "$tmp/cmd.err" && fail "subscriber error"
exit 0

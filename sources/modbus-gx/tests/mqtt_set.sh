#!/bin/sh
# End to end through a real mosquitto: the GX's ESS grid setpoint is a
# Home Assistant number entity whose range is the grant; a value published
# on its /set topic reaches the GX (FC6 to 2700), is read back and
# published on the state topic, and the outcome on /result.
. "$top_srcdir/tests/e2e/lib.sh"
. "$srcdir/tests/lib.sh"
start_broker

start_sim sim --system "$srcdir/tests/system.txt"
t=vicacq/gx/100/ess/grid_setpoint
mosquitto_sub -h 127.0.0.1 -p "$port" -v -q 1 -t "$t" -t "$t/result" \
  -t 'homeassistant/number/#' >"$tmp/sub" 2>"$tmp/sub.err" &
pids="$pids $!"
sleep 0.3
cat >"$tmp/gx.ini" <<EOT
[vicacq]
state_dir = $tmp/state
[source.gx]
plugin = modbus-gx
host = 127.0.0.1
port = $sim_port
units = 100
interval = 300ms
timeout = 500ms
write.ess.grid_setpoint = -5000..5000
[sink.mq]
plugin = mqtt
host = 127.0.0.1
port = $port
node_id = n
discovery_delay = 0
[route.all]
from = gx
to = mq
EOT
start gx -c "$tmp/gx.ini"
wait_for "$tmp/sub" '"command_topic":"vicacq/gx/100/ess/grid_setpoint/set"' 10
expect_match "$tmp/sub" '"min":-5000,"max":5000'
wait_for "$tmp/sub" "$t 50" 10
sleep 0.5
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$t/set" -m -2000
wait_for "$tmp/sub" '"status":"ok","value":-2000' 10
wait_for "$tmp/sub" "$t -2000" 10
grep -q '^100 6 2700 1 ok 63536$' "$tmp/sim.log" || { show "$tmp/sim.log"; fail "the setpoint did not reach the GX"; }
kill -TERM "$pid"
wait_exit "$pid" 10
expect_rc 0 "vicacq"
exit 0

#!/bin/sh
# End to end through a real mosquitto: the GX's ESS mode (an enum granted
# 1..3) is a Home Assistant select whose options are the labels of the
# granted codes; a label published on its /set topic is written to the
# GX as its code (FC6 to 2902), read back and shown as the label; a
# number works too; an unknown label, or a label for a number quantity,
# is refused and never reaches the GX.  The MultiPlus's device.mode,
# granted 1..4, offers charger/inverter/on/off but not eco (5).
. "$top_srcdir/tests/e2e/lib.sh"
. "$srcdir/tests/lib.sh"
start_broker

start_sim sim --system "$srcdir/tests/system.txt"
t=vicacq/gx/100/ess/mode
g=vicacq/gx/100/ess/grid_setpoint
m=vicacq/gx/227/device/mode
mosquitto_sub -h 127.0.0.1 -p "$port" -v -q 1 -t "$t" -t "$t/result" \
  -t "$g/result" -t "$m" -t "$m/result" -t 'homeassistant/+/vicacq_n/+/config' \
  >"$tmp/sub" 2>"$tmp/sub.err" &
pids="$pids $!"
sleep 0.3
cat >"$tmp/gx.ini" <<EOT
[vicacq]
state_dir = $tmp/state
[source.gx]
plugin = modbus-gx
host = 127.0.0.1
port = $sim_port
units = 100, 227
interval = 300ms
timeout = 500ms
write.ess.mode = 1..3
write.ess.grid_setpoint = -5000..5000
write.device.mode = 1..4
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
wait_for "$tmp/sub" "homeassistant/select/vicacq_n/gx_100_ess_mode/config " 10
expect_match "$tmp/sub" '"command_topic":"vicacq/gx/100/ess/mode/set"'
expect_match "$tmp/sub" '"options":\["ess_with_phase_compensation","ess_without_phase_compensation","disabled_external_control"\]'
# The setpoint's 10000 steps are a box, not a slider.
expect_match "$tmp/sub" '"min":-5000,"max":5000,"step":1,"mode":"box"'
wait_for "$tmp/sub" "$t ess_with_phase_compensation" 10
sleep 0.5

# A label, as HA's select sends it.
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$t/set" -m disabled_external_control
wait_for "$tmp/sub" '"status":"ok","value":3' 10
wait_for "$tmp/sub" "$t disabled_external_control" 10
grep -q '^100 6 2902 1 ok 3$' "$tmp/sim.log" || { show "$tmp/sim.log"; fail "the mode did not reach the GX"; }

# An unknown label, and a label on a number quantity: refused here.
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$t/set" -m keep_batteries_charged
wait_for "$tmp/sub" "$t/result {\"ticket\":null,\"status\":\"refused\",\"value\":null,\"message\":\"payload is neither a number nor a label of the quantity\"}" 10
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$g/set" -m disabled_external_control
wait_for "$tmp/sub" "$g/result {\"ticket\":null,\"status\":\"refused\",\"value\":null,\"message\":\"payload is not a number\"}" 10

# A code works too.
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$t/set" -m 2
wait_for "$tmp/sub" '"status":"ok","value":2' 10
wait_for "$tmp/sub" "$t ess_without_phase_compensation" 10
grep -q '^100 6 2902 1 ok 2$' "$tmp/sim.log" || { show "$tmp/sim.log"; fail "the code did not reach the GX"; }

# device.mode: the labels of the codes inside the grant only.
wait_for "$tmp/sub" "homeassistant/select/vicacq_n/gx_227_device_mode/config " 10
expect_match "$tmp/sub" '"options":\["charger","inverter","on","off"\]'
wait_for "$tmp/sub" "$m on" 10
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$m/set" -m off
wait_for "$tmp/sub" "$m/result {\"ticket\":" 10
wait_for "$tmp/sub" '"status":"ok","value":4' 10
wait_for "$tmp/sub" "$m off" 10
grep -q '^227 6 33 1 ok 4$' "$tmp/sim.log" || { show "$tmp/sim.log"; fail "the mode did not reach the MultiPlus"; }
# eco is a label of the set but outside the grant: the core refuses it.
mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "$m/set" -m eco
wait_for "$tmp/sub" '"status":"refused","value":5' 10

# Three writes reached the GX, the refused ones none.
n=$(grep -cE '^[0-9]+ 6 ' "$tmp/sim.log")
expect_eq "writes to the GX" "$n" 3

/usr/bin/python3 "$top_srcdir/sinks/mqtt/tests/ha_check.py" configs "$tmp/sub" select number ||
  fail "a discovery config breaks Home Assistant's rules"
kill -TERM "$pid"
wait_exit "$pid" 10
expect_rc 0 "vicacq"
exit 0

#!/bin/sh
# Command round trip to a (simulated) Blue Smart IP22 charger through the
# vedirect plugin on tcp://: mosquitto_pub of a charge current on the /set
# topic -> the charger receives the right HEX Set frame for register
# 0xEDF0 -> the confirmed value is published.  Out of range and retained
# commands never reach the charger.
. "${srcdir:-.}/tests/lib.sh"

"$PY" "$srcdir/tests/ip22_sim.py" "$tmp/sim.port" "$tmp/sim.log" &
pids="$pids $!"
n=0
while [ ! -s "$tmp/sim.port" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n+1)); done
[ -s "$tmp/sim.port" ] || fail "the simulator did not start"
simport=$(cat "$tmp/sim.port")

t=vicacq/ip22/HQ2249TNFVM/charger/current_limit
start_broker
sub cmd "$t" "$t/result" "homeassistant/number/vicacq_n/ip22_HQ2249TNFVM_charger_current_limit/config"
sleep 0.3
{
  cat <<INI
[source.ip22]
plugin = vedirect
port = tcp://127.0.0.1:$simport
write.charger.current_limit = 3..25
min_write_interval = 0

INI
  mqtt_section
  cat <<INI

[route.all]
from = *
to = mq
INI
} > "$tmp/v.ini"
run_vicacq v
wait_for "$tmp/cmd" '"command_topic":"vicacq/ip22/HQ2249TNFVM/charger/current_limit/set","min":3,"max":25' 15
wait_for "$tmp/cmd" "$t 12" 10
sleep 0.5

pub() { mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 "$@"; }
note "out of range and retained: refused"
pub -t "$t/set" -m 30
wait_for "$tmp/cmd" '"status":"refused","value":30' 5
pub -r -t "$t/set" -m 20
wait_for "$tmp/cmd" '"status":"refused","value":20,"message":"retained commands are not accepted"' 5
pub -r -n -t "$t/set"

note "12.5 A"
pub -t "$t/set" -m 12.5
wait_for "$tmp/cmd" '"status":"ok","value":12.5' 10
wait_for "$tmp/cmd" "$t 12.5" 5
# register 0xEDF0 (F0 ED), flags 00, 125 = 0x007D (7D 00), checksum
wait_for "$tmp/sim.log" ":8F0ED007D00" 2
grep -q "SET EDF0 125" "$tmp/sim.log" || { show "$tmp/sim.log"; fail "no Set of 12.5 A"; }
[ "$(grep -c 'SET EDF0' "$tmp/sim.log")" -eq 1 ] ||
  { show "$tmp/sim.log"; fail "the charger saw more than the one valid Set"; }
grep -q BADSUM "$tmp/sim.log" && fail "a HEX frame with a bad checksum"
exit 0

#!/bin/sh
# The broker goes away for 10 s in the middle of a steady stream (the
# fixture source, 100 readings/s) and comes back on the same port: every
# record emitted meanwhile arrives, in order, after the reconnect.  The
# subscriber has a persistent session (QoS 1, clean session off) on a
# broker with persistence, so it misses nothing while the broker is down;
# duplicates are allowed only as QoS 1 re-deliveries (reported).
. "${srcdir:-.}/tests/lib.sh"

topic=vicacq/fx/fixture1/fixture/value/0
start_broker "persistence true" "persistence_location $tmp/" "autosave_interval 1"
mosquitto_sub -v -W 90 -h 127.0.0.1 -p "$port" -c -i "nl-sub-$$" -q 1 -t "$topic" \
  > "$tmp/got" 2>"$tmp/sub.err" &
sub_pid=$!
pids="$pids $sub_pid"
sleep 0.3
{
  cat <<INI
[source.fx]
plugin = fixture-source
count = 0
interval = 10ms
burst = 1

INI
  mqtt_section "qos = 1" "reconnect_min = 200ms" "reconnect_max = 1s" \
    "discovery = no" "queue_max_records = 100000"
  cat <<INI

[route.all]
from = *
to = mq
INI
} > "$tmp/nl.ini"
run_vicacq nl
wait_for "$tmp/got" "$topic 100" 10
note "stream flowing; stopping the broker for 10 s"
stop_broker TERM
sleep 10
start_broker "persistence true" "persistence_location $tmp/" "autosave_interval 1"
note "broker back"
wait_for "$tmp/nl.log" "connected to 127.0.0.1:$port" 10
sleep 3
kill -TERM "$vicacq_pid"
n=0
while kill -0 "$vicacq_pid" 2>/dev/null && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
kill -0 "$vicacq_pid" 2>/dev/null && fail "vicacq did not stop on SIGTERM"
emitted=$(sed -n 's/.*source\.fx: readings: \([0-9]*\).*/\1/p' "$tmp/nl.log")
[ -n "$emitted" ] || { show "$tmp/nl.log"; fail "no reading count in the log"; }
grep -q "sink.mq: records: .* 0 dropped, 0 rejected, .* 0 lost" "$tmp/nl.log" ||
  { show "$tmp/nl.log"; fail "the core counted drops or losses"; }
last=$((emitted - 1))
wait_for "$tmp/got" "$topic $last" 10
sleep 0.5
kill "$sub_pid" 2>/dev/null
"$PY" - "$tmp/got" "$emitted" <<'PYEOF' || { show "$tmp/nl.log"; fail "records lost or out of order"; }
import sys
vals = [int(float(l.split(" ", 1)[1])) for l in open(sys.argv[1]) if " " in l]
n = int(sys.argv[2])
seen, order, dups = set(), [], 0
for v in vals:
    if v in seen:
        dups += 1
        continue
    seen.add(v)
    order.append(v)
missing = sorted(set(range(n)) - seen)
bad_order = sum(1 for a, b in zip(order, order[1:]) if b <= a)
print(f"emitted {n}, received {len(vals)} ({len(seen)} distinct), "
      f"{dups} QoS 1 re-deliveries, {len(missing)} missing, {bad_order} out of order")
if missing:
    print("missing:", missing[:20], file=sys.stderr)
sys.exit(1 if missing or bad_order else 0)
PYEOF
grep -q "unreachable" "$tmp/nl.log" || fail "the sink never noticed the broker was gone"
exit 0

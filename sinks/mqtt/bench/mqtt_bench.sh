#!/bin/sh
# mqtt sink benchmarks against a local mosquitto (make -C sinks/mqtt bench):
#  1. throughput: 200,000 one-record readings from the fixture source, as
#     fast as the loop goes, at QoS 0 and QoS 1 (the daemon exits once the
#     broker has everything; QoS 1 counts only acknowledged messages);
#  2. latency from a record's emit to a subscriber, at 1,000 records/s
#     (payload = json, whose "time" is the emit time).
# Needs VICACQ and VICACQ_PLUGIN_PATH like the tests (set below from the
# build tree when run through make).
top_build=$(cd "$(dirname "$0")/../../.." 2>/dev/null && pwd)
: "${VICACQ:=$PWD/../../daemon/vicacq}"
: "${VICACQ_PLUGIN_PATH:=$PWD:$PWD/../../tests/plugins}"
: "${top_srcdir:=$top_build}"
: "${srcdir:=$(dirname "$0")/..}"
export VICACQ VICACQ_PLUGIN_PATH top_srcdir srcdir
. "$srcdir/tests/lib.sh"

N=${BENCH_N:-200000}
# the broker's side of the latency: no Nagle towards the subscriber
start_broker "set_tcp_nodelay true"
for qos in 0 1; do
  {
    cat <<INI
[source.fx]
plugin = fixture-source
count = $N
burst = 1000

INI
    mqtt_section "qos = $qos" "discovery = no" "queue_max_records = 10000000" \
      "queue_max_bytes = 1024M" "batch_max_records = 5000"
    cat <<INI

[route.all]
from = *
to = mq
INI
  } > "$tmp/tp$qos.ini"
  t0=$(date +%s.%N)
  run_vicacq "tp$qos"
  wait "$vicacq_pid" || { show "$tmp/tp$qos.log"; fail "daemon failed"; }
  t1=$(date +%s.%N)
  grep -q "written, 0 queued, 0 dropped" "$tmp/tp$qos.log" || show "$tmp/tp$qos.log" 3
  "$PY" -c "import sys; n,a,b=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(f'QoS {sys.argv[4]}: {n} state messages in {b-a:.2f} s = {n/(b-a):,.0f} msg/s')" "$N" "$t0" "$t1" "$qos"
done

{
  cat <<INI
[source.fx]
plugin = fixture-source
count = 5000
interval = 1ms
burst = 1

INI
  mqtt_section "qos = 1" "discovery = no" "payload = json"
  cat <<INI

[route.all]
from = *
to = mq
INI
} > "$tmp/lat.ini"
mosquitto_sub -W 60 -h 127.0.0.1 -p "$port" -q 1 -F '%U %p' -t vicacq/fx/fixture1 \
  > "$tmp/lat" 2>/dev/null &
sub_pid=$!
pids="$pids $sub_pid"
sleep 0.3
run_vicacq lat
wait "$vicacq_pid"
sleep 0.5
kill "$sub_pid" 2>/dev/null
"$PY" "$srcdir/bench/latency.py" "$tmp/lat"

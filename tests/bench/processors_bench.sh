#!/bin/sh
# Processors benchmark: records/s from the fixture source through
# calibrate -> energy -> average into a discarding sink (fixture-sink), on
# one core; memory per tracked (device, quantity) series; the state file's
# write cost.  Run from a build tree: make bench, or
#   VICACQ=daemon/vicacq VICACQ_PLUGIN_PATH=... sh tests/bench/processors_bench.sh
set -eu
: "${VICACQ:?set VICACQ to the vicacq binary}"
: "${VICACQ_PLUGIN_PATH:?set VICACQ_PLUGIN_PATH to the build plugin dirs}"
export VICACQ_PLUGIN_PATH
N=${N:-2000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"

run() { # $1 label, $2 records, $3 devices, $4 source extra, $5 process list
  cat >"$tmp/p.ini" <<EOT
[vicacq]
log_level = warn
state_dir = $tmp/state
[source.bench]
plugin = fixture-source
count = $(($2 / 10))
records = 10
burst = 1000
names = battery.power, battery.voltage, battery.current, battery.soc, pv.power, pv.voltage, pv.current, battery.temperature, aux.voltage, load.current
$4
$5
[process.cal]
plugin = calibrate
scale.battery.current = 1.01
offset.battery.voltage = 0.02
[process.meters]
plugin = energy
input = battery.power, pv.power
[process.smooth]
plugin = average
period = 10s
[sink.out]
plugin = fixture-sink
queue_max_records = 100000
queue_max_bytes = 64M
batch_max_records = 5000
[route.all]
from = bench
to = out
EOT
  start=$(date +%s.%N)
  $pin "$VICACQ" -c "$tmp/p.ini" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
  end=$(date +%s.%N)
  awk -v l="$1" -v n="$2" -v s="$start" -v e="$end" \
    'BEGIN { t = e - s; printf "%s: %d records in %.2f s = %.0f records/s\n", l, n, t, n / t }'
}

run "fixture -> discarding sink (no processors)" "$N" 1 "" ""
run "fixture -> calibrate -> energy -> average -> discarding sink" "$N" 1 "" "process = cal, meters, smooth"

# Memory per series and the state file's cost: processors/bench/bench_processors.

#!/bin/sh
# Core benchmarks (issue: the vicacq core).  Prints one line per number.
#  1. records/s from a fixture source through a route into a discarding
#     sink (fixture-sink, completing every batch at once), one core;
#  2. records/s into the stdout JSON sink writing to /dev/null;
#  3. resident memory of an idle daemon with the stdout sink;
#  4. with SOAK=SECONDS: RSS at the start and end of a run at 10,000
#     records/s into the stdout sink (default skipped; the issue asks 600).
# Run from a build tree: make bench (or VICACQ=... VICACQ_PLUGIN_PATH=...).
set -eu
: "${VICACQ:?set VICACQ to the vicacq binary}"
: "${VICACQ_PLUGIN_PATH:?set VICACQ_PLUGIN_PATH to the build plugin dirs}"
export VICACQ_PLUGIN_PATH
N=${N:-5000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pipeline() { # $1 file, $2 source extra, $3 sink section body
  cat > "$1" <<EOT
[vicacq]
log_level = warn
[source.bench]
plugin = fixture-source
$2
[sink.out]
$3
queue_max_records = 100000
queue_max_bytes = 64M
batch_max_records = 5000
[route.all]
from = bench
to = out
EOT
}

rate() { # $1 label, $2 records, $3 ini; one core via taskset when present
  pin=""
  command -v taskset >/dev/null && pin="taskset -c 0"
  start=$(date +%s.%N)
  $pin "$VICACQ" -c "$3" > /dev/null
  end=$(date +%s.%N)
  awk -v l="$1" -v n="$2" -v s="$start" -v e="$end" \
    'BEGIN { t = e - s; printf "%s: %d records in %.2f s = %.0f records/s\n", l, n, t, n / t }'
}

pipeline "$tmp/discard.ini" "count = $N
records = 1
burst = 1000" "plugin = fixture-sink"
rate "fixture source -> discarding sink (1 record/reading)" "$N" "$tmp/discard.ini"

pipeline "$tmp/discard10.ini" "count = $((N / 10))
records = 10
burst = 1000" "plugin = fixture-sink"
rate "fixture source -> discarding sink (10 records/reading)" "$N" "$tmp/discard10.ini"

M=$((N / 5))
pipeline "$tmp/json.ini" "count = $M
records = 1
burst = 1000" "plugin = stdout
format = json"
rate "fixture source -> stdout json > /dev/null" "$M" "$tmp/json.ini"

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

pipeline "$tmp/idle.ini" "count = 0
interval = 1h
burst = 1" "plugin = stdout
format = json"
"$VICACQ" -c "$tmp/idle.ini" > /dev/null &
pid=$!
sleep 2
echo "idle daemon with the stdout sink: RSS $(rss $pid) kB"
kill -TERM $pid; wait $pid || true

if [ -n "${SOAK:-}" ]; then
  pipeline "$tmp/soak.ini" "count = 0
interval = 10ms
burst = 100" "plugin = stdout
format = json"
  "$VICACQ" -c "$tmp/soak.ini" > /dev/null &
  pid=$!
  sleep 5
  first=$(rss $pid)
  sleep "$SOAK"
  last=$(rss $pid)
  echo "10,000 records/s for ${SOAK} s into stdout json: RSS first $first kB, last $last kB"
  kill -TERM $pid; wait $pid || true
fi

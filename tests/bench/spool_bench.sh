#!/bin/sh
# Spool benchmarks: readings/s from a fixture source through a spooled
# sink (fixture-sink, completing every batch at once) for each spool_sync,
# with the spool in SPOOL_DIR (default a fresh directory under TMPDIR, so
# the disk behind TMPDIR is what is measured).  N readings of 1 record
# (spool_sync = always runs N / 20: one fdatasync each).
# Run from a build tree: make bench (or VICACQ=... VICACQ_PLUGIN_PATH=...).
set -eu
: "${VICACQ:?set VICACQ to the vicacq binary}"
: "${VICACQ_PLUGIN_PATH:?set VICACQ_PLUGIN_PATH to the build plugin dirs}"
export VICACQ_PLUGIN_PATH
N=${N:-500000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
spool=${SPOOL_DIR:-$tmp/spool}

bench() { # $1 spool_sync, $2 readings
  rm -rf "$spool"
  cat >"$tmp/$1.ini" <<EOF
[vicacq]
log_level = warn
[source.bench]
plugin = fixture-source
count = $2
burst = 1000
[sink.out]
plugin = fixture-sink
spool_dir = $spool
spool_sync = $1
batch_max_records = 5000
[route.all]
from = bench
to = out
EOF
  pin=""
  command -v taskset >/dev/null && pin="taskset -c 0"
  start=$(date +%s.%N)
  $pin "$VICACQ" -c "$tmp/$1.ini" >/dev/null
  end=$(date +%s.%N)
  awk -v l="$1" -v n="$2" -v s="$start" -v e="$end" \
    'BEGIN { t = e - s; printf "spool_sync = %s: %d readings in %.2f s = %.0f readings/s\n", l, n, t, n / t }'
}

bench none "$N"
bench periodic "$N"
bench always $((N / 20))

#!/bin/sh
# End-to-end benchmark: fixture readings (10 records each) through the
# daemon into a local influxd, against the same pipeline into the stdout
# sink writing to /dev/null (what the daemon alone costs).  Run with
# `make bench` in sinks/influx.
set -u
: "${VICACQ:?}" "${VICACQ_PLUGIN_PATH:?}" "${top_srcdir:?}" "${srcdir:?}"
export VICACQ_PLUGIN_PATH="$VICACQ_PLUGIN_PATH:$(dirname "$VICACQ")/../sinks/stdout"
. "$srcdir/tests/lib.sh"
READINGS=${READINGS:-100000}
influxd_setup
influxd_start

pipeline() { # SINK-SECTION...
  printf '[vicacq]\nlog_level = warn\nshutdown_timeout = 300s\n'
  printf '[source.fix]\nplugin = fixture-source\ncount = %s\nrecords = 10\nburst = 1000\n' "$READINGS"
  printf '[sink.db]\n'
  for l in "$@"; do printf '%s\n' "$l"; done
  printf 'queue_max_records = 2000000\nqueue_max_bytes = 2G\nbatch_max_records = 50000\n'
  printf '[route.all]\nfrom = *\nto = db\n'
}

measure() { # NAME INI
  _t0=$(now_ms)
  timeout 600 "$VICACQ" -c "$2" >/dev/null 2>"$tmp/run.err" || { cat "$tmp/run.err"; fail "$1 failed"; }
  _t1=$(now_ms)
  _ms=$((_t1 - _t0))
  echo "$1: $READINGS readings ($((READINGS * 10)) records) in $_ms ms: $((READINGS * 10 * 1000 / (_ms + 1))) records/s, $((READINGS * 1000 / (_ms + 1))) lines/s"
}

pipeline "plugin = stdout" "format = influx" "path = /dev/null" >"$tmp/null.ini"
measure "stdout (line protocol) to /dev/null" "$tmp/null.ini"
for gz in no yes; do
  pipeline "plugin = influx" "url = $influx_url" "database = bench$gz" \
    "create_database = yes" "gzip = $gz" >"$tmp/influx-$gz.ini"
  measure "influx into influxd 1.6.7, gzip = $gz" "$tmp/influx-$gz.ini"
  influxql "bench$gz" 'SELECT count("fixture.value.0") FROM victron' | json_rows
done
influxd_stop

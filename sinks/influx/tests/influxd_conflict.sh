#!/bin/sh
# A field type conflict: the test first writes fixture.value.1 as a
# string; readings of one source carry it as a float and influxd 1.6.7
# answers 400 "partial write: field type conflict ... dropped=N" for
# them.  Those lines are dropped and counted (records rejected, in the
# exit counters), every line of the other source lands.
. "$(dirname "$0")/lib.sh"
need_plugin tests plugins/fixture-source.la
influxd_setup
influxd_start

influxql "" 'CREATE DATABASE vq' >/dev/null
now=$(date +%s)
code=$(influx_write vq "victron,source=setup,device=x fixture.value.1=\"text\" ${now}000000000")
expect_eq "setup write" "$code" 204

cat >"$tmp/conflict.ini" <<EOF
[vicacq]
log_level = info
[source.good]
plugin = fixture-source
device = good1
count = 30
records = 1
[source.bad]
plugin = fixture-source
device = bad1
count = 5
records = 2
[sink.db]
plugin = influx
url = $influx_url
database = vq
[route.all]
from = *
to = db
EOF
run 30 "$VICACQ" -c "$tmp/conflict.ini"
expect_rc 0 "conflicting run"
# 30 good records written; 5 readings of 2 records rejected.
expect_contains "$tmp/err" "sink.db: records: 40 accepted, 30 written, 0 queued, 0 dropped, 10 rejected, 0 retries, 0 lost"
expect_contains "$tmp/err" "sink.db: lines_rejected: 5"
expect_contains "$tmp/err" "sink.db: lines_written: 30"
expect_match "$tmp/err" 'server dropped [0-9]+ of [0-9]+ lines: partial write: field type conflict: input field "fixture.value.1"'
influxql vq 'SELECT count("fixture.value.0") FROM victron GROUP BY device' >"$tmp/count.json"
"$PY" - "$tmp/count.json" <<'EOP' || fail "the good lines did not all land"
import json, sys
d = json.load(open(sys.argv[1]))
counts = {s["tags"]["device"]: s["values"][0][1] for s in d["results"][0]["series"]}
print(counts)
assert counts == {"good1": 30}, counts
EOP
influxd_stop
exit 0

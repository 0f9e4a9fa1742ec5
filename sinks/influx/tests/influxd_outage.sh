#!/bin/sh
# influxd stopped for 10 s in the middle of a stream and started again:
# every record arrives, exactly once (the fixture's values count up).
. "$(dirname "$0")/lib.sh"
need_plugin tests plugins/fixture-source.la
influxd_setup
influxd_start

cat >"$tmp/stream.ini" <<EOF
[vicacq]
log_level = info
shutdown_timeout = 20s
[source.fix]
plugin = fixture-source
count = 0
interval = 10ms
burst = 1
[sink.db]
plugin = influx
url = $influx_url
database = vq
create_database = yes
flush_interval = 200ms
timeout = 2s
retry_initial = 100ms
retry_max = 1s
[route.all]
from = *
to = db
EOF
start daemon -c "$tmp/stream.ini"
daemon=$pid
sleep 2
note "stopping influxd for 10 s"
influxd_stop
sleep 10
influxd_start
note "influxd is back"
sleep 4
kill -TERM "$daemon"
wait_exit "$daemon" 30
expect_rc 0 "daemon after SIGTERM"
err="$tmp/daemon.err"
n=$(sed -n 's/.*sink\.db: records: \([0-9]*\) accepted.*/\1/p' "$err")
[ -n "$n" ] && [ "$n" -gt 500 ] || { show "$err"; fail "too few records for a 16 s stream: ${n:-none}"; }
expect_contains "$err" "sink.db: records: $n accepted, $n written, 0 queued, 0 dropped, 0 rejected"
expect_match "$err" "sink\\.db: write failed, will retry"
influxql vq 'SELECT "fixture.value.0" FROM victron' >"$tmp/values.json"
"$PY" - "$tmp/values.json" "$n" <<'EOP' || fail "records were lost or duplicated"
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["results"][0]["series"][0]["values"]
values = sorted(v for t, v in rows)
n = int(sys.argv[2])
print("%d points in influxd, %d records accepted" % (len(values), n))
assert values == [float(i) for i in range(n)], "missing: %r" % sorted(set(range(n)) - set(int(v) for v in values))[:10]
EOP
influxd_stop
exit 0

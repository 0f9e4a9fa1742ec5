#!/bin/sh
# Running pipelines: a finite fixture source to the stdout sink in its
# three formats (exact output, doc/design.md §7), route filters, two
# sinks fed the same records, an unrouted source, the sink's path option,
# and exit 0 once every source has finished and every record is written.
. "$(dirname "$0")/lib.sh"

TIME_RE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z'

# ------------------------------------------------------------------
note "format = json, to a file through standard output"
cat >"$tmp/json.ini" <<'EOF'
[vicacq]
log_level = info
[source.fix]
plugin = fixture-source
count = 3
kinds = yes
; one reading per millisecond: three readings of one burst can fall in
; the same microsecond, and the times below must differ
interval = 1ms
burst = 1
[sink.out]
plugin = stdout
format = json
[route.all]
from = *
to = out
EOF
run 20 "$VICACQ" -c "$tmp/json.ini"
expect_rc 0 "json run"
mv "$tmp/out" "$tmp/json.out"
mv "$tmp/err" "$tmp/json.err"
expect_lines "$tmp/json.out" 21
# Every line starts with a well-formed time; the rest is compared exactly.
bad=$(grep -E -v -c "^\\{\"time\":\"$TIME_RE\",\"source\":" "$tmp/json.out")
[ "$bad" = 0 ] || { show "$tmp/json.out"; fail "$bad JSON lines without a valid time"; }
sed 's/^{"time":"[^"]*",/{/' "$tmp/json.out" >"$tmp/json.notime"
: >"$tmp/json.want"
for i in 0 1 2; do
  cat >>"$tmp/json.want" <<EOF
{"source":"fix","device":"fixture1","quantity":"fixture.value.0","value":$i,"unit":"V"}
{"source":"fix","device":"fixture1","quantity":"device.state","value":3,"text":"Bulk"}
{"source":"fix","device":"fixture1","quantity":"device.alarm_reason","value":5,"text":"Low voltage,Low SOC"}
{"source":"fix","device":"fixture1","quantity":"load.state","value":true}
{"source":"fix","device":"fixture1","quantity":"fixture.note","value":"a \\"quoted\\", text"}
{"source":"fix","device":"fixture1","quantity":"battery.temperature","value":null,"unit":"°C"}
{"source":"fix","device":"fixture1","quantity":"fixture.setpoint","value":10,"unit":"A"}
EOF
done
if ! cmp -s "$tmp/json.want" "$tmp/json.notime"; then
  diff -u "$tmp/json.want" "$tmp/json.notime" >&2
  fail "JSON lines differ from the expected ones"
fi
# The records of one reading share one time; readings have distinct,
# increasing times.
sed 's/^{"time":"\([^"]*\)".*/\1/' "$tmp/json.out" | uniq >"$tmp/json.times"
expect_lines "$tmp/json.times" 3
sort -c "$tmp/json.times" 2>/dev/null || { show "$tmp/json.times"; fail "reading times are not increasing"; }
# Counters at exit, and the reason for stopping.
expect_contains "$tmp/json.err" "source.fix: finished"
expect_contains "$tmp/json.err" "every source has finished"
expect_contains "$tmp/json.err" "sink.out: records: 21 accepted, 21 written, 0 queued, 0 dropped, 0 rejected, 0 retries, 0 lost"
expect_contains "$tmp/json.err" "source.fix: readings: 3"
expect_not_contains "$tmp/json.err" "error"

# ------------------------------------------------------------------
note "format = influx, measurement and precision"
cat >"$tmp/influx.ini" <<EOF
[source.fix]
plugin = fixture-source
count = 2
kinds = yes
[sink.lp]
plugin = stdout
format = influx
[sink.lps]
plugin = stdout
format = influx
measurement = my boat,2
precision = s
path = $tmp/influx_s.out
[sink.js]
plugin = stdout
format = json
path = $tmp/influx_json.out
[route.all]
from = fix
to = lp, lps, js
EOF
run 20 "$VICACQ" -c "$tmp/influx.ini"
expect_rc 0 "influx run"
mv "$tmp/out" "$tmp/influx.out"
expect_lines "$tmp/influx.out" 2
# Tags source, device, product (comma and space escaped; quotes are plain
# characters in a tag); i for integers; enum/bitmask labels as _text
# fields; NA (battery.temperature) left out; the time in ns.
fields='fixture.value.0=VALUE,device.state=3i,device.state_text="Bulk",device.alarm_reason=5i,device.alarm_reason_text="Low voltage,Low SOC",load.state=true,fixture.note="a \"quoted\", text",fixture.setpoint=10'
prefix='victron,source=fix,device=fixture1,product=Fixture\,\ the\ "test"\ device'
: >"$tmp/influx.want"
for i in 0 1; do
  printf '%s %s\n' "$prefix" "$(printf '%s' "$fields" | sed "s/VALUE/$i/")" >>"$tmp/influx.want"
done
sed -E 's/ [0-9]+$//' "$tmp/influx.out" >"$tmp/influx.notime"
if ! cmp -s "$tmp/influx.want" "$tmp/influx.notime"; then
  diff -u "$tmp/influx.want" "$tmp/influx.notime" >&2
  fail "line protocol differs from the expected lines"
fi
expect_not_contains "$tmp/influx.out" "battery.temperature"
bad=$(grep -E -v -c ' [0-9]{19}$' "$tmp/influx.out")
[ "$bad" = 0 ] || { show "$tmp/influx.out"; fail "line protocol time is not in nanoseconds"; }
# precision = s and a measurement that needs escaping.
expect_lines "$tmp/influx_s.out" 2
bad=$(grep -E -v -c '^my\\ boat\\,2,source=fix,device=fixture1,product=.* [0-9]{10}$' "$tmp/influx_s.out")
[ "$bad" = 0 ] || { show "$tmp/influx_s.out"; fail "measurement escaping or precision = s is wrong"; }
# The same reading has the same time in JSON (us) and line protocol (ns).
ns=$(head -n 1 "$tmp/influx.out" | sed -E 's/.* ([0-9]+)$/\1/')
s=$(head -n 1 "$tmp/influx_s.out" | sed -E 's/.* ([0-9]+)$/\1/')
expect_eq "seconds of the first reading" "$s" "$(echo "$ns" | cut -c1-10)"
if date -u -d @0 +%Y >/dev/null 2>&1; then
  want_time="$(date -u -d "@$s" +%Y-%m-%dT%H:%M:%S).$(echo "$ns" | cut -c11-16)Z"
  expect_contains "$tmp/influx_json.out" "{\"time\":\"$want_time\",\"source\":\"fix\""
fi

# ------------------------------------------------------------------
note "format = text"
cat >"$tmp/text.ini" <<'EOF'
[source.fix]
plugin = fixture-source
count = 1
kinds = yes
[sink.out]
plugin = stdout
format = text
[route.all]
from = fix
to = out
EOF
run 20 "$VICACQ" -c "$tmp/text.ini"
expect_rc 0 "text run"
mv "$tmp/out" "$tmp/text.out"
sed -E "s/^$TIME_RE //" "$tmp/text.out" >"$tmp/text.notime"
cat >"$tmp/text.want" <<'EOF'
fix fixture1 fixture.value.0 0 V
fix fixture1 device.state 3 (Bulk)
fix fixture1 device.alarm_reason 0x5 (Low voltage,Low SOC)
fix fixture1 load.state on
fix fixture1 fixture.note a "quoted", text
fix fixture1 battery.temperature n/a
fix fixture1 fixture.setpoint 10 A
EOF
if ! cmp -s "$tmp/text.want" "$tmp/text.notime"; then
  diff -u "$tmp/text.want" "$tmp/text.notime" >&2
  fail "text lines differ from the expected ones"
fi

# ------------------------------------------------------------------
note "route match, two sinks, an unrouted source, path ="
cat >"$tmp/routes.ini" <<EOF
[vicacq]
log_level = info
[source.fix]
plugin = fixture-source
count = 40
records = 3
burst = 7
kinds = yes
[source.lonely]
plugin = fixture-source
count = 5
device = lonely1
[sink.values]
plugin = stdout
format = json
path = $tmp/values.out
[sink.a]
plugin = stdout
format = json
path = $tmp/a.out
[sink.b]
plugin = stdout
format = json
path = $tmp/b.out
[sink.state]
plugin = stdout
format = json
path = $tmp/state.out
[route.values]
from = fix
to = values
match = fixture.value.*
[route.both]
from = f*
to = a, b
[route.state]
from = fix
to = state
match = device.state, load.*
EOF
run 10 "$VICACQ" --check -c "$tmp/routes.ini"
expect_rc 0 "--check of a file with an unrouted source"
run 30 "$VICACQ" -c "$tmp/routes.ini"
expect_rc 0 "routes run"
mv "$tmp/err" "$tmp/routes.err"
# match = fixture.value.*: 3 of the 9 records of each of 40 readings.
expect_lines "$tmp/values.out" 120
n=$(grep -c '"quantity":"fixture\.value\.[0-2]"' "$tmp/values.out")
expect_eq "fixture.value.* records" "$n" 120
n=$(grep -c '"quantity":"fixture\.value\.2","value":39\.02,' "$tmp/values.out")
expect_eq "the last reading's fixture.value.2" "$n" 1
# match = device.state, load.*: 2 per reading.
expect_lines "$tmp/state.out" 80
n=$(grep -c -e '"quantity":"device\.state"' -e '"quantity":"load\.state"' "$tmp/state.out")
expect_eq "device.state and load.* records" "$n" 80
# Two sinks of one route: the very same lines.
expect_lines "$tmp/a.out" 360
cmp -s "$tmp/a.out" "$tmp/b.out" || { diff "$tmp/a.out" "$tmp/b.out" | head >&2; fail "sinks a and b received different records"; }
# Records in the order emitted: fixture.value.0 counts 0..39.
grep '"quantity":"fixture\.value\.0"' "$tmp/a.out" | sed -E 's/.*"value":([0-9]+).*/\1/' >"$tmp/order"
seq 0 39 >"$tmp/order.want"
cmp -s "$tmp/order" "$tmp/order.want" || fail "readings reached sink a out of order"
# The unrouted source ran and finished, but nothing of it was delivered.
for f in values a b state; do
  expect_not_contains "$tmp/$f.out" '"source":"lonely"'
done
expect_contains "$tmp/routes.err" "source.lonely: finished"
expect_contains "$tmp/routes.err" "source.lonely: readings: 5"
expect_contains "$tmp/routes.err" "sink.a: records: 360 accepted, 360 written, 0 queued"
expect_contains "$tmp/routes.err" "sink.values: records: 120 accepted, 120 written, 0 queued"
# Nothing went to standard output: every sink writes to its path.
[ -s "$tmp/out" ] && { show "$tmp/out"; fail "output on stdout although every sink has a path"; }

# path = appends: a second run adds to the files.
run 30 "$VICACQ" -c "$tmp/routes.ini"
expect_rc 0 "second routes run"
expect_lines "$tmp/values.out" 240
expect_lines "$tmp/a.out" 720

# An unwritable path: the sink cannot start, the daemon says so and exits 1.
sed "s|^path = $tmp/values.out|path = $tmp/no/such/dir/values.out|" "$tmp/routes.ini" >"$tmp/badpath.ini"
run 20 "$VICACQ" -c "$tmp/badpath.ini"
expect_rc 1 "a sink path that cannot be opened"
expect_contains "$tmp/err" "sink.values: cannot open $tmp/no/such/dir/values.out"

# ------------------------------------------------------------------
note "a pipe on stdout, more than a pipe buffer"
cat >"$tmp/pipe.ini" <<'EOF'
[source.fix]
plugin = fixture-source
count = 2000
records = 4
[sink.out]
plugin = stdout
format = json
[route.all]
from = *
to = out
EOF
(
  rc=0
  timeout -k 2 30 "$VICACQ" -c "$tmp/pipe.ini" 2>"$tmp/pipe.err" || rc=$?
  echo "$rc" >"$tmp/pipe.rc"
) | cat >"$tmp/pipe.out"
expect_eq "exit status with stdout on a pipe" "$(cat "$tmp/pipe.rc")" 0
expect_lines "$tmp/pipe.out" 8000
expect_contains "$tmp/pipe.err" "sink.out: records: 8000 accepted, 8000 written, 0 queued, 0 dropped"
n=$(grep -c '"quantity":"fixture\.value\.3","value":1999\.03,' "$tmp/pipe.out")
expect_eq "the last record on the pipe" "$n" 1

exit 0

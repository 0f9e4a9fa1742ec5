# Helpers of the influx sink's end-to-end tests (sourced, POSIX sh), on
# top of the daemon's own tests/e2e/lib.sh (temporary directory, bounded
# waits, cleanup of every process started).

. "$top_srcdir/tests/e2e/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
command -v curl >/dev/null 2>&1 || skip "curl (the command) is missing"

# The plugins the tests use come from other directories of the build,
# which `make check` may not have reached yet: build them if needed.
need_plugin() { # DIR NAME.la
  [ -f "$top_builddir/$1/$2" ] && return 0
  ${MAKE:-make} -C "$top_builddir/$1" "$2" >"$tmp/make-$2.log" 2>&1 ||
    { show "$tmp/make-$2.log"; fail "cannot build $1/$2"; }
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# influxd_setup: a private influxd 1.6.7 configuration under $tmp/influxd
# with free loopback ports; sets $influx_url.  Skips if influxd is missing.
influxd_setup() {
  command -v influxd >/dev/null 2>&1 || skip "influxd is not installed (Debian package influxdb)"
  influx_port=$(free_port)
  influx_rpc=$(free_port)
  influx_url="http://127.0.0.1:$influx_port"
  mkdir -p "$tmp/influxd"
  cat >"$tmp/influxd/influxd.conf" <<EOC
reporting-disabled = true
bind-address = "127.0.0.1:$influx_rpc"
[meta]
  dir = "$tmp/influxd/meta"
[data]
  dir = "$tmp/influxd/data"
  wal-dir = "$tmp/influxd/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$influx_port"
  log-enabled = false
  max-body-size = ${INFLUXD_MAX_BODY:-25000000}
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
[logging]
  level = "warn"
EOC
}

# influxd_start: start it and wait (bounded) until /ping answers 204.
influxd_start() {
  influxd -config "$tmp/influxd/influxd.conf" >>"$tmp/influxd/log" 2>&1 &
  influx_pid=$!
  pids="$pids $influx_pid"
  _lend=$(($(date +%s) + 30))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$influx_url/ping")" = 204 ]; do
    running "$influx_pid" || { show "$tmp/influxd/log"; fail "influxd exited"; }
    [ "$(date +%s)" -gt "$_lend" ] && { show "$tmp/influxd/log"; fail "influxd did not answer /ping within 30 s"; }
    sleep_short
  done
}

# influxd_stop: stop it (TERM, then KILL after 10 s) and wait.
influxd_stop() {
  kill -TERM "$influx_pid" 2>/dev/null
  _lend=$(($(date +%s) + 10))
  while running "$influx_pid"; do
    [ "$(date +%s)" -gt "$_lend" ] && kill -KILL "$influx_pid" 2>/dev/null
    sleep_short
  done
  wait "$influx_pid" 2>/dev/null
  forget "$influx_pid"
}

# influxql DB QUERY: run a query, JSON to stdout (epoch ns timestamps).
influxql() {
  curl -s --max-time 20 -XPOST "$influx_url/query" --data-urlencode "db=$1" \
    --data-urlencode "epoch=ns" --data-urlencode "q=$2"
}

# influx_write DB LINES: write line protocol directly (test setup).
influx_write() {
  curl -s --max-time 20 -o "$tmp/write.out" -w '%{http_code}' -XPOST \
    "$influx_url/write?db=$1" --data-binary "$2"
}

# json_rows: the rows of a /query answer as tab-separated lines (values
# as Python prints them: strings bare, numbers as repr).
json_rows() {
  "$PY" -c '
import json, sys
d = json.load(sys.stdin)
for r in d.get("results", []):
    if "error" in r:
        print("ERROR", r["error"]); continue
    for s in r.get("series", []):
        for v in s["values"]:
            print("\t".join("" if x is None else (x if isinstance(x, str) else repr(x)) for x in v))
'
}

# counter ERRFILE NAME: a counter of the influx sink from the exit log
# ("sink.db: records: 3 accepted, 3 written, ...").
sink_counter() {
  sed -n "s/.*sink\\.db: records: .* \\([0-9][0-9]*\\) $2.*/\\1/p;s/.*sink\\.db: records: \\([0-9][0-9]*\\) $2.*/\\1/p" "$1" | tail -n 1
}

#!/bin/sh
# Issue 9, item 1: SIGHUP with the file unchanged used to point kept
# instances at the new pipeline and free the old one while the plugins
# still held the strings cfg_string had returned (mqtt host, base_topic,
# discovery prefix, credentials; influx database, measurement).  Every
# string option of the mqtt and influx sinks and of the source is set
# explicitly here (defaults are static strings and hide the bug), the file
# is reloaded several times, and what reaches the broker and the server
# must still carry exactly those strings.  Under ASan (the second build,
# doc/design.md "Decisions") a dangling pointer aborts the daemon.
. "$(dirname "$0")/lib.sh"

: "${top_builddir:?}" "${top_srcdir:?}"
for b in mosquitto mosquitto_sub python3; do
  command -v "$b" >/dev/null 2>&1 || skip "$b is not installed"
done
for d in sinks/mqtt sinks/influx; do
  ls "$top_builddir/$d/"*.la >/dev/null 2>&1 || skip "$d was not built"
done
VICACQ_PLUGIN_PATH="$VICACQ_PLUGIN_PATH:$top_builddir/sinks/mqtt:$top_builddir/sinks/influx"
export VICACQ_PLUGIN_PATH

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{
  echo "listener $port 127.0.0.1"
  echo "allow_anonymous true"
  echo "log_dest file $tmp/broker.log"
  [ "$(id -u)" -eq 0 ] && echo "user root"
} >"$tmp/mosquitto.conf"
mosquitto -c "$tmp/mosquitto.conf" >"$tmp/broker.out" 2>&1 &
pids="$pids $!"
python3 "$top_srcdir/sinks/influx/tests/v2_peer.py" "$tmp/influx.port" "$tmp/influx.log" &
pids="$pids $!"
end=$(($(date +%s) + 10))
until [ -s "$tmp/influx.port" ] && grep -q "" "$tmp/broker.log" 2>/dev/null; do
  [ "$(date +%s)" -gt "$end" ] && fail "mosquitto or the influx peer did not start"
  sleep 0.1
done
iport=$(cat "$tmp/influx.port")
mosquitto_sub -W 60 -h 127.0.0.1 -p "$port" -v -t '#' >"$tmp/topics" 2>"$tmp/sub.err" &
pids="$pids $!"

# Long, distinct values: a freed and reused block shows as other text.
base="base-$(printf '%040d' 1)"
disc="disc-$(printf '%040d' 2)"
meas="meas-$(printf '%040d' 3)"
dbname="db-$(printf '%040d' 4)"
dev="dev-$(printf '%040d' 5)"
printf 'pw-%040d\n' 6 >"$tmp/pw"
printf 'tok-%040d\n' 7 >"$tmp/tok"
chmod 600 "$tmp/pw" "$tmp/tok"
cfg="$tmp/p.ini"
cat >"$cfg" <<EOF2
[vicacq]
shutdown_timeout = 3s
state_dir = $tmp/state
[source.fix]
plugin = fixture-source
count = 0
interval = 20ms
burst = 1
device = $dev
secret_file = $tmp/pw
[sink.mq]
plugin = mqtt
host = 127.0.0.1
port = $port
client_id = client-$(printf '%030d' 8)
username = user-$(printf '%030d' 9)
password_file = $tmp/pw
base_topic = $base
discovery_prefix = $disc
node_id = node-$(printf '%030d' 10)
ha_status_topic = $disc/status
discovery_delay = 0
[sink.v1]
plugin = influx
url = http://127.0.0.1:$iport
database = $dbname
retention_policy = rp-$(printf '%030d' 11)
username = user-$(printf '%030d' 12)
password_file = $tmp/pw
measurement = $meas
flush_interval = 50ms
[sink.v2]
plugin = influx
url = http://127.0.0.1:$iport
api = v2
org = org-$(printf '%030d' 13)
bucket = bucket-$(printf '%030d' 14)
token_file = $tmp/tok
measurement = $meas
flush_interval = 50ms
[route.all]
from = fix
to = mq, v1, v2
EOF2
"$VICACQ" -c "$cfg" --check >"$tmp/check.out" 2>"$tmp/check.err" ||
  { show "$tmp/check.err"; fail "--check refused the pipeline"; }
start daemon -c "$cfg"
err="$tmp/daemon.err"
wait_lines "$tmp/topics" "^$base/" 5 15
for i in 1 2 3 4; do
  note "SIGHUP $i (file unchanged)"
  kill -HUP "$pid"
  wait_lines "$err" "reloaded $cfg: 4 kept, 0 started, 0 stopped" "$i" 10
  n=$(grep -c "^$base/" "$tmp/topics")
  wait_lines "$tmp/topics" "^$base/" $((n + 5)) 10
  n=$(grep -c '"status": 204' "$tmp/influx.log")
  wait_lines "$tmp/influx.log" '"status": 204' $((n + 2)) 10
done
kill -TERM "$pid"
wait_exit "$pid" 15
expect_not_contains "$err" "AddressSanitizer"
expect_not_contains "$err" "runtime error"
expect_eq "exit status" "$rc" 0

note "every topic and line carries the configured strings"
bad=$(grep -v -e "^$base/" -e "^$disc/" "$tmp/topics" | head -n 3)
[ -z "$bad" ] || { echo "$bad"; fail "topics outside base_topic and discovery_prefix"; }
grep -q "^$base/fix/$dev/" "$tmp/topics" || fail "no state topic of device $dev under $base"
python3 - "$tmp/influx.log" "$meas" "$dbname" <<'PYEOF' || fail "the influx requests lost their configured strings"
import json, sys
log, meas, db = sys.argv[1:]
n = {"/write": 0, "/api/v2/write": 0}
for line in open(log):
    e = json.loads(line)
    q = e["query"]
    if e["path"] == "/write":
        assert q.get("db") == [db], q
        assert q.get("rp") == ["rp-" + "0" * 28 + "11"], q
    elif e["path"] == "/api/v2/write":
        assert q.get("org") == ["org-" + "0" * 28 + "13"], q
        assert q.get("bucket") == ["bucket-" + "0" * 28 + "14"], q
        assert e["authorization"] == "Token tok-" + "0" * 39 + "7", e["authorization"]
    else:
        raise AssertionError("unexpected path " + e["path"])
    n[e["path"]] += 1
    for l in e["lines"]:
        assert l.split(",", 1)[0] == meas, l[:80]
assert n["/write"] > 2 and n["/api/v2/write"] > 2, n
PYEOF
exit 0

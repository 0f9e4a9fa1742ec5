# Shared helpers of the mqtt sink's tests against a real mosquitto on
# loopback (sourced, POSIX sh).  make check exports VICACQ,
# VICACQ_PLUGIN_PATH, top_srcdir and srcdir.  A test exits 0 when it
# passes, 77 when skipped (a peer binary is missing), else it fails.
# Everything it starts is killed on exit and its temporary directory
# removed (KEEP_TMP=1 keeps it).

set -u

: "${VICACQ:?VICACQ must name the vicacq binary (run through make check)}"
: "${VICACQ_PLUGIN_PATH:?VICACQ_PLUGIN_PATH must be set (run through make check)}"
: "${top_srcdir:?top_srcdir must be set (run through make check)}"
export VICACQ_PLUGIN_PATH

test_name=$(basename "$0" .sh)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vicacq-mqtt-$test_name.XXXXXX") ||
  { echo "FAIL: cannot create a temporary directory" >&2; exit 99; }
pids=""
broker_pid=""

cleanup() {
  for _p in $pids $broker_pid; do
    kill -KILL "$_p" 2>/dev/null
    wait "$_p" 2>/dev/null
  done
  if [ -n "${KEEP_TMP:-}" ]; then echo "(kept $tmp)" >&2; else rm -rf "$tmp"; fi
}
trap '_rc=$?; cleanup; exit $_rc' EXIT
trap 'exit 130' INT TERM HUP

fail() { echo "FAIL: $test_name: $*" >&2; exit 1; }
skip() { echo "SKIP: $test_name: $*"; exit 77; }
note() { echo "--- $*"; }
show() {
  echo "----- $1:" >&2
  if [ -f "$1" ]; then tail -n "${2:-40}" "$1" >&2; else echo "(missing)" >&2; fi
}

need() {
  for _b in "$@"; do
    command -v "$_b" >/dev/null 2>&1 || skip "$_b is not installed"
  done
}
need mosquitto mosquitto_sub mosquitto_pub
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || skip "python3 is not installed"

# free_port: a TCP port nobody listens on now.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
  "$PY" - "$1" "${2:-10}" <<'PYEOF' || fail "nothing listens on port $1"
import socket, sys, time
port, limit = int(sys.argv[1]), time.time() + float(sys.argv[2])
while time.time() < limit:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PYEOF
}

# wait_for FILE TEXT [SECONDS]: until FILE has a line containing TEXT.
wait_for() {
  _n=$(( ${3:-10} * 20 ))
  while [ "$_n" -gt 0 ]; do
    grep -F -q -e "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
    _n=$((_n - 1))
  done
  show "$1"
  fail "timed out waiting for '$2' in $1"
}

# start_broker [EXTRA CONF LINES...]: mosquitto on $port (set $port first,
# or one is chosen), config $tmp/mosquitto.conf, log $tmp/broker.log.
start_broker() {
  : "${port:=$(free_port)}"
  {
    echo "listener $port 127.0.0.1"
    echo "allow_anonymous ${BROKER_ANON:-true}"
    echo "log_dest file $tmp/broker.log"
    echo "log_type error"
    echo "log_type warning"
    echo "log_type notice"
    echo "log_type ${BROKER_LOG:-notice}"
    echo "max_queued_messages 0"
    # as root mosquitto would drop to its own user, which cannot write
    # into our private temporary directory
    [ "$(id -u)" -eq 0 ] && echo "user root"
    for _l in "$@"; do echo "$_l"; done
  } > "$tmp/mosquitto.conf"
  mosquitto -c "$tmp/mosquitto.conf" >>"$tmp/broker.out" 2>&1 &
  broker_pid=$!
  wait_port "$port"
}

stop_broker() {
  [ -n "$broker_pid" ] || return 0
  kill -"${1:-TERM}" "$broker_pid" 2>/dev/null
  wait "$broker_pid" 2>/dev/null
  broker_pid=""
}

# sub NAME TOPIC... : mosquitto_sub -v in the background into $tmp/NAME.
sub() {
  _name=$1; shift
  _args=""
  for _t in "$@"; do _args="$_args -t $_t"; done
  # shellcheck disable=SC2086
  mosquitto_sub -W "${SUB_SECONDS:-120}" -h 127.0.0.1 -p "$port" -v -q 1 $_args \
    > "$tmp/$_name" 2>"$tmp/$_name.err" &
  pids="$pids $!"
  eval "${_name}_pid=$!"
}

# run_vicacq NAME: the daemon on $tmp/NAME.ini in the background, log in
# $tmp/NAME.log, pid in $vicacq_pid.
run_vicacq() {
  (cd "$top_srcdir" && exec "$VICACQ" -c "$tmp/$1.ini") \
    > "$tmp/$1.log" 2>&1 &
  vicacq_pid=$!
  pids="$pids $vicacq_pid"
}

# mqtt_section [EXTRA LINES...]: a [sink.mq] section for $port.
mqtt_section() {
  echo "[sink.mq]"
  echo "plugin = mqtt"
  echo "host = ${MQTT_HOST:-127.0.0.1}"
  echo "port = $port"
  echo "client_id = vicacq-$test_name-$$"
  echo "node_id = ${NODE_ID:-n}"
  echo "discovery_delay = 0"
  for _l in "$@"; do echo "$_l"; done
}

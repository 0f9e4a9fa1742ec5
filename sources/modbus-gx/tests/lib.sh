# Helpers of the modbus-gx tests (sourced after tests/e2e/lib.sh).
# GX_SIM names the simulator (sources/modbus-gx/tests/gx_sim.c).

: "${GX_SIM:?GX_SIM must name the simulator (run through make check)}"

# start_sim NAME ARGS...: start the simulator with ARGS; its port in
# $sim_port, pid in $sim_pid, request log in $tmp/NAME.log.
start_sim() {
  _sname=$1
  shift
  : >"$tmp/$_sname.log"
  "$GX_SIM" --log "$tmp/$_sname.log" "$@" >"$tmp/$_sname.port" 2>"$tmp/$_sname.err" &
  sim_pid=$!
  pids="$pids $sim_pid"
  wait_for "$tmp/$_sname.port" PORT 10
  sim_port=$(awk '$1 == "PORT" { print $2 }' "$tmp/$_sname.port")
}

# sim_control NAME COMMANDS: have the simulator apply COMMANDS (its control
# file, re-read on SIGHUP).
sim_control() {
  printf '%s\n' "$2" >"$tmp/$1.control"
  kill -HUP "$sim_pid"
}

# gx_pipeline FILE PORT [EXTRA]: a pipeline of one modbus-gx source into
# the stdout sink as JSON lines.
gx_pipeline() {
  cat >"$1" <<EOT
[vicacq]
log_level = info
state_dir = $tmp/state

[source.gx]
plugin = modbus-gx
host = 127.0.0.1
port = $2
interval = 300ms
timeout = 500ms
${3:-}

[sink.out]
plugin = stdout
format = json

[route.all]
from = gx
to = out
EOT
}

# value_of FILE DEVICE QUANTITY: the last value of a record in JSON lines.
value_of() {
  grep -F "\"device\":\"$2\"" "$1" | grep -F "\"quantity\":\"$3\"" | tail -n 1 |
    sed -n 's/.*"value":\([^,}]*\).*/\1/p'
}

# expect_value FILE DEVICE QUANTITY WANT
expect_value() {
  _got=$(value_of "$1" "$2" "$3")
  [ "$_got" = "$4" ] && return 0
  grep -F "\"device\":\"$2\"" "$1" | head -n 40 >&2
  fail "device $2 $3 is '$_got', expected '$4'"
}

# requests NAME: how many requests the simulator has answered.
requests() {
  wc -l <"$tmp/$1.log" | tr -d ' '
}

# start_broker: a mosquitto on a free loopback port (skips the test when
# it is not installed); its port in $port, log in $tmp/broker.log.
start_broker() {
  for _p in mosquitto mosquitto_sub mosquitto_pub; do
    command -v $_p >/dev/null 2>&1 || skip "$_p is not installed"
  done
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  {
    echo "listener $port 127.0.0.1"
    echo "allow_anonymous true"
    echo "log_dest file $tmp/broker.log"
    [ "$(id -u)" -eq 0 ] && echo "user root"
  } >"$tmp/mosquitto.conf"
  mosquitto -c "$tmp/mosquitto.conf" >"$tmp/broker.out" 2>&1 &
  pids="$pids $!"
  _bend=$(($(date +%s) + 10))
  until mosquitto_pub -h 127.0.0.1 -p "$port" -t probe -m x 2>/dev/null; do
    [ "$(date +%s)" -lt "$_bend" ] || fail "mosquitto did not start"
    sleep 0.1
  done
}

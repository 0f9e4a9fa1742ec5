#!/bin/sh
# modbus-gx benchmark against the GX simulator (tests/gx_sim) with the test
# system (12 services on 9 units): requests and milliseconds per poll
# cycle, CPU time per device-hour at interval = 5 s, discovery requests and
# time.  Run from the build tree after `make check` built the simulator:
#   sources/modbus-gx/bench/bench_gx.sh [SECONDS]
# Numbers go to the issue note, not to a test: timing here is not stable.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
top=$(cd "$here/../.." && pwd)
secs=${1:-20}
tmp=$(mktemp -d)
trap 'kill $sim 2>/dev/null; rm -rf "$tmp"' EXIT
"$here/tests/gx_sim" --system "$here/tests/system.txt" --log "$tmp/sim.log" >"$tmp/port" &
sim=$!
sleep 0.5
port=$(awk '{print $2}' "$tmp/port")
cat >"$tmp/gx.ini" <<EOT
[vicacq]
log_level = info
state_dir = $tmp/state
[source.gx]
plugin = modbus-gx
host = 127.0.0.1
port = $port
interval = 100ms
[sink.null]
plugin = stdout
format = json
[route.all]
from = gx
to = null
EOT
export VICACQ_PLUGIN_PATH="$here:$top/sinks/stdout"
# Discovery alone (scan mode).
sed 's/^interval = 100ms/mode = scan/' "$tmp/gx.ini" >"$tmp/scan.ini"
"$top/daemon/vicacq" -c "$tmp/scan.ini" >"$tmp/scan.out" 2>"$tmp/scan.err"
grep -o 'discovery: .*' "$tmp/scan.err"
: >"$tmp/sim.log"
# Polling as fast as it goes (interval 100 ms), CPU from /proc.
"$top/daemon/vicacq" -c "$tmp/gx.ini" >/dev/null 2>"$tmp/poll.err" &
d=$!
sleep "$secs"
ticks=$(awk '{print $14 + $15}' /proc/$d/stat)
kill -TERM $d
wait $d || true
hz=$(getconf CLK_TCK)
cycles=$(sed -n 's/.*poll_cycles: \([0-9]*\).*/\1/p' "$tmp/poll.err")
us=$(sed -n 's/.*poll_us: \([0-9]*\).*/\1/p' "$tmp/poll.err")
reqs=$(wc -l <"$tmp/sim.log")
# Devices: every service found is one, but settings and hub4 share
# device 100 with system.
devices=$(grep -v '^#' "$tmp/state/modbus-gx.gx.discovery" | grep -Ecv '^100 (settings|hub4)$')
awk -v c="$cycles" -v us="$us" -v r="$reqs" -v t="$ticks" -v hz="$hz" -v n="$devices" 'BEGIN {
  cpu = t / hz
  printf "poll cycles: %d, requests per cycle: %.1f, ms per cycle: %.2f\n", c, r / c, us / c / 1000
  printf "CPU per cycle: %.3f ms; at interval = 5 s (720 cycles/h): %.3f s per hour, %.4f s per device-hour (%d devices)\n",
         cpu / c * 1000, cpu / c * 720, cpu / c * 720 / n, n
}'

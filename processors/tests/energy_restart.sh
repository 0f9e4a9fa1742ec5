#!/bin/sh
# The energy meters across kill -9: the daemon is killed in the middle of
# a VE.Direct replay in real time and started again; the first counter
# after the restart is never below the last one emitted before the kill
# (the live copy survives SIGKILL), and SIGTERM writes the state file.
. "$top_srcdir/tests/e2e/lib.sh"

cat >"$tmp/e.ini" <<EOT
[vicacq]
state_dir = $tmp/state
[source.mppt]
plugin = vedirect
capture = $top_srcdir/examples/vedirect-demo.dump
speed = 1
loop = yes
process = meters
[process.meters]
plugin = energy
input = pv.power
save_interval = 60s
[sink.out]
plugin = stdout
format = json
[route.all]
from = *
to = out
match = pv.*
EOT
last() { grep '"quantity":"pv.energy_in"' "$1" | tail -n 1 | sed 's/.*"value":\([^,}]*\).*/\1/'; }

start a -c "$tmp/e.ini"
wait_lines "$tmp/a.out" '"quantity":"pv.energy_in"' 4 20
kill -KILL "$pid"
wait "$pid" 2>/dev/null
forget "$pid"
before=$(last "$tmp/a.out")
# No save ran (save_interval 60 s): only the live copy has the counters.
[ ! -e "$tmp/state/energy.meters.state" ] || fail "a state file was written before the first save_interval"
[ -s "$tmp/state/energy.meters.live" ] || fail "no live copy in state_dir"

start b -c "$tmp/e.ini"
wait_lines "$tmp/b.out" '"quantity":"pv.energy_in"' 2 20
first=$(grep '"quantity":"pv.energy_in"' "$tmp/b.out" | head -n 1 | sed 's/.*"value":\([^,}]*\).*/\1/')
note "pv.energy_in before kill -9: $before kWh, first after the restart: $first kWh"
awk -v a="$before" -v b="$first" 'BEGIN { exit !(b >= a && a > 0) }' ||
  fail "the counter went back across kill -9 ($before -> $first)"
# Every value of the second run is non-decreasing.
grep '"quantity":"pv.energy_in"' "$tmp/b.out" | sed 's/.*"value":\([^,}]*\).*/\1/' |
  awk 'NR > 1 && $1 < prev { bad = 1 } { prev = $1 } END { exit bad }' ||
  fail "pv.energy_in went down during the second run"
kill -TERM "$pid"
wait_exit "$pid" 10
expect_rc 0 "the second run"
[ -s "$tmp/state/energy.meters.state" ] || fail "SIGTERM did not write the state file"
exit 0

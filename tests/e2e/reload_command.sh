#!/bin/sh
# Issue 10, item 8: a command sent right after a reload that restarted its
# source used to find the old, stopping instance first and was refused as
# "no such source is running".  Here the reload restarts source fix and
# adds a sink whose command goes out at once.
. "$(dirname "$0")/lib.sh"

cfg="$tmp/p.ini"
cat >"$cfg" <<EOF2
[source.fix]
plugin = fixture-source
count = 0
interval = 10ms
burst = 1
write.fixture.setpoint = 0..50
[sink.t1]
plugin = fixture-sink
output = $tmp/t1.sink
[route.r]
from = *
to = t1
EOF2
start daemon -c "$cfg"
wait_lines "$tmp/t1.sink" '^reading fix ' 5 15

cat >"$cfg" <<EOF2
[source.fix]
plugin = fixture-source
count = 0
interval = 10ms
burst = 2
write.fixture.setpoint = 0..50
[sink.t1]
plugin = fixture-sink
output = $tmp/t1.sink
[sink.c]
plugin = fixture-sink
output = $tmp/c.sink
command = fix/fixture1/fixture.setpoint=7
command_after = 0
[route.r]
from = *
to = t1, c
EOF2
kill -HUP "$pid"
wait_for "$tmp/daemon.err" "reloaded $cfg: 1 kept, 2 started, 1 stopped" 10
wait_lines "$tmp/c.sink" '^submitted ' 1 10
expect_not_contains "$tmp/c.sink" "no such source is running"
expect_match "$tmp/c.sink" '^submitted [1-9]'
wait_lines "$tmp/c.sink" '^result [0-9]+ 0 read back' 1 10
kill -TERM "$pid"
wait_exit "$pid" 10
expect_eq "exit status" "$rc" 0
exit 0

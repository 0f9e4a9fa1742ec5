#!/bin/sh
# The host's promises to plugins (plugin.h), as a plugin sees them:
#  - post() from a worker thread: every post made before the stop runs, on
#    the loop; once the stop has completed post() is refused with
#    -ESHUTDOWN and nothing posted runs any more (issue 10, item 8);
#  - timer_again: commands re-arm one timer (fixture-source) instead of
#    starting a new one per command.
. "$(dirname "$0")/lib.sh"

cfg="$tmp/p.ini"
cat >"$cfg" <<EOF2
[source.w]
plugin = fixture-source
count = 30
interval = 10ms
burst = 1
worker = yes
[sink.o]
plugin = fixture-sink
output = $tmp/o.sink
[route.r]
from = *
to = o
EOF2
run 20 "$VICACQ" -c "$cfg"
expect_rc 0 "worker pipeline"
expect_match "$tmp/err" 'source\.w: worker: [1-9][0-9]* posted, [1-9][0-9]* ran, 0 ran after stop, [1-9][0-9]* refused after stop, 0 other errors'
note "$(grep -o "worker: .*" "$tmp/err")"
posted=$(sed -n 's/.*worker: \([0-9]*\) posted, \([0-9]*\) ran,.*/\1 \2/p' "$tmp/err")
set -- $posted
# Every post accepted before the stop ran, none was lost or run twice.
expect_eq "posts that ran" "$2" "$1"

note "timer_again: three commands, one timer"
cat >"$cfg" <<EOF2
[source.fix]
plugin = fixture-source
count = 0
interval = 20ms
write.fixture.setpoint = 0..50
[sink.c1]
plugin = fixture-sink
command = fix/fixture1/fixture.setpoint=11
command_after = 50ms
output = $tmp/c1.sink
[sink.c2]
plugin = fixture-sink
command = fix/fixture1/fixture.setpoint=22
command_after = 150ms
output = $tmp/c2.sink
[sink.c3]
plugin = fixture-sink
command = fix/fixture1/fixture.setpoint=33
command_after = 250ms
output = $tmp/c3.sink
[route.r]
from = *
to = c1, c2, c3
EOF2
start daemon -c "$cfg"
# Each command completes (the fixture's one command timer, re-armed), and
# the value read back is the one asked for.
for i in 1 2 3; do
  wait_lines "$tmp/c$i.sink" '^result [0-9]+ 0 read back' 1 10
  wait_lines "$tmp/c1.sink" "fixture.setpoint=$i$i" 1 10
done
kill -TERM "$pid"
wait_exit "$pid" 10
expect_eq "exit status" "$rc" 0
expect_not_contains "$tmp/daemon.err" "plugin bug"
exit 0

#!/bin/sh
# The sd_notify protocol against a NOTIFY_SOCKET of the test's own:
# READY=1 after the sources and sinks started, WATCHDOG=1 at half of
# WATCHDOG_USEC, no pings while a fixture plugin blocks the loop thread,
# RELOADING=1/READY=1 around SIGHUP, STOPPING=1 on SIGTERM, STATUS= with
# counters.
. "$top_srcdir/tests/e2e/lib.sh"

command -v python3 >/dev/null || skip "python3 is needed for the socket peer"

cat >"$tmp/pipeline.ini" <<INI
[source.stall]
plugin = fixture-stall
stall_after = 1500ms
stall_for = 2s

[source.counter]
plugin = fixture-source
count = 5
finish = no

[sink.out]
plugin = stdout

[route.all]
from = *
to = out
INI

python3 "$srcdir/notify_listen.py" "$tmp/notify" "$tmp/events" 30 &
listener=$!
pids="$pids $listener"
wait_for "$tmp/events" "LISTENING=1" 10

# WATCHDOG_USEC=400000: pings every 200 ms.
NOTIFY_SOCKET=$tmp/notify WATCHDOG_USEC=400000 \
  start daemon -c "$tmp/pipeline.ini"
wait_for "$tmp/events" "READY=1" 10
wait_for "$tmp/daemon.err" "loop unblocked" 15
sleep 1
kill -HUP "$pid"
wait_for "$tmp/events" "RELOADING=1" 10
sleep 1
kill -TERM "$pid"
wait_exit "$pid" 15
expect_rc 0 "vicacq after SIGTERM"
sleep 0.3
kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null
forget "$listener"

cat "$tmp/daemon.err"
python3 "$srcdir/notify_check.py" "$tmp/events" 0.2 1.5 2.0 \
  "2 sources, 5 readings; 1 sinks, 5 written, 0 queued, 0 dropped" ||
  { show "$tmp/events"; fail "the notify protocol is not as expected"; }

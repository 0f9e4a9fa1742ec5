#!/bin/sh
# Signals: SIGTERM and SIGINT stop an endless pipeline with exit status 0
# after every reading emitted was delivered (no gap, no duplicate); a sink
# that never completes is given up after shutdown_timeout and the loss is
# logged; SIGUSR1 logs the counters and changes nothing.
. "$(dirname "$0")/lib.sh"

# pipeline NAME SCRIPT [DAEMON KEYS...]: an endless source to a fixture-sink
# writing to $tmp/NAME.sink.
pipeline() {
  n_=$1
  f_="$tmp/$1.ini"
  s_=$2
  shift 2
  {
    echo "[vicacq]"
    echo "log_level = info"
    for kv in "$@"; do echo "$kv"; done
    cat <<EOF
[source.fix]
plugin = fixture-source
count = 0
interval = 10ms
burst = 5
[sink.test]
plugin = fixture-sink
script = $s_
output = $tmp/$n_.sink
retry_initial = 50ms
[route.all]
from = *
to = test
EOF
  } >"$f_"
}

# stop_test NAME SIGNAL: run until 100 readings were delivered, send
# SIGNAL, expect exit 0 within 5 s and every emitted reading delivered.
stop_test() {
  name=$1
  pipeline "$name" ok
  start "$name" -c "$tmp/$name.ini"
  wait_lines "$tmp/$name.sink" '^reading fix ' 100 15
  t0=$(now_ms)
  kill "-$2" "$pid"
  wait_exit "$pid" 5
  t1=$(now_ms)
  [ "$rc" = 0 ] || { show "$tmp/$name.err"; fail "$2: exit status $rc, expected 0"; }
  note "$2: exited in $((t1 - t0)) ms"
  expect_contains "$tmp/$name.err" "$2: stopping sources, then delivering what is queued"
  expect_contiguous "$tmp/$name.sink" fix 1
  # The source's own count of readings is what the sink received.
  expect_contains "$tmp/$name.err" "source.fix: readings: $count"
  expect_contains "$tmp/$name.err" "sink.test: records: $count accepted, $count written, 0 queued, 0 dropped, 0 rejected, 0 retries, 0 lost"
  expect_not_contains "$tmp/$name.err" "error"
  [ "$count" -ge 100 ] || fail "$2: only $count readings"
}

note "SIGTERM"
stop_test term TERM

note "SIGINT"
stop_test int INT

# ------------------------------------------------------------------
note "what a source flushes in stop() is delivered, nothing after done()"
pipeline flush ok
sed -i 's/^burst = 5$/burst = 5\nflush_on_stop = yes/' "$tmp/flush.ini"
start flush -c "$tmp/flush.ini"
wait_lines "$tmp/flush.sink" '^reading fix ' 20 15
kill -TERM "$pid"
wait_exit "$pid" 5
expect_eq "exit status with a flush in stop()" "$rc" 0
n=$(grep -c 'fixture\.flushed=' "$tmp/flush.sink")
expect_eq "readings flushed in stop() and delivered" "$n" 1
tail -n 1 "$tmp/flush.sink" | grep -q 'fixture\.flushed=' || { show "$tmp/flush.sink"; fail "the flushed reading is not the last one"; }
expect_not_contains "$tmp/flush.sink" "fixture.after_done"
expect_contiguous "$tmp/flush.sink" fix 1
expect_contains "$tmp/flush.err" "source.fix: readings: $count"

# ------------------------------------------------------------------
note "SIGUSR1 logs the counters, the daemon keeps running"
name=usr1
pipeline usr1 ok
start usr1 -c "$tmp/usr1.ini"
wait_lines "$tmp/usr1.sink" '^reading fix ' 20 15
kill -USR1 "$pid"
wait_for "$tmp/usr1.err" "sink.test: records: " 5
wait_for "$tmp/usr1.err" "source.fix: readings: " 5
expect_match "$tmp/usr1.err" 'sink\.test: records: [0-9]+ accepted, [0-9]+ written, [0-9]+ queued, 0 dropped, 0 rejected, 0 retries, 0 lost'
running "$pid" || { show "$tmp/usr1.err"; fail "SIGUSR1 stopped the daemon"; }
before=$(grep -c '^reading ' "$tmp/usr1.sink")
wait_lines "$tmp/usr1.sink" '^reading fix ' $((before + 20)) 10
kill -USR1 "$pid"
wait_lines "$tmp/usr1.err" 'sink\.test: records: ' 2 5
kill -TERM "$pid"
wait_exit "$pid" 5
expect_eq "exit status after SIGUSR1 and SIGTERM" "$rc" 0
expect_contiguous "$tmp/usr1.sink" fix 1
# Three counter lines: two from SIGUSR1, one at exit.
n=$(grep -c 'sink\.test: records: ' "$tmp/usr1.err")
expect_eq "counter lines" "$n" 3

# ------------------------------------------------------------------
note "a hung sink: shutdown_timeout = 1s"
name=hang
pipeline hang "ok,ok,hang" "shutdown_timeout = 1s"
start hang -c "$tmp/hang.ini"
wait_for "$tmp/hang.sink" "write 3 hang" 15
sleep 1 # readings pile up behind the hung write
t0=$(now_ms)
kill -TERM "$pid"
wait_for "$tmp/hang.err" "SIGTERM: stopping sources" 5
kill -TERM "$pid" # a second signal while stopping changes nothing
wait_exit "$pid" 6
t1=$(now_ms)
expect_eq "exit status after giving up on a hung sink" "$rc" 0
elapsed=$((t1 - t0))
note "hung sink: exited in $elapsed ms"
[ "$elapsed" -ge 900 ] || fail "exited after $elapsed ms, before shutdown_timeout (1 s)"
[ "$elapsed" -le 3500 ] || fail "exited after $elapsed ms, expected about 1 s"
expect_contains "$tmp/hang.err" "already stopping"
expect_contains "$tmp/hang.err" "shutdown_timeout reached with records still queued"
# The records that were never written are counted and said to be lost.
accepted=$(sed -n 's/.*sink\.test: records: \([0-9]*\) accepted.*/\1/p' "$tmp/hang.err" | tail -n 1)
written=$(sed -n 's/.*sink\.test: records: [0-9]* accepted, \([0-9]*\) written.*/\1/p' "$tmp/hang.err" | tail -n 1)
[ -n "$accepted" ] && [ -n "$written" ] || { show "$tmp/hang.err"; fail "no counters at exit"; }
lost=$((accepted - written))
[ "$lost" -gt 0 ] || fail "nothing was lost although the sink hung"
expect_contains "$tmp/hang.err" "sink.test: stopping with $lost records not delivered (shutdown_timeout reached; set spool_dir"
expect_contains "$tmp/hang.err" "$lost lost"
# What was written before the hang is a contiguous start.
expect_contiguous "$tmp/hang.sink" fix 1
expect_eq "readings written before the hang" "$count" "$written"

exit 0

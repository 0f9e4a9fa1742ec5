#!/bin/sh
# kill -9 with a spool: every reading the daemon had accepted (counted in
# its stats) when it was killed is delivered by the next run, once, in
# order; with spool_sync = always and with the default.  (Each accepted
# frame is in the file before it counts, so a crash of the daemon loses
# none; spool_sync is about a crash of the machine, which a test cannot
# stage: see spool_sync in vicacq.ini(5).)
. "$(dirname "$0")/lib.sh"

# config NAME SPOOL SYNC DEVICE COUNT SCRIPT
config() {
  cat >"$tmp/$1.ini" <<EOF
[vicacq]
shutdown_timeout = 1s
[source.fix]
plugin = fixture-source
device = $4
count = $5
interval = 2ms
burst = 5
[sink.test]
plugin = fixture-sink
script = $6
output = $tmp/$1.sink
spool_dir = $2
$3
batch_max_records = 50
[route.all]
from = fix
to = test
EOF
}

# kill_run NAME SPOOL SYNC: readings spool up behind a hung write; the
# stats are asked for and the daemon is killed as soon as they are
# logged.  Sets $accepted (readings accepted by then) and $delivered
# (delivered before the kill, seq 1..$delivered).
kill_run() {
  config "$1" "$2" "$3" fixture1 0 "ok,ok,ok,hang"
  start "$1" -c "$tmp/$1.ini"
  wait_for "$tmp/$1.sink" "write 4 hang" 10
  sleep 1
  kill -USR1 "$pid"
  wait_for "$tmp/$1.err" "sink.test: records:" 5
  kill -KILL "$pid"
  wait_exit "$pid" 5
  accepted=$(sed -n 's/.*sink\.test: records: \([0-9]*\) accepted.*/\1/p' "$tmp/$1.err" | tail -n 1)
  expect_contiguous "$tmp/$1.sink" fix 1
  delivered=$last
  [ "$accepted" -gt $((delivered + 10)) ] || fail "$1: too little spooled ($accepted accepted, $delivered delivered)"
}

# next_run NAME SPOOL: a healthy sink delivers what the killed run kept,
# then one new reading.  Sets $redelivered and $upto (the last seq).
next_run() {
  config "$1" "$2" "" second 1 ok
  run 30 "$VICACQ" -c "$tmp/$1.ini"
  expect_rc 0 "$1"
  awk '$1 == "reading" && $3 == "fixture1" { print "reading fix", $3, $4 }' "$tmp/$1.sink" >"$tmp/$1.kept"
  expect_contiguous "$tmp/$1.kept" fix $((delivered + 1))
  redelivered=$count
  upto=$last
  expect_eq "$1: the new reading" "$(awk '$1 == "reading" && $3 == "second" { print $4 }' "$tmp/$1.sink")" 1
}

for sync in always default; do
  case $sync in
    always) line="spool_sync = always" ;;
    default) line="" ;;
  esac
  note "spool_sync $sync: kill -9 with readings spooled"
  kill_run "k_$sync" "$tmp/spool_$sync" "$line"
  next_run "n_$sync" "$tmp/spool_$sync"
  note "spool_sync $sync: $accepted accepted before kill -9, $delivered delivered then, $redelivered delivered by the next run (up to seq $upto), $((accepted > upto ? accepted - upto : 0)) lost"
  [ "$upto" -ge "$accepted" ] ||
    fail "spool_sync $sync: readings $((upto + 1))..$accepted were accepted before kill -9 and are lost"
done
exit 0

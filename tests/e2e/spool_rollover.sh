#!/bin/sh
# The spool with a healthy sink (completing each write 3 ms later, as a
# network sink does) and segments that roll over every few
# hundred readings (spool_max_bytes = 256k: 16 kB segments): every reading
# is delivered, in order, without a stall and without a drop; the spool
# stays small; after a restart a new reading is delivered at once.
. "$(dirname "$0")/lib.sh"

# config NAME DEVICE COUNT: source fix (COUNT readings) to fixture-sink
# "test", spooled in $tmp/spool.
config() {
  cat >"$tmp/$1.ini" <<EOF
[vicacq]
shutdown_timeout = 2s
[source.fix]
plugin = fixture-source
device = $2
count = $3
interval = 2ms
burst = 5
[sink.test]
plugin = fixture-sink
delay = 3ms
output = $tmp/$1.sink
spool_dir = $tmp/spool
spool_max_bytes = 256k
batch_max_records = 50
[route.all]
from = fix
to = test
EOF
}

note "20000 readings through a spool of 16 kB segments"
config roll roll 20000
t0=$(now_ms)
run 60 "$VICACQ" -c "$tmp/roll.ini"
t1=$(now_ms)
expect_rc 0 "rollover run"
expect_contiguous "$tmp/roll.sink" fix 1
expect_eq "readings delivered" "$count" 20000
expect_not_contains "$tmp/err" "dropped the oldest"
expect_not_contains "$tmp/err" "queue full"
expect_not_contains "$tmp/err" "spool full"
expect_match "$tmp/err" "sink\\.test: records: 20000 accepted, 20000 written, 0 queued, 0 dropped"
# 20000 readings at 5 per 2 ms take 8 s; a stall until the spool is full
# (then a dropped segment) would show as drops above, a slow drain here.
note "rollover: 20000 sent, 20000 delivered, 0 dropped in $((t1 - t0)) ms"
[ $((t1 - t0)) -lt 20000 ] || fail "the run took $((t1 - t0)) ms"
segs=$(ls "$tmp/spool/test" | grep -c '\.seg$')
[ "$segs" -le 2 ] || fail "$segs segments left behind with everything delivered"

note "a restart, then one new reading"
config again again 1
run 30 "$VICACQ" -c "$tmp/again.ini"
expect_rc 0 "restart"
expect_not_contains "$tmp/err" "records from before"
expect_eq "the new reading" "$(awk '$1 == "reading" { print $3, $4 }' "$tmp/again.sink")" "again 1"
note "and once more (the ack file now names the last run's segment)"
config third third 1
run 30 "$VICACQ" -c "$tmp/third.ini"
expect_rc 0 "second restart"
expect_eq "the new reading" "$(awk '$1 == "reading" { print $3, $4 }' "$tmp/third.sink")" "third 1"
exit 0

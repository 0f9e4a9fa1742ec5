#!/bin/sh
# The spool (spool_dir): a sink that cannot deliver keeps its queue on disk
# across a restart; the next run delivers every kept reading, oldest first,
# exactly once (also through retries and partial writes), and then the new
# ones.  A corrupted spool costs the damaged reading only, and says so.
. "$(dirname "$0")/lib.sh"

# config NAME SPOOL DEVICE COUNT SCRIPT: source fix (device DEVICE, COUNT
# readings, 0 = endless) to fixture-sink "test" spooling in SPOOL.
config() {
  cat >"$tmp/$1.ini" <<EOF
[vicacq]
shutdown_timeout = 1s
[source.fix]
plugin = fixture-source
device = $3
count = $4
interval = 10ms
burst = 3
[sink.test]
plugin = fixture-sink
script = $5
output = $tmp/$1.sink
spool_dir = $2
retry_initial = 50ms
retry_max = 100ms
batch_max_records = 50
[route.all]
from = *
to = test
EOF
}

# first_run NAME SPOOL: an endless source, a sink that takes 3 writes and
# then hangs; SIGTERM after 300 readings.  Sets $delivered (readings
# written, seq 1..$delivered), $emitted and $kept (records left in the
# spool, said in the log).
first_run() {
  config "$1" "$2" fixture1 0 "ok,ok,ok,hang"
  start "$1" -c "$tmp/$1.ini"
  wait_for "$tmp/$1.sink" "write 4 hang" 10
  # Readings go on into the spool behind the hung write.
  end=$(($(date +%s) + 15))
  while :; do
    kill -USR1 "$pid"
    sleep 0.2 2>/dev/null || sleep 1
    a=$(sed -n 's/.*sink\.test: records: \([0-9]*\) accepted.*/\1/p' "$tmp/$1.err" | tail -n 1)
    [ "${a:-0}" -ge 300 ] && break
    [ "$(date +%s)" -gt "$end" ] && { show "$tmp/$1.err"; fail "$1: the source does not get to 300 readings"; }
  done
  kill -TERM "$pid"
  wait_exit "$pid" 6
  expect_eq "$1: exit status" "$rc" 0
  expect_contiguous "$tmp/$1.sink" fix 1
  delivered=$last
  emitted=$(sed -n 's/.*source\.fix: readings: \([0-9]*\)$/\1/p' "$tmp/$1.err" | tail -n 1)
  kept=$(sed -n 's/.*sink\.test: \([0-9]*\) records kept in the spool for the next start$/\1/p' "$tmp/$1.err")
  [ -n "$kept" ] || { show "$tmp/$1.err"; fail "$1: no 'records kept in the spool' in the log"; }
  expect_eq "$1: records kept" "$kept" $((emitted - delivered))
  expect_not_contains "$tmp/$1.err" "records not delivered"
  [ -d "$2/test" ] || fail "$1: no spool directory $2/test"
  note "$1: $emitted emitted, $delivered delivered, $kept kept"
}

# ------------------------------------------------------------------
note "first run: the sink hangs, SIGTERM"
spool="$tmp/spool"
first_run run1 "$spool"

note "second run: what was kept comes first, exactly once"
# A retry and a partial write on the way must not lose or repeat anything.
config run2 "$spool" second 5 "retry,partial:3:0,retry,ok"
run 30 "$VICACQ" -c "$tmp/run2.ini"
expect_rc 0 "second run"
expect_contains "$tmp/err" "sink.test: spool $spool/test holds $kept records from before; delivering them first"
awk '$1 == "reading" { print $3, $4 }' "$tmp/run2.sink" >"$tmp/run2.readings"
# The kept readings of fixture1, in order, then the 5 new ones.
{
  i=$((delivered + 1))
  while [ "$i" -le "$emitted" ]; do
    echo "fixture1 $i"
    i=$((i + 1))
  done
  for i in 1 2 3 4 5; do echo "second $i"; done
} >"$tmp/run2.want"
if ! cmp -s "$tmp/run2.want" "$tmp/run2.readings"; then
  diff "$tmp/run2.want" "$tmp/run2.readings" | head -n 20 >&2
  fail "the second run did not deliver the kept readings exactly once, oldest first"
fi
expect_contains "$tmp/run2.sink" "write 1 retry"
expect_contains "$tmp/run2.sink" "write 2 partial:3:0"
expect_not_contains "$tmp/err" "error"

note "third run: nothing is delivered twice"
config run3 "$spool" third 2 ok
run 30 "$VICACQ" -c "$tmp/run3.ini"
expect_rc 0 "third run"
expect_not_contains "$tmp/err" "records from before"
expect_eq "third run readings" "$(awk '$1 == "reading" { print $3, $4 }' "$tmp/run3.sink" | tr '\n' ' ')" "third 1 third 2 "

# ------------------------------------------------------------------
note "a corrupted spool"
spool="$tmp/spool2"
first_run crun1 "$spool"
# The segment holding the kept readings, and where they start in it.
seg=$(ls -S "$spool/test"/*.seg | head -n 1)
size=$(wc -c <"$seg" | tr -d ' ')
ackseg=$(cut -d' ' -f1 "$spool/test/ack")
ackoff=$(cut -d' ' -f2 "$spool/test/ack")
from=0
[ "$(basename "$seg" .seg)" = "$ackseg" ] && from=$ackoff
[ $((size - from)) -gt 1000 ] || fail "the spool segment is too small to corrupt ($from..$size)"
# Flip every bit of one byte in the middle of the unacknowledged frames.
off=$(((from + size) / 2))
byte=$(od -An -tu1 -j "$off" -N1 "$seg" | tr -d ' ')
flipped=$((255 - byte))
# shellcheck disable=SC2059
printf "\\$(printf %03o "$flipped")" | dd of="$seg" bs=1 seek="$off" count=1 conv=notrunc 2>/dev/null
expect_eq "the flipped byte" "$(od -An -tu1 -j "$off" -N1 "$seg" | tr -d ' ')" "$flipped"
note "flipped byte $off of $(basename "$seg") ($from..$size unacknowledged)"

config crun2 "$spool" second 5 ok
run 30 "$VICACQ" -c "$tmp/crun2.ini"
expect_rc 0 "run after the corruption"
expect_match "$tmp/err" 'sink\.test: spool segment [0-9a-f]{16}: corrupt (data|frame) at offset [0-9]+'
expect_contains "$tmp/err" "sink.test: spool $spool/test holds $((kept - 1)) records from before; delivering them first"
# Every kept reading but the damaged one, in order, once; then the new ones.
awk '$1 == "reading" && $3 == "fixture1" { print $4 }' "$tmp/crun2.sink" >"$tmp/crun2.seqs"
expect_lines "$tmp/crun2.seqs" $((kept - 1))
expect_eq "first kept reading" "$(head -n 1 "$tmp/crun2.seqs")" $((delivered + 1))
expect_eq "last kept reading" "$(tail -n 1 "$tmp/crun2.seqs")" "$emitted"
gaps=$(awk 'NR > 1 && $1 != prev + 1 { print prev + 1 ".." $1 - 1 } { prev = $1 }' "$tmp/crun2.seqs")
expect_eq "missing readings" "$(echo "$gaps" | wc -l | tr -d ' ')" 1
gap_from=${gaps%%..*}
gap_to=${gaps##*..}
expect_eq "readings lost to the corruption" "$gap_from" "$gap_to"
expect_eq "new readings after the kept ones" \
  "$(awk '$1 == "reading" { print $3 }' "$tmp/crun2.sink" | uniq | tr '\n' ' ')" "fixture1 second "

exit 0

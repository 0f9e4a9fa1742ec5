#!/bin/sh
# The spool on a full disk: a 256 kB tmpfs as spool_dir (in a private mount
# namespace) and a sink that is down.  Every reading is delivered or
# counted as dropped, exactly; the disk filling is logged a few times, not
# once per reading; delivery resumes once the sink is back although the
# disk was full; SIGTERM while the disk is full ends the daemon within
# shutdown_timeout, and what it says it kept is what the next run
# delivers.  Needs root (mount); CI runs as root.
if [ -z "${VQ_SPOOL_FULL_NS:-}" ]; then
  [ "$(id -u)" = 0 ] || { echo "SKIP: spool_full: needs root to mount a small tmpfs"; exit 77; }
  command -v unshare >/dev/null 2>&1 || { echo "SKIP: spool_full: no unshare(1)"; exit 77; }
  unshare -m true 2>/dev/null || { echo "SKIP: spool_full: cannot create a mount namespace here"; exit 77; }
  VQ_SPOOL_FULL_NS=1 exec unshare -m --propagation private sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

disk="$tmp/disk"
mkdir "$disk"
mount -t tmpfs -o size=256k vqspool "$disk" || skip "cannot mount a tmpfs"
# The daemons go first: a file they hold open keeps the tmpfs busy.
unmount_disk() {
  for _p in $pids; do kill -KILL "$_p" 2>/dev/null; wait "$_p" 2>/dev/null; done
  pids=""
  umount "$disk" 2>/dev/null
}
trap '_lrc=$?; unmount_disk; cleanup; exit $_lrc' EXIT

# config NAME DEVICE COUNT INTERVAL: source fix to fixture-sink "test",
# which is down while $tmp/down exists; spool on the small disk.
config() {
  cat >"$tmp/$1.ini" <<EOF
[vicacq]
shutdown_timeout = 1s
[source.fix]
plugin = fixture-source
device = $2
count = $3
interval = $4
burst = 10
[sink.test]
plugin = fixture-sink
output = $tmp/$1.sink
fail_while = $tmp/down
spool_dir = $disk/spool
retry_initial = 50ms
retry_max = 200ms
batch_max_records = 200
[route.all]
from = fix
to = test
EOF
}

# stat NAME FIELD: the last value of FIELD (accepted, written, queued,
# dropped, lost) in the stats lines of NAME's log.
stat() {
  sed -n "s/.*sink\\.test: records: \\([0-9]*\\) accepted, \\([0-9]*\\) written, \\([0-9]*\\) queued, \\([0-9]*\\) dropped, .* \\([0-9]*\\) lost\$/\\1 \\2 \\3 \\4 \\5/p" \
    "$tmp/$1.err" | tail -n 1 | {
    read -r a w q d l || exit 0
    case $2 in
      accepted) echo "$a" ;; written) echo "$w" ;; queued) echo "$q" ;;
      dropped) echo "$d" ;; lost) echo "$l" ;;
    esac
  }
}

# stats NAME: ask for the stats and wait until a new line is logged.
stats() {
  _n=$(grep -c "sink.test: records:" "$tmp/$1.err")
  kill -USR1 "$pid"
  wait_lines "$tmp/$1.err" "sink\\.test: records:" $((_n + 1)) 5
}

# check_delivered NAME DEVICE: the readings of DEVICE in NAME's sink file
# are distinct; sets $delivered to their number.
check_delivered() {
  awk -v dev="$2" '$1 == "reading" && $3 == dev { print $4 }' "$tmp/$1.sink" | sort -n >"$tmp/$1.seqs"
  delivered=$(wc -l <"$tmp/$1.seqs" | tr -d ' ')
  dups=$(uniq -d "$tmp/$1.seqs" | wc -l | tr -d ' ')
  expect_eq "$1: readings delivered twice" "$dups" 0
}

# ------------------------------------------------------------------
note "the sink is down until the disk has filled, then recovers"
touch "$tmp/down"
config full fill 0 5ms
start full -c "$tmp/full.ini"
wait_for "$tmp/full.err" "spool write failed: No space left on device" 30
sleep 2
stats full
expect_match "$tmp/full.err" "sink\\.test: spool write failed: No space left on device"
rm "$tmp/down"
# The backlog on the disk is delivered and the readings since go straight
# through: written keeps growing and the queue stays short.
end=$(($(date +%s) + 20))
while :; do
  sleep 1
  stats full
  q=$(stat full queued)
  [ "$q" -lt 500 ] && break
  [ "$(date +%s)" -gt "$end" ] && { show "$tmp/full.err"; fail "the spool does not drain with a healthy sink (queued $q)"; }
done
dropped_before=$(stat full dropped)
written_before=$(stat full written)
sleep 3
stats full
expect_eq "dropped with a healthy sink" "$(stat full dropped)" "$dropped_before"
[ "$(stat full written)" -gt $((written_before + 1000)) ] ||
  fail "delivery did not resume: $written_before written, then $(stat full written) 3 s later"
kill -TERM "$pid"
wait_exit "$pid" 6
expect_rc 0 "full run"
emitted=$(sed -n 's/.*source\.fix: readings: \([0-9]*\)$/\1/p' "$tmp/full.err" | tail -n 1)
check_delivered full fill
dropped=$(stat full dropped)
queued=$(stat full queued)
note "full disk: $emitted sent, $delivered delivered, $dropped dropped, $queued kept"
[ "$dropped" -gt 0 ] || fail "nothing was dropped: the disk never filled"
expect_eq "full: written" "$(stat full written)" "$delivered"
expect_eq "full: sent = delivered + dropped + kept" "$emitted" $((delivered + dropped + queued))
expect_eq "full: lost" "$(stat full lost)" 0
failed=$(grep -c "spool write failed" "$tmp/full.err")
note "full disk: 'spool write failed' logged $failed times"
[ "$failed" -le 10 ] || fail "'spool write failed' logged $failed times (not rate-limited)"
[ "$(wc -l <"$tmp/full.err")" -lt 200 ] || { show "$tmp/full.err"; fail "the log has $(wc -l <"$tmp/full.err") lines"; }

# ------------------------------------------------------------------
note "SIGTERM while the disk is full and the sink is down"
rm -rf "$disk/spool"
touch "$tmp/down"
config term term 0 5ms
start term -c "$tmp/term.ini"
wait_for "$tmp/term.err" "spool write failed: No space left on device" 30
sleep 1
t0=$(now_ms)
kill -TERM "$pid"
wait_exit "$pid" 6
t1=$(now_ms)
expect_rc 0 "term run"
note "SIGTERM to exit: $((t1 - t0)) ms (shutdown_timeout 1 s)"
[ $((t1 - t0)) -lt 3000 ] || fail "the daemon took $((t1 - t0)) ms to stop after SIGTERM"
emitted=$(sed -n 's/.*source\.fix: readings: \([0-9]*\)$/\1/p' "$tmp/term.err" | tail -n 1)
kept=$(sed -n 's/.*sink\.test: \([0-9]*\) records kept in the spool for the next start$/\1/p' "$tmp/term.err")
dropped=$(stat term dropped)
expect_eq "term: written" "$(stat term written)" 0
expect_eq "term: kept = queued" "$kept" "$(stat term queued)"
lost=$(stat term lost)
expect_eq "term: sent = dropped + kept + lost" "$emitted" $((dropped + kept + lost))
note "SIGTERM: $emitted sent, 0 delivered, $dropped dropped, $kept kept, $lost lost (in flight, dropped from the disk)"

note "the next run delivers exactly what was kept, then new readings"
rm "$tmp/down"
config next next 5 10ms
run 30 "$VICACQ" -c "$tmp/next.ini"
cp "$tmp/err" "$tmp/next.err"
# A finite pipeline that dropped records exits 3 (vicacq(1)).
want=0
[ "$(stat next dropped)" -gt 0 ] && want=3
expect_rc "$want" "next run"
expect_contains "$tmp/err" "holds $kept records from before"
check_delivered next term
# The disk is still full: room for the new readings costs the oldest kept
# ones, counted as dropped.
dropped=$(stat next dropped)
note "next run: $kept kept, $delivered delivered, $dropped dropped for room"
expect_eq "kept = delivered + dropped" "$kept" $((delivered + dropped))
# What is delivered is the newest of the first run, without a gap.
expect_eq "last kept reading" "$(tail -n 1 "$tmp/next.seqs")" "$emitted"
expect_eq "first kept reading" "$(head -n 1 "$tmp/next.seqs")" $((emitted - delivered + 1))
check_delivered next next
expect_eq "new readings" "$delivered" 5
exit 0

#!/bin/sh
# SIGHUP: an invalid file is refused (the daemon says why, file:line, and
# keeps running the old pipeline); a valid changed file starts new sinks,
# keeps unchanged instances as they are (their queue and sequence go on
# without a gap), retires removed sinks after delivering what they hold,
# and restarts a source whose section changed.
. "$(dirname "$0")/lib.sh"

cfg="$tmp/pipeline.ini"

# write_config [EXTRA SINK SECTION AND ROUTE...]: the base pipeline, an
# endless source to sink t1, with the unchanged sections written a little
# differently each time (comments, spacing, key order) to show that
# sections are compared by content.
source_section() {
  cat <<EOF
[source.fix]
plugin = fixture-source
count = 0
interval = 10ms
burst = 2
EOF
}

t1_section() {
  cat <<EOF
[sink.t1]
plugin = fixture-sink
output = $tmp/t1.sink
retry_initial = 50ms
EOF
}

note "start"
{
  echo "[vicacq]"
  echo "shutdown_timeout = 3s"
  source_section
  t1_section
  printf '[route.all]\nfrom = *\nto = t1\n'
} >"$cfg"
start daemon -c "$cfg"
err="$tmp/daemon.err"
wait_lines "$tmp/t1.sink" '^reading fix ' 30 15

# ------------------------------------------------------------------
note "SIGHUP with an invalid file"
{
  echo "[vicacq]"
  echo "shutdown_timeout = 3s"
  source_section | sed 's/^count = 0/count = abc/'
  t1_section
  printf '[sink.t2]\nplugin = nosuch\n'
  printf '[route.all]\nfrom = *\nto = t1, t2\n'
} >"$cfg"
kill -HUP "$pid"
wait_for "$err" "is invalid (see above); still running the previous pipeline" 5
expect_contains "$err" "SIGHUP: re-reading $cfg"
expect_contains "$err" "$cfg:5: [source.fix] key 'count': 'abc' is not an integer"
expect_contains "$err" "$cfg:13: [sink.t2] key 'plugin': plugin 'nosuch' not found"
running "$pid" || { show "$err"; fail "the daemon stopped on an invalid reload"; }
# Output goes on.
n=$(grep -c '^reading fix ' "$tmp/t1.sink")
wait_lines "$tmp/t1.sink" '^reading fix ' $((n + 30)) 10

# ------------------------------------------------------------------
note "SIGHUP with a second sink"
{
  echo "; the same source and t1, written differently"
  echo "[vicacq]"
  echo "shutdown_timeout = 3s"
  echo
  source_section | sed -e 's/^interval = 10ms/interval   =   10ms ; comment/' \
    -e '/^count = 0/d' -e 's/^burst = 2/burst = 2\ncount = 0/'
  t1_section
  cat <<EOF
[sink.t2]
plugin = fixture-sink
output = $tmp/t2.sink
[route.all]
from = *
to = t1, t2
EOF
} >"$cfg"
kill -HUP "$pid"
wait_for "$err" "reloaded $cfg: 2 kept, 1 started, 0 stopped" 5
wait_lines "$tmp/t2.sink" '^reading fix ' 30 10
n=$(grep -c '^reading fix ' "$tmp/t1.sink")
wait_lines "$tmp/t1.sink" '^reading fix ' $((n + 10)) 10

# ------------------------------------------------------------------
note "SIGHUP without the second sink"
{
  echo "[vicacq]"
  echo "shutdown_timeout = 3s"
  source_section
  t1_section
  printf '[route.all]\nfrom = *\nto = t1\n'
} >"$cfg"
kill -HUP "$pid"
wait_for "$err" "reloaded $cfg: 2 kept, 0 started, 1 stopped" 5
# t2 delivers what it holds, then stops receiving.
end=$(($(date +%s) + 5))
while :; do
  a=$(grep -c '^reading ' "$tmp/t2.sink")
  sleep 0.3 2>/dev/null || sleep 1
  b=$(grep -c '^reading ' "$tmp/t2.sink")
  [ "$a" = "$b" ] && break
  [ "$(date +%s)" -gt "$end" ] && fail "sink t2 still receives readings after it was removed"
done
n=$(grep -c '^reading fix ' "$tmp/t1.sink")
wait_lines "$tmp/t1.sink" '^reading fix ' $((n + 20)) 10
[ "$(grep -c '^reading ' "$tmp/t2.sink")" = "$b" ] ||
  fail "sink t2 received readings after it was removed"

# ------------------------------------------------------------------
note "SIGTERM: nothing lost, nothing repeated"
kill -TERM "$pid"
wait_exit "$pid" 10
expect_eq "exit status" "$rc" 0
# The only errors are the four lines about the invalid file.
n=$(grep -c 'error:' "$err")
[ "$n" = 4 ] || { show "$err"; fail "$n error lines, expected the 4 of the invalid reload"; }
expect_not_contains "$err" "warn:"
# t1 ran all along: every reading 1..N, N the source's own count.
expect_contiguous "$tmp/t1.sink" fix 1
expect_contains "$err" "source.fix: readings: $last"
expect_contains "$err" "sink.t1: records: $last accepted, $last written, 0 queued, 0 dropped"
# t2 got a contiguous run from its first reading, and a tail of the run.
first=$(seqs "$tmp/t2.sink" fix | head -n 1)
expect_contiguous "$tmp/t2.sink" fix "$first"
[ "$first" -gt 30 ] || fail "t2's first reading is seq $first: it existed before the reload"
[ "$last" -lt "$(seqs "$tmp/t1.sink" fix | tail -n 1)" ] || fail "t2 received the last readings although removed"

# ------------------------------------------------------------------
note "SIGHUP with a changed source restarts it"
cfg2="$tmp/pipeline2.ini"
{
  source_section
  t1_section | sed "s|t1.sink|t3.sink|"
  printf '[route.all]\nfrom = *\nto = t1\n'
} >"$cfg2"
start daemon2 -c "$cfg2"
wait_lines "$tmp/t3.sink" '^reading fix fixture1 ' 20 15
sed 's/^burst = 2/burst = 2\ndevice = fixture2/' "$cfg2" >"$cfg2.new"
mv "$cfg2.new" "$cfg2"
kill -HUP "$pid"
wait_for "$tmp/daemon2.err" "reloaded $cfg2: 1 kept, 1 started, 1 stopped" 5
wait_lines "$tmp/t3.sink" '^reading fix fixture2 ' 20 10
kill -TERM "$pid"
wait_exit "$pid" 10
expect_eq "exit status" "$rc" 0
# The old source's readings stop where the new one's begin.
awk '$1 == "reading" { print $3 }' "$tmp/t3.sink" | uniq >"$tmp/devices"
printf 'fixture1\nfixture2\n' >"$tmp/devices.want"
cmp -s "$tmp/devices" "$tmp/devices.want" || { show "$tmp/devices"; fail "readings of the old and new source interleave"; }
# Each device's readings are contiguous.
for dev in fixture1 fixture2; do
  awk -v d=$dev '$1 == "reading" && $3 == d { print $4 }' "$tmp/t3.sink" >"$tmp/s.$dev"
  bad=$(awk 'NR > 1 && $1 != prev + 1 { print NR; exit } { prev = $1 }' "$tmp/s.$dev")
  [ -z "$bad" ] || { show "$tmp/s.$dev"; fail "readings of $dev are not contiguous (line $bad)"; }
done

exit 0

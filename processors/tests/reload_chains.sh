#!/bin/sh
# SIGHUP with processors: a source chain (cal changes its scale, keep is
# unchanged) and a sink chain (avg): readings go on flowing through the new
# chain, the changed processor's new option is in effect, the kept one's
# still, the daemon stops cleanly (under ASan in CI: nothing used after it
# was freed), and the sink chain numbers readings without gaps.
. "$top_srcdir/tests/e2e/lib.sh"

cfg=$tmp/p.ini
write_config() {
  cat >"$cfg" <<EOT
[vicacq]
shutdown_timeout = 3s
[source.fix]
plugin = fixture-source
count = 0
interval = 10ms
records = 2
process = cal, keep
[process.cal]
plugin = calibrate
scale.fixture.value.0 = $1
[process.keep]
plugin = calibrate
offset.fixture.value.0 = 5
[sink.t1]
plugin = fixture-sink
output = $tmp/t1.sink
process = avg
[process.avg]
plugin = average
match = fixture.value.1
period = 100ms
[route.all]
from = fix
to = t1
EOT
}
write_config 10
start daemon -c "$cfg"
wait_lines "$tmp/t1.sink" '^reading fix ' 20 15
err=$tmp/daemon.err

# value.0 = n x scale + 5 for the n-th reading: the step between two
# readings is the scale in effect.
step() {
  grep '^reading fix fixture1 ' "$tmp/t1.sink" | grep -o 'fixture.value.0=[0-9.]*' |
    cut -d= -f2 | tail -n 2 | awk 'NR == 1 { a = $1 } NR == 2 { print $1 - a }'
}
expect_eq "the step before the reload" "$(step)" 10

note "SIGHUP: cal's scale 10 -> 100, keep and avg unchanged"
write_config 100
kill -HUP "$pid"
wait_for "$err" "reloaded $cfg" 10
n=$(grep -c '^reading fix ' "$tmp/t1.sink")
wait_lines "$tmp/t1.sink" '^reading fix ' $((n + 20)) 15
expect_eq "the step after the reload" "$(step)" 100
# keep's offset still applies (n x 100 + 5; fixture-sink prints 6 digits), and avg still averages.
grep -o 'fixture.value.0=[0-9.]*' "$tmp/t1.sink" | tail -n 1 | grep -q '=[0-9]*05$' ||
  { tail -n 8 "$tmp/t1.sink" >&2; show "$err"; fail "keep's offset was lost in the reload"; }
a=$(grep -c 'fixture.value.1=' "$tmp/t1.sink")
sleep 1
[ "$(grep -c 'fixture.value.1=' "$tmp/t1.sink")" -gt "$a" ] ||
  { show "$tmp/t1.sink"; fail "no averages after the reload"; }

note "SIGTERM"
kill -TERM "$pid"
wait_exit "$pid" 10
expect_rc 0 "the daemon after SIGTERM"
expect_not_contains "$err" "ERROR: AddressSanitizer"
# Numbers: a reading split by avg's match keeps its number in both parts;
# only the averages avg makes take new ones, so t1 holds every number of
# the source once: 1, 2, ... with no gap.
seqs "$tmp/t1.sink" fix | sort -n | uniq >"$tmp/all.txt"
bad=$(awk '$1 != NR { print NR": "$1; exit }' "$tmp/all.txt")
[ -z "$bad" ] || fail "t1's sequence numbers have a gap at $bad"
exit 0

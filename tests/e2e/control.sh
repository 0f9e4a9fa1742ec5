#!/bin/sh
# The control path: a sink (fixture-sink `command =`) submits a command;
# the core checks the grant (write.QUANTITY = MIN..MAX), the range, the
# unit and the source, the source carries it out, reads back and emits the
# new value, and the sink hears the outcome.  fixture-sink logs
# "submitted TICKET-or-errno REASON" and "result TICKET STATUS MESSAGE".
. "$(dirname "$0")/lib.sh"

# ctl NAME COMMAND WAIT_TEXT [SOURCE KEY=VALUE...]: run an endless source
# (which may write fixture.setpoint 5..20 unless a key says otherwise) with
# a fixture-sink submitting COMMAND; stop once $tmp/NAME.sink contains
# WAIT_TEXT and 5 more readings arrived; exit status 0 expected.
ctl() {
  cn=$1
  ccmd=$2
  cwait=$3
  shift 3
  {
    echo "[vicacq]"
    echo "command_timeout = 2s"
    echo "[source.fix]"
    echo "plugin = fixture-source"
    echo "count = 0"
    echo "interval = 20ms"
    echo "burst = 1"
    echo "kinds = yes"
    if [ $# -eq 0 ]; then
      echo "write.fixture.setpoint = 5..20"
    fi
    for kv in "$@"; do
      [ "$kv" = "nogrant" ] || echo "$kv"
    done
    cat <<EOF
[sink.t]
plugin = fixture-sink
output = $tmp/$cn.sink
command = $ccmd
command_after = 100ms
[route.all]
from = *
to = t
EOF
  } >"$tmp/$cn.ini"
  run 10 "$VICACQ" --check -c "$tmp/$cn.ini"
  expect_rc 0 "--check of $cn.ini"
  start "$cn" -c "$tmp/$cn.ini"
  wait_for "$tmp/$cn.sink" "$cwait" 10
  ck=$(grep -c '^reading ' "$tmp/$cn.sink")
  wait_lines "$tmp/$cn.sink" '^reading ' $((ck + 5)) 10
  kill -TERM "$pid"
  wait_exit "$pid" 10
  [ "$rc" = 0 ] || { show "$tmp/$cn.err"; fail "$cn: exit status $rc"; }
  sink="$tmp/$cn.sink"
  err="$tmp/$cn.err"
}

# line_of FILE TEXT: number of the first line of FILE containing TEXT.
line_of() {
  grep -n -F -e "$2" "$1" | head -n 1 | cut -d: -f1
}

# ------------------------------------------------------------------
note "a granted command in range: done, read back, emitted"
ctl ok "fix/fixture1/fixture.setpoint=12.5" "result 1 "
expect_eq "submit line" "$(grep '^submitted' "$sink")" "submitted 1 "
expect_eq "result line" "$(grep '^result' "$sink")" "result 1 0 read back"
# Before the command the readings carry the old value, after it the new
# one; both marked writable since the file grants a range.
sub=$(line_of "$sink" "submitted 1")
new=$(line_of "$sink" "fixture.setpoint=12.5(w)")
[ -n "$new" ] || { show "$sink"; fail "no reading with fixture.setpoint=12.5(w)"; }
[ "$new" -gt "$sub" ] || fail "the new value was delivered before the command was submitted"
old_after=$(awk -v n="$new" 'NR > n && /fixture\.setpoint=10\(w\)/' "$sink" | wc -l)
expect_eq "readings with the old value after the read-back" "$old_after" 0
awk -v n="$sub" 'NR < n && /^reading /' "$sink" >"$tmp/before"
[ -s "$tmp/before" ] || fail "no reading before the command"
expect_eq "readings before the command without setpoint=10(w)" \
  "$(grep -v -c 'fixture\.setpoint=10(w)' "$tmp/before")" 0
# The read-back is a reading of its own with only the setpoint.
expect_match "$sink" '^reading fix fixture1 [0-9]+ fixture\.setpoint=12\.5\(w\)$'
expect_contains "$err" "source.fix: command #1 from sink.t: set fixture1/fixture.setpoint = 12.5"
expect_contains "$err" "source.fix: command #1 from sink.t: fixture1/fixture.setpoint = 12.5 done: read back"
expect_contiguous "$sink" fix 1

note "the unit given explicitly"
ctl unit_ok "fix/fixture1/fixture.setpoint=20:A" "result 1 "
expect_eq "result line" "$(grep '^result' "$sink")" "result 1 0 read back"
expect_contains "$sink" "fixture.setpoint=20(w)"

# ------------------------------------------------------------------
note "refused at once"
ctl range "fix/fixture1/fixture.setpoint=25" "submitted "
expect_eq "submit line" "$(grep '^submitted' "$sink")" "submitted -34 value outside the range granted in the pipeline file"
expect_not_contains "$sink" "result "
expect_not_contains "$sink" "fixture.setpoint=25"
expect_contains "$err" "sink.t: command fix/fixture1/fixture.setpoint = 25 refused: value outside the range granted"

ctl below "fix/fixture1/fixture.setpoint=4.9" "submitted "
expect_eq "submit line" "$(grep '^submitted' "$sink")" "submitted -34 value outside the range granted in the pipeline file"

ctl nogrant "fix/fixture1/fixture.setpoint=12" "submitted " nogrant
expect_eq "submit line" "$(grep '^submitted' "$sink")" "submitted -1 writing this quantity is not enabled (no write.QUANTITY range in the source's section)"
expect_not_contains "$sink" "result "
# Without a grant the quantity is not marked writable.
expect_contains "$sink" " fixture.setpoint=10"
expect_not_contains "$sink" "(w)"

ctl notwritable "fix/fixture1/fixture.value.0=12" "submitted "
expect_eq "submit line" "$(grep '^submitted' "$sink")" "submitted -1 writing this quantity is not enabled (no write.QUANTITY range in the source's section)"

ctl unit "fix/fixture1/fixture.setpoint=12:V" "submitted "
expect_eq "submit line" "$(grep '^submitted' "$sink")" "submitted -22 wrong unit for this quantity"
expect_not_contains "$sink" "result "

ctl nosource "nosuch/fixture1/fixture.setpoint=12" "submitted "
expect_eq "submit line" "$(grep '^submitted' "$sink")" "submitted -2 no such source is running"
expect_contains "$err" "command nosuch/fixture1/fixture.setpoint = 12 refused: no such source is running"

ctl nan "fix/fixture1/fixture.setpoint=nan" "submitted "
expect_eq "submit line" "$(grep '^submitted' "$sink")" "submitted -22 value is not a number"

# ------------------------------------------------------------------
note "accepted, then failed"
ctl devfail "fix/fixture1/fixture.setpoint=12.5" "result 1 " \
  "write.fixture.setpoint = 5..20" "command_fail = yes"
expect_eq "submit line" "$(grep '^submitted' "$sink")" "submitted 1 "
expect_eq "result line" "$(grep '^result' "$sink")" "result 1 -5 the device said no"
expect_not_contains "$sink" "fixture.setpoint=12.5"
expect_contains "$err" "source.fix: command #1 from sink.t: fixture1/fixture.setpoint = 12.5 failed: "
expect_contains "$err" "the device said no"

ctl nodevice "fix/fixture9/fixture.setpoint=12.5" "result 1 "
expect_eq "submit line" "$(grep '^submitted' "$sink")" "submitted 1 "
expect_eq "result line" "$(grep '^result' "$sink")" "result 1 -19 refused by the source"

# A source that does not answer before the deadline (command_timeout).
t0=$(now_ms)
ctl timeout "fix/fixture1/fixture.setpoint=12.5" "result 1 " \
  "write.fixture.setpoint = 5..20" "command_delay = 1h"
t1=$(now_ms)
expect_eq "result line" "$(grep '^result' "$sink")" "result 1 -110 no answer from the source in time"
[ $((t1 - t0)) -ge 2000 ] || fail "the command timed out after $((t1 - t0)) ms, before command_timeout (2 s)"
expect_not_contains "$sink" "fixture.setpoint=12.5"

exit 0

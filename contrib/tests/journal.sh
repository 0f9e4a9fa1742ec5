#!/bin/sh
# Log lines carry syslog priorities ("<3>" error, "<4>" warning, "<6>"
# info) when stderr is the stream that JOURNAL_STREAM names, and none when
# it is not (stderr redirected elsewhere since).
. "$top_srcdir/tests/e2e/lib.sh"

# A pipeline that logs info lines and a warning (a source in no route).
cat >"$tmp/pipeline.ini" <<INI
[source.counter]
plugin = fixture-source
count = 1

[source.lonely]
plugin = fixture-source
count = 1

[sink.out]
plugin = stdout

[route.all]
from = counter
to = out
INI

: >"$tmp/err"
stream=$(stat -c '%d:%i' "$tmp/err")
JOURNAL_STREAM=$stream timeout 20 "$VICACQ" -c "$tmp/pipeline.ini" \
  >"$tmp/out" 2>>"$tmp/err" || fail "vicacq failed (exit $?)"
cat "$tmp/err"
expect_match "$tmp/err" '^<6>running '
expect_match "$tmp/err" '^<4>.*lonely'
expect_not_contains "$tmp/err" "vicacq: info:"
grep -v -q -E '^<[0-7]>' "$tmp/err" && { show "$tmp/err"; fail "a line without a priority"; }

# An error: --check of a file with a mistake.
printf '[sink.out]\nplugin = stdout\nno_such_key = 1\n' >"$tmp/bad.ini"
: >"$tmp/err"
stream=$(stat -c '%d:%i' "$tmp/err")
JOURNAL_STREAM=$stream "$VICACQ" --check -c "$tmp/bad.ini" 2>>"$tmp/err" && fail "--check passed a bad file"
expect_match "$tmp/err" '^<3>.*no_such_key'

# Another file's identity: plain lines.
JOURNAL_STREAM=1:1 timeout 20 "$VICACQ" -c "$tmp/pipeline.ini" >"$tmp/out" 2>"$tmp/err2" ||
  fail "vicacq failed"
expect_match "$tmp/err2" '^vicacq: info: running '
expect_not_contains "$tmp/err2" "<6>"

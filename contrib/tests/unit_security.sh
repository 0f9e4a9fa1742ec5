#!/bin/sh
# The unit as built scores "OK" (2.5 or lower) in
# systemd-analyze security --offline=yes, and systemd-analyze verify finds
# nothing wrong with its syntax.
. "$top_srcdir/tests/e2e/lib.sh"

limit=2.5
command -v systemd-analyze >/dev/null ||
  skip "systemd-analyze not installed (Debian package systemd)"
systemd-analyze security --help 2>/dev/null | grep -q -e '--offline' ||
  skip "this systemd-analyze has no --offline (systemd 250 or later has)"

cp "$UNIT" "$tmp/vicacq.service"
systemd-analyze security --offline=yes --no-pager "$tmp/vicacq.service" \
  >"$tmp/security" 2>&1
cat "$tmp/security"
score=$(sed -n 's/.*Overall exposure level for vicacq.service: \([0-9.]*\).*/\1/p' "$tmp/security")
[ -n "$score" ] || fail "no exposure level in the output"
awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s <= l) }' ||
  fail "exposure level $score is above $limit"
note "exposure level $score (at most $limit)"

# Every directive is one systemd knows (verify's other complaints, a
# binary not installed yet or man pages it cannot run, are not the unit's).
systemd-analyze verify "$tmp/vicacq.service" >"$tmp/verify" 2>&1
if grep -E -i 'unknown (key|section)|failed to parse|invalid' "$tmp/verify"; then
  fail "systemd-analyze verify rejects a line of the unit"
fi

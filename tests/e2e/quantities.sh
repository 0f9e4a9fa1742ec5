#!/bin/sh
# Plugin-declared quantities (ABI 1.2) and 1.1 plugins:
#  - fixture-quantity declares fixture.frequency (Hz) and the enum
#    fixture.mode: --list-quantities shows them with their labels, and the
#    host's vocabulary gives its records their unit;
#  - fixture-clash declares battery.voltage: refused, naming both owners;
#  - fixture-abi11, built against the frozen 1.1 header, loads and runs.
. "$(dirname "$0")/lib.sh"

note "--list-quantities with the fixture plugins in the path"
run 20 "$VICACQ" --list-quantities
expect_rc 0 "--list-quantities"
expect_contains "$tmp/out" "| battery.voltage | V | number |"
expect_contains "$tmp/out" "## Declared by plugin fixture-quantity"
expect_contains "$tmp/out" "| fixture.frequency | Hz | number |  | frequency | measurement | Grid frequency | Frequency of the fixture's made-up grid |"
expect_contains "$tmp/out" "| fixture.mode |  | enum | fixture_mode | enum |  | Mode | Fixture mode (diagnostic) |"
expect_contains "$tmp/out" "| fixture_mode | enum | 0 idle, 1 running, 2 fault |"
expect_not_contains "$tmp/out" "fixture-clash"
expect_contains "$tmp/err" "plugin 'fixture-clash' declares quantity 'battery.voltage', which the core vocabulary already has"
# The core part is doc/quantities.md, byte for byte.
head -n "$(wc -l <"$top_srcdir/doc/quantities.md")" "$tmp/out" >"$tmp/core.md"
cmp -s "$tmp/core.md" "$top_srcdir/doc/quantities.md" ||
  { diff -u "$top_srcdir/doc/quantities.md" "$tmp/core.md" | head -20 >&2
    fail "the core table differs from doc/quantities.md"; }

cat >"$tmp/declared.ini" <<EOF2
[source.fx]
plugin = fixture-quantity

[sink.out]
plugin = stdout
format = json

[route.all]
from = *
to = out
EOF2
note "a pipeline with the declaring plugin"
run 20 "$VICACQ" -c "$tmp/declared.ini"
expect_rc 0 "the fixture-quantity pipeline"
sed 's/^{"time":"[^"]*",/{/' "$tmp/out" >"$tmp/got"
expect_contains "$tmp/got" '{"source":"fx","device":"dev1","quantity":"fixture.frequency","value":50.02,"unit":"Hz"}'
expect_contains "$tmp/got" '{"source":"fx","device":"dev1","quantity":"fixture.mode","value":1,"text":"running"}'

note "a clash with the core vocabulary is refused"
sed 's/^plugin = fixture-quantity/plugin = fixture-clash/' "$tmp/declared.ini" >"$tmp/clash.ini"
run 20 "$VICACQ" --check -c "$tmp/clash.ini"
expect_rc 2 "--check with fixture-clash"
expect_contains "$tmp/err" "plugin 'fixture-clash' declares quantity 'battery.voltage', which the core vocabulary already has"
run 20 "$VICACQ" -c "$tmp/clash.ini"
expect_rc 2 "running fixture-clash"

note "a plugin built against the 1.1 header loads and runs"
sed 's/^plugin = fixture-quantity/plugin = fixture-abi11/' "$tmp/declared.ini" >"$tmp/abi11.ini"
run 20 "$VICACQ" --help-plugin fixture-abi11
expect_rc 0 "--help-plugin fixture-abi11"
expect_match "$tmp/out" '^fixture-abi11 1\.0 \(source, plugin ABI 1\.1\)$'
run 20 "$VICACQ" -c "$tmp/abi11.ini"
expect_rc 0 "the fixture-abi11 pipeline"
sed 's/^{"time":"[^"]*",/{/' "$tmp/out" >"$tmp/got"
expect_contains "$tmp/got" '{"source":"fx","device":"dev1","quantity":"battery.voltage","value":12.5,"unit":"V"}'
expect_contains "$tmp/got" '{"source":"fx","device":"dev1","quantity":"device.state","value":3,"text":"bulk"}'
expect_lines "$tmp/out" 2
exit 0

#!/bin/sh
# The command line: --version, -h, bad options, --list-plugins,
# --help-plugin, and --check on good and malformed pipeline files (exit
# status 2 and a message naming FILE:LINE, the section and the key), and
# secrets that never show up in any output.
. "$(dirname "$0")/lib.sh"

# ------------------------------------------------------------------
note "--version, -h, bad usage"
run 10 "$VICACQ" --version
expect_rc 0 "--version"
expect_match "$tmp/out" '^vicacq [0-9]+\.[0-9]+(\.[0-9]+)?[^ ]* \(plugin ABI 1\.[0-9]+, libuv [0-9.]+'

run 10 "$VICACQ" -h
expect_rc 0 "-h"
expect_contains "$tmp/out" "Usage: vicacq -c FILE"
expect_contains "$tmp/out" "--help-plugin NAME"

run 10 "$VICACQ" --no-such-option
expect_rc 2 "an unknown option"
expect_contains "$tmp/err" "Usage:"

run 10 "$VICACQ" -c
expect_rc 2 "-c without its argument"

run 10 "$VICACQ"
expect_rc 2 "no -c FILE"

run 10 "$VICACQ" -c "$tmp/nonexistent.ini" --check
expect_rc 2 "a pipeline file that does not exist"
expect_contains "$tmp/err" "$tmp/nonexistent.ini: cannot open"

run 10 "$VICACQ" --log-level loud --list-plugins
expect_rc 2 "a bad --log-level"
expect_contains "$tmp/err" "'loud' is not one of error|warn|info|debug"

# expect_found_list: the "not found" message in $tmp/err lists the plugins
# found (the fixtures directory may hold more than these).
expect_found_list() {
  for p in fixture-sink fixture-source stdout; do
    expect_match "$tmp/err" "found: (.*, )?$p(,|$)"
  done
}

# ------------------------------------------------------------------
note "--list-plugins, --help-plugin"
run 10 "$VICACQ" --list-plugins
expect_rc 0 "--list-plugins"
expect_match "$tmp/out" '^fixture-source +1\.0 +source +makes up readings'
expect_match "$tmp/out" '^fixture-sink +1\.0 +sink +scripted sink'
expect_match "$tmp/out" '^stdout +[0-9.]+ +sink +records to standard output'

run 10 "$VICACQ" --help-plugin fixture-source
expect_rc 0 "--help-plugin fixture-source"
expect_match "$tmp/out" '^fixture-source 1\.0 \(source, plugin ABI 1\.[0-9]+\)'
expect_match "$tmp/out" '^  count +integer, default 10$'
expect_match "$tmp/out" '^  kinds +boolean, default no$'
expect_match "$tmp/out" '^  interval +duration, default 0$'
expect_match "$tmp/out" '^  secret +secret \(or secret_file = PATH\)$'
expect_match "$tmp/out" '^  plugin +string, required$'
expect_contains "$tmp/out" "Writable quantities (enable with write.QUANTITY = MIN..MAX):"
expect_match "$tmp/out" '^  fixture\.setpoint +0\.\.100 A, step 0\.1$'

run 10 "$VICACQ" --help-plugin stdout
expect_rc 0 "--help-plugin stdout"
expect_match "$tmp/out" '^  format +choice \(json\|influx\|text\), default json$'
expect_match "$tmp/out" '^  spool_dir +string$'
expect_not_contains "$tmp/out" "Writable quantities"

run 10 "$VICACQ" --help-plugin nosuch
expect_rc 2 "--help-plugin nosuch"
expect_contains "$tmp/err" "plugin 'nosuch' not found"
expect_found_list

# --plugin-path: an empty directory adds nothing, the environment still
# finds the fixtures.
mkdir "$tmp/empty"
run 10 "$VICACQ" --plugin-path "$tmp/empty" --list-plugins
expect_rc 0 "--plugin-path with an empty directory"
expect_match "$tmp/out" '^fixture-source '

# ------------------------------------------------------------------
note "--check on a good file"
good="$tmp/good.ini"
cat >"$good" <<'EOF'
; a comment
[vicacq]
log_level = warn
shutdown_timeout = 2s

[source.fix]
plugin = fixture-source
count = 3
interval = 10ms
write.fixture.setpoint = 5..20

[sink.out]
plugin = stdout
format = json

[sink.test]
plugin = fixture-sink
script = ok,retry
retry_initial = 50ms
queue_max_bytes = 1M

[route.all]
from = *
to = out, test
match = fixture.*, device.state
EOF
run 10 "$VICACQ" --check -c "$good"
expect_rc 0 "--check of a good file"
expect_eq "--check output" "$(cat "$tmp/out")" "$good: OK"
[ -s "$tmp/err" ] && { show "$tmp/err"; fail "--check of a good file wrote to stderr"; }

# ------------------------------------------------------------------
# bad NAME LINE MESSAGE: a pipeline file ($tmp/NAME.ini, already written)
# fails --check with exit status 2 and "FILE:LINE: MESSAGE" on stderr,
# and nothing on stdout.
bad() {
  f_="$tmp/$1.ini"
  run 10 "$VICACQ" --check -c "$f_"
  expect_rc 2 "--check of $1.ini"
  expect_contains "$tmp/err" "$f_:$2: $3"
  expect_contains "$tmp/err" "nothing started"
  [ -s "$tmp/out" ] && { show "$tmp/out"; fail "$1: --check printed on stdout"; }
  # The same file must not run either.
  run 10 "$VICACQ" -c "$f_"
  expect_rc 2 "running $1.ini"
  expect_contains "$tmp/err" "$f_:$2: $3"
}

# base: a valid pipeline, 9 lines; tests append to it or edit it with sed.
base() {
  cat <<'EOF'
[source.fix]
plugin = fixture-source
count = 3
[sink.out]
plugin = stdout
format = json
[route.all]
from = fix
to = out
EOF
}

note "malformed pipeline files"
base | sed 's/^count = 3/count = 3\ncolour = red/' >"$tmp/unknown_key.ini"
bad unknown_key 4 "[source.fix] key 'colour': unknown key (known: plugin, write.QUANTITY, process, count,"

base | sed 's/^count = 3/count = abc/' >"$tmp/wrong_type.ini"
bad wrong_type 3 "[source.fix] key 'count': 'abc' is not an integer"

base | sed 's/^count = 3/count = -1/' >"$tmp/out_of_bounds.ini"
bad out_of_bounds 3 "[source.fix] key 'count': '-1' is outside 0..1e+12"

base | sed 's/^count = 3/count = 3\ninterval = soon/' >"$tmp/bad_duration.ini"
bad bad_duration 4 "[source.fix] key 'interval': 'soon' is not a duration"

base | sed 's/^count = 3/count = 3\nkinds = maybe/' >"$tmp/bad_bool.ini"
bad bad_bool 4 "[source.fix] key 'kinds': 'maybe' is not a boolean"

base | sed 's/^format = json/format = xml/' >"$tmp/bad_enum.ini"
bad bad_enum 6 "[sink.out] key 'format': 'xml' is not one of json|influx|text"

base | sed '/^plugin = stdout/d' >"$tmp/no_plugin.ini"
bad no_plugin 4 "[sink.out] key 'plugin': missing (required)"

base | sed 's/^plugin = stdout/plugin = nosuch/' >"$tmp/unknown_plugin.ini"
bad unknown_plugin 5 "[sink.out] key 'plugin': plugin 'nosuch' not found"
expect_found_list

base | sed 's/^plugin = stdout/plugin = fixture-source/' >"$tmp/source_as_sink.ini"
bad source_as_sink 5 "[sink.out] key 'plugin': 'fixture-source' is not a sink plugin"

base | sed 's/^plugin = fixture-source/plugin = fixture-sink/' >"$tmp/sink_as_source.ini"
bad sink_as_source 2 "[source.fix] key 'plugin': 'fixture-sink' is not a source plugin"

{ base; printf '[sink.out]\nplugin = stdout\n'; } >"$tmp/dup_section.ini"
bad dup_section 10 "[sink.out]: duplicate section (first at line 4)"

base | sed 's/^count = 3/count = 3\ncount = 4/' >"$tmp/dup_key.ini"
bad dup_key 4 "[source.fix] key 'count': given twice (first at line 3)"

{ base; printf '[sinks.x]\nplugin = stdout\n'; } >"$tmp/unknown_section.ini"
bad unknown_section 10 "[sinks.x]: unknown section"

{ base; printf '[source.a b]\nplugin = fixture-source\n'; } >"$tmp/bad_id.ini"
bad bad_id 10 "[source.a b]: invalid id 'a b'"

base | sed 's/^from = fix/from = nosrc/' >"$tmp/route_source.ini"
bad route_source 8 "[route.all] key 'from': no source matches 'nosrc'"

base | sed 's/^to = out/to = out, nosink/' >"$tmp/route_sink.ini"
bad route_sink 9 "[route.all] key 'to': no sink matches 'nosink'"

base | sed '/^to = out/d' >"$tmp/route_no_to.ini"
bad route_no_to 7 "[route.all] key 'to': missing (required)"

base | sed 's/^count = 3/count = 3\nwrite.fixture.setpoint = 20..5/' >"$tmp/grant_range.ini"
bad grant_range 4 "[source.fix] key 'write.fixture.setpoint': '20..5' is not a range MIN..MAX"

base | sed 's/^count = 3/count = 3\nwrite.fixture.setpoint = five..6/' >"$tmp/grant_syntax.ini"
bad grant_syntax 4 "[source.fix] key 'write.fixture.setpoint': 'five..6' is not a range MIN..MAX"

base | sed 's/^count = 3/count = 3\nwrite.fixture.setpoint = 0..200/' >"$tmp/grant_limits.ini"
bad grant_limits 4 "[source.fix] key 'write.fixture.setpoint': 0..200 exceeds what fixture-source allows (0..100 A)"

base | sed 's/^count = 3/count = 3\nwrite.battery.voltage = 0..20/' >"$tmp/grant_unknown.ini"
bad grant_unknown 4 "[source.fix] key 'write.battery.voltage': plugin fixture-source cannot write 'battery.voltage'"

base | sed 's/^format = json/format = json\nwrite.fixture.setpoint = 1..2/' >"$tmp/grant_in_sink.ini"
bad grant_in_sink 7 "[sink.out] key 'write.fixture.setpoint': unknown key"

{ printf 'log_level = debug\n'; base; } >"$tmp/outside.ini"
bad outside 1 "key 'log_level' outside of any section"

{ printf '[vicacq]\nlog_level = chatty\n'; base; } >"$tmp/daemon_key.ini"
bad daemon_key 2 "[vicacq] key 'log_level': 'chatty' is not one of error|warn|info|debug"

{ base; printf 'this is not a key\n'; } >"$tmp/syntax.ini"
bad syntax 10 "syntax error"

# Several errors: every one is reported, with the count.
base | sed -e 's/^count = 3/count = abc\ncolour = red/' \
  -e 's/^format = json/format = xml/' >"$tmp/several.ini"
bad several 3 "[source.fix] key 'count': 'abc' is not an integer"
expect_contains "$tmp/err" "several.ini:4: [source.fix] key 'colour': unknown key"
expect_contains "$tmp/err" "several.ini:7: [sink.out] key 'format': 'xml' is not one of"
expect_contains "$tmp/err" "several.ini: 3 errors; nothing started"

# No source, no sink, no route.
printf '[sink.out]\nplugin = stdout\n[route.r]\nfrom = *\nto = out\n' >"$tmp/no_source.ini"
run 10 "$VICACQ" --check -c "$tmp/no_source.ini"
expect_rc 2 "a file without sources"
expect_contains "$tmp/err" "no_source.ini: no [source.ID] section"

base | sed '/^\[route.all\]/,$d' >"$tmp/no_route.ini"
run 10 "$VICACQ" --check -c "$tmp/no_route.ini"
expect_rc 2 "a file without routes"
expect_contains "$tmp/err" "no_route.ini: no [route.ID] section"

# ------------------------------------------------------------------
note "secrets are never shown"
secret=hunter2-$$
printf '%s\n' "s3cr3t-from-file-$$" >"$tmp/secret.txt"

# A valid file with a secret: --check, then a debug run.
base | sed "s/^count = 3/count = 3\\nsecret = $secret/" >"$tmp/secret_ok.ini"
{ printf '[vicacq]\nlog_level = debug\n'; cat "$tmp/secret_ok.ini"; } >"$tmp/secret_debug.ini"
run 10 "$VICACQ" --check -c "$tmp/secret_debug.ini"
expect_rc 0 "--check with a secret"
cat "$tmp/out" "$tmp/err" >"$tmp/all.txt"
run 20 "$VICACQ" --log-level debug -c "$tmp/secret_debug.ini"
expect_rc 0 "running with a secret"
cat "$tmp/out" "$tmp/err" >>"$tmp/all.txt"
expect_contains "$tmp/all.txt" '"source":"fix"'

# The same secret with errors elsewhere in the file (and in its section).
sed -e 's/^format = json/format = xml/' -e "s/^plugin = fixture-source/plugin = fixture-source\\ncolour = $secret/" \
  "$tmp/secret_debug.ini" >"$tmp/secret_bad.ini"
# (the colour key above is an unknown key whose *value* happens to be the
# secret text: unknown keys are reported by name, values are not echoed)
run 10 "$VICACQ" --check -c "$tmp/secret_bad.ini"
expect_rc 2 "a secret with errors elsewhere"
cat "$tmp/out" "$tmp/err" >>"$tmp/all.txt"
expect_contains "$tmp/err" "[sink.out] key 'format'"

# secret_file: resolved, never shown; with a debug run and with errors.
base | sed "s|^count = 3|count = 3\\nsecret_file = $tmp/secret.txt|" >"$tmp/secret_file.ini"
run 20 "$VICACQ" --log-level debug -c "$tmp/secret_file.ini"
expect_rc 0 "running with secret_file"
cat "$tmp/out" "$tmp/err" >>"$tmp/all.txt"
sed 's/^format = json/format = xml/' "$tmp/secret_file.ini" >"$tmp/secret_file_bad.ini"
run 10 "$VICACQ" --check --log-level debug -c "$tmp/secret_file_bad.ini"
expect_rc 2 "secret_file with an error elsewhere"
cat "$tmp/out" "$tmp/err" >>"$tmp/all.txt"
expect_not_contains "$tmp/all.txt" "hunter2"
expect_not_contains "$tmp/all.txt" "s3cr3t-from-file"

# Both secret and secret_file: an error naming the key, no secret.
base | sed "s|^count = 3|count = 3\\nsecret = $secret\\nsecret_file = $tmp/secret.txt|" >"$tmp/secret_both.ini"
bad secret_both 5 "[source.fix] key 'secret_file': give either secret or secret_file, not both"
expect_not_contains "$tmp/err" "hunter2"
expect_not_contains "$tmp/err" "s3cr3t-from-file"

# A missing secret file: an error naming the key and the file.
base | sed "s|^count = 3|count = 3\\nsecret_file = $tmp/missing-secret|" >"$tmp/secret_missing.ini"
bad secret_missing 4 "[source.fix] key 'secret_file': cannot read '$tmp/missing-secret'"

# An empty secret file.
: >"$tmp/empty-secret"
base | sed "s|^count = 3|count = 3\\nsecret_file = $tmp/empty-secret|" >"$tmp/secret_empty.ini"
bad secret_empty 4 "[source.fix] key 'secret_file': '$tmp/empty-secret' is empty"

# A tool's from_config (tools.c): specs separated by ';', the second naming
# its plugin; only the sections of that plugin with every ALSO key count.
cat >"$tmp/learn.ini" <<EOF
[source.a]
plugin = fixture-source
device = learned
secret = s1
names = fixture.learned
[source.b]
plugin = fixture-source
device = nokey
[sink.o]
plugin = stdout
[route.r]
from = *
to = o
EOF
run 20 "$VICACQ" learn fixture-source -c "$tmp/learn.ini"
expect_rc 0 "vicacq learn fixture-source -c FILE"
expect_contains "$tmp/out" " learn learned fixture.learned "
expect_not_contains "$tmp/out" "nokey"
# A malformed spec is the plugin's mistake: said, with or without -c.
run 20 "$VICACQ" learn-broken fixture-source -c "$tmp/learn.ini"
expect_rc 2 "a malformed from_config"
expect_contains "$tmp/err" "vicacq learn-broken fixture-source: the plugin's from_config 'names' is not KEY=[PLUGIN:]FROM[+ALSO...]"
run 20 "$VICACQ" learn-broken fixture-source
expect_rc 2 "a malformed from_config without -c"

exit 0

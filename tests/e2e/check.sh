#!/bin/sh
# --check checks what the start would: the plugins' own check() (ABI 1.2)
# with FILE:LINE, start-time failures with FILE:LINE, the core's checks
# (spool_dir, inline comments, secret file modes, route globs), and input
# that is not a pipeline file at all (endless, a directory, NUL bytes, a
# BOM, long values).  Issue 9, items 3 and 9.
. "$(dirname "$0")/lib.sh"

cfg="$tmp/p.ini"
# pipeline [SOURCE LINES...]: one fixture source (the lines go into it),
# the stdout sink ($sink_extra goes into it), one route.
sink_extra=""
pipeline() {
  {
    echo "[source.a]"
    echo "plugin = fixture-source"
    echo "count = 3"
    for l in "$@"; do echo "$l"; done
    printf '[sink.o]\nplugin = stdout\nformat = text\n'
    [ -n "$sink_extra" ] && echo "$sink_extra"
    printf '[route.r]\nfrom = *\nto = o\n'
  } >"$cfg"
}

# check_fails STATUS TEXT: --check exits STATUS and says TEXT.
check_fails() {
  "$VICACQ" -c "$cfg" --check >"$tmp/out" 2>"$tmp/err"
  expect_eq "--check exit status" "$?" "$1"
  expect_contains "$tmp/err" "$2"
}

note "the plugin's check() runs at --check, with FILE:LINE of the key"
pipeline "device = d1" "fail = check"
check_fails 2 "$cfg:5: [source.a] key 'fail': refused by check() on purpose (device 'd1')"
note "... and at start, before anything is created"
"$VICACQ" -c "$cfg" >"$tmp/out" 2>"$tmp/err"
expect_eq "start exit status" "$?" 2
expect_contains "$tmp/err" "$cfg:5: [source.a] key 'fail': refused by check()"
expect_not_contains "$tmp/err" "running"

note "create() failing with cfg_error: FILE:LINE and key, exit 2"
pipeline "fail = create"
"$VICACQ" -c "$cfg" --check >"$tmp/out" 2>"$tmp/err" || fail "--check refused a file only create() refuses"
"$VICACQ" -c "$cfg" >"$tmp/out" 2>"$tmp/err"
expect_eq "exit status" "$?" 2
expect_contains "$tmp/err" "$cfg:4: [source.a] key 'fail': refused by create() on purpose"
note "create() and start() failing silently: still FILE:LINE of the section, exit 1"
pipeline "fail = create_silent"
"$VICACQ" -c "$cfg" >"$tmp/out" 2>"$tmp/err"
expect_eq "exit status" "$?" 1
expect_contains "$tmp/err" "$cfg:1: [source.a]: plugin fixture-source could not be created: Input/output error"
pipeline "fail = start"
"$VICACQ" -c "$cfg" >"$tmp/out" 2>"$tmp/err"
expect_eq "exit status" "$?" 1
expect_contains "$tmp/err" "$cfg:1: [source.a]: plugin fixture-source could not start: Input/output error"

note "spool_dir that is a file, or cannot be created"
touch "$tmp/file"
sink_extra="spool_dir = $tmp/file" pipeline
check_fails 2 "[sink.o] key 'spool_dir': '$tmp/file' is not a directory"
sink_extra="spool_dir = $tmp/no/such/dir" pipeline
check_fails 2 "[sink.o] key 'spool_dir': '$tmp/no/such/dir' does not exist and cannot be created"
sink_extra="spool_dir = $tmp/new-spool" pipeline
"$VICACQ" -c "$cfg" --check >"$tmp/out" 2>"$tmp/err" || { show "$tmp/err"; fail "a creatable spool_dir was refused"; }

note "inline comments: ' ;' ends a value, ' #' is refused"
pipeline "device = d1 ; the device" "records = 2	; tab"
"$VICACQ" -c "$cfg" >"$tmp/out" 2>"$tmp/err" || { show "$tmp/err"; fail "inline ; comments refused"; }
expect_contains "$tmp/out" " a d1 fixture.value.1 "
expect_not_contains "$tmp/out" "the device"
pipeline "device = d1 # the device"
check_fails 2 "$cfg:4: '#' after a value: comments after a value start with ' ;'"
pipeline "device = d1;not-a-comment"
"$VICACQ" -c "$cfg" >"$tmp/out" 2>"$tmp/err" || fail "';' inside a value refused"
expect_contains "$tmp/out" " a d1;not-a-comment fixture.value.0 "

note "values of any length up to 64 KiB"
long=$(printf '%0300d' 7)
pipeline "device = $long"
"$VICACQ" -c "$cfg" >"$tmp/out" 2>"$tmp/err" || { show "$tmp/err"; fail "a 300-character value was refused"; }
expect_contains "$tmp/out" " a $long fixture.value.0 "

note "input that is not a pipeline file"
timeout 20 "$VICACQ" -c /dev/zero --check >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 124 ] && fail "vicacq -c /dev/zero did not return"
expect_eq "/dev/zero exit status" "$rc" 2
expect_contains "$tmp/err" "/dev/zero: more than 4194304 bytes: not a pipeline file"
"$VICACQ" -c "$tmp" --check >"$tmp/out" 2>"$tmp/err"
expect_eq "directory exit status" "$?" 2
expect_contains "$tmp/err" "$tmp: is a directory, not a pipeline file"
expect_not_contains "$tmp/err" "no [source.ID] section"
pipeline
printf '\357\273\277' | cat - "$cfg" >"$cfg.bom"
"$VICACQ" -c "$cfg.bom" --check >"$tmp/out" 2>"$tmp/err" || { show "$tmp/err"; fail "a UTF-8 BOM was refused"; }
printf '[source.a]\nplugin = fixture-source\ndevice = a\000b\n[sink.o]\nplugin = stdout\n[route.r]\nfrom = *\nto = o\n' >"$cfg"
check_fails 2 "$cfg:3: NUL byte in the line (not a text file?)"
expect_not_contains "$tmp/err" "line too long"

note "section ids that are not UTF-8 (or not plain) are refused"
printf '[source.a\377b]\nplugin = fixture-source\n[sink.o]\nplugin = stdout\n[route.r]\nfrom = *\nto = o\n' >"$cfg"
check_fails 2 "invalid id"

note "a secret file readable by others gets a warning"
printf 's3cret\n' >"$tmp/secret"
chmod 644 "$tmp/secret"
pipeline "secret_file = $tmp/secret"
"$VICACQ" -c "$cfg" --check >"$tmp/out" 2>"$tmp/err" || fail "--check refused a readable secret file"
expect_contains "$tmp/err" "$tmp/secret: readable by group or others (mode 644): chmod 600 it"
chmod 600 "$tmp/secret"
"$VICACQ" -c "$cfg" --check >"$tmp/out" 2>"$tmp/err" || fail "--check refused the secret file"
expect_not_contains "$tmp/err" "readable by"
expect_not_contains "$tmp/err" "s3cret"

note "a route match glob that can match no quantity: a warning"
pipeline
printf 'match = battery.voltage, nosuch.*, fixture.value.*\n' >>"$cfg"
"$VICACQ" -c "$cfg" --check >"$tmp/out" 2>"$tmp/err" || fail "--check refused an unknown glob"
expect_contains "$tmp/err" "$cfg:10: [route.r] key 'match': 'nosuch.*' matches no quantity"
expect_not_contains "$tmp/err" "'battery.voltage' matches no"
expect_not_contains "$tmp/err" "'fixture.value.*' matches no"

note "a finite pipeline that lost records exits 3"
cat >"$cfg" <<EOF2
[vicacq]
shutdown_timeout = 200ms
[source.a]
plugin = fixture-source
count = 200
burst = 200
[sink.s]
plugin = fixture-sink
script = hang
queue_max_records = 50
[route.r]
from = *
to = s
EOF2
"$VICACQ" -c "$cfg" >"$tmp/out" 2>"$tmp/err"
expect_eq "exit status" "$?" 3
expect_match "$tmp/err" "records were not delivered"

note "tools: unknown tool, plugin or key"
"$VICACQ" frobnicate >"$tmp/out" 2>"$tmp/err"
expect_eq "unknown tool" "$?" 2
expect_contains "$tmp/err" "'frobnicate' is neither an option nor a tool"
"$VICACQ" dump nosuch -o "$tmp/x" >"$tmp/out" 2>"$tmp/err"
expect_eq "unknown plugin" "$?" 2
expect_contains "$tmp/err" "no plugin 'nosuch' with a dump tool"
exit 0

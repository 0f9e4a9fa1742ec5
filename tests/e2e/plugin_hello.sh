#!/bin/sh
# The out-of-tree plugin example: install vicacq into a staging directory
# (make install DESTDIR=...), build examples/plugin-hello with its own
# Makefile against the installed header and pkg-config file only, then run
# a pipeline with it and check its JSON lines.
. "$(dirname "$0")/lib.sh"

: "${top_srcdir:?}" "${top_builddir:?}" "${MAKE:=make}"
command -v pkg-config >/dev/null 2>&1 || skip "pkg-config is not installed"
command -v cc >/dev/null 2>&1 || skip "no C compiler named cc"

root="$tmp/root"
prefix=$(sed -n 's/^prefix=//p' "$top_builddir/vicacq.pc")
[ -n "$prefix" ] || fail "no prefix= in $top_builddir/vicacq.pc"

# ------------------------------------------------------------------
note "make install DESTDIR=$root"
# A make of its own: not the variables or job server of the make running
# the tests.
if ! (unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS; \
      $MAKE -C "$top_builddir" install DESTDIR="$root") >"$tmp/install.log" 2>&1; then
  tail -n 30 "$tmp/install.log" >&2
  fail "make install DESTDIR=$root failed"
fi
header="$root$prefix/include/vicacq/plugin.h"
[ -f "$header" ] || fail "the header was not installed as $header"
pc=$(find "$root" -name vicacq.pc | head -n 1)
[ -n "$pc" ] || fail "vicacq.pc was not installed under $root"
pcdir=$(dirname "$pc")

# ------------------------------------------------------------------
note "build examples/plugin-hello against the staged install"
# A copy, as a third party would have it (and the source tree may be
# read-only, as in make distcheck).
mkdir "$tmp/hello"
cp "$top_srcdir/examples/plugin-hello/hello.c" \
  "$top_srcdir/examples/plugin-hello/Makefile" "$tmp/hello/"
# PKG_CONFIG_LIBDIR alone: no vicacq.pc of the system can be picked up.
# -H lists every header the compiler reads.
if ! (unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS CPPFLAGS; \
      PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_LIBDIR="$pcdir" \
      PKG_CONFIG_SYSROOT_DIR="$root" \
      $MAKE -C "$tmp/hello" CFLAGS="-O2 -Wall -Wextra -Werror -H") \
    >"$tmp/build.log" 2>&1; then
  cat "$tmp/build.log" >&2
  fail "building the example failed"
fi
[ -f "$tmp/hello/hello.so" ] || { cat "$tmp/build.log" >&2; fail "no hello.so"; }
# The plugin header came from the staged install, never from the tree.
expect_match "$tmp/build.log" "^\\.+ $root$prefix/include/vicacq/plugin\\.h\$"
expect_not_contains "$tmp/build.log" "$top_srcdir/include"
expect_not_contains "$tmp/build.log" "$top_builddir"
if command -v nm >/dev/null 2>&1; then
  nm -D "$tmp/hello/hello.so" >"$tmp/nm.txt" 2>/dev/null || nm "$tmp/hello/hello.so" >"$tmp/nm.txt"
  expect_match "$tmp/nm.txt" ' T hello_LTX_vq_plugin_entry$'
fi

# The example's install target, as a packager would use it.
if ! (unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS; \
      PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_LIBDIR="$pcdir" \
      $MAKE -C "$tmp/hello" install DESTDIR="$tmp/stage") >"$tmp/hinstall.log" 2>&1; then
  cat "$tmp/hinstall.log" >&2
  fail "make install of the example failed"
fi
plugindir=$(PKG_CONFIG_LIBDIR="$pcdir" pkg-config --variable=plugindir vicacq)
[ -f "$tmp/stage$plugindir/hello.so" ] || fail "the example did not install $tmp/stage$plugindir/hello.so"

# ------------------------------------------------------------------
note "run it"
run 10 "$VICACQ" --plugin-path "$tmp/hello" --help-plugin hello
expect_rc 0 "--help-plugin hello"
expect_match "$tmp/out" '^hello 1\.0\.0 \(source, plugin ABI 1\.[0-9]+\)$'
expect_match "$tmp/out" '^  greeting +string, default hello$'
expect_match "$tmp/out" '^  interval +duration, default 1s$'
expect_match "$tmp/out" '^  count +integer, default 0$'

cat >"$tmp/hello.ini" <<EOF
[vicacq]
plugin_path = $tmp/hello

[source.greeter]
plugin = hello
greeting = Hi there, "world"
interval = 20ms
count = 3

[sink.out]
plugin = stdout
format = json

[route.all]
from = *
to = out
EOF
run 10 "$VICACQ" --check -c "$tmp/hello.ini"
expect_rc 0 "--check with the hello plugin"

sed 's/^count = 3/count = three/' "$tmp/hello.ini" >"$tmp/hello_bad.ini"
run 10 "$VICACQ" --check -c "$tmp/hello_bad.ini"
expect_rc 2 "--check with a bad hello option"
expect_contains "$tmp/err" "$tmp/hello_bad.ini:8: [source.greeter] key 'count': 'three' is not an integer"

note "the plugin's check() at --check: FILE:LINE of the key"
sed 's/^greeting = .*/greeting = /' "$tmp/hello.ini" >"$tmp/hello_bad.ini"
run 10 "$VICACQ" --check -c "$tmp/hello_bad.ini"
expect_rc 2 "--check with an empty greeting"
expect_contains "$tmp/err" "$tmp/hello_bad.ini:6: [source.greeter] key 'greeting': must be 1 to 64 characters"

note "the plugin's tool, generic in the core"
run 10 "$VICACQ" --plugin-path "$tmp/hello" --help-plugin hello
expect_match "$tmp/out" '^  greet +greet a few times, quickly$'
run 20 "$VICACQ" --plugin-path "$tmp/hello" greet hello --count 2
expect_rc 0 "vicacq greet hello --count 2"
expect_eq "greetings" "$(grep -c ' greet hello hello.greeting hello' "$tmp/out")" 2
# Without a plugin: every plugin with the tool (only hello has it).
run 20 "$VICACQ" --plugin-path "$tmp/hello" greet count=1 -c "$tmp/hello.ini"
expect_rc 0 "vicacq greet count=1 -c FILE"
expect_contains "$tmp/out" ' greet hello hello.greeting Hi there, "world"'
# fixture-source has a greet tool too, that needs --device: left out
# above, run side by side with hello's when it is given.
expect_contains "$tmp/err" "not running fixture-source's (it needs --device)"
run 20 "$VICACQ" --plugin-path "$tmp/hello" greet --count 1 --device dd
expect_rc 0 "vicacq greet --count 1 --device dd"
expect_contains "$tmp/out" ' greet-hello hello hello.greeting hello'
expect_contains "$tmp/out" ' greet-fixture-source dd fixture.value.0 '
run 10 "$VICACQ" --plugin-path "$tmp/hello" greet hello --interval 1s
expect_rc 2 "a key the tool does not take"
expect_contains "$tmp/err" "--interval is not a key of hello"

run 20 "$VICACQ" -c "$tmp/hello.ini"
expect_rc 0 "the hello pipeline"
expect_contains "$tmp/err" "source.greeter: finished"
expect_lines "$tmp/out" 6
sed 's/^{"time":"[^"]*",/{/' "$tmp/out" >"$tmp/got"
: >"$tmp/want"
for i in 1 2 3; do
  cat >>"$tmp/want" <<EOF
{"source":"greeter","device":"hello","quantity":"hello.count","value":$i}
{"source":"greeter","device":"hello","quantity":"hello.greeting","value":"Hi there, \\"world\\""}
EOF
done
if ! cmp -s "$tmp/want" "$tmp/got"; then
  diff -u "$tmp/want" "$tmp/got" >&2
  fail "the hello plugin's JSON lines differ from the expected ones"
fi
bad=$(grep -E -v -c '^\{"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z",' "$tmp/out")
expect_eq "JSON lines without a valid time" "$bad" 0

# ------------------------------------------------------------------
note "the out-of-tree processor (examples/processor-scale), built the same way"
mkdir "$tmp/scale"
cp "$top_srcdir/examples/processor-scale/scale.c" \
  "$top_srcdir/examples/processor-scale/Makefile" "$tmp/scale/"
if ! (unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS CPPFLAGS; \
      PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_LIBDIR="$pcdir" \
      PKG_CONFIG_SYSROOT_DIR="$root" \
      $MAKE -C "$tmp/scale" CFLAGS="-O2 -Wall -Wextra -Werror -H") \
    >"$tmp/sbuild.log" 2>&1; then
  cat "$tmp/sbuild.log" >&2
  fail "building the processor example failed"
fi
expect_match "$tmp/sbuild.log" "^\\.+ $root$prefix/include/vicacq/plugin\\.h\$"
expect_not_contains "$tmp/sbuild.log" "$top_srcdir/include"
run 10 "$VICACQ" --plugin-path "$tmp/scale" --help-plugin scale
expect_rc 0 "--help-plugin scale"
expect_match "$tmp/out" '^scale 1\.0\.0 \(process, plugin ABI 1\.3\)$'
cat >"$tmp/scale.ini" <<EOF
[vicacq]
plugin_path = $tmp/scale
[source.fix]
plugin = fixture-source
count = 3
records = 2
process = double
[process.double]
plugin = scale
match = fixture.value.1
factor = 2.5
[sink.out]
plugin = stdout
format = json
[route.all]
from = *
to = out
EOF
run 20 "$VICACQ" -c "$tmp/scale.ini"
expect_rc 0 "a pipeline with the scale processor"
# The fixture's values: value.N of a reading is value.0 + N/100
# (fixture_source.c); only value.1 is matched, so only it is scaled.
grep '"quantity":"fixture.value.1"' "$tmp/out" | sed 's/.*"value":\([^,}]*\).*/\1/' >"$tmp/scaled"
grep '"quantity":"fixture.value.0"' "$tmp/out" | sed 's/.*"value":\([^,}]*\).*/\1/' >"$tmp/plain"
expect_eq "readings through the processor" "$(wc -l <"$tmp/scaled" | tr -d ' ')" 3
paste "$tmp/plain" "$tmp/scaled" |
  awk '{ d = $2 - ($1 + 0.01) * 2.5; if (d < -1e-9 || d > 1e-9) bad = 1 } END { exit bad }' ||
  { paste "$tmp/plain" "$tmp/scaled" >&2; fail "fixture.value.1 was not scaled by 2.5 (or value.0 was)"; }

# The installed daemon and its installed stdout sink run it too (when the
# staged binary can run from there: it may need its libraries installed).
bin="$root$prefix/bin/vicacq"
[ -x "$bin" ] || fail "the daemon was not installed as $bin"
stdout_dir=$(dirname "$(find "$root" -name 'stdout.la' | head -n 1)")
sed "s|^plugin_path = .*|plugin_path = $tmp/hello:$stdout_dir|" "$tmp/hello.ini" >"$tmp/hello_installed.ini"
if "$bin" --version >/dev/null 2>&1; then
  rc=0
  (unset VICACQ_PLUGIN_PATH; timeout -k 2 20 "$bin" -c "$tmp/hello_installed.ini") \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
  expect_rc 0 "the installed daemon with the hello plugin"
  sed 's/^{"time":"[^"]*",/{/' "$tmp/out" >"$tmp/got"
  cmp -s "$tmp/want" "$tmp/got" || { diff -u "$tmp/want" "$tmp/got" >&2; fail "the installed daemon's output differs"; }
else
  note "the staged daemon does not run from $root; skipped running it"
fi

exit 0

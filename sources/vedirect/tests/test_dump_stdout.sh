#!/bin/sh
# `vicacq dump vedirect` to standard output (output = -, the default) into
# a pipe that is read only after it filled up: every byte arrives, in
# order (a write that would block is tried again, not lost).
set -u
: "${VICACQ:?}" "${top_srcdir:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
capture=$top_srcdir/tests/data/vedirect/bmv-700_fw3.08.dump
size=$(wc -c < "$capture")
[ "$size" -gt 65536 ] || { echo "FAIL: the capture must be larger than a pipe"; exit 1; }

timeout 20 "$VICACQ" dump vedirect --capture "$capture" 2> "$tmp/err" |
  { sleep 1; cat > "$tmp/out.dump"; }
cat "$tmp/err"
if grep -q "failed" "$tmp/err"; then
  echo "FAIL: writes to standard output failed"
  exit 1
fi
if ! cmp "$capture" "$tmp/out.dump"; then
  echo "FAIL: standard output differs from the capture"
  exit 1
fi
echo "ok: $size bytes through a full pipe"

#!/bin/sh
# gx_registers.c is what gen-registers.py makes of attributes.csv: the
# checked-in table cannot drift from Victron's file.  Also: the copy of
# attributes.csv is the byte-exact one its README names.
set -u
command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp) || exit 99
trap 'rm -f "$tmp"' EXIT
python3 "$srcdir/gen-registers.py" "$srcdir/attributes.csv" >"$tmp" || {
  echo "FAIL: gen-registers.py failed"; exit 1; }
if ! cmp -s "$tmp" "$srcdir/gx_registers.c"; then
  diff -u "$srcdir/gx_registers.c" "$tmp" | head -n 40
  echo "FAIL: gx_registers.c differs from what attributes.csv gives (make -C sources/modbus-gx regen)"
  exit 1
fi
want=$(sed -n 's/^  sha256: *//p' "$srcdir/attributes.csv.README")
got=$(sha256sum "$srcdir/attributes.csv" | cut -d' ' -f1)
[ "$want" = "$got" ] || { echo "FAIL: attributes.csv is not the copy its README names"; exit 1; }
rows=$(wc -l <"$srcdir/attributes.csv" | tr -d ' ')
[ "$rows" = 1003 ] || { echo "FAIL: attributes.csv has $rows rows, not 1003"; exit 1; }
exit 0

#!/bin/sh
# `vicacq dump vedirect` from a live tcp:// port (a ser2net-like peer that
# sends a real capture): the dump file holds exactly the bytes sent.
set -u
: "${VICACQ:?}" "${top_srcdir:?}"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
tmp=$(mktemp -d)
peer=""
trap '[ -n "$peer" ] && kill $peer 2>/dev/null; rm -rf "$tmp"' EXIT
capture=$top_srcdir/tests/data/vedirect/smartsolar-mppt-75-15_fw1.56.dump

# The peer sends the capture in small pieces, then keeps the line open.
python3 "$top_srcdir/tests/tools/capture_peer.py" "$capture" "$tmp/port" 97 0.005 0 &
peer=$!
for i in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { echo "FAIL: the TCP peer did not start"; exit 1; }
port=$(cat "$tmp/port")

timeout 20 "$VICACQ" dump vedirect --port "tcp://127.0.0.1:$port" --seconds 2 \
  -o "$tmp/out.dump" 2> "$tmp/err"
rc=$?
cat "$tmp/err"
[ $rc -eq 0 ] || { echo "FAIL: vicacq dump exited $rc"; exit 1; }
if ! cmp "$capture" "$tmp/out.dump"; then
  echo "FAIL: the dump differs from the bytes the peer sent"
  exit 1
fi
echo "ok: $(wc -c < "$tmp/out.dump") bytes dumped exactly"

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
python3 - "$capture" "$tmp/port" <<'PY' &
import socket, sys, time
data = open(sys.argv[1], "rb").read()
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
open(sys.argv[2], "w").write(str(srv.getsockname()[1]))
srv.settimeout(20)
conn, _ = srv.accept()
for i in range(0, len(data), 97):
    conn.sendall(data[i:i + 97])
    time.sleep(0.005)
time.sleep(20)
PY
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

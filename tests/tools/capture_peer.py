#!/usr/bin/env python3
"""A ser2net-like TCP peer for tests: accepts one connection on a free
loopback port (written to PORTFILE), sends CAPTURE in CHUNK-byte pieces
DELAY seconds apart, waits LINGER seconds, then hangs up with --hang-up or
else keeps the line open for 20 s more.

usage: capture_peer.py CAPTURE PORTFILE CHUNK DELAY LINGER [--hang-up]"""
import socket
import sys
import time

capture, portfile, chunk, delay, linger = sys.argv[1:6]
hang_up = "--hang-up" in sys.argv[6:]
chunk, delay, linger = int(chunk), float(delay), float(linger)
data = open(capture, "rb").read()
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
with open(portfile, "w") as f:
    f.write(str(srv.getsockname()[1]))
srv.settimeout(20)
conn, _ = srv.accept()
for i in range(0, len(data), chunk):
    conn.sendall(data[i:i + chunk])
    time.sleep(delay)
time.sleep(linger)
if hang_up:
    conn.close()
    srv.close()  # reconnects are refused from now on
time.sleep(20 if not hang_up else 15)

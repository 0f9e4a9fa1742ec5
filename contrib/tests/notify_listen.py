#!/usr/bin/env python3
"""A stand-in for systemd's end of NOTIFY_SOCKET: bind a datagram socket
at PATH and write every message received, as 'SECONDS<TAB>KEY=VALUE' per
assignment (monotonic seconds since start), to OUT.  Exits after LIMIT
seconds or on SIGTERM."""
import os
import signal
import socket
import sys
import time

path, out, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
start = time.monotonic()
with open(out, "w", buffering=1) as f:
    f.write("%.3f\tLISTENING=1\n" % 0.0)
    while time.monotonic() - start < limit:
        sock.settimeout(max(0.01, limit - (time.monotonic() - start)))
        try:
            data = sock.recv(4096)
        except socket.timeout:
            break
        t = time.monotonic() - start
        for line in data.decode("utf-8", "replace").splitlines():
            f.write("%.3f\t%s\n" % (t, line))
os.unlink(path)

#!/usr/bin/python3
"""A small Blue Smart IP22 charger on a TCP port, for the command round
trip through the vedirect plugin's tcp:// port: a VE.Direct text block
every 200 ms, and HEX Get/Set of register 0xEDF0 (charge current limit,
un16 in 0.1 A); ping answered, other commands "unknown", other registers
"unknown id".  Every HEX frame received is written to LOG as
"<frame> <decoded>", e.g. ":8F0ED0064000C SET EDF0 100".

  ip22_sim.py PORT_FILE LOG
Writes the port it listens on to PORT_FILE.
"""
import socket
import sys
import threading
import time

limit = 120  # 12.0 A
lock = threading.Lock()


def hexframe(cmd, payload):
    s = (cmd + sum(payload)) & 0xFF
    check = (0x55 - s) & 0xFF
    return (":%X" % cmd + "".join("%02X" % b for b in payload) +
            "%02X" % check + "\n").encode()


def text_block():
    body = ("\r\nPID\t0xA332\r\nFWE\t0342FF\r\nSER#\tHQ2249TNFVM\r\nV\t26870"
            "\r\nI\t%d\r\nT\t---\r\nERR\t0\r\nCS\t3\r\nHC#\t57825\r\nChecksum\t"
            % (limit * 100)).encode()
    return body + bytes([(0x100 - sum(body)) & 0xFF])


def handle(conn, log):
    global limit
    conn.settimeout(0.2)
    buf = b""
    last = 0
    while True:
        now = time.time()
        if now - last >= 0.2:
            with lock:
                conn.sendall(text_block())
            last = now
        try:
            data = conn.recv(4096)
            if not data:
                return
        except socket.timeout:
            continue
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            i = line.rfind(b":")
            if i < 0:
                continue
            frame = line[i + 1:].decode(errors="replace").strip()
            try:
                cmd = int(frame[0], 16)
                raw = bytes.fromhex(frame[1:])
            except ValueError:
                continue
            ok = (cmd + sum(raw)) & 0xFF == 0x55
            p = raw[:-1]
            note = "BADSUM" if not ok else ""
            reply = None
            if ok and cmd == 1:
                reply = hexframe(5, [0x42, 0x43])
                note = "PING"
            elif ok and cmd in (7, 8) and len(p) >= 3:
                reg = p[0] | p[1] << 8
                if reg != 0xEDF0:
                    reply = hexframe(cmd, [p[0], p[1], 0x01])
                    note = "%s %04X unknown" % ("GET" if cmd == 7 else "SET", reg)
                elif cmd == 7:
                    reply = hexframe(7, [p[0], p[1], 0, limit & 0xFF, limit >> 8])
                    note = "GET EDF0"
                elif len(p) == 5:
                    limit = p[3] | p[4] << 8
                    reply = hexframe(8, [p[0], p[1], 0, limit & 0xFF, limit >> 8])
                    note = "SET EDF0 %d" % limit
            elif ok:
                reply = hexframe(3, [cmd])
                note = "UNKNOWN %X" % cmd
            log.write(":%s %s\n" % (frame, note))
            log.flush()
            if reply:
                with lock:
                    conn.sendall(reply)


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    log = open(sys.argv[2], "a")
    srv.settimeout(120)  # bounded: a test that forgot us ends anyway
    while True:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            return
        try:
            handle(conn, log)
        except OSError:
            pass
        conn.close()


main()

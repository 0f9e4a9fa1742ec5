#!/usr/bin/python3
"""A stand-in for the InfluxDB v2 write API, for the influx sink's tests.

Usage: v2_peer.py PORTFILE LOGFILE [--throttle N:SECONDS] [--max-lines N]

Listens on a free loopback port (written to PORTFILE) and appends one JSON
object per request to LOGFILE: arrival time, method, path, query, the
headers that matter, the body (gunzipped when Content-Encoding is gzip)
and the status it answered.  It answers 204, except: the first N write
requests get 429 with Retry-After: SECONDS (--throttle), and bodies with
more than N lines get 413 (--max-lines), as InfluxDB 2.x does.
"""
import argparse
import gzip
import json
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("portfile")
ap.add_argument("logfile")
ap.add_argument("--throttle", default="0:0")
ap.add_argument("--max-lines", type=int, default=0)
args = ap.parse_args()
throttle_left, throttle_seconds = (int(x) for x in args.throttle.split(":"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        global throttle_left
        arrived = time.time()
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        body = raw
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(raw)
        url = urllib.parse.urlsplit(self.path)
        lines = [l for l in body.decode("utf-8").split("\n") if l]
        if throttle_left > 0:
            throttle_left -= 1
            status, reply, extra = 429, b'{"code":"too many requests","message":"slow down"}', [("Retry-After", str(throttle_seconds))]
        elif args.max_lines and len(lines) > args.max_lines:
            status, reply, extra = 413, b'{"code":"request too large","message":"too large","maxLength":1}', []
        else:
            status, reply, extra = 204, b"", []
        entry = {
            "time": arrived,
            "method": "POST",
            "path": url.path,
            "query": urllib.parse.parse_qs(url.query, keep_blank_values=True),
            "authorization": self.headers.get("Authorization"),
            "content_type": self.headers.get("Content-Type"),
            "content_encoding": self.headers.get("Content-Encoding"),
            "lines": lines,
            "status": status,
        }
        with open(args.logfile, "a") as f:
            f.write(json.dumps(entry) + "\n")
        self.answer(status, reply, extra)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(args.portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(args.portfile + ".tmp", args.portfile)
server.serve_forever()

#!/usr/bin/python3
"""p50/p99/max of emit-to-subscriber latency from `mosquitto_sub -F '%U %p'`
lines of `payload = json` messages (their "time" is the emit time)."""
import datetime
import json
import sys

lat = []
for line in open(sys.argv[1]):
    recv, _, payload = line.partition(" ")
    try:
        t = json.loads(payload)["time"]
    except (ValueError, KeyError):
        continue
    sent = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    lat.append((float(recv) - sent) * 1000)
lat.sort()
if not lat:
    sys.exit("no messages")
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"latency over {len(lat)} messages: p50 {pick(0.5):.3f} ms, "
      f"p99 {pick(0.99):.3f} ms, max {lat[-1]:.3f} ms")

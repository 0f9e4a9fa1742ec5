#!/usr/bin/env python3
"""Check the messages notify_listen.py recorded from one vicacq run:
  notify_check.py EVENTS INTERVAL STALL_AT STALL_FOR STATUS
READY=1 first, WATCHDOG=1 every INTERVAL seconds while the loop runs,
none while the fixture blocks it (STALL_FOR seconds, about STALL_AT after
start), RELOADING=1 then READY=1 around the reload, STOPPING=1 at the
end, and one STATUS= that reads STATUS (the counters once the fixture
source has sent everything).  Prints what it found; exits 1 on a
mismatch."""
import statistics
import sys

events_path, interval, stall_at, stall_for, want_status = (
    sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]),
    sys.argv[5])
events = []
with open(events_path) as f:
    for line in f:
        t, kv = line.rstrip("\n").split("\t", 1)
        events.append((float(t), kv))

failures = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

keys = [kv for _, kv in events if kv != "LISTENING=1"]
order = [kv for kv in keys if kv in ("READY=1", "RELOADING=1", "STOPPING=1")]
check(keys[:1] == ["READY=1"], "READY=1 is the first message: %s" % keys[:3])
check(order == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"],
      "READY, RELOADING, READY, STOPPING in order: %s" % order)
status = [kv for kv in keys if kv.startswith("STATUS=")]
check("STATUS=" + want_status in status,
      "STATUS=%s among %d STATUS= messages, last ones: %s"
      % (want_status, len(status), status[-3:]))

pings = [t for t, kv in events if kv == "WATCHDOG=1"]
ready_at = next(t for t, kv in events if kv == "READY=1")
gaps = [b - a for a, b in zip(pings, pings[1:])]
print("pings: %d, gaps (s): %s" % (len(pings), " ".join("%.2f" % g for g in gaps)))
check(len(pings) >= 10, "at least 10 WATCHDOG=1 (%d)" % len(pings))
# A pause is a gap of half the block or more: far above the interval, and
# above what a loaded machine does to a 200 ms timer.
pause = max(4 * interval, stall_for / 2)
long_gaps = [(a, b) for a, b in zip(pings, pings[1:]) if b - a > pause]
check(len(long_gaps) == 1,
      "exactly one pause in the pings, while the loop is blocked: %s" % long_gaps)
if len(long_gaps) == 1:
    a, b = long_gaps[0]
    check(b - a >= stall_for - interval,
          "the pause (%.2f s) covers the block (%.2f s)" % (b - a, stall_for))
    check(a - ready_at < stall_at + 1.0,
          "the pause starts when the block does (%.2f s after READY)" % (a - ready_at))
    check(any(t > b for t in pings[pings.index(b) + 3:]),
          "pings resume after the block")
regular = [g for g in gaps if g <= pause]
if regular:
    median = statistics.median(regular)
    check(0.7 * interval <= median <= 1.5 * interval,
          "median ping interval %.3f s for WATCHDOG_USEC/2 = %.3f s" % (median, interval))
sys.exit(1 if failures else 0)

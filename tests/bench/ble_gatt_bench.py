#!/usr/bin/python3
"""ble-gatt benchmark (issue 13, Performance): vicacq with one ble-gatt
source in keep mode (keep_alive = 30, the default) and the stdout JSON sink
writing to a file, against lib/bluez/tests/smartshunt_mock.py on a private
system bus, the mock changing its 5 notifying values --notify-hz times a
second.  Prints, per run and as the median (min..max) of BENCH_RUNS runs:
  1. CPU of the vicacq process (utime + stime, from the ns counters in
     /proc/PID/task/*/schedstat; /proc/PID/stat ticks are 10 ms) over a
     window of BENCH_SECONDS once connected, as CPU seconds per device-hour
     (cpu_s / window_s * 3600): connected and idle (keep-alive and the
     re-reads of the 5 values without notify only), at the shunt's rate
     (1 notification per value per second) and at BENCH_HZ (default 20),
     with the cost of one notification from the scaled run less idle;
  2. notifications the mock sent per second, values vicacq delivered
     (records of the 5 notifying quantities in the window: without
     notifications, their re-reads) and readings (notifications that
     arrive together are one reading; the 5 values without notify are
     re-read as one more reading a minute);
  3. VmHWM / VmRSS / RssAnon of vicacq with the stdout sink alone (the
     fixture source idle, as core_bench.sh: a pipeline needs a source), with
     the ble-gatt source alone (end of the 1 Hz window), and with one
     ble-adv source (real SmartShunt advertisements of
     tests/data/ble-adv/vectors.json, kdv-bm-e2e and kdv-old-bm-mid
     alternating once a second: a repeat is not a reading) beside the
     ble-gatt source at 1 Hz, both delivering; after min(BENCH_SECONDS, 20) s.
CPU time, not wall time: the machine may be shared.  The mock, the bus and
this script spend CPU of their own, which is not counted.
Run from a build tree: make bench (tests/), or
  VICACQ=daemon/vicacq VICACQ_PLUGIN_PATH=sources/ble-gatt:sources/ble-adv:\\
  sinks/stdout:tests/plugins /usr/bin/python3 tests/bench/ble_gatt_bench.py
BENCH_SECONDS (default 60), BENCH_RUNS (default 3), BENCH_HZ (default 20);
BENCH_SECONDS=2 BENCH_RUNS=1 is a smoke run.  Needs dbus-daemon,
python3-dbus, python3-dbusmock and python3-gi (else it says so, exit 0)."""
import datetime
import glob
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BLUEZ_TESTS = os.environ.get("BLUEZ_TESTS_SRCDIR", os.path.join(HERE, "../../lib/bluez/tests"))
sys.path.insert(0, BLUEZ_TESTS)
try:
    from bluez_env import PrivateBluez  # exits 77 without python3-dbus / dbusmock
    import gi  # noqa: F401  (the mock's main loop)
except (SystemExit, ImportError) as e:
    print("ble-gatt bench skipped: dbus-daemon, python3-dbus, python3-dbusmock or python3-gi "
          "missing (%s)" % e)
    sys.exit(0)

VICACQ = os.environ.get("VICACQ")
if not VICACQ or "VICACQ_PLUGIN_PATH" not in os.environ:
    sys.exit("set VICACQ to the vicacq binary and VICACQ_PLUGIN_PATH to the build plugin dirs")
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
HZ = float(os.environ.get("BENCH_HZ", "20"))
RSS_SECONDS = min(SECONDS, 20.0)
MOCK = os.path.join(BLUEZ_TESTS, "smartshunt_mock.py")
ADDR, PIN = "C7:12:34:56:78:9A", "012345"
DEVPATH = "/org/bluez/hci0/dev_" + ADDR.replace(":", "_")
NOTIFYING = {"battery.voltage", "battery.current", "battery.power", "battery.consumed_ah",
             "battery.soc"}
# Real SmartShunt advertisements with their key (tests/data/ble-adv/vectors.json).
ADV_ADDR, ADV_KEY = "C0:3B:98:00:00:01", "aff4d0995b7d1e176c0c33ecb9e70dcd"
ADVS = ["100289a302b040af925d09a4d89aa0128bdef48c6298a9",   # kdv-bm-e2e
        "100289a3021001afc15f433b2663c8cfc0678b5d3d29a8"]   # kdv-old-bm-mid

GATT = """[source.house]
plugin = ble-gatt
address = %s
pin_file = %s
mode = keep
""" % (ADDR, "%(tmp)s/house.pin")
ADV = """[source.shunt2]
plugin = ble-adv
address = %s
key = %s
""" % (ADV_ADDR, ADV_KEY)
IDLE = """[source.idle]
plugin = fixture-source
count = 0
interval = 1h
burst = 1
"""
SINK = """[sink.out]
plugin = stdout
format = json

[route.all]
from = *
to = out
"""


def cpu_ns(pid):
    """utime + stime of every thread of pid, in ns (schedstat's run time)."""
    total = 0
    for f in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(f) as fh:
                total += int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that just ended
    return total


def cpu_ticks_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS", "RssAnon"):
                out[k] = int(v.split()[0])
    return out


def records(path):
    """(unix time, source, quantity) of each record the stdout sink wrote."""
    out = []
    with open(path) as f:
        for line in f:
            if line.startswith("{"):
                r = json.loads(line)
                t = datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
                t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
                out.append((t, r["source"], r["quantity"]))
    return out


class Run:
    """A mock (unless gatt is False) and vicacq with the sections given."""

    def __init__(self, env, tmp, name, sections, hz=0.0, gatt=True):
        self.env, self.tmp, self.name = env, tmp, name
        self.mock = None
        if gatt:
            args = ["/usr/bin/python3", MOCK, ADDR, PIN] + (["--notify-hz", str(hz)] if hz else [])
            self.mock = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
            self.mock.stdout.readline()
        ini = os.path.join(tmp, name + ".ini")
        with open(ini, "w") as f:
            f.write("[vicacq]\nlog_level = warn\n\n" + "\n".join(sections) % {"tmp": tmp} + "\n" + SINK)
        self.out = os.path.join(tmp, name + ".out")
        with open(self.out, "w") as o, open(os.path.join(tmp, name + ".err"), "w") as e:
            self.p = subprocess.Popen([VICACQ, "-c", ini], stdout=o, stderr=e)

    def device(self):
        return self.env.bus.get_object("org.bluez", DEVPATH)

    def notified(self):
        return int(self.device().Stats(dbus_interface="org.vicacq.Mock")["notified"])

    def advertise(self, i):
        self.device().Advertise(ADV_ADDR, ADVS[i % len(ADVS)], dbus_interface="org.vicacq.Mock")

    def wait_connected(self, timeout=20.0):
        """Until link.online and the 10 first values are out, then 2 s more
        so that the setup's CPU is not in the window."""
        end = time.time() + timeout
        while time.time() < end:
            if self.p.poll() is not None:
                raise RuntimeError("%s: vicacq exited %d" % (self.name, self.p.returncode))
            if sum(1 for r in records(self.out) if r[1] == "house") >= 11:
                time.sleep(2)
                return
            time.sleep(0.1)
        raise RuntimeError("%s: ble-gatt source not connected in %g s" % (self.name, timeout))

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self.mock is not None:
            self.mock.terminate()
            self.mock.wait(5)


def cpu_window(env, tmp, hz, n):
    """One window of SECONDS at hz: a dict of the numbers."""
    r = Run(env, tmp, "gatt%g-%d" % (hz, n), [GATT], hz)
    try:
        r.wait_connected()
        sent0, t0, c0, k0 = r.notified(), time.time(), cpu_ns(r.p.pid), cpu_ticks_s(r.p.pid)
        time.sleep(SECONDS)
        c1, k1, t1, sent1 = cpu_ns(r.p.pid), cpu_ticks_s(r.p.pid), time.time(), r.notified()
        m = mem(r.p.pid)
        # Values of the last notifications are one reading 20 ms later; a
        # reading still pending at SIGTERM is not delivered.
        time.sleep(0.2)
    finally:
        r.stop()
    win = [x for x in records(r.out) if t0 <= x[0] < t1 and x[1] == "house"]
    values = sum(1 for x in win if x[2] in NOTIFYING)
    span = t1 - t0
    cpu = (c1 - c0) / 1e9
    return {"cpu_s": cpu, "cpu_ticks_s": k1 - k0, "span": span,
            "per_hour": cpu / span * 3600, "sent": (sent1 - sent0) / span,
            "values": values / span, "readings": len({x[0] for x in win}) / span,
            "lost": (sent1 - sent0) - values if hz else None, "mem": m}


def rss_alone(env, tmp, n):
    r = Run(env, tmp, "alone-%d" % n, [IDLE], gatt=False)
    try:
        time.sleep(RSS_SECONDS)
        return mem(r.p.pid)
    finally:
        r.stop()


def rss_both(env, tmp, n):
    r = Run(env, tmp, "both-%d" % n, [GATT, ADV], 1.0)
    try:
        r.wait_connected()
        t0 = time.time()
        i = 0
        while time.time() < t0 + RSS_SECONDS:
            r.advertise(i)
            i += 1
            time.sleep(1)
        m = mem(r.p.pid)
    finally:
        r.stop()
    win = [x for x in records(r.out) if x[0] >= t0]
    gatt = {x[0] for x in win if x[1] == "house"}
    adv = {x[0] for x in win if x[1] == "shunt2" and x[2] == "battery.voltage"}
    if not gatt or not adv:
        raise RuntimeError("ble-adv + ble-gatt: not both delivering (%d gatt, %d adv readings)"
                           % (len(gatt), len(adv)))
    m["gatt_readings"], m["adv_readings"], m["advertised"] = len(gatt), len(adv), i
    return m


def med(xs, fmt):
    xs = sorted(xs)
    if len(xs) == 1:
        return fmt % xs[0]
    return (fmt + " (" + fmt + ".." + fmt + ")") % (statistics.median(xs), xs[0], xs[-1])


def main():
    env = PrivateBluez()
    tmp = tempfile.mkdtemp(prefix="ble-gatt-bench-")
    with open(os.path.join(tmp, "house.pin"), "w") as f:
        f.write(PIN + "\n")
    rates = [0.0, 1.0, HZ]
    res = {hz: [] for hz in rates}
    alone, both = [], []
    try:
        for n in range(RUNS):
            for hz in rates:
                x = cpu_window(env, tmp, hz, n)
                res[hz].append(x)
                print("run %d, %g Hz: %.4f CPU s in %.1f s (ticks %.2f s) = %.3f CPU s/device-hour; "
                      "%.2f notifications/s sent, %.2f values/s and %.2f readings/s delivered, "
                      "%s lost; VmHWM %d kB, VmRSS %d kB"
                      % (n + 1, hz, x["cpu_s"], x["span"], x["cpu_ticks_s"], x["per_hour"],
                         x["sent"], x["values"], x["readings"],
                         "-" if x["lost"] is None else x["lost"],
                         x["mem"]["VmHWM"], x["mem"]["VmRSS"]), flush=True)
            alone.append(rss_alone(env, tmp, n))
            both.append(rss_both(env, tmp, n))
            print("run %d, RSS: stdout sink alone VmHWM %d / VmRSS %d kB; ble-adv + ble-gatt "
                  "VmHWM %d / VmRSS %d kB (%d gatt, %d adv readings)"
                  % (n + 1, alone[-1]["VmHWM"], alone[-1]["VmRSS"], both[-1]["VmHWM"],
                     both[-1]["VmRSS"], both[-1]["gatt_readings"], both[-1]["adv_readings"]),
                  flush=True)
    finally:
        env.close()
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)

    print("== median (min..max) of %d run(s), window %g s, %s, %d cores"
          % (RUNS, SECONDS, os.uname().machine, os.cpu_count()))
    for hz in rates:
        xs = res[hz]
        what = "connected, no notifications" if hz == 0 else "%g notification(s)/value/s" % hz
        lost = ("lost %s" % med([x["lost"] for x in xs], "%d") if hz else
                "the values are re-reads")
        print("ble-gatt keep mode, %s: %s CPU s/device-hour; %s notifications/s sent, "
              "%s values/s, %s readings/s delivered, %s"
              % (what, med([x["per_hour"] for x in xs], "%.3f"), med([x["sent"] for x in xs], "%.2f"),
                 med([x["values"] for x in xs], "%.2f"), med([x["readings"] for x in xs], "%.2f"),
                 lost))
    per_note = [(h["cpu_s"] - i["cpu_s"] * h["span"] / i["span"]) / (h["sent"] * h["span"])
                for h, i in zip(res[HZ], res[0.0]) if h["sent"] > 0]
    if per_note:
        print("one notification (the %g Hz run less idle): %s us CPU; so at 1 Hz: idle + 5 x 3600 "
              "x that = %s CPU s/device-hour"
              % (HZ, med([p * 1e6 for p in per_note], "%.1f"),
                 med([i["per_hour"] + 5 * 3600 * p for i, p in zip(res[0.0], per_note)], "%.3f")))
    for label, ms in (("stdout sink alone (idle fixture source)", alone),
                      ("one ble-gatt source", [x["mem"] for x in res[1.0]]),
                      ("one ble-adv + one ble-gatt source", both)):
        print("RSS, %s: VmHWM %s kB, VmRSS %s kB, RssAnon %s kB"
              % (label, med([m["VmHWM"] for m in ms], "%d"), med([m["VmRSS"] for m in ms], "%d"),
                 med([m["RssAnon"] for m in ms], "%d")))


if __name__ == "__main__":
    main()

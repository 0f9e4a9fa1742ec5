#!/usr/bin/python3
"""`vicacq scan` with -c FILE against lib/bluez/tests/smartshunt_mock.py on
a private system bus: the GATT column says which SmartShunts a ble-gatt
source of the file reads (from_config "gatt_addresses=ble-gatt:address"),
the BONDED column whether BlueZ keeps a bond with each: Device1.Bonded
where BlueZ has it, else Paired; a bond change made once the scan has
loaded BlueZ's objects (it started discovery) shows, so it came by
PropertiesChanged, not by GetManagedObjects.
Exit 77 (skip) without dbus-daemon, python3-dbus or python3-gi."""
import os
import subprocess
import sys
import tempfile
import threading
import time

BLUEZ_TESTS = os.environ.get("BLUEZ_TESTS_SRCDIR",
                             os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          "../../../lib/bluez/tests"))
sys.path.insert(0, BLUEZ_TESTS)
from bluez_env import MOCK, PrivateBluez, cell, require_mock, require_vicacq  # noqa: E402  (exits 77 without python3-dbus)
import dbus  # noqa: E402
require_mock()
VICACQ = require_vicacq()

MOCK_ADDR = "C7:12:34:56:78:9A"
MOCK_PATH = "/org/bluez/hci0/dev_C7_12_34_56_78_9A"
# Three SmartShunts advertising (the mock's Advertise adds them):
#   GATT_PAIRED  a ble-gatt source, Paired and no Bonded property (older BlueZ)
#   ADV_ONLY     a ble-adv source with a key, no ble-gatt source, not paired
#   GATT_UNBOND  a ble-gatt source, Paired but Bonded false (keys not stored)
GATT_PAIRED = "C0:3B:98:00:00:01"
ADV_ONLY = "C0:3B:98:00:00:03"
GATT_UNBOND = "C0:3B:98:00:00:04"
SHUNT_ADV = "100289a302b040af925d09a4d89aa0128bdef48c6298a9"
PIPELINE = """[source.house]
plugin = ble-gatt
address = %s

[source.shunt]
plugin = ble-adv
address = %s
key = aff4d0995b7d1e176c0c33ecb9e70dcd

[source.van]
plugin = ble-gatt
address = %s
pin = 012345

[sink.out]
plugin = stdout

[route.all]
from = *
to = out
""" % (GATT_PAIRED, ADV_ONLY, GATT_UNBOND)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    print(("ok: " if cond else "FAIL: ") + what, flush=True)


def set_prop(env, addr, name, value):
    path = "/org/bluez/hci0/dev_" + addr.replace(":", "_")
    env.bus.get_object("org.bluez", path).Set("org.bluez.Device1", name, dbus.Boolean(value),
                                              dbus_interface="org.freedesktop.DBus.Properties")


def advertise(env, addr):
    env.bus.get_object("org.bluez", MOCK_PATH).get_dbus_method("Advertise", "org.vicacq.Mock")(
        addr, SHUNT_ADV)


def discovery_starts(env):
    return int(env.bus.get_object("org.bluez", MOCK_PATH).get_dbus_method(
        "Stats", "org.vicacq.Mock")()["discovery_starts"])


def scan(env, args, during=None):
    """Run vicacq scan while the three shunts advertise; during() runs once
    the scan has loaded BlueZ's objects: the client calls StartDiscovery
    after it parsed the GetManagedObjects reply, and the mock answers our
    Stats after that reply went out, so what during() changes can reach
    the scan only by PropertiesChanged.  (returncode, stdout, stderr)"""
    starts = discovery_starts(env)
    p = env.track(subprocess.Popen([VICACQ, "scan", "--seconds", "3"] + args,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    stop = threading.Event()
    end = time.time() + 5
    while discovery_starts(env) == starts and time.time() < end:
        time.sleep(0.02)
    check(discovery_starts(env) > starts, "the scan loaded BlueZ's objects and started discovery")

    def feed():
        while not stop.is_set():
            for a in (GATT_PAIRED, ADV_ONLY, GATT_UNBOND):
                advertise(env, a)
            time.sleep(0.1)
    if during is not None:
        during()
    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    out, err = p.communicate(timeout=20)
    stop.set()
    feeder.join(5)
    print(out)
    print(err, file=sys.stderr)
    return p.returncode, out, err


env = PrivateBluez()
tmp = tempfile.mkdtemp(prefix="ble-gatt-scan-")
mock = None
try:
    mock = subprocess.Popen(["/usr/bin/python3", MOCK, MOCK_ADDR, "012345"], stdout=subprocess.PIPE,
                            text=True)
    mock.stdout.readline()
    for a in (GATT_PAIRED, ADV_ONLY, GATT_UNBOND):
        advertise(env, a)
    # Known before the scan starts (read from GetManagedObjects): both
    # Paired, so GATT_UNBOND too would show BONDED yes from those alone.
    set_prop(env, GATT_PAIRED, "Paired", True)
    set_prop(env, GATT_UNBOND, "Paired", True)
    ini = os.path.join(tmp, "p.ini")
    with open(ini, "w") as f:
        f.write(PIPELINE)

    # Changed once the scan has BlueZ's objects: Bonded false reaches it
    # only by PropertiesChanged (and wins over Paired).
    def unbond():
        set_prop(env, GATT_UNBOND, "Bonded", False)
    rc, out, err = scan(env, ["-c", ini], unbond)
    check(rc == 0, "vicacq scan -c FILE exits 0 (rc %d)" % rc)
    head = out.splitlines()[0].split() if out else []
    check(head[-4:] == ["RSSI", "KEY", "GATT", "BONDED"],
          "the table's last columns are RSSI KEY GATT BONDED: %r" % head)
    check(all("SmartShunt" in (line or "") for line in out.splitlines()
              if line.startswith("C0:3B:98")) and out.count("C0:3B:98") == 3,
          "one SmartShunt row per address")
    want = {GATT_PAIRED: ("no", "yes", "yes"), ADV_ONLY: ("yes", "no", "no"),
            GATT_UNBOND: ("no", "yes", "no")}
    for addr, (key, gatt, bonded) in want.items():
        got = (cell(out, addr, "KEY"), cell(out, addr, "GATT"), cell(out, addr, "BONDED"))
        check(got == (key, gatt, bonded), "%s: KEY %s GATT %s BONDED %s (got %r)"
              % (addr, key, gatt, bonded, got))

    # Without -c FILE nothing is configured; the bonds are BlueZ's all the
    # same.  Bonded wins over Paired once BlueZ has it.
    set_prop(env, GATT_UNBOND, "Bonded", True)
    set_prop(env, GATT_PAIRED, "Paired", False)
    rc, out, err = scan(env, [])
    check(rc == 0, "vicacq scan without -c exits 0 (rc %d)" % rc)
    for addr, bonded in ((GATT_PAIRED, "no"), (ADV_ONLY, "no"), (GATT_UNBOND, "yes")):
        got = (cell(out, addr, "KEY"), cell(out, addr, "GATT"), cell(out, addr, "BONDED"))
        check(got == ("no", "no", bonded), "%s without -c: KEY no GATT no BONDED %s (got %r)"
              % (addr, bonded, got))
finally:
    if mock is not None:
        mock.terminate()
        mock.wait(5)
    env.close()
    subprocess.run(["rm", "-rf", tmp])

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)

#!/usr/bin/python3
"""`vicacq scan` and `vicacq dump ble` through the daemon's sub-commands,
against BlueZ on a private bus (bluez_env): the scan table lists the
devices heard with product, record type, rssi and whether the pipeline
file has a key; the dump writes the capture format of doc/design.md §7, and
replaying that capture through `vicacq -c` decodes the same readings."""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "lib", "bluez", "tests"))
from bluez_env import PrivateBluez, cell  # noqa: E402  (exits 77 without dbusmock)

VICACQ = os.environ.get("VICACQ")
if not VICACQ or not os.access(VICACQ, os.X_OK):
    print("SKIP: VICACQ (the daemon binary) not given")
    sys.exit(77)

SHUNT = ("C0:3B:98:00:00:01", "aff4d0995b7d1e176c0c33ecb9e70dcd")
SOLAR = "C0:3B:98:00:00:02"
SHUNT_ADV = ["100289a302b040af925d09a4d89aa0128bdef48c6298a9",
             "100289a3021001afc15f433b2663c8cfc0678b5d3d29a8"]
SOLAR_ADV = "100242a0016207adceb37b605d7e0ee21b24df5c"

failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def feed(env, stop):
    """Advertise like real devices: repeats, and a new nonce now and then."""
    i = 0
    while not stop.is_set():
        env.device_changed(SHUNT[0], SHUNT_ADV[(i // 5) % 2], -70 - i % 3)
        env.device_changed(SOLAR, SOLAR_ADV, -55)
        i += 1
        time.sleep(0.05)


env = PrivateBluez()
work = tempfile.mkdtemp(prefix="vicacq-ble-tools-")
try:
    # Without bluetoothd (and then without an adapter) scan and dump fail
    # at once with the reason and a non-zero status (it was "0 devices",
    # exit 0, after the whole duration).
    for tool in (["scan", "--seconds", "5"], ["dump", "ble", "--seconds", "5", "-o", "-"]):
        t0 = time.time()
        r = subprocess.run([VICACQ] + tool, capture_output=True, text=True, timeout=20)
        check(r.returncode != 0 and "bluetoothd is not running" in r.stderr and time.time() - t0 < 4,
              "vicacq %s without bluetoothd: clear error, exit %d" % (tool[0], r.returncode))
    env.start_bluez()
    r = subprocess.run([VICACQ, "scan", "--seconds", "5"], capture_output=True, text=True, timeout=20)
    check(r.returncode != 0 and "BlueZ has no Bluetooth adapter" in r.stderr,
          "vicacq scan without an adapter: clear error, exit %d" % r.returncode)
    env.mock("/").AddAdapter("hci0", "test", dbus_interface="org.bluez.Mock")
    env.mock("/").AddDevice("hci0", SOLAR, "SmartSolar HQ", dbus_interface="org.bluez.Mock")
    env.mock("/").AddDevice("hci0", SHUNT[0], "SmartShunt", dbus_interface="org.bluez.Mock")
    pipeline = os.path.join(work, "p.ini")
    with open(pipeline, "w") as f:
        f.write("[source.shunt]\nplugin = ble-adv\naddress = %s\nkey = %s\n"
                "[sink.o]\nplugin = stdout\n[route.r]\nfrom = *\nto = o\n" % SHUNT)

    # scan: start feeding once the daemon is listening.
    stop = threading.Event()
    scan = subprocess.Popen([VICACQ, "scan", "--seconds", "3", "-c", pipeline],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    feeder = threading.Thread(target=feed, args=(env, stop), daemon=True)
    feeder.start()
    out, err = scan.communicate(timeout=20)
    stop.set()
    feeder.join(5)
    print(out)
    print(err, file=sys.stderr)
    check(scan.returncode == 0, "vicacq scan exits 0 (rc %d)" % scan.returncode)
    rows = [l for l in out.splitlines() if "C0:3B:98" in l]
    shunt = [l for l in rows if SHUNT[0] in l]
    solar = [l for l in rows if SOLAR in l]
    check(len(shunt) == 1 and len(solar) == 1, "one row per device in range")
    check(bool(shunt) and "SmartShunt" in shunt[0], "shunt row names the product")
    check(bool(solar) and "MPPT" in solar[0], "solar row names the product")
    check(bool(shunt) and re.search(r"-7[0-2]\b", shunt[0]) is not None, "shunt row shows rssi")
    check(bool(shunt) and bool(solar) and shunt[0] != solar[0], "rows differ")
    # The columns are aligned under their headings; KEY is followed by GATT
    # and BONDED (sources/ble-gatt/tests/test_scan_gatt.py checks those).
    head = out.splitlines()[0] if out else ""
    keys = (cell(out, SHUNT[0], "KEY"), cell(out, SOLAR, "KEY"))
    check(keys == ("yes", "no"),
          "KEY column: yes for the shunt (key in -c file), no for the solar: %r" % (keys,))
    check(head.split()[-3:] == ["KEY", "GATT", "BONDED"], "KEY, GATT, BONDED columns")
    got = (cell(out, SHUNT[0], "GATT"), cell(out, SHUNT[0], "BONDED"))
    check(got == ("no", "no"),
          "no ble-gatt source for the shunt, no bond (dbusmock: Paired false): %r" % (got,))

    # dump: every Victron advertisement heard, then replay it.
    capture = os.path.join(work, "dump.capture")
    stop = threading.Event()
    dump = subprocess.Popen([VICACQ, "dump", "ble", "--seconds", "3", "-o", capture],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)
    feeder = threading.Thread(target=feed, args=(env, stop), daemon=True)
    feeder.start()
    out, err = dump.communicate(timeout=20)
    stop.set()
    feeder.join(5)
    check(dump.returncode == 0, "vicacq dump ble exits 0 (rc %d): %s" % (dump.returncode, err.strip()[-300:]))
    with open(capture) as f:
        lines = [l.rstrip("\n") for l in f if not l.startswith("#") and l.strip()]
    fmt = re.compile(r"^\d+\.\d+ ([0-9A-F]{2}:){5}[0-9A-F]{2} (-?\d+|-) [0-9a-f]+$")
    check(len(lines) > 5, "dump wrote advertisements (%d lines)" % len(lines))
    check(all(fmt.match(l) for l in lines), "every line is in the capture format")
    check(any(SHUNT_ADV[1] in l for l in lines) and any(SOLAR_ADV in l for l in lines),
          "both devices' manufacturer data, bytes exact")

    replay = os.path.join(work, "replay.ini")
    with open(replay, "w") as f:
        f.write("[source.shunt]\nplugin = ble-adv\ncapture = %s\naddress = %s\nkey = %s\n"
                "[sink.o]\nplugin = stdout\n[route.r]\nfrom = *\nto = o\n" % (capture, SHUNT[0], SHUNT[1]))
    r = subprocess.run([VICACQ, "-c", replay], capture_output=True, text=True, timeout=20)
    volts = [l for l in r.stdout.splitlines() if '"quantity":"battery.voltage"' in l]
    check(r.returncode == 0, "replay of the dump exits 0")
    # Repeats are dropped: one reading per change of the shunt's data.
    shunt_data = [l.split()[3] for l in lines if l.split()[1] == SHUNT[0]]
    changes = sum(1 for i, d in enumerate(shunt_data) if i == 0 or d != shunt_data[i - 1])
    check(changes >= 2 and len(volts) == changes,
          "replay decodes each change once (%d readings, %d changes in %d advertisements)"
          % (len(volts), changes, len(shunt_data)))
    check(bool(volts) and '"value":12.53' in volts[0], "replayed shunt voltage 12.53 V")
finally:
    env.close()
    subprocess.run(["rm", "-rf", work])

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)

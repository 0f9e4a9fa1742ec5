#!/usr/bin/python3
"""ble-adv against BlueZ on a private system bus: a dbus-daemon of our own
and python3-dbusmock's bluez5 template speaking the real org.bluez API.

Two sources (different address and key) share the scanner in one process
(tests/bluez_probe).  Checked: discovery filter (Transport=le,
DuplicateData), a device appearing with data (InterfacesAdded), data
changing (PropertiesChanged; a repeat is not emitted, a new nonce is),
other companies ignored, the adapter removed and re-added, discovery
stopped by someone else, bluetoothd restarting; one log line for each
event, no busy loop, a clean stop.  Exit 77 (skip) without dbus-daemon or
dbusmock."""
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "lib", "bluez", "tests"))
from bluez_env import PrivateBluez  # noqa: E402  (exits 77 without dbusmock)

BUILD = os.environ.get("BLE_ADV_BUILDDIR", os.path.dirname(os.path.abspath(__file__)) + "/..")
PROBE = os.path.join(BUILD, "tests", "bluez_probe")
SHUNT = ("C0:3B:98:00:00:01", "aff4d0995b7d1e176c0c33ecb9e70dcd")
SOLAR = ("C0:3B:98:00:00:02", "adeccb947395801a4dd45a2eaa44bf17")
# Real advertisements from tests/data/ble-adv/vectors.json.
SHUNT_ADV = ["100289a302b040af925d09a4d89aa0128bdef48c6298a9",   # kdv-bm-e2e
             "100289a3021001afc15f433b2663c8cfc0678b5d3d29a8",   # kdv-old-bm-mid
             "100289a302c802af45fc59d010dd78d2948e0c55c3bf48",   # kdv-old-bm-starter
             "100289a30d787fafde83ccec982199fd815286"]           # kdv-dcem-e2e
SOLAR_ADV = "100242a0016207adceb37b605d7e0ee21b24df5c"           # kdv-solar-e2e

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    else:
        print("ok:", what, flush=True)


env = PrivateBluez()
bus = env.bus
procs = env.procs
start_bluez = env.start_bluez
mock = env.mock
device_changed = env.device_changed
device_appears = env.device_appears

lines = []
lock = threading.RLock()


def reader(stream, tag):
    for line in stream:
        with lock:
            lines.append((tag, line.rstrip("\n")))


def wait_for(pred, what, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        with lock:
            if pred(lines):
                check(True, what)
                return True
        time.sleep(0.02)
    check(False, what)
    return False


def count(needle, tag="err"):
    with lock:
        return sum(1 for t, l in lines if t == tag and needle in l)


def readings(device):
    with lock:
        return [l for t, l in lines if t == "out" and l.startswith("READING") and (" " + device + " ") in l]


try:
    start_bluez()
    mock("/").AddAdapter("hci0", "test", dbus_interface="org.bluez.Mock")
    probe = subprocess.Popen([PROBE, "60", "address=" + SHUNT[0], "key=" + SHUNT[1], "--",
                              "address=" + SOLAR[0], "key=" + SOLAR[1]],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threading.Thread(target=reader, args=(probe.stdout, "out"), daemon=True).start()
    threading.Thread(target=reader, args=(probe.stderr, "err"), daemon=True).start()

    wait_for(lambda ls: any("LE discovery running on hci0" in l for _, l in ls), "discovery started")
    f = mock("/org/bluez/hci0").Get("org.bluez.Adapter1", "DiscoveryFilter",
                                   dbus_interface="org.freedesktop.DBus.Properties")
    check(f.get("Transport") == "le" and bool(f.get("DuplicateData")), "discovery filter le + DuplicateData")

    # A device appears with data; another (AddDevice: no data yet) then sends some.
    device_appears(SOLAR[0], "SmartSolar HQ", SOLAR_ADV, -55)
    wait_for(lambda ls: len(readings("c03b98000002")) == 1, "device appearing with data is decoded")
    check("pv.power=19" in readings("c03b98000002")[0] and "link.rssi=-55" in readings("c03b98000002")[0],
          "solar values and rssi")
    mock("/").AddDevice("hci0", SHUNT[0], "SmartShunt", dbus_interface="org.bluez.Mock")
    device_changed(SHUNT[0], SHUNT_ADV[0], -70)
    wait_for(lambda ls: len(readings("c03b98000001")) == 1, "manufacturer data change is decoded")
    check("battery.voltage=12.53" in readings("c03b98000001")[0], "shunt voltage")
    check(len(readings("c03b98000002")) == 1, "the other source did not take the shunt")
    device_changed(SHUNT[0], SHUNT_ADV[0], -71)           # same nonce and bytes
    device_changed(SHUNT[0], SHUNT_ADV[0][:20] + "00", -71, company=0x004C)  # not Victron
    device_changed(SHUNT[0], SHUNT_ADV[1], -72)           # new nonce
    wait_for(lambda ls: len(readings("c03b98000001")) == 2, "a new nonce is emitted")
    time.sleep(0.3)
    check(len(readings("c03b98000001")) == 2, "a repeat and other companies are not emitted")
    check("link.rssi=-72" in readings("c03b98000001")[1], "rssi follows")

    # Adapter removed and re-added.
    mock("/").RemoveAdapterWithDevices("hci0", dbus_interface="org.bluez.Mock")
    wait_for(lambda ls: any("hci0 disappeared" in l for _, l in ls), "adapter removal logged")
    mock("/").AddAdapter("hci0", "test", dbus_interface="org.bluez.Mock")
    wait_for(lambda ls: sum("LE discovery running on hci0" in l for _, l in ls) == 2,
             "discovery restarted on the re-added adapter")
    mock("/").AddDevice("hci0", SHUNT[0], "SmartShunt", dbus_interface="org.bluez.Mock")
    device_changed(SHUNT[0], SHUNT_ADV[2], -60)
    wait_for(lambda ls: len(readings("c03b98000001")) == 3, "decoding after the adapter came back")

    # Discovery stopped by someone else.
    mock("/org/bluez/hci0").StopDiscovery(dbus_interface="org.bluez.Adapter1")
    wait_for(lambda ls: any("stopped by someone else" in l for _, l in ls), "foreign stop logged")
    wait_for(lambda ls: sum("LE discovery running on hci0" in l for _, l in ls) == 3,
             "discovery restarted after the foreign stop", timeout=5)

    # bluetoothd restarts.
    procs[0].send_signal(signal.SIGTERM)
    procs[0].wait(5)
    wait_for(lambda ls: any("bluetoothd left the bus" in l for _, l in ls), "bluetoothd exit logged")
    start_bluez()
    wait_for(lambda ls: any("bluetoothd is on the bus again" in l for _, l in ls), "bluetoothd return logged")
    mock("/").AddAdapter("hci0", "test", dbus_interface="org.bluez.Mock")
    wait_for(lambda ls: sum("LE discovery running on hci0" in l for _, l in ls) == 4,
             "discovery after bluetoothd restarted")
    mock("/").AddDevice("hci0", SHUNT[0], "SmartShunt", dbus_interface="org.bluez.Mock")
    device_changed(SHUNT[0], SHUNT_ADV[3], -65)
    wait_for(lambda ls: len(readings("c03b98000001")) == 4, "decoding after bluetoothd restarted")
    check("monitor.mode=-3" in readings("c03b98000001")[3], "record type 0x0D from the same shunt")

    # One line per event.
    check(count("hci0 disappeared") == 1, "one line for the adapter removal")
    check(count("stopped by someone else") == 1, "one line for the foreign stop")
    check(count("bluetoothd left the bus") == 1, "one line for bluetoothd leaving")
    check(count("bluetoothd is on the bus again") == 1, "one line for bluetoothd returning")
    check(count("no powered Bluetooth adapter") == 1, "one line while waiting for an adapter")

    # No busy loop: CPU time of the probe over the whole run.
    with open("/proc/%d/stat" % probe.pid) as st:
        fields = st.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    check(cpu < 1.0, "probe CPU time %.2f s (no busy loop)" % cpu)

    probe.send_signal(signal.SIGTERM)
    rc = probe.wait(10)
    time.sleep(0.1)
    check(rc == 0 and count("STOPPED 2", "out") == 1, "both sources stopped cleanly (rc %d)" % rc)
finally:
    env.close()
    with lock:
        for tag, l in lines:
            print("  [%s] %s" % (tag, l))

print("%d failures" % len(failures))
sys.exit(1 if failures else 0)

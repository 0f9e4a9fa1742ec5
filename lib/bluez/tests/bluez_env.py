"""A private system bus with python3-dbusmock's bluez5 template speaking
the real org.bluez API, shared by the Bluetooth tests (lib/bluez, sources/ble-adv).  Importing it exits 77
(skip) when dbus-daemon, python3-dbus or python3-dbusmock is missing."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import dbus
    import dbusmock  # noqa: F401
except ImportError as e:
    print("SKIP: python3-dbus / python3-dbusmock missing:", e)
    sys.exit(77)
if shutil.which("dbus-daemon") is None:
    print("SKIP: dbus-daemon missing")
    sys.exit(77)

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=%s</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/>
<allow send_type="method_call"/><allow send_type="signal"/><allow send_type="method_return"/>
<allow send_type="error"/><allow receive_type="method_call"/><allow receive_type="signal"/>
<allow receive_type="method_return"/><allow receive_type="error"/></policy></busconfig>
"""


# The SmartShunt mock, a bluetoothd of our own on GLib's main loop.
MOCK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "smartshunt_mock.py")


def require_mock():
    """Exit 77 (skip) when the mock cannot run: it needs python3-gi."""
    try:
        import gi  # noqa: F401
    except ImportError as e:
        print("SKIP: python3-gi missing:", e)
        sys.exit(77)


def require_vicacq():
    """The daemon under test (VICACQ, set by make check), or exit 77."""
    vicacq = os.environ.get("VICACQ")
    if not vicacq or not os.access(vicacq, os.X_OK):
        print("SKIP: VICACQ (the daemon binary) not given")
        sys.exit(77)
    return vicacq


def cell(out, addr, col):
    """The word of addr's row under the heading col in the table `vicacq
    scan` prints (columns are aligned under their headings), or None."""
    lines = out.splitlines()
    m = re.search(r"(?<!\S)%s(?!\S)" % col, lines[0]) if lines else None
    if m is None:
        return None
    at = m.start()
    rows = [line for line in lines if line.startswith(addr)]
    if len(rows) != 1 or len(rows[0]) <= at or (at > 0 and rows[0][at - 1] != " "):
        return None
    return rows[0][at:].split()[0]


def mfr(hexdata, company=0x02E1):
    return dbus.Dictionary({dbus.UInt16(company): dbus.Array(bytes.fromhex(hexdata), signature="y",
                                                                variant_level=1)},
                           signature="qv", variant_level=1)


class PrivateBluez:
    """dbus-daemon of our own (DBUS_SYSTEM_BUS_ADDRESS points at it for
    the children) plus the processes in self.procs (mock bluetoothds, and
    what a test hands to track()), all ended by close()."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="ble-adv-bus-")
        sock = os.path.join(self.tmp, "bus")
        conf = os.path.join(self.tmp, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONF % sock)
        self.daemon = subprocess.Popen(["dbus-daemon", "--config-file=" + conf, "--nofork",
                                        "--print-address"], stdout=subprocess.PIPE, text=True)
        self.daemon.stdout.readline()
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + sock
        self.bus = dbus.SystemBus()
        self.procs = []

    def start_bluez(self):
        p = subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--system", "--template", "bluez5"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        for _ in range(100):
            if self.bus.name_has_owner("org.bluez"):
                return p
            time.sleep(0.05)
        raise RuntimeError("mock bluez did not start")

    def track(self, p):
        """End p at close() if it still runs: a test that stops half-way (a
        failed check raising) leaves no daemon behind."""
        self.procs.append(p)
        return p

    def mock(self, path="/"):
        return self.bus.get_object("org.bluez", path)

    def device_changed(self, addr, hexdata, rssi, company=0x02E1):
        path = "/org/bluez/hci0/dev_" + addr.replace(":", "_")
        self.mock(path).EmitSignal("org.freedesktop.DBus.Properties", "PropertiesChanged", "sa{sv}as",
                                   ["org.bluez.Device1",
                                    dbus.Dictionary({"ManufacturerData": mfr(hexdata, company),
                                                     "RSSI": dbus.Int16(rssi, variant_level=1)},
                                                    signature="sv"),
                                    dbus.Array([], signature="s")],
                                   dbus_interface="org.freedesktop.DBus.Mock")

    def device_appears(self, addr, name, hexdata, rssi):
        path = "/org/bluez/hci0/dev_" + addr.replace(":", "_")
        props = {"Address": dbus.String(addr, variant_level=1), "Name": dbus.String(name, variant_level=1),
                 "RSSI": dbus.Int16(rssi, variant_level=1), "ManufacturerData": mfr(hexdata)}
        self.mock("/").EmitSignal("org.freedesktop.DBus.ObjectManager", "InterfacesAdded", "oa{sa{sv}}",
                                  [dbus.ObjectPath(path),
                                   dbus.Dictionary({"org.bluez.Device1": dbus.Dictionary(props, signature="sv")},
                                                   signature="sa{sv}")],
                                  dbus_interface="org.freedesktop.DBus.Mock")

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.daemon.terminate()
        self.daemon.wait(5)
        shutil.rmtree(self.tmp, ignore_errors=True)

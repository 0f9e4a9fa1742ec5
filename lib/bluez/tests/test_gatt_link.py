#!/usr/bin/python3
"""Connections and GATT through the shared BlueZ client (lib/bluez), driven
by tests/gatt_driver against tests/smartshunt_mock.py on a private system
bus: first connection with pairing through the process's agent (KeyboardOnly,
registered once, rejecting devices no subscriber owns, PIN never printed),
the keep-alive written first with response and honoured over several periods,
the device dropping the link when it is not rewritten, every value read
exactly as the device holds it, notifications only on change, a wrong PIN
(AuthenticationFailed) then the right one, a SmartShunt without the GATT
service, the adapter going without announcing its devices (the client
drops them with it), bluetoothd leaving.  Times scaled down (keep-alive 600 ms).
Exit 77 (skip) without dbus-daemon or python3-dbus."""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bluez_env import MOCK, PrivateBluez, require_mock  # noqa: E402  (exits 77 without python3-dbus)
import dbus  # noqa: E402
require_mock()

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("BLUEZ_TESTS_BUILDDIR", HERE)
DRIVER = os.path.join(BUILD, "gatt_driver")
ADDR = "C7:12:34:56:78:9A"
DEV = "/org/bluez/hci0/dev_C7_12_34_56_78_9A"
PIN = "012345"  # a leading zero: the passkey is 12345
KA_MS = 600
TAIL = "-4bda-4c1e-af4b-551c4cf74769"
# The values the mock starts with (doc/protocols/ble-gatt.md §2).
EXPECTED = {"6597ed8d": "0015", "6597ed8c": "9d5a0000", "6597ed8e": "db04", "6597eeff": "70f9ffff",
            "65970fff": "dc23", "6597ed7d": "ff7f", "65970ffe": "ffff", "6597edec": "ffff",
            "65970382": "ffff", "65970383": "ff7f"}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    print(("ok: " if cond else "FAIL: ") + what, flush=True)


class Run:
    """One mock bluetoothd and one driver."""

    def __init__(self, env, pin=PIN, mock_args=(), driver_args=()):
        self.env = env
        self.mock = env.track(subprocess.Popen(["/usr/bin/python3", MOCK, ADDR, PIN] +
                                               list(mock_args), stdout=subprocess.PIPE, text=True))
        self.mock.stdout.readline()  # READY: the name is owned
        self.lines = []
        self.lock = threading.Lock()
        self.drv = env.track(subprocess.Popen([DRIVER, ADDR, pin, str(KA_MS)] + list(driver_args),
                                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                              text=True))
        threading.Thread(target=self.reader, daemon=True).start()

    def reader(self):
        for line in self.drv.stdout:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def has(self, prefix):
        with self.lock:
            return sum(1 for line in self.lines if line.startswith(prefix))

    def wait(self, prefix, what, timeout=5.0, n=1):
        end = time.time() + timeout
        while time.time() < end:
            if self.has(prefix) >= n:
                check(True, what)
                return True
            time.sleep(0.02)
        check(False, what)
        return False

    def dev(self):
        return self.env.bus.get_object("org.bluez", DEV)

    def stats(self):
        return {str(k): int(v) for k, v in self.dev().Stats(dbus_interface="org.vicacq.Mock").items()}

    def send(self, cmd):
        self.drv.stdin.write(cmd + "\n")
        self.drv.stdin.flush()

    def devices(self, want, timeout=3.0):
        """Poll the client's count of device objects (vq_bluez_stats.devices)
        until it is want or timeout; the last count seen (None: no answer)."""
        end = time.time() + timeout
        got = None
        while True:
            n = self.has("STATS ")
            self.send("stats")
            answered = time.time() + 1.0
            while self.has("STATS ") == n and time.time() < answered:
                time.sleep(0.01)
            with self.lock:
                last = [line for line in self.lines if line.startswith("STATS ")][-1:]
            if last:
                got = int(last[0].split("devices=")[1])
            if got == want or time.time() > end:
                return got
            time.sleep(0.05)

    def close(self):
        if self.drv.poll() is None:
            self.send("quit")
            try:
                self.drv.wait(5)
            except subprocess.TimeoutExpired:
                self.drv.kill()
                self.drv.wait()
        check(self.drv.returncode == 0, "driver exits 0 (loop closed clean)")
        if self.mock.poll() is None:
            self.mock.terminate()
            self.mock.wait(5)
        with self.lock:
            out = "\n".join(self.lines)
        check(PIN not in out and "12345" not in out, "the PIN is never printed")
        return out


env = PrivateBluez()
try:
    print("# first connection: pair, trust, keep-alive first, read all, notify", flush=True)
    r = Run(env)
    r.wait("PAIRED", "paired through the agent")
    r.wait("TRUSTED", "Trusted set")
    r.wait("CHARS 11", "the service's 11 characteristics found after ServicesResolved")
    r.wait("READ 65970383", "every value read")
    r.wait("NOTIFY ok", "notifications started", n=5)
    time.sleep(0.3)
    with r.lock:
        order = [line for line in r.lines if line.startswith(("KEEPALIVE", "READ "))]
        reads = dict(line.split()[1:3] for line in r.lines if line.startswith("READ "))
    check(order[0] == "KEEPALIVE ok", "the keep-alive is written before any read")
    check(reads == {k + TAIL: v for k, v in EXPECTED.items()}, "every value read exactly")
    st = r.stats()
    check(st["pairs"] == 1 and st["agents"] == 1, "one Pair, agent registered once: %r" % st)
    check(st["notifies"] == 5, "StartNotify only where offered (5): %r" % st)
    writes = [tuple(map(str, w)) for w in r.dev().Writes(dbus_interface="org.vicacq.Mock")]
    check(writes[0] == ("65535", "5802", "request"), "keep-alive 600 ms written with response: %r"
          % writes[:1])

    print("# keep-alive honoured over several periods", flush=True)
    before = r.has("KEEPALIVE ok")
    time.sleep(KA_MS * 4 / 1000.0)
    check(r.has("EV connected 0") == 0 and r.stats()["drops"] == 0, "no disconnect over 4 periods")
    check(r.has("KEEPALIVE ok") - before >= 6, "rewritten at half the period")

    print("# notifications only on change", flush=True)
    r.dev().SetValue(dbus.UInt16(0xED8D), "0115", dbus_interface="org.vicacq.Mock")
    r.wait("VALUE 6597ed8d" + TAIL + " 0115", "a changed voltage is notified")
    r.dev().SetValue(dbus.UInt16(0xED8D), "0115", dbus_interface="org.vicacq.Mock")
    r.dev().SetValue(dbus.UInt16(0xED8C), "38ffffff", dbus_interface="org.vicacq.Mock")
    r.wait("VALUE 6597ed8c" + TAIL + " 38ffffff", "a negative current is notified")
    check(r.has("VALUE 6597ed8d") == 1, "an unchanged value is not notified again")

    print("# the agent answers only for owned devices", flush=True)
    answer = r.dev().AskAgent(dbus.ObjectPath("/org/bluez/hci0/dev_11_22_33_44_55_66"),
                              dbus_interface="org.vicacq.Mock")
    check(answer == "org.bluez.Error.Rejected", "another device's passkey request rejected: " + answer)
    answer = r.dev().AskAgent(dbus.ObjectPath(DEV), dbus_interface="org.vicacq.Mock")
    check(answer == "passkey 12345", "the owned device gets the PIN, leading zero kept in meaning")
    name, path = r.dev().Agent(dbus_interface="org.vicacq.Mock")
    try:
        answer = "passkey %d" % r.env.bus.get_object(name, path, introspect=False).RequestPasskey(
            dbus.ObjectPath(DEV), dbus_interface="org.bluez.Agent1")
    except dbus.exceptions.DBusException as e:
        answer = e.get_dbus_name()
    check(answer == "org.bluez.Error.Rejected",
          "a caller that is not bluetoothd gets no PIN, even for the owned device: " + answer)
    r.wait("LOG 1 pairing agent: rejected a passkey request from", "and the rejection is logged")

    print("# device disconnect seen at once", flush=True)
    r.send("disconnect")
    r.wait("EV connected 0", "Device1.Disconnect: the link reports down")
    r.wait("RESULT ok", "Disconnect answered")
    check(r.stats()["drops"] == 1, "one disconnect")
    r.close()

    print("# keep-alive not rewritten: the device drops the link", flush=True)
    r = Run(env, driver_args=["--no-rewrite"])
    r.wait("KEEPALIVE ok", "keep-alive written once")
    r.wait("EV connected 0", "disconnected after the keep-alive ran out", timeout=KA_MS * 3 / 1000.0)
    check(r.stats()["drops"] == 1, "the mock dropped it for the lost keep-alive")
    r.close()

    print("# wrong PIN, then the right one", flush=True)
    r = Run(env, pin="000000")
    r.wait("PAIR ERR org.bluez.Error.AuthenticationFailed", "wrong PIN: AuthenticationFailed")
    check(r.has("CHARS") == 0, "nothing read without the bond")
    r.send("pin " + PIN)
    r.wait("OWN 0", "new PIN taken")
    r.wait("PAIRED", "paired with the right PIN")
    r.wait("CHARS 11", "then read")
    check(r.stats()["pairs"] == 2, "two Pair calls")
    r.send("pin 12345")
    r.wait("OWN -22", "a PIN of five digits is refused")
    r.close()

    print("# the GATT service missing", flush=True)
    r = Run(env, mock_args=["--no-gatt"])
    r.wait("NOSERVICE", "service 0x6597 absent after ServicesResolved")
    r.close()

    print("# the adapter removed with its devices unannounced", flush=True)
    r = Run(env)
    r.wait("CHARS 11", "connected")
    for other in ("C0:3B:98:00:00:01", "C0:3B:98:00:00:02"):  # two more devices in range
        r.dev().Advertise(other, "100289a302b040af925d09a4d89aa0128bdef48c6298a9",
                          dbus_interface="org.vicacq.Mock")
    n = r.devices(3)
    check(n == 3, "the client tracks the shunt and the two others: %r" % n)
    # Only the adapter's InterfacesRemoved: its devices must go with it.
    env.bus.get_object("org.bluez", "/").RemoveAdapterSilently(dbus_interface="org.vicacq.Mock")
    r.wait("EV gone", "the owner hears that the adapter went away")
    n = r.devices(0)
    check(n == 0, "no device of hci0 tracked after it went without announcing them: %r" % n)
    env.bus.get_object("org.bluez", "/").AddAdapter(dbus.UInt32(0), dbus_interface="org.vicacq.Mock")
    n = r.devices(1)
    check(n == 1, "after the re-add only the shunt (re-announced with its bond): %r" % n)
    r.close()

    print("# the adapter powered off and on while SetDiscoveryFilter is in flight", flush=True)
    r = Run(env)
    r.wait("CHARS 11", "connected")
    root = env.bus.get_object("org.bluez", "/")
    starts = r.stats()["discovery_starts"]
    root.SetPowered(False, dbus.UInt32(400), dbus_interface="org.vicacq.Mock")
    r.wait("LOG 1 Bluetooth adapter hci0 was powered off", "powered off")
    root.SetPowered(True, dbus.UInt32(400), dbus_interface="org.vicacq.Mock")
    time.sleep(0.1)  # the filter call is in flight for 400 ms
    root.SetPowered(False, dbus.UInt32(400), dbus_interface="org.vicacq.Mock")
    root.SetPowered(True, dbus.UInt32(400), dbus_interface="org.vicacq.Mock")
    time.sleep(1.5)  # both filter replies are in
    st = r.stats()
    check(st["discovery_starts"] == starts + 1 and st["discovering"] == 1,
          "one StartDiscovery after the power cycles, the stale filter reply ignored: %r" % st)
    check(r.has("LOG 1 StartDiscovery") == 0, "no failed start logged")
    r.close()

    print("# bluetoothd leaves", flush=True)
    r = Run(env)
    r.wait("CHARS 11", "connected")
    r.mock.terminate()
    r.mock.wait(5)
    r.wait("EV gone", "the owner hears that the device went away")
    r.wait("LOG 1 bluetoothd left the bus", "logged once")
    r.close()
finally:
    env.close()

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)

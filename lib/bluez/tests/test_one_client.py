#!/usr/bin/python3
"""One BlueZ client per process, however many modules use it.

tests/two_modules loads two modules that each link libvqbluez (as the
daemon loads ble-adv and ble-gatt) and subscribes from both.  Checked on a
private system bus with the bluez5 mock: the process holds ONE bus
connection, StartDiscovery is called ONCE, both modules get every
advertisement; a pause by either stops discovery (no "stopped by someone
else"), it resumes only when no module holds a pause, unsubscribing
releases a pause, and everything closes cleanly.  With a static library in
each module there would be two connections and two discovery sessions.
Exit 77 (skip) without dbus-daemon or dbusmock."""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bluez_env import PrivateBluez  # noqa: E402  (exits 77 without dbusmock)

BUILD = os.environ.get("BLUEZ_TESTS_BUILDDIR", os.path.dirname(os.path.abspath(__file__)))
DRIVER = os.path.join(BUILD, "two_modules")
ADDR = "C0:3B:98:00:00:01"
ADV = "100289a302b040af925d09a4d89aa0128bdef48c6298a9"

failures = []
lines = []
lock = threading.RLock()


def check(cond, what):
    (failures.append(what) if not cond else None)
    print(("ok: " if cond else "FAIL: ") + what, flush=True)


def reader(stream):
    for line in stream:
        with lock:
            lines.append(line.rstrip("\n"))


def wait_for(pred, what, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        with lock:
            if pred(list(lines)):
                check(True, what)
                return True
        time.sleep(0.02)
    check(False, what)
    return False


def count(prefix):
    with lock:
        return sum(1 for line in lines if line.startswith(prefix))


def send(cmd):
    n = count("OK " + cmd + " ")
    drv.stdin.write(cmd + "\n")
    drv.stdin.flush()
    wait_for(lambda ls: sum(1 for line in ls if line.startswith("OK " + cmd + " ")) > n,
             "command '%s' answered" % cmd)
    with lock:
        last = [line for line in lines if line.startswith("OK " + cmd + " ")][-1]
    return int(last.split()[-1])


env = PrivateBluez()
try:
    env.start_bluez()
    env.mock("/").AddAdapter("hci0", "test", dbus_interface="org.bluez.Mock")
    adapter = env.mock("/org/bluez/hci0")

    def calls(method):
        return sum(1 for c in adapter.GetCalls(dbus_interface="org.freedesktop.DBus.Mock")
                   if c[1] == method)

    def discovering():
        return bool(adapter.Get("org.bluez.Adapter1", "Discovering",
                                dbus_interface="org.freedesktop.DBus.Properties"))

    def connections_of(pid):
        dbus_obj = env.bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus")
        n = 0
        for name in dbus_obj.ListNames(dbus_interface="org.freedesktop.DBus"):
            if name.startswith(":"):
                try:
                    if dbus_obj.GetConnectionUnixProcessID(name, dbus_interface="org.freedesktop.DBus") == pid:
                        n += 1
                except Exception:
                    pass
        return n

    def wait_state(want, what):
        end = time.time() + 5
        while time.time() < end and discovering() != want:
            time.sleep(0.02)
        check(discovering() == want, what)

    drv = subprocess.Popen([DRIVER, BUILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    threading.Thread(target=reader, args=(drv.stdout,), daemon=True).start()

    check(send("start a") == 0 and send("start b") == 0, "both modules subscribed")
    wait_for(lambda ls: any("LE discovery running on hci0" in line for line in ls), "discovery started")
    time.sleep(0.3)
    check(connections_of(drv.pid) == 1, "one system bus connection for both modules")
    check(calls("StartDiscovery") == 1, "StartDiscovery called once for both modules")
    check(calls("SetDiscoveryFilter") == 1, "one discovery filter")
    send("stats")
    wait_for(lambda ls: any(line.startswith("STATS connections=1 starts=1 stops=0 subscribers=2 discovering=1")
                            for line in ls), "the library counts one connection, one start, two subscribers")

    env.mock("/").AddDevice("hci0", ADDR, "SmartShunt", dbus_interface="org.bluez.Mock")
    env.device_changed(ADDR, ADV, -70)
    wait_for(lambda ls: ("ADV a %s %s" % (ADDR, ADV)) in ls and ("ADV b %s %s" % (ADDR, ADV)) in ls,
             "both modules get the advertisement")
    check(count("ADV ") == 2, "once each")

    # Pauses are counted across modules.
    send("pause b")
    wait_state(False, "a pause by one module stops discovery")
    check(calls("StopDiscovery") == 1, "StopDiscovery called for the pause")
    send("pause a")
    send("pause a")                       # a second pause by the same module: nothing
    send("resume b")
    time.sleep(0.3)
    check(not discovering(), "still paused while the other module holds a pause")
    send("resume a")
    wait_state(True, "discovery resumes when no module holds a pause")
    check(calls("StartDiscovery") == 2, "one StartDiscovery for the resume")
    env.device_changed(ADDR, ADV[:-2] + "00", -71)
    wait_for(lambda ls: count("ADV ") == 4, "advertisements flow again after the resume")

    # Unsubscribing releases a pause still held.
    send("pause a")
    wait_state(False, "paused again")
    send("stop a")
    wait_for(lambda ls: "DONE a" in ls, "module a unsubscribed")
    wait_state(True, "the pause of a module that left is released")
    check(calls("StartDiscovery") == 3, "one StartDiscovery for that")
    check(count("LOG ") > 0 and not any("stopped by someone else" in line for line in lines),
          "our own pauses are not taken for another program's stop")
    send("stop b")
    wait_for(lambda ls: "DONE b" in ls, "the last module unsubscribed: the client closed")
    send("stats")
    wait_for(lambda ls: any(line.startswith("STATS connections=1 starts=3 stops=2 subscribers=0 discovering=0")
                            for line in ls), "final counts")
    send("quit")
    drv.wait(5)
    check(drv.returncode == 0 and "EXIT clean" in lines, "clean exit, no handle left open")
finally:
    try:
        if drv.poll() is None:
            drv.kill()
    except NameError:
        pass
    env.close()

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)

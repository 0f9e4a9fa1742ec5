#!/usr/bin/python3
"""ble-gatt end to end into a real mosquitto with Home Assistant discovery:
vicacq with a ble-gatt source (against lib/bluez/tests/smartshunt_mock.py
on a private system bus) and the mqtt sink, a broker of our own on a free
loopback port, mosquitto_sub recording everything.  Checked: one
discovery config per quantity of the shunt with the device class, unit
and state class of doc/quantities.md (written out here, independently of
the sink's table), link.online a connectivity binary sensor, one HA device
whose identifiers derive from the 12-hex-digit address (ble-adv's device
id), availability online, every state exact against the mock's values,
link.online OFF and availability offline at the broker when the mock
drops the link, and no value lost: values the mock sent (reads and
notifications) = state messages at the broker + values dropped and
counted (wrong_length).
Exit 77 (skip) without mosquitto, mosquitto_sub, mosquitto_pub, dbus-daemon,
python3-dbus or python3-gi."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BLUEZ_TESTS = os.environ.get("BLUEZ_TESTS_SRCDIR",
                             os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          "../../../lib/bluez/tests"))
sys.path.insert(0, BLUEZ_TESTS)
for tool in ("mosquitto", "mosquitto_sub", "mosquitto_pub"):
    if shutil.which(tool) is None:
        print("SKIP: %s is not installed" % tool)
        sys.exit(77)
from bluez_env import MOCK, PrivateBluez, require_mock, require_vicacq  # noqa: E402  (exits 77 without python3-dbus)
import dbus  # noqa: E402
require_mock()
VICACQ = require_vicacq()

# The mqtt sink's own checker of HA's discovery rules (sinks/mqtt/tests).
HA_CHECK = os.path.join(BLUEZ_TESTS, "../../../sinks/mqtt/tests/ha_check.py")
ADDR = "C7:12:34:56:78:9A"
DEVPATH = "/org/bluez/hci0/dev_C7_12_34_56_78_9A"
DEVICE = "c7123456789a"
PIN = "012345"
NODE = "n"
BASE = "vicacq/house/" + DEVICE
# quantity: (component, device_class, unit, state_class, the mock's value as
# the state payload).  doc/quantities.md gives the classes and units.
ENTITIES = {
    "battery.voltage": ("sensor", "voltage", "V", "measurement", "53.76"),
    "battery.current": ("sensor", "current", "A", "measurement", "23.197"),
    "battery.power": ("sensor", "power", "W", "measurement", "1243"),
    "battery.consumed_ah": ("sensor", None, "Ah", "measurement", "-168"),
    "battery.soc": ("sensor", "battery", "%", "measurement", "91.8"),
    "battery.time_to_go": ("sensor", "duration", "min", "measurement", "None"),
    "aux.voltage": ("sensor", "voltage", "V", "measurement", "None"),
    "battery.temperature": ("sensor", "temperature", "\u00b0C", "measurement", "None"),
    "battery.midpoint_voltage": ("sensor", "voltage", "V", "measurement", "None"),
    "battery.midpoint_deviation": ("sensor", None, "%", "measurement", "None"),
    "link.online": ("binary_sensor", "connectivity", None, None, "ON"),
}
VALUES = [q for q in ENTITIES if q != "link.online"]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    print(("ok: " if cond else "FAIL: ") + what, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def wait(pred, what, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            check(True, what)
            return True
        time.sleep(0.05)
    check(False, what)
    return False


class Sub:
    """mosquitto_sub -v on everything, into a file."""

    def __init__(self, tmp, port):
        self.path = os.path.join(tmp, "sub.txt")
        self.f = open(self.path, "w")
        self.p = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-v",
                                   "-q", "1", "-t", "homeassistant/#", "-t", "vicacq/#"],
                                  stdout=self.f, stderr=subprocess.DEVNULL)

    def messages(self):
        with open(self.path, encoding="utf-8") as f:
            return [tuple(line.rstrip("\n").split(" ", 1)) + ("",) * (" " not in line)
                    for line in f if line.strip()]

    def states(self, q):
        topic = BASE + "/" + q.replace(".", "/")
        return [m[1] for m in self.messages() if m[0] == topic]

    def configs(self):
        out = {}
        for topic, payload in self.messages():
            if topic.startswith("homeassistant/") and topic.endswith("/config") and payload:
                out[topic] = json.loads(payload)
        return out

    def subscribed(self, port, timeout=10.0):
        """Publish a probe on vicacq/probe until it shows here: the
        subscription is in place (vicacq/# is the last topic subscribed,
        after homeassistant/#).  Whether it showed."""
        end = time.time() + timeout
        while time.time() < end:
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                            "-t", "vicacq/probe", "-m", "probe"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
            seen = time.time() + 0.5
            while time.time() < min(seen, end):
                if ("vicacq/probe", "probe") in self.messages():
                    return True
                time.sleep(0.02)
        return False

    def stop(self):
        self.p.terminate()
        self.p.wait(5)
        self.f.close()


def config_topic(q):
    return "homeassistant/%s/vicacq_%s/house_%s_%s/config" % (ENTITIES[q][0], NODE, DEVICE,
                                                             q.replace(".", "_"))


def mock_call(env, method, *args):
    return env.bus.get_object("org.bluez", DEVPATH).get_dbus_method(method, "org.vicacq.Mock")(*args)


def stats(env):
    return {str(k): int(v) for k, v in mock_call(env, "Stats").items()}


env = PrivateBluez()
tmp = tempfile.mkdtemp(prefix="ble-gatt-mqtt-")
procs = []
try:
    port = free_port()
    with open(os.path.join(tmp, "mosquitto.conf"), "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                "log_dest file %s/broker.log\n" % (port, tmp))
        if os.getuid() == 0:  # as root mosquitto would drop to a user that cannot write tmp
            f.write("user root\n")
    broker = subprocess.Popen(["mosquitto", "-c", os.path.join(tmp, "mosquitto.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(broker)
    if not wait_port(port):
        raise RuntimeError("mosquitto does not listen on %d" % port)
    sub = Sub(tmp, port)
    procs.append(sub.p)
    mock = subprocess.Popen(["/usr/bin/python3", MOCK, ADDR, PIN], stdout=subprocess.PIPE, text=True)
    procs.append(mock)
    mock.stdout.readline()
    check(sub.subscribed(port), "mosquitto_sub subscribed (a probe on vicacq/probe seen)")

    pin_file = os.path.join(tmp, "house.pin")
    with open(pin_file, "w") as f:
        f.write(PIN + "\n")
    ini = os.path.join(tmp, "p.ini")
    # keep_alive = 30: no quiet re-read (after 60 s) during the test, so the
    # values the mock sent are the first reads and the notifications.
    with open(ini, "w") as f:
        f.write("""[source.house]
plugin = ble-gatt
address = %s
pin_file = %s
keep_alive = 30

[sink.mq]
plugin = mqtt
host = 127.0.0.1
port = %d
client_id = vicacq-ble-gatt-mqtt-%d
node_id = %s
discovery = yes
discovery_delay = 0

[route.all]
from = *
to = mq
""" % (ADDR, pin_file, port, os.getpid(), NODE))
    log = open(os.path.join(tmp, "vicacq.log"), "w")
    d = subprocess.Popen([VICACQ, "-c", ini], stdout=log, stderr=subprocess.STDOUT)
    procs.append(d)

    print("# discovery, availability, states", flush=True)
    wait(lambda: all(config_topic(q) in sub.configs() for q in ENTITIES),
         "a discovery config for every quantity of the shunt and link.online")
    wait(lambda: "online" in [m[1] for m in sub.messages() if m[0] == BASE + "/availability"],
         "availability online")
    wait(lambda: all(sub.states(q) for q in ENTITIES), "a state for every quantity")
    cfgs = sub.configs()
    for q, (comp, dclass, unit, sclass, value) in ENTITIES.items():
        c = cfgs.get(config_topic(q), {})
        check(c.get("device_class") == dclass and c.get("unit_of_measurement") == unit and
              c.get("state_class") == sclass,
              "%s: %s, device_class %s, unit %s, state_class %s (got %s, %s, %s)" %
              (q, comp, dclass, unit, sclass, c.get("device_class"),
               c.get("unit_of_measurement"), c.get("state_class")))
        check(c.get("state_topic") == BASE + "/" + q.replace(".", "/"),
              "%s: state topic %s" % (q, c.get("state_topic")))
        check(any(a.get("topic") == BASE + "/availability" for a in c.get("availability", [])),
              "%s: the device's availability topic" % q)
        check(sub.states(q)[0] == value, "%s = %s at the broker (%s)" % (q, value, sub.states(q)[:1]))
    devices = {json.dumps(c.get("device", {}).get("identifiers"))
               for t, c in cfgs.items() if "_%s_" % DEVICE in t}
    ident = "vicacq_%s_house_%s" % (NODE, DEVICE)
    check(devices == {json.dumps([ident])}, "one HA device, identifiers [%s]: %s" % (ident, devices))
    on = cfgs.get(config_topic("link.online"), {})
    check(on.get("payload_on") in (None, "ON") and on.get("entity_category") == "diagnostic",
          "link.online a diagnostic connectivity sensor: %r" % on)

    print("# notifications, a wrong-length value", flush=True)
    mock_call(env, "SetValue", dbus.UInt16(0xED8C), "38ffffff")
    wait(lambda: "-0.2" in sub.states("battery.current"), "a notified negative current: -0.2")
    mock_call(env, "SetValue", dbus.UInt16(0xED8D), "010203")
    time.sleep(0.1)
    mock_call(env, "SetValue", dbus.UInt16(0xED8D), "0215")
    wait(lambda: "53.78" in sub.states("battery.voltage"), "the voltage after a wrong-length one")
    check(sub.states("battery.voltage") == ["53.76", "53.78"],
          "the wrong-length voltage is not published: %r" % sub.states("battery.voltage"))

    print("# the mock drops the link", flush=True)
    mock_call(env, "Drop")
    wait(lambda: sub.states("link.online")[:2] == ["ON", "OFF"], "link.online OFF at the broker")
    wait(lambda: "offline" in [m[1] for m in sub.messages() if m[0] == BASE + "/availability"],
         "availability offline at the broker")
    wait(lambda: sub.states("link.online") == ["ON", "OFF", "ON"], "and ON again after the reconnect")
    wait(lambda: [m[1] for m in sub.messages() if m[0] == BASE + "/availability"][-1:] == ["online"],
         "availability online again")
    wait(lambda: len(sub.states("battery.soc")) == 2, "the values read again after the reconnect")

    print("# count", flush=True)
    time.sleep(1)  # nothing in flight
    st = stats(env)
    seen = sum(len(sub.states(q)) for q in VALUES)
    sent = st["reads"] + st["notified"]
    d.send_signal(signal.SIGTERM)
    d.wait(10)
    check(d.returncode == 0, "vicacq exits 0 on SIGTERM")
    log.close()
    with open(os.path.join(tmp, "vicacq.log"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"wrong_length: (\d+)", text)
    dropped = int(m.group(1)) if m else 0
    print("# mock sent %d (%d reads, %d notifications), broker saw %d, dropped %d" %
          (sent, st["reads"], st["notified"], seen, dropped), flush=True)
    check(st["reads"] == 20 and st["notified"] == 3, "the mock sent 2 x 10 reads and 3 notifications")
    check(sent == seen + dropped and dropped == 1,
          "values sent %d = at the broker %d + dropped and counted %d" % (sent, seen, dropped))
    check(PIN not in text and PIN not in open(sub.path, encoding="utf-8").read(),
          "the PIN is never logged nor published")
    time.sleep(0.3)
    check([m[1] for m in sub.messages() if m[0] == "vicacq/status"][-1:] == ["offline"],
          "vicacq/status offline after the clean stop")
    kept = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-v",
                           "-t", "homeassistant/#", "--retained-only", "-W", "2"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    check(all(config_topic(q) + " {" in kept for q in ENTITIES),
          "the discovery configs are retained at the broker")
    r = subprocess.run(["/usr/bin/python3", HA_CHECK, "configs", sub.path, "sensor", "binary_sensor"],
                       env=dict(os.environ, NODE_ID=NODE), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    check(r.returncode == 0, "every config follows HA's rules (ha_check.py): %s" % r.stdout.strip())
    if failures:
        print(text[-3000:])
finally:
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    env.close()
    shutil.rmtree(tmp, ignore_errors=True)

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)

#!/usr/bin/python3
"""A bluetoothd of our own that behaves like a SmartShunt seen through
BlueZ, on the (private) system bus: adapter hci0, one device, its 0x6597
GATT service (doc/protocols/ble-gatt.md §2-§3).  python3-dbusmock's bluez5
template has no GATT and never calls an agent, hence this service.

  smartshunt_mock.py ADDRESS PIN [--no-gatt] [--resolve-ms N] [--scale F]
                     [--notify-hz F]

Connect sets Connected and, after --resolve-ms, ServicesResolved.  Pair
calls the registered agent's RequestPasskey and fails with
org.bluez.Error.AuthenticationFailed unless the passkey is PIN.  A write of
N ms to the keep-alive characteristic must be repeated within N * scale ms
or the device disconnects.  StartNotify makes Value changes emit
PropertiesChanged, only when the value differs.  Control interface
org.vicacq.Mock on the device: SetValue(id, hex), Writes() -> a(qs),
Drop(), Stats() -> a{su}, Advertise(address, hex) (Victron manufacturer
data with RSSI -70: of another device, for ble-adv beside ble-gatt, or of
the SmartShunt itself).

The same interface on "/" (reachable while the adapter is away):
RemoveAdapter() takes hci0 away as a USB dongle unplugged does: the link
is lost without a Connected change, InterfacesRemoved for the GATT
objects, the devices and the adapter, all unexported; AddAdapter(ms) brings
it back as replugged: the adapter, then the device with its bond (BlueZ
keeps bonds on disk), not connected, the adapter powered at once (ms 0) or
ms later; RemoveAdapterSilently() as RemoveAdapter() but InterfacesRemoved
for the adapter only: the objects under it go unannounced (a client must
drop them with their adapter); Stats() as on the device.

--notify-hz F (benchmarks, default off) changes every notifying value F
times a second, alternating two values so that each change is a
notification (counted in Stats()["notified"])."""
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

PROPS = "org.freedesktop.DBus.Properties"
TAIL = "-4bda-4c1e-af4b-551c4cf74769"
# id: (flags, initial value).  The first five are the values recorded on a
# real SmartShunt (doc/protocols/ble-gatt.md §2, "Values HVO recorded").
CHARS = {
    0xED8D: ("read,notify", "0015"),      # voltage 53.76 V
    0xED8C: ("read,notify", "9d5a0000"),  # current +23.197 A
    0xED8E: ("read,notify", "db04"),      # power +1243 W
    0xEEFF: ("read,notify", "70f9ffff"),  # consumed -168.0 Ah
    0x0FFF: ("read,notify", "dc23"),      # SOC 91.80 %
    0xED7D: ("read", "ff7f"),             # aux voltage: not available
    0x0FFE: ("read", "ffff"),             # time to go: not available
    0xEDEC: ("read", "ffff"),             # temperature: not available
    0x0382: ("read", "ffff"),             # mid-point voltage: not available
    0x0383: ("read", "ff7f"),             # mid-point deviation: not available
    0xFFFF: ("write", ""),                # keep-alive
}


class Obj(dbus.service.Object):
    def __init__(self, bus, path, ifaces):
        super().__init__(bus, path)
        self.bus = bus
        self.path = path
        self.ifaces = ifaces  # iface -> dict of properties

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        return self.ifaces[iface][name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        if iface not in self.ifaces:
            raise dbus.exceptions.DBusException("no such interface", name="org.freedesktop.DBus.Error.InvalidArgs")
        return self.ifaces[iface]

    @dbus.service.method(PROPS, in_signature="ssv")
    def Set(self, iface, name, value):
        self.change(iface, name, value)

    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, iface, changed, invalidated):
        pass

    def change(self, iface, name, value):
        self.ifaces[iface][name] = value
        self.PropertiesChanged(iface, {name: value}, [])


class Root(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, "/")
        self.objs = []

    @dbus.service.method("org.freedesktop.DBus.ObjectManager", out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        return {o.path: o.ifaces for o in self.objs}

    @dbus.service.signal("org.freedesktop.DBus.ObjectManager", signature="oa{sa{sv}}")
    def InterfacesAdded(self, path, ifaces):
        pass

    @dbus.service.signal("org.freedesktop.DBus.ObjectManager", signature="oas")
    def InterfacesRemoved(self, path, ifaces):
        pass

    def unexport(self, o, announce=True):
        self.objs.remove(o)
        if announce:
            self.InterfacesRemoved(o.path, list(o.ifaces))
        o.remove_from_connection()

    def export(self, o):
        o.add_to_connection(o.bus, o.path)
        self.objs.append(o)
        self.InterfacesAdded(o.path, o.ifaces)

    @dbus.service.method("org.vicacq.Mock")
    def RemoveAdapter(self):
        self.remove_adapter(True)

    @dbus.service.method("org.vicacq.Mock")
    def RemoveAdapterSilently(self):
        self.remove_adapter(False)

    def remove_adapter(self, announce_objects):
        if self.adapter not in self.objs:
            return
        self.dev.unplug(announce_objects)
        for other in self.others.values():  # not bonded: found again by scanning
            self.unexport(other, announce_objects)
        self.others.clear()
        self.adapter.ifaces["org.bluez.Adapter1"]["Discovering"] = dbus.Boolean(False)
        self.unexport(self.adapter)
        self.adapter.removals += 1

    @dbus.service.method("org.vicacq.Mock", in_signature="u")
    def AddAdapter(self, powered_after_ms):
        if self.adapter in self.objs:
            return
        props = self.adapter.ifaces["org.bluez.Adapter1"]
        props["Powered"] = dbus.Boolean(powered_after_ms == 0)
        self.export(self.adapter)
        self.export(self.dev)
        if powered_after_ms > 0:  # as bluetoothd powers a new adapter on (AutoEnable)
            GLib.timeout_add(powered_after_ms, self.power_on)

    @dbus.service.method("org.vicacq.Mock", in_signature="bu")
    def SetPowered(self, powered, filter_delay_ms):
        """Power hci0 off or on; SetDiscoveryFilter answers filter_delay_ms
        later from now on (a slow adapter)."""
        self.adapter.filter_delay_ms = filter_delay_ms
        self.adapter.change("org.bluez.Adapter1", "Powered", dbus.Boolean(powered))

    def power_on(self):
        if self.adapter in self.objs:
            self.adapter.change("org.bluez.Adapter1", "Powered", dbus.Boolean(True))
        return False

    @dbus.service.method("org.vicacq.Mock", out_signature="a{su}")
    def Stats(self):
        return self.dev.Stats()


class AgentManager(dbus.service.Object):
    def __init__(self, bus):
        super().__init__(bus, "/org/bluez")
        self.agent = None
        self.registered = 0

    @dbus.service.method("org.bluez.AgentManager1", in_signature="os", sender_keyword="sender")
    def RegisterAgent(self, path, capability, sender=None):
        if capability != "KeyboardOnly":
            raise dbus.exceptions.DBusException("want KeyboardOnly", name="org.bluez.Error.InvalidArguments")
        self.agent = (sender, path)
        self.registered += 1

    @dbus.service.method("org.bluez.AgentManager1", in_signature="o")
    def RequestDefaultAgent(self, path):
        if self.agent is None or self.agent[1] != path:
            raise dbus.exceptions.DBusException("no such agent", name="org.bluez.Error.DoesNotExist")


class Adapter(Obj):
    def __init__(self, bus):
        super().__init__(bus, "/org/bluez/hci0", {"org.bluez.Adapter1": {
            "Address": dbus.String("00:11:22:33:44:55"), "Powered": dbus.Boolean(True),
            "Discovering": dbus.Boolean(False)}})
        self.starts = 0
        self.stops = 0
        self.removals = 0
        self.filter_delay_ms = 0

    @dbus.service.method("org.bluez.Adapter1", in_signature="a{sv}",
                         async_callbacks=("ok", "err"))
    def SetDiscoveryFilter(self, f, ok, err):
        if self.filter_delay_ms == 0:
            ok()
        else:
            GLib.timeout_add(self.filter_delay_ms, lambda: ok() and False)

    @dbus.service.method("org.bluez.Adapter1")
    def StartDiscovery(self):
        self.starts += 1
        self.change("org.bluez.Adapter1", "Discovering", dbus.Boolean(True))

    @dbus.service.method("org.bluez.Adapter1")
    def StopDiscovery(self):
        self.stops += 1
        self.change("org.bluez.Adapter1", "Discovering", dbus.Boolean(False))


class Char(Obj):
    def __init__(self, bus, dev, service_path, n, cid, flags, value):
        super().__init__(bus, "%s/char%04x" % (service_path, n), {"org.bluez.GattCharacteristic1": {
            "UUID": dbus.String("6597%04x" % cid + TAIL), "Service": dbus.ObjectPath(service_path),
            "Flags": dbus.Array(flags.split(","), signature="s"),
            "Value": dbus.Array(bytes.fromhex(value), signature="y"),
            "Notifying": dbus.Boolean(False)}})
        self.dev = dev
        self.cid = cid

    def props(self):
        return self.ifaces["org.bluez.GattCharacteristic1"]

    def check_link(self):
        if not self.dev.connected():
            raise dbus.exceptions.DBusException("Not connected", name="org.bluez.Error.Failed")

    @dbus.service.method("org.bluez.GattCharacteristic1", in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, options):
        self.check_link()
        self.dev.reads += 1
        return dbus.Array(self.props()["Value"], signature="y")

    @dbus.service.method("org.bluez.GattCharacteristic1", in_signature="aya{sv}")
    def WriteValue(self, value, options):
        self.check_link()
        self.dev.writes.append((self.cid, bytes(value).hex(), str(options.get("type", ""))))
        if self.cid == 0xFFFF and len(value) == 2:
            self.dev.keepalive(value[0] | value[1] << 8)

    @dbus.service.method("org.bluez.GattCharacteristic1")
    def StartNotify(self):
        self.check_link()
        if "notify" not in self.props()["Flags"]:
            raise dbus.exceptions.DBusException("Operation is not supported", name="org.bluez.Error.NotSupported")
        self.dev.notifies += 1
        self.change("org.bluez.GattCharacteristic1", "Notifying", dbus.Boolean(True))

    def set_value(self, hexvalue):
        new = dbus.Array(bytes.fromhex(hexvalue), signature="y")
        if bytes(new) == bytes(self.props()["Value"]):
            return
        self.props()["Value"] = new
        if self.props()["Notifying"] and self.dev.connected():
            self.dev.notified += 1
            self.PropertiesChanged("org.bluez.GattCharacteristic1", {"Value": new}, [])


class Device(Obj):
    def __init__(self, bus, root, addr, pin, gatt, resolve_ms, scale):
        super().__init__(bus, "/org/bluez/hci0/dev_" + addr.replace(":", "_"), {"org.bluez.Device1": {
            "Address": dbus.String(addr), "AddressType": dbus.String("random"),
            "Name": dbus.String("SmartShunt HQ2"), "Alias": dbus.String("SmartShunt HQ2"),
            "Adapter": dbus.ObjectPath("/org/bluez/hci0"),
            "Connected": dbus.Boolean(False), "Paired": dbus.Boolean(False),
            "Trusted": dbus.Boolean(False), "ServicesResolved": dbus.Boolean(False)}})
        self.bus, self.root, self.pin, self.gatt = bus, root, pin, gatt
        self.resolve_ms, self.scale = resolve_ms, scale
        self.chars = {}
        self.writes = []
        self.reads = self.notifies = self.connects = self.pairs = self.drops = 0
        self.notified = 0  # values sent as notifications (reads: values sent as replies)
        self.ticks = 0  # --notify-hz changes so far
        self.ka_timer = None
        self.gatt_objs = []

    def connected(self):
        return bool(self.ifaces["org.bluez.Device1"]["Connected"])

    def notify_tick(self, ms):
        """--notify-hz: each notifying value alternates between its value
        and that value with the low bit of its first byte flipped, every ms
        after the last change (never two changes closer)."""
        GLib.timeout_add(ms, self.notify_tick, ms)
        self.ticks += 1
        for cid, (flags, value) in CHARS.items():
            if "notify" in flags and cid in self.chars:
                b = bytearray.fromhex(value)
                if self.ticks % 2:
                    b[0] ^= 1
                self.chars[cid].set_value(b.hex())
        return False

    def keepalive(self, ms):
        if self.ka_timer is not None:
            GLib.source_remove(self.ka_timer)
        self.ka_timer = GLib.timeout_add(max(1, int(ms * self.scale)), self.ka_expired)

    def ka_expired(self):
        self.ka_timer = None
        self.drop()
        return False

    def add_gatt(self):
        svc_path = self.path + "/service0010"
        svc = Obj(self.bus, svc_path, {"org.bluez.GattService1": {
            "UUID": dbus.String("65970000" + TAIL), "Primary": dbus.Boolean(True),
            "Device": dbus.ObjectPath(self.path)}})
        self.gatt_objs = [svc]
        n = 0x11
        for cid, (flags, value) in CHARS.items():
            ch = Char(self.bus, self, svc_path, n, cid, flags, value)
            if cid in self.chars:  # values survive a reconnection
                ch.props()["Value"] = self.chars[cid].props()["Value"]
            self.chars[cid] = ch
            self.gatt_objs.append(ch)
            n += 2
        for o in self.gatt_objs:
            self.root.objs.append(o)
            self.root.InterfacesAdded(o.path, o.ifaces)

    def remove_gatt(self):
        for o in self.gatt_objs:
            self.root.objs.remove(o)
            self.root.InterfacesRemoved(o.path, list(o.ifaces))
            o.remove_from_connection()
        self.gatt_objs = []

    def resolve(self):
        if self.connected():
            if self.gatt:
                self.add_gatt()
            self.change("org.bluez.Device1", "ServicesResolved", dbus.Boolean(True))
        return False

    @dbus.service.method("org.bluez.Device1")
    def Connect(self):
        self.connects += 1
        if not self.connected():
            self.change("org.bluez.Device1", "Connected", dbus.Boolean(True))
            GLib.timeout_add(self.resolve_ms, self.resolve)

    @dbus.service.method("org.bluez.Device1")
    def Disconnect(self):
        self.drop()

    def drop(self):
        if self.ka_timer is not None:
            GLib.source_remove(self.ka_timer)
            self.ka_timer = None
        if not self.connected():
            return
        self.drops += 1
        self.remove_gatt()
        self.change("org.bluez.Device1", "ServicesResolved", dbus.Boolean(False))
        self.change("org.bluez.Device1", "Connected", dbus.Boolean(False))

    def unplug(self, announce=True):
        """The adapter went: the link with it, silently (no Connected
        change), the GATT objects and the device object removed (with
        InterfacesRemoved when announce)."""
        if self.ka_timer is not None:
            GLib.source_remove(self.ka_timer)
            self.ka_timer = None
        for o in self.gatt_objs:
            self.root.unexport(o, announce)
        self.gatt_objs = []
        dev = self.ifaces["org.bluez.Device1"]
        dev["Connected"] = dev["ServicesResolved"] = dbus.Boolean(False)
        self.root.unexport(self, announce)

    @dbus.service.method("org.bluez.Device1", async_callbacks=("ok", "err"))
    def Pair(self, ok, err):
        self.pairs += 1
        agents = self.root.agents
        if agents.agent is None:
            err(dbus.exceptions.DBusException("no agent", name="org.bluez.Error.AuthenticationFailed"))
            return
        agent = self.bus.get_object(agents.agent[0], agents.agent[1], introspect=False)

        def answered(passkey):
            if int(passkey) == int(self.pin):
                self.change("org.bluez.Device1", "Paired", dbus.Boolean(True))
                ok()
            else:
                err(dbus.exceptions.DBusException("Authentication Failed",
                                                  name="org.bluez.Error.AuthenticationFailed"))

        def failed(e):
            err(dbus.exceptions.DBusException("Authentication Rejected",
                                              name="org.bluez.Error.AuthenticationRejected"))
        agent.RequestPasskey(dbus.ObjectPath(self.path), dbus_interface="org.bluez.Agent1",
                             reply_handler=answered, error_handler=failed)

    @dbus.service.method("org.vicacq.Mock", in_signature="qs")
    def SetValue(self, cid, hexvalue):
        self.chars[cid].set_value(hexvalue)

    @dbus.service.method("org.vicacq.Mock", out_signature="a(qss)")
    def Writes(self):
        return self.writes

    @dbus.service.method("org.vicacq.Mock")
    def Drop(self):
        self.drop()

    @dbus.service.method("org.vicacq.Mock", out_signature="a{su}")
    def Stats(self):
        return {"connects": self.connects, "pairs": self.pairs, "reads": self.reads,
                "notifies": self.notifies, "drops": self.drops,
                "agents": self.root.agents.registered,
                "discovery_starts": self.root.adapter.starts,
                "discovery_stops": self.root.adapter.stops,
                "discovering": int(bool(self.root.adapter.ifaces["org.bluez.Adapter1"]["Discovering"])),
                "adapter_removals": self.root.adapter.removals, "notified": self.notified}

    @dbus.service.method("org.vicacq.Mock", in_signature="ss")
    def Advertise(self, addr, hexdata):
        path = "/org/bluez/hci0/dev_" + addr.replace(":", "_")
        mfr = dbus.Dictionary({dbus.UInt16(0x02E1): dbus.Array(bytes.fromhex(hexdata), signature="y",
                                                                variant_level=1)},
                              signature="qv", variant_level=1)
        if path == self.path:
            # The SmartShunt's own Instant Readout (model id, RSSI).
            props = {"ManufacturerData": mfr, "RSSI": dbus.Int16(-70)}
            self.ifaces["org.bluez.Device1"].update(props)
            self.PropertiesChanged("org.bluez.Device1", props, [])
            return
        other = self.root.others.get(path)
        if other is None:
            other = Obj(self.bus, path, {"org.bluez.Device1": {
                "Address": dbus.String(addr), "RSSI": dbus.Int16(-70), "ManufacturerData": mfr}})
            self.root.others[path] = other
            self.root.objs.append(other)
            self.root.InterfacesAdded(path, other.ifaces)
        else:
            other.ifaces["org.bluez.Device1"]["ManufacturerData"] = mfr
            other.PropertiesChanged("org.bluez.Device1", {"ManufacturerData": mfr,
                                                          "RSSI": dbus.Int16(-70)}, [])

    @dbus.service.method("org.vicacq.Mock", out_signature="so")
    def Agent(self):
        """The registered agent's bus name and object, for a caller that is
        not bluetoothd to try it."""
        return self.root.agents.agent

    @dbus.service.method("org.vicacq.Mock", in_signature="o", out_signature="s",
                         async_callbacks=("ok", "err"))
    def AskAgent(self, path, ok, err):
        """What the agent answers for another device's path."""
        a = self.root.agents.agent
        self.bus.get_object(a[0], a[1], introspect=False).RequestPasskey(
            path, dbus_interface="org.bluez.Agent1",
            reply_handler=lambda k: ok("passkey %d" % k),
            error_handler=lambda e: ok(e.get_dbus_name()))


def main():
    args = sys.argv[1:]
    addr, pin = args[0], args[1]
    gatt = "--no-gatt" not in args
    resolve_ms = int(args[args.index("--resolve-ms") + 1]) if "--resolve-ms" in args else 200
    scale = float(args[args.index("--scale") + 1]) if "--scale" in args else 1.0
    notify_hz = float(args[args.index("--notify-hz") + 1]) if "--notify-hz" in args else 0.0
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    root = Root(bus)
    root.agents = AgentManager(bus)
    root.adapter = Adapter(bus)
    root.others = {}
    root.objs.append(root.adapter)
    dev = Device(bus, root, addr, pin, gatt, resolve_ms, scale)
    root.dev = dev
    root.objs.append(dev)
    if notify_hz > 0:
        ms = max(1, round(1000 / notify_hz))
        GLib.timeout_add(ms, dev.notify_tick, ms)
    name = dbus.service.BusName("org.bluez", bus)  # noqa: F841 (released when collected)
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the seed recipes of fuzz_bluez (corpus/fuzz_bluez/): what a real
bluetoothd says, in the recipe encoding of fuzz_bluez.c (each helper below
mirrors one of its readers; change both together).
    python3 lib/bluez/fuzz/make_seeds.py lib/bluez/fuzz/corpus/fuzz_bluez
Check a seed with FUZZ_BLUEZ_TRACE=1 lib/bluez/fuzz/fuzz_bluez SEED."""
import os
import struct
import sys

PATHS = ["/", "/org/bluez", "/org/bluez/hci0", "/org/bluez/hci1",
         "DEV", "DEV/service000c", "DEV/service000c/char000d", "DEV/service000c/char0010",
         "DEV/service0020/char0021", "/org/bluez/hci0/dev_12_34_56_78_9A_BC",
         "/org/bluez/hci1/dev_C0_FF_EE_00_00_01", "/org/bluez/hci0/dev_12_34_56",
         "/org/bluez/hci0/dev_12_34_56_78_9A_BC_DE", "/org/bluez/hci0/dev_0x_34_56_78_9A_BC"]
IFACES = ["org.bluez.Adapter1", "org.bluez.Device1", "org.bluez.GattService1",
          "org.bluez.GattCharacteristic1"]
PROPS = ["Address", "AddressType", "Name", "Alias", "RSSI", "TxPower", "ManufacturerData",
         "ServiceData", "UUIDs", "Connected", "Paired", "Trusted", "ServicesResolved",
         "Powered", "Discovering", "UUID", "Service", "Flags", "Value", "Notifying", "Device",
         "Bonded"]
STRINGS = ["C0:FF:EE:00:00:01", "12:34:56:78:9A:BC", "c0:ff:ee:00:00:01", " 0:FF:EE:00:00:01",
           "-1:FF:EE:00:00:01", "+1:FF:EE:00:00:01", "0x:FF:EE:00:00:01"]
UUID_VICTRON = 0  # index in uuids[] and, as a string, raw text below
OP_ANSWER, OP_ADDED, OP_CHANGED, OP_REMOVED, OP_OWNER, OP_CALL, OP_PASSKEY = 0, 2, 3, 4, 5, 6, 8
CALL_LOOKUP, CALL_STATE, CALL_READ, CALL_NOTIFY, CALL_CONNECT, CALL_PAIR = 0, 1, 2, 3, 4, 5


def count(n):
    return bytes([n]) if n < 7 else bytes([7, n])


def path(p):
    return bytes([0, PATHS.index(p)])


def string(s):
    if s in STRINGS:
        return bytes([0, STRINGS.index(s)])
    raw = s.encode()
    assert len(raw) < 256 and all(0 < b < 0x80 for b in raw)
    # mode 1: up to 23 bytes of input; mode 3: up to 255
    return bytes([1 if len(raw) < 24 else 3, len(raw)]) + raw


def boolean(b):
    return bytes([1 if b else 0])


def int16(v):
    return struct.pack("<h", v)


def ay(data):
    return count(len(data)) + data


def mfr(entries):
    """a{qv} of (company, bytes); 0x02e1 as the Victron choice."""
    out = count(len(entries))
    for company, data in entries:
        out += bytes([1]) if company == 0x02E1 else bytes([0]) + struct.pack(">H", company)
        out += bytes([0]) + ay(data)
    return out


def strings(items):
    out = count(len(items))
    for s in items:
        out += string(s)
    return out


def props(items):
    """a{sv} of (property name, encoded value of its usual type), or of
    (name, WRONG, signature choice and value) for a variant of any type."""
    out = count(len(items))
    for item in items:
        mode = 3 if len(item) == 3 else 0
        out += bytes([0, PROPS.index(item[0]), mode]) + item[-1]
    return out


def ifaces(items):
    """a{sa{sv}} of (interface, props)."""
    out = count(len(items))
    for iface, p in items:
        out += bytes([0, IFACES.index(iface)]) + props(p)
    return out


def objects(items):
    """a{oa{sa{sv}}} of (path, ifaces)."""
    out = count(len(items))
    for p, i in items:
        out += path(p) + ifaces(i)
    return out


def body(encoded):
    return bytes([0]) + encoded  # 0: the usual shape, not one of any types


def answer(index, encoded=b"", mode=0):
    return bytes([OP_ANSWER, index, mode]) + (body(encoded) if mode == 0 else b"")


def error(index, err_index):
    return bytes([OP_ANSWER, index, 2, err_index])


def added(p, i):
    return bytes([OP_ADDED]) + body(path(p) + ifaces(i))


def removed(p, names):
    out = count(len(names))
    for n in names:
        out += string(n)
    return bytes([OP_REMOVED]) + body(path(p) + out)


def changed(p, iface, items, invalidated=()):
    return (bytes([OP_CHANGED]) + path(p) + bytes([IFACES.index(iface), 0]) +
            body(props(items) + strings(list(invalidated))))


def call(which, extra=b""):
    return bytes([OP_CALL, which]) + extra


ADAPTER = [("/org/bluez/hci0", [("org.bluez.Adapter1",
                                   [("Powered", boolean(True)), ("Discovering", boolean(False))])])]
SHUNT = [("Address", string("C0:FF:EE:00:00:01")), ("Name", string("SmartShunt HQ22")),
         ("RSSI", int16(-67)),
         ("ManufacturerData", mfr([(0x02E1, bytes.fromhex("100289a302b040af925d09a4d89aa0128bdef48c6298a9"))]))]
START = answer(0, objects(ADAPTER)) + answer(0) + answer(0)  # GetManagedObjects, filter, start
CHARS = [("DEV/service000c", [("org.bluez.GattService1",
                               [("UUID", string("65970000-4bda-4c1e-af4b-551c4cf74769"))])]),
         ("DEV/service000c/char000d", [("org.bluez.GattCharacteristic1",
                                        [("UUID", string("6597ed8d-4bda-4c1e-af4b-551c4cf74769")),
                                         ("Service", path("DEV/service000c")),
                                         ("Flags", strings(["read", "notify"]))])]),
         ("DEV/service000c/char0010", [("org.bluez.GattCharacteristic1",
                                        [("UUID", string("6597ed8c-4bda-4c1e-af4b-551c4cf74769")),
                                         ("Service", path("DEV/service000c")),
                                         ("Flags", strings(["write"]))])])]

SEEDS = {
    # Startup: one powered adapter and a cached SmartShunt, discovery
    # started, then its advertisement in a PropertiesChanged.
    "startup_adv": bytes([0]) + answer(0, objects(ADAPTER + [("DEV", [("org.bluez.Device1", SHUNT)])])) +
    answer(0) + answer(0) +
    changed("DEV", "org.bluez.Device1",
            [("RSSI", int16(-70)), ("ManufacturerData", mfr([(0x02E1, bytes.fromhex("1002a3"))]))]),
    # A device appearing with its data, then going away.
    "added_removed": bytes([1]) + START + added("DEV", [("org.bluez.Device1", SHUNT)]) +
    removed("DEV", ["org.bluez.Device1"]),
    # ble-gatt: connection events, lookup of the Victron service, a
    # notification.
    "gatt_lookup": bytes([0]) + START + call(CALL_CONNECT) + answer(0) +
    changed("DEV", "org.bluez.Device1", [("Connected", boolean(True)),
                                         ("ServicesResolved", boolean(True))]) +
    call(CALL_LOOKUP, bytes([UUID_VICTRON])) + answer(0, objects(CHARS)) +
    call(CALL_NOTIFY, path("DEV/service000c/char000d")) + answer(0) +
    changed("DEV/service000c/char000d", "org.bluez.GattCharacteristic1",
            [("Value", ay(bytes.fromhex("8fed0104")))]),
    # Device state by GetAll, a read, a read that fails.
    "state_read": bytes([0]) + START + call(CALL_STATE) +
    answer(0, props([("Connected", boolean(True)), ("Paired", boolean(True)),
                     ("Trusted", boolean(False))])) +
    call(CALL_READ, path("DEV/service000c/char000d")) + answer(0, ay(bytes.fromhex("0102"))) +
    call(CALL_READ, path("DEV/service000c/char0010")) + error(0, 4),
    # Pairing: the agent registered, bluetoothd asks it for the passkey.
    "pair_passkey": bytes([2]) + START + call(CALL_PAIR) + answer(0) + answer(0) +
    bytes([OP_PASSKEY]) + path("DEV") + bytes([OP_PASSKEY]) + path("/org/bluez/hci0"),
    # bluetoothd leaves and comes back; the adapter is powered off and on.
    "restart": bytes([0]) + START + bytes([OP_OWNER, 0]) + bytes([OP_OWNER, 1]) +
    answer(0, objects(ADAPTER)) +
    changed("/org/bluez/hci0", "org.bluez.Adapter1", [("Powered", boolean(False))]) +
    changed("/org/bluez/hci0", "org.bluez.Adapter1", [("Powered", boolean(True))]) +
    answer(0) + answer(0) +
    changed("/org/bluez/hci0", "org.bluez.Adapter1", [("Discovering", boolean(False))]),
    # The adapter comes later (InterfacesAdded), then disappears.
    "adapter_late": bytes([0]) + answer(0, objects([])) + added("/org/bluez/hci0", ADAPTER[0][1]) +
    removed("/org/bluez/hci0", ["org.bluez.Adapter1"]),
}

# Properties of the wrong type: variant type chosen by the input (3), then
# a signature: 'u' for Address, 's' for RSSI, "a{qs}"-like for the data.
WRONG = [("Address", bytes([3, 5]) + b"\x01\x00\x00\x00"),
         ("RSSI", bytes([3, 9]) + string("-60")),
         ("ManufacturerData", bytes([3, 13, 9]) + count(1) + string("x")),
         ("Name", bytes([3, 12, 9]) + string("nested"))]
seed = bytes([0]) + START + bytes([OP_ADDED]) + body(path("DEV") + count(1) + bytes([0, 1]) + count(len(WRONG)))
for name, enc in WRONG:
    seed += bytes([0, PROPS.index(name)]) + enc
SEEDS["wrong_types"] = seed


# Regression seeds of what the fuzzer found.  A device path whose address
# is "0x:34:..." and an Address " 0:FF:..." were taken by sscanf's %2x:
# the data were handed out under a made-up address.
DATA = ("ManufacturerData", mfr([(0x02E1, bytes.fromhex("1002a3"))]))
SEEDS["bad_addr_path"] = bytes([0]) + START + changed(
    "/org/bluez/hci0/dev_0x_34_56_78_9A_BC", "org.bluez.Device1", [DATA])
SEEDS["bad_addr_prop"] = bytes([0]) + START + changed(
    "/org/bluez/hci0/dev_12_34_56", "org.bluez.Device1",
    [("Address", string(" 0:FF:EE:00:00:01")), DATA])
# A GattCharacteristic1 change on the device object itself was handed to
# the owner as a characteristic's value.
SEEDS["value_on_device"] = bytes([0]) + START + changed(
    "DEV", "org.bluez.GattCharacteristic1", [("Value", ay(b"\x01\x02"))])
# Flags of another type than "as" failed the whole lookup.
SEEDS["bad_flags"] = bytes([0]) + START + call(CALL_LOOKUP, bytes([UUID_VICTRON])) + answer(0, objects(
    [CHARS[0], ("DEV/service000c/char000d", [("org.bluez.GattCharacteristic1",
                [("UUID", string("6597ed8d-4bda-4c1e-af4b-551c4cf74769")),
                 ("Service", path("DEV/service000c")),
                 ("Flags", "WRONG", bytes([9]) + string("read"))])])]))  # 9: "s"

def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "corpus/fuzz_bluez"
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()

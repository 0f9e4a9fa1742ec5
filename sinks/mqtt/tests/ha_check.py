#!/usr/bin/python3
"""Check what the mqtt sink published against Home Assistant's discovery
rules and against the stdout sink's JSON lines for the same records.

  ha_check.py discovery SUB_FILE JSON_LINES [KEY=VALUE...]
  ha_check.py state SUB_FILE JSON_LINES
  ha_check.py configs SUB_FILE COMPONENT...

The third form checks only the discovery configs in SUB_FILE and that
there is at least one of each COMPONENT (number, select, ...).

SUB_FILE is `mosquitto_sub -v` output ("topic payload" per line),
JSON_LINES the stdout sink's output of the same run.  KEY=VALUE checks a
device block: <device>.model=..., <device>.sw_version=...,
<device>.serial_number=...

The device-class table is doc/protocols/sinks.md §1.5 (HA's
DEVICE_CLASS_UNITS and DEVICE_CLASS_STATE_CLASSES), written out here
independently of the plugin's own table so that a mistake in one is
caught by the other.  The HA 2026.4 rules: no object_id, a
default_entity_id "<component>.<valid object id>", short names, and enum
options that never change between announcements of one entity.  The
sink's node id is $NODE_ID (default "n", as tests/lib.sh sets it).
"""
import os
import json
import re
import sys

ENERGY = {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh",
          "cal", "kcal", "Mcal", "Gcal"}
UNITS = {
    "voltage": {"\u03bcV", "mV", "V", "kV", "MV"},
    "current": {"mA", "A"},
    "power": {"mW", "W", "kW", "MW", "GW", "TW"},
    "apparent_power": {"VA"},
    "reactive_power": {"var", "kvar"},
    "energy": ENERGY,
    "energy_storage": ENERGY,
    "battery": {"%"},
    "temperature": {"\u00b0C", "\u00b0F", "K"},
    "duration": {"d", "h", "min", "s", "ms", "\u03bcs"},
    "frequency": {"Hz", "kHz", "MHz", "GHz"},
    "signal_strength": {"dB", "dBm"},
}
STATE_CLASSES = {
    "energy": {"total", "total_increasing"},
    "duration": {"measurement", "total", "total_increasing"},
}
BINARY = {"battery", "battery_charging", "connectivity", "power", "problem",
          "running", "plug", "safety", "heat", "cold", "moving", "opening",
          "update"}
TOPIC = re.compile(r"^homeassistant/(sensor|binary_sensor|number|select)/"
                   r"[a-zA-Z0-9_-]+/[a-zA-Z0-9_-]+/config$")

ENTITY_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)$")
NODE = os.environ.get("NODE_ID", "n")
NAME_MAX = 40

errors = []


def err(msg):
    errors.append(msg)


def read_sub(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            topic, _, payload = line.partition(" ")
            out.append((topic, payload))
    return out


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def flat(s):
    return re.sub(r"[^a-zA-Z0-9_-]", "_", s)


def check_config(topic, cfg):
    comp = topic.split("/")[1]
    where = topic
    if not TOPIC.match(topic):
        err(f"{where}: topic is not <prefix>/<component>/<node>/<object>/config")
    keys = ["name", "unique_id", "device", "origin"]
    if cfg.get("state_topic") != "vicacq/status":  # the daemon's own
        keys.append("availability")
    for key in keys:
        if key not in cfg:
            err(f"{where}: no {key}")
    if "object_id" in cfg:
        err(f"{where}: object_id (HA 2026.4 ignores it)")
    deid = cfg.get("default_entity_id", "")
    domain, _, obj = deid.partition(".")
    if domain != comp or not ENTITY_ID.match(obj):
        err(f"{where}: default_entity_id {deid!r} is not {comp}.<object id>")
    name = cfg.get("name", "")
    if not isinstance(name, str) or not name or len(name) > NAME_MAX:
        err(f"{where}: name {name!r} is empty or longer than {NAME_MAX}")
    if comp in ("sensor", "binary_sensor") and "state_topic" not in cfg:
        err(f"{where}: no state_topic")
    if comp in ("number", "select"):
        if not cfg.get("command_topic", "").endswith("/set"):
            err(f"{where}: command_topic does not end in /set")
        if cfg.get("retain", False):
            err(f"{where}: commands must not be retained")
    if comp == "select":
        # HA's select: options required, a list of distinct strings, the
        # state one of them (checked against the records); no device
        # class, unit or state class.
        opts = cfg.get("options")
        if not isinstance(opts, list) or not opts or \
                not all(isinstance(o, str) and o for o in opts):
            err(f"{where}: select options {opts!r} are not non-empty strings")
        elif len(set(opts)) != len(opts):
            err(f"{where}: select options {opts!r} repeat")
        for key in ("device_class", "unit_of_measurement", "state_class",
                    "min", "max", "step", "expire_after"):
            if key in cfg:
                err(f"{where}: select with {key}")
        if "state_topic" not in cfg:
            err(f"{where}: select without state_topic")
        return
    if comp == "number":
        if cfg.get("mode") not in ("box", "slider", "auto"):
            err(f"{where}: number mode {cfg.get('mode')!r}")
        elif cfg.get("step", 0) > 0 and cfg.get("mode") == "slider" and \
                (cfg.get("max", 0) - cfg.get("min", 0)) / cfg["step"] > 1000:
            err(f"{where}: a slider of more than 1000 steps")
        for key in ("command_topic", "min", "max", "step"):
            if key not in cfg:
                err(f"{where}: number without {key}")
        if cfg.get("max", 0) < cfg.get("min", 0) or cfg.get("step", 0) < 0.001:
            err(f"{where}: bad min/max/step")
    dev = cfg.get("device", {})
    if not dev.get("identifiers"):
        err(f"{where}: device without identifiers")
    if "via_device" in dev and dev.get("manufacturer") != "Victron Energy":
        err(f"{where}: manufacturer is not Victron Energy")
    dc, unit, sc = (cfg.get("device_class"), cfg.get("unit_of_measurement"),
                    cfg.get("state_class"))
    if cfg.get("entity_category") not in (None, "diagnostic"):
        if comp in ("sensor", "binary_sensor"):
            err(f"{where}: entity_category {cfg['entity_category']} on a {comp}")
    if comp == "binary_sensor":
        if dc is not None and dc not in BINARY:
            err(f"{where}: binary_sensor device_class {dc}")
        if unit is not None or sc is not None:
            err(f"{where}: binary_sensor with unit/state_class")
        return
    if dc == "enum":
        if not cfg.get("options"):
            err(f"{where}: enum without options")
        if unit is not None or sc is not None:
            err(f"{where}: enum with a unit or state_class")
        return
    if "options" in cfg:
        err(f"{where}: options without device_class enum")
    if dc is not None:
        if dc not in UNITS:
            err(f"{where}: device_class {dc} is not one HA has for sensors")
        elif unit not in UNITS[dc]:
            err(f"{where}: unit {unit!r} is not valid with device_class {dc}")
        if sc is not None and sc not in STATE_CLASSES.get(dc, {"measurement"}):
            err(f"{where}: state_class {sc} is impossible for {dc}")
    if sc is not None and sc not in ("measurement", "total", "total_increasing"):
        err(f"{where}: state_class {sc}")
    if unit == "Ah" and dc is not None:
        err(f"{where}: Ah with a device class")


def each_config(sub):
    """(topic, config) of every discovery message in sub, each config
    checked; config None for a removal (mosquitto_sub shows "(null)")."""
    for topic, payload in sub:
        if not topic.endswith("/config") or not topic.startswith("homeassistant/"):
            continue
        if payload in ("", "(null)"):
            yield topic, None
            continue
        try:
            cfg = json.loads(payload)
        except ValueError as e:
            err(f"{topic}: not JSON: {e}")
            continue
        if not isinstance(cfg, dict):
            err(f"{topic}: not a JSON object")
            continue
        check_config(topic, cfg)
        yield topic, cfg


def configs_only(sub, components):
    configs = {}
    for topic, cfg in each_config(sub):
        if cfg is None:
            configs.pop(topic, None)
        else:
            configs[topic] = cfg
    for comp in components:
        if not any(t.split("/")[1] == comp for t in configs):
            err(f"no {comp} config")
    print(f"{len(configs)} discovery configs checked")


def discovery(sub, records, expects):
    configs = {}
    options = {}
    for topic, cfg in each_config(sub):
        if cfg is None:
            continue
        configs[cfg.get("unique_id")] = (topic, cfg)
        opts = cfg.get("options")
        if topic in options and options[topic] != opts:
            err(f"{topic}: options changed from {options[topic]} to {opts}")
        options[topic] = opts
    devices = {}
    for r in records:
        uid = (f"vicacq_{NODE}_{flat(r['source'])}_{flat(r['device'])}_"
               f"{flat(r['quantity'])}")
        if uid not in configs:
            err(f"no discovery for {r['source']}/{r['device']} {r['quantity']} ({uid})")
            continue
        topic, cfg = configs[uid]
        devices[r["device"]] = cfg["device"]
        if cfg.get("options") is not None and r.get("value") is not None and \
                r.get("text") not in cfg["options"]:
            err(f"{uid}: value {r.get('text')!r} is not among the options")
        state = f"vicacq/{r['source']}/{r['device']}/{r['quantity'].replace('.', '/')}"
        if cfg.get("state_topic") != state:
            err(f"{uid}: state_topic {cfg.get('state_topic')} != {state}")
        avail = [a.get("topic") for a in cfg.get("availability", [])]
        if "vicacq/status" not in avail or \
                f"vicacq/{r['source']}/{r['device']}/availability" not in avail:
            err(f"{uid}: availability {avail}")
    for e in expects:
        key, _, want = e.partition("=")
        device, _, field = key.partition(".")
        got = devices.get(device, {}).get(field)
        if got != want:
            err(f"device {device}: {field} is {got!r}, expected {want!r}")
    print(f"{len(configs)} discovery configs, {len(devices)} devices checked")


def plain(r):
    v = r["value"]
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "ON" if v else "OFF"
    if "text" in r:
        return r["text"] if r["text"] != "" else "none"
    if isinstance(v, str):
        return v
    return json.dumps(v)


def state(sub, records):
    got = {}
    for topic, payload in sub:
        if topic.startswith("vicacq/") and topic.count("/") >= 3 and \
                not topic.endswith("/availability"):
            got.setdefault(topic, []).append(payload)
    want = {}
    for r in records:
        topic = f"vicacq/{r['source']}/{r['device']}/{r['quantity'].replace('.', '/')}"
        want.setdefault(topic, []).append(plain(r))
    for topic, values in want.items():
        if got.get(topic) != values:
            err(f"{topic}: published {got.get(topic, [])[:8]}... expected {values[:8]}...")
    for topic in got:
        if topic not in want:
            err(f"{topic}: published but no such record")
    print(f"{sum(len(v) for v in want.values())} state messages on {len(want)} topics checked")


def main():
    mode, subf = sys.argv[1:3]
    if mode == "configs":
        configs_only(read_sub(subf), sys.argv[3:])
        for e in errors[:40]:
            print("ERROR:", e, file=sys.stderr)
        sys.exit(1 if errors else 0)
    jsonf = sys.argv[3]
    sub, records = read_sub(subf), read_json(jsonf)
    if not records:
        err("no records at all")
    if mode == "discovery":
        discovery(sub, records, sys.argv[4:])
    else:
        state(sub, records)
    for e in errors[:40]:
        print("ERROR:", e, file=sys.stderr)
    sys.exit(1 if errors else 0)


main()

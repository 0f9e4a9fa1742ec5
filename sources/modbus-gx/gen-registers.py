#!/usr/bin/env python3
"""Turn the GX's own register list (attributes.csv) into gx_registers.c.

    gen-registers.py attributes.csv > gx_registers.c

attributes.csv is a byte-exact copy of the table the GX Modbus-TCP server
(dbus-modbustcp) loads at start-up; doc/protocols/modbus-gx.md §3 explains
its columns.  Every row becomes a register; rows that share a (service,
path) become one point, which is what the plugin emits (one record per
point, doc/protocols/modbus-gx.md §3 and sources/modbus-gx/README.md).
tests/check_registers.sh regenerates the file and compares it with the
checked-in copy, so the table cannot drift from the CSV.
"""
import re
import sys

# Quantities the other transports already have keep their vocabulary names
# (sources/modbus-gx/README.md, "Quantity names").  Everything else gets a
# mechanical gx.<service>.<path> name.
NAMED = {}


def _name(service, path, quantity):
    NAMED[(service, path)] = quantity


for p, q in [("/Dc/0/Voltage", "battery.voltage"),
             ("/Dc/0/Current", "battery.current"),
             ("/Dc/0/Power", "battery.power"),
             ("/Dc/0/Temperature", "battery.temperature"),
             ("/Dc/1/Voltage", "aux.voltage"),
             ("/Soc", "battery.soc"),
             ("/ConsumedAmphours", "battery.consumed_ah"),
             ("/TimeToGo", "battery.time_to_go")]:
    _name("battery", p, q)
for p, q in [("/Dc/0/Voltage", "battery.voltage"),
             ("/Dc/0/Current", "battery.current"),
             ("/Pv/V", "pv.voltage"),
             ("/Pv/I", "pv.current"),
             ("/Yield/Power", "pv.power"),
             ("/History/Daily/0/Yield", "yield.today"),
             ("/Yield/User", "yield.total"),
             ("/State", "device.state"),
             ("/ErrorCode", "device.error")]:
    _name("solarcharger", p, q)
for n in (1, 2, 3):
    for side, prefix in (("ActiveIn", "ac_in"), ("Out", "ac_out")):
        for leaf, what in (("V", "voltage"), ("I", "current"), ("P", "power")):
            _name("vebus", "/Ac/%s/L%d/%s" % (side, n, leaf),
                  "%s.l%d.%s" % (prefix, n, what))
    _name("vebus", "/Hub4/L%d/AcPowerSetpoint" % n,
          "ess.l%d.power_setpoint" % n)
    _name("system", "/Ac/Consumption/L%d/Power" % n,
          "consumption.l%d.power" % n)
    _name("system", "/Ac/Grid/L%d/Power" % n, "grid.l%d.power" % n)
    for leaf, what in (("Power", "power"), ("Voltage", "voltage"),
                       ("Current", "current")):
        _name("grid", "/Ac/L%d/%s" % (n, leaf), "grid.l%d.%s" % (n, what))
for p, q in [("/Dc/0/Voltage", "battery.voltage"),
             ("/Dc/0/Current", "battery.current"),
             ("/Soc", "battery.soc"),
             ("/State", "device.state"),
             ("/Mode", "device.mode"),
             ("/Ac/ActiveIn/CurrentLimit", "ac_in.current_limit"),
             ("/VebusError", "vebus.error")]:
    _name("vebus", p, q)
for leaf, q in [("Voltage", "battery.voltage"), ("Current", "battery.current"),
                ("Power", "battery.power"), ("Soc", "battery.soc"),
                ("ConsumedAmphours", "battery.consumed_ah"),
                ("TimeToGo", "battery.time_to_go")]:
    _name("system", "/Dc/Battery/" + leaf, q)
_name("system", "/Dc/Pv/Power", "pv.power")
_name("system", "/Dc/System/Power", "dc_system.power")
_name("grid", "/Ac/Frequency", "grid.frequency")
_name("grid", "/Ac/Energy/Forward", "grid.energy_forward")
_name("grid", "/Ac/Energy/Reverse", "grid.energy_reverse")
_name("settings", "/Settings/CGwacs/AcPowerSetPoint", "ess.grid_setpoint")
_name("hub4", "/Overrides/Setpoint", "ess.grid_setpoint_override")
_name("settings", "/Settings/CGwacs/BatteryLife/MinimumSocLimit", "ess.min_soc")
_name("settings", "/Settings/CGwacs/Hub4Mode", "ess.mode")

# Named quantities the core vocabulary does not have: the plugin declares
# them (ABI 1.2), like its gx.* ones.  tests/test_gx_registers checks that
# every named quantity is either in the core vocabulary or here, never both.
DECLARED_NAMED = {q for q in NAMED.values()
                  if q.startswith(("ac_in.", "ac_out.l", "consumption.", "ess.",
                                   "grid."))}

# The CSV's units, as SI symbols.  Time-to-go is minutes in the vocabulary,
# like every other source: the plugin converts (unit_factor below).
UNITS = {
    "W": "W", "W DC": "W", "W AC": "W", "kW": "kW", "kWh": "kWh",
    "V": "V", "V DC": "V", "V AC": "V", "A": "A", "A DC": "A", "A AC": "A",
    "%": "%", "Ah": "Ah", "Hz": "Hz", "RPM": "rpm",
    "Degrees celsius": "°C", "Degrees Celsius": "°C",
    "Degrees centigrade": "°C", "Degrees": "°", "Decimal degrees": "°",
    "seconds": "s", "Seconds": "s", "s": "s", "timestamp": "s",
    "hour": "h", "day": "d", "count": "", "config_idx": "",
    "m3": "m³", "m/s": "m/s", "m": "m", "kPa": "kPa", "hPa": "hPa",
    "ug/m^3": "µg/m³", "ppm": "ppm", "lux": "lx", "W/m^2": "W/m²", "": "",
}

# Home Assistant sensor classes by unit (doc/protocols/sinks.md §1.5).
HA_CLASS = {"W": "power", "kW": "power", "kWh": "energy", "V": "voltage",
            "A": "current", "°C": "temperature", "Hz": "frequency",
            "s": "duration", "h": "duration", "d": "duration"}

MTYPES = {"uint16": ("GX_U16", 1), "int16": ("GX_S16", 1),
          "uint32": ("GX_U32", 2), "int32": ("GX_S32", 2),
          "uint64": ("GX_U64", 4)}


def snake_segment(seg):
    """One path segment in snake_case: '_' before an upper-case letter that
    follows a lower-case letter or digit, or that follows an upper-case
    letter and precedes a lower-case one; never before a digit."""
    out = []
    for i, c in enumerate(seg):
        prev = seg[i - 1] if i else ""
        nxt = seg[i + 1] if i + 1 < len(seg) else ""
        if c.isupper() and i and (prev.islower() or prev.isdigit() or
                                  (prev.isupper() and nxt.islower())):
            out.append("_")
        out.append(c.lower())
    return "".join(out)


def mechanical_name(service, path):
    return "gx.%s.%s" % (service, ".".join(
        snake_segment(s) for s in path.strip("/").split("/")))


def label_text(words):
    """'Startup aborted (rotation too low)' -> 'startup_aborted_rotation_too_low'."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words.strip())
    text = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()
    return text or "unnamed"


def parse_labels(text):
    """'0=Off;1=On;51-52=Battery disconnect request' -> [(code, label)]."""
    pairs = []
    for part in text.split(";"):
        if "=" not in part:
            continue
        codes, words = part.split("=", 1)
        codes = codes.strip()
        m = re.fullmatch(r"(-?\d+)(?:-(\d+))?", codes)
        if not m:
            raise SystemExit("bad enum code %r" % part)
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        for code in range(lo, hi + 1):
            pairs.append((code, label_text(words)))
    # A code listed twice (201 and 201-207) keeps its first, more specific
    # words.
    by_code = {}
    for code, label in pairs:
        by_code.setdefault(code, label)
    seen = {}
    unique = []
    for code, label in sorted(by_code.items()):
        # One label names one code, so a label can be written back.
        if label in seen:
            label = "%s_%d" % (label, code)
        seen[label] = code
        unique.append((code, label))
    return unique


def c_string(s):
    if s is None:
        return "NULL"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def c_double(x):
    r = repr(float(x))
    return r if ("." in r or "e" in r) else r + ".0"


def main():
    rows = []
    with open(sys.argv[1], encoding="latin-1", newline="") as f:
        for lineno, line in enumerate(f, 1):
            fields = line.rstrip("\r\n").split(",")
            if len(fields) < 8:
                continue
            service = fields[0].split(".")[2]
            path, dbus, unit, addr, mtype, scale, rw = fields[1:8]
            rows.append(dict(line=lineno, service=service, path=path,
                             dbus=dbus, unit=unit, addr=int(addr),
                             mtype=mtype, scale=float(scale or 1) or 1.0,
                             writable=rw.strip() == "W"))

    services = sorted({r["service"] for r in rows})
    regs = []
    points = {}  # (service, path) -> dict
    for r in rows:
        m = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", r["mtype"])
        base, n = m.group(1), int(m.group(2) or 0)
        internal = base == "INTERNAL"
        if base in MTYPES:
            kind, count = MTYPES[base]
        elif base == "string":
            kind, count = "GX_STRING", n
        elif base == "reserved":
            kind, count = "GX_RESERVED", n
        elif internal:
            # Computed by the server (doc/protocols/modbus-gx.md §3): 777 PV
            # current int16, 830 UTC time uint64, 834/835 firmware,
            # 3214/5202 genset error summary uint16.
            kind, count = {1: "GX_S16" if r["addr"] == 777 else "GX_U16",
                           2: "GX_FIRMWARE", 4: "GX_U64"}[n], n
        else:
            raise SystemExit("line %d: unknown type %s" % (r["line"], base))
        point = None
        if kind != "GX_RESERVED":
            key = (r["service"], r["path"])
            if key not in points:
                points[key] = dict(service=r["service"], path=r["path"],
                                   rows=[], index=len(points))
            points[key]["rows"].append(r)
            point = points[key]["index"]
        regs.append(dict(r, kind=kind, count=count, point=point))

    out = sys.stdout
    out.write("/* Generated by gen-registers.py from attributes.csv: do not edit.\n"
              " * Regenerate: python3 gen-registers.py attributes.csv > gx_registers.c */\n"
              "#include \"gx_registers.h\"\n\n")
    out.write("const char *const gx_services[] = {\n")
    for s in services:
        out.write("    %s,\n" % c_string(s))
    out.write("};\n\n")

    label_sets = {}
    for key, p in points.items():
        first = p["rows"][0]
        enum = "=" in first["unit"]
        p["labels"] = parse_labels(first["unit"]) if enum else None
        if p["labels"]:
            name = "gx_labels_%d" % p["index"]
            label_sets[p["index"]] = name
            out.write("static const struct vq_label %s[] = {\n" % name)
            for code, label in p["labels"]:
                out.write("    {%d, %s},\n" % (code, c_string(label)))
            out.write("};\n")
    out.write("\n")

    out.write("const struct gx_point gx_points[] = {\n")
    for key, p in sorted(points.items(), key=lambda kv: kv[1]["index"]):
        first = p["rows"][0]
        if first["mtype"].startswith("string"):
            vtype = "VQ_VALUE_STRING"
        elif p["labels"]:
            vtype = "VQ_VALUE_ENUM"
        else:
            vtype = "VQ_VALUE_DOUBLE"
        unit = "" if p["labels"] else UNITS.get(first["unit"].strip())
        if unit is None:
            raise SystemExit("line %d: unit %r has no SI symbol" %
                             (first["line"], first["unit"]))
        if first["addr"] in (830, 834):
            unit = "s" if first["addr"] == 830 else ""
        quantity = NAMED.get(key)
        factor = 1.0
        if quantity == "battery.time_to_go":
            unit, factor = "min", 1.0 / 60.0
        named = quantity is not None
        if not named:
            quantity = mechanical_name(*key)
        labels = label_sets.get(p["index"])
        out.write("    {%d, %s, %s, %s, %s, %s, %s, %d, %s},\n" % (
            services.index(p["service"]), c_string(p["path"]),
            c_string(quantity), vtype, c_string(unit), c_double(factor),
            labels or "NULL", len(p["labels"] or []), "1" if named else "0"))
    out.write("};\n\n")

    out.write("const struct gx_register gx_registers[] = {\n")
    for r in sorted(regs, key=lambda r: (services.index(r["service"]),
                                         r["addr"])):
        out.write("    {%d, %d, %s, %d, %s, %s, %d},\n" % (
            r["addr"], r["count"], r["kind"], services.index(r["service"]),
            c_double(r["scale"]), "1" if r["writable"] else "0",
            -1 if r["point"] is None else r["point"]))
    out.write("};\n\n")

    # Quantities the plugin declares (ABI 1.2): every mechanical name.
    out.write("const struct vq_quantity_info gx_quantities[] = {\n")
    declared = set()
    for key, p in sorted(points.items(), key=lambda kv: kv[1]["index"]):
        quantity = NAMED.get(key) or mechanical_name(*key)
        if (key in NAMED and quantity not in DECLARED_NAMED) or \
                quantity in declared:
            continue
        declared.add(quantity)
        first = p["rows"][0]
        if first["mtype"].startswith("string"):
            vtype, unit = "VQ_VALUE_STRING", ""
        elif p["labels"]:
            vtype, unit = "VQ_VALUE_ENUM", ""
        else:
            vtype, unit = "VQ_VALUE_DOUBLE", UNITS[first["unit"].strip()]
        if first["addr"] in (830, 834):
            unit = "s" if first["addr"] == 830 else ""
        dc = HA_CLASS.get(unit) if vtype == "VQ_VALUE_DOUBLE" else None
        if vtype == "VQ_VALUE_ENUM":
            dc = "enum"
        sc = None
        if vtype == "VQ_VALUE_DOUBLE":
            sc = "total_increasing" if unit == "kWh" else "measurement"
        desc = "%s %s (GX Modbus register %d)" % (p["service"], p["path"],
                                                 first["addr"])
        words = quantity.split(".")[1:] if quantity.startswith("gx.") \
            else quantity.split(".")
        short = " ".join(w.replace("_", " ") for w in words)
        short = (short[:1].upper() + short[1:])[-40:].strip()
        labels = label_sets.get(p["index"])
        out.write("    {sizeof(struct vq_quantity_info), %s, %s, %s, %s, %s, %s,"
                  " %d, %s, %s, %s, %d},\n" % (
                      vtype, c_string(quantity), c_string(unit),
                      c_string(desc), c_string(dc), c_string(sc),
                      1 if vtype == "VQ_VALUE_ENUM" and "rror" in p["path"] else 0,
                      c_string(short),
                      c_string("gx_%d" % p["index"]) if labels else "NULL",
                      labels or "NULL", len(p["labels"] or [])))
    out.write("    {0},\n};\n")

    # Writable quantities (the control path refuses the rest before they
    # reach the plugin).  Strings cannot be written: a command carries a
    # number.  A quantity several services write (battery.soc of vebus)
    # gets the widest range of them.
    RANGE = {"GX_U16": (0, 65535), "GX_S16": (-32768, 32767),
             "GX_U32": (0, 4294967295), "GX_S32": (-2147483648, 2147483647)}
    writable = {}
    for r in regs:
        if not r["writable"] or r["point"] is None or r["kind"] not in RANGE:
            continue
        p = [pt for pt in points.values() if pt["index"] == r["point"]][0]
        quantity = NAMED.get((p["service"], p["path"])) or \
            mechanical_name(p["service"], p["path"])
        factor = 1.0 / 60.0 if quantity == "battery.time_to_go" else 1.0
        lo, hi = RANGE[r["kind"]]
        lo, hi = sorted((lo / r["scale"] * factor, hi / r["scale"] * factor))
        if p["labels"]:
            lo = min(c for c, _ in p["labels"])
            hi = max(c for c, _ in p["labels"])
        step = abs(factor / r["scale"]) if not p["labels"] else 1.0
        unit = "" if p["labels"] else UNITS[p["rows"][0]["unit"].strip()]
        if quantity == "battery.time_to_go":
            unit = "min"
        w = writable.setdefault(quantity, dict(lo=lo, hi=hi, step=step,
                                               unit=unit, path=p["path"],
                                               service=p["service"]))
        w["lo"], w["hi"] = min(w["lo"], lo), max(w["hi"], hi)
        w["step"] = min(w["step"], step)
    out.write("const struct vq_writable gx_writables[] = {\n")
    for q in sorted(writable):
        w = writable[q]
        out.write("    {%s, %s, %s, %s, %s, %s},\n" % (
            c_string(q), c_string(w["unit"]), c_double(w["lo"]),
            c_double(w["hi"]), c_double(w["step"]),
            c_string("%s %s" % (w["service"], w["path"]))))
    out.write("    {NULL, NULL, 0, 0, 0, NULL},\n};\n\n")

    out.write("const size_t gx_nservices = %d;\n" % len(services))
    out.write("const size_t gx_npoints = %d;\n" % len(points))
    out.write("const size_t gx_nregisters = %d;\n" % len(regs))


if __name__ == "__main__":
    main()

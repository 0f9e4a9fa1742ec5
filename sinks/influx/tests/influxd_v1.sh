#!/bin/sh
# Replayed captures (VE.Direct bytes and BLE advertisements) through the
# influx sink into a real influxd 1.6.7 on loopback, read back through
# /query: every reading is one point with the exact values, tags and
# timestamp the stdout sink (JSON) shows for the same records.  A second
# sink with precision = ns checks that the full timestamp lands.
. "$(dirname "$0")/lib.sh"
need_plugin sources/vedirect vedirect.la
need_plugin sources/ble-adv ble-adv.la
influxd_setup
influxd_start

cat >"$tmp/replay.ini" <<EOF
[vicacq]
log_level = info
[source.mppt]
plugin = vedirect
port = file:$top_srcdir/examples/vedirect-demo.dump
[source.shunt]
plugin = ble-adv
capture = $top_srcdir/examples/ble-adv-demo.capture
address = C0:3B:98:00:00:01
key = aff4d0995b7d1e176c0c33ecb9e70dcd
[source.solar]
plugin = ble-adv
capture = $top_srcdir/examples/ble-adv-demo.capture
address = C0:3B:98:00:00:02
key = adeccb947395801a4dd45a2eaa44bf17
[source.charger]
plugin = ble-adv
capture = $top_srcdir/examples/ble-adv-demo.capture
address = C0:3B:98:00:00:08
key = c129cf8f75c3fe5a1655b481e205fb7d
[sink.db]
plugin = influx
url = $influx_url
database = vq
create_database = yes
precision = us
[sink.dbns]
plugin = influx
url = $influx_url
database = vqns
create_database = yes
[sink.out]
plugin = stdout
format = json
path = $tmp/records.json
[route.everything]
from = *
to = db, dbns, out
EOF
run 60 "$VICACQ" -c "$tmp/replay.ini"
expect_rc 0 "replay into influxd"
accepted=$(sed -n 's/.*sink\.out: records: \([0-9]*\) accepted.*/\1/p' "$tmp/err")
[ -n "$accepted" ] && [ "$accepted" -gt 0 ] || { show "$tmp/err"; fail "no records replayed"; }
expect_contains "$tmp/err" "sink.db: records: $accepted accepted, $accepted written, 0 queued, 0 dropped, 0 rejected, 0 retries, 0 lost"
expect_contains "$tmp/err" "sink.dbns: records: $accepted accepted, $accepted written, 0 queued, 0 dropped, 0 rejected, 0 retries, 0 lost"

influxql vq 'SELECT * FROM victron' >"$tmp/us.json"
influxql vqns 'SELECT * FROM victron' >"$tmp/ns.json"
"$PY" - "$tmp/records.json" "$tmp/us.json" "$tmp/ns.json" <<'EOP' || fail "what influxd holds differs from the records"
import calendar, json, sys, time

def us_of(t):  # "2026-11-20T21:05:03.123456Z" -> microseconds
    day, frac = t[:-1].split(".")
    secs = calendar.timegm(time.strptime(day, "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000000 + int(frac)

# Expected points: one per (time, source, device), fields by quantity.
want = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (us_of(r["time"]) * 1000, r["source"], r["device"])
    p = want.setdefault(key, {})
    if r["value"] is None:
        continue
    p[r["quantity"]] = r["value"]
    if "text" in r:
        p[r["quantity"] + "_text"] = r["text"]
want = {k: v for k, v in want.items() if v}

def points(path):
    d = json.load(open(path))
    s = d["results"][0]["series"][0]
    cols = s["columns"]
    out = {}
    for row in s["values"]:
        m = dict(zip(cols, row))
        key = (m.pop("time"), m.pop("source"), m.pop("device"))
        assert key not in out, "two points for %r" % (key,)
        out[key] = m
    return out

def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)

got = points(sys.argv[2])
assert set(got) == set(want), "points differ: missing %r, extra %r" % (
    sorted(set(want) - set(got))[:3], sorted(set(got) - set(want))[:3])
products = set()
for key, fields in want.items():
    g = dict(got[key])
    products.add((key[1], g.pop("product")))
    g = {k: v for k, v in g.items() if v is not None}
    assert set(g) == set(fields), "%r: fields %r != %r" % (key, sorted(g), sorted(fields))
    for q, v in fields.items():
        gv = g[q]
        assert type(gv) == type(v) or (number(v) and number(gv)), (key, q, v, gv)
        assert gv == v, "%r %s: influx %r, json %r" % (key, q, gv, v)
assert products == {("charger", "Blue Smart IP22 Charger 12/30 (1)"),
                    ("mppt", "BlueSolar MPPT 75|15"),
                    ("shunt", "SmartShunt 500A/50mV"),
                    ("solar", "BlueSolar MPPT 75|15")}, sorted(products)
# Nanosecond precision: the same points with the full timestamps (which
# the microsecond sink truncated).
ns = points(sys.argv[3])
assert len(ns) == len(got)
assert {(t // 1000 * 1000, s, d) for t, s, d in ns} == set(got)
print("%d points, %d fields checked" % (len(got), sum(len(f) for f in want.values())))
EOP
influxd_stop
exit 0

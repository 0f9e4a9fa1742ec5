#!/bin/sh
# Home Assistant entities across runs (HA 2026.4 rules, README "Home
# Assistant"): two sources that report the same device id (two BMV-700
# without a serial: pid-0203) give two devices and two entities; every
# config has default_entity_id and no object_id; after a pipeline change
# the retained configs and availability of the source that was removed
# are cleared, those of the one that stayed are kept.
. "${srcdir:-.}/tests/lib.sh"

start_broker
state="$tmp/state"

# pipeline SOURCES... : both fixture sources, or only bmv1.
pipeline() {
  {
    cat <<INI
[vicacq]
log_level = debug
state_dir = $state

INI
    for src in "$@"; do
      cat <<INI
[source.$src]
plugin = fixture-source
device = pid-0203
count = 0
interval = 100ms
burst = 1
records = 2
kinds = yes

INI
    done
    mqtt_section "ghost_timeout = 1s"
    cat <<INI

[route.all]
from = *
to = mq
INI
  } > "$tmp/p.ini"
}

# retained FILE: every retained message now on the broker.
retained() {
  mosquitto_sub -h 127.0.0.1 -p "$port" -v -t 'homeassistant/#' -t 'vicacq/#' \
    --retained-only -W 2 > "$1" 2>/dev/null
  true
}

note "run 1: bmv1 and bmv2"
sub run1 'homeassistant/#'
sleep 0.3
pipeline bmv1 bmv2
run_vicacq p
c1=homeassistant/sensor/vicacq_n/bmv1_pid-0203_fixture_value_0/config
c2=homeassistant/sensor/vicacq_n/bmv2_pid-0203_fixture_value_0/config
wait_for "$tmp/run1" "$c1 {" 10
wait_for "$tmp/run1" "$c2 {" 10
sleep 0.5
kill -TERM "$vicacq_pid"
wait "$vicacq_pid" || { show "$tmp/p.log"; fail "run 1 failed"; }
grep -q 'same Home Assistant unique id' "$tmp/p.log" && fail "a collision was reported"
grep -q 'sources bmv[12] and bmv[12] both report a device pid-0203' "$tmp/p.log" ||
  { show "$tmp/p.log"; fail "no warning about two sources with one device id"; }
grep "$c1 " "$tmp/run1" | grep -q '"default_entity_id":"sensor.vicacq_bmv1_fixture_value_0"' ||
  fail "no default_entity_id for bmv1"
grep "$c2 " "$tmp/run1" | grep -q '"identifiers":\["vicacq_n_bmv2_pid-0203"\]' ||
  fail "bmv2 is not its own device"
grep -q '"object_id"' "$tmp/run1" && fail "object_id in a config"
[ -s "$state/mqtt-mq.announced" ] || fail "the announced set was not kept in state_dir"
grep -q "^$c2\$" "$state/mqtt-mq.announced" || fail "bmv2's config is not in the announced set"
grep -q "^vicacq/bmv2/pid-0203/availability\$" "$state/mqtt-mq.announced" ||
  fail "bmv2's availability is not in the announced set"
retained "$tmp/before"
grep -q "^$c2 {" "$tmp/before" || fail "bmv2's config is not retained after run 1"
grep -q "^vicacq/bmv2/pid-0203/availability " "$tmp/before" ||
  fail "bmv2 availability not retained"

note "run 2: bmv2 taken out of the pipeline"
pipeline bmv1
run_vicacq p
wait_for "$tmp/p.log" "removed " 10
sleep 0.3
retained "$tmp/after"
kill -TERM "$vicacq_pid"
wait "$vicacq_pid" || { show "$tmp/p.log"; fail "run 2 failed"; }
grep -q "^$c1 {" "$tmp/after" || { show "$tmp/after"; fail "bmv1's config was cleared"; }
grep -q "bmv2" "$tmp/after" && { show "$tmp/after"; fail "bmv2's retained topics are still there"; }
grep -q "bmv2" "$state/mqtt-mq.announced" && fail "bmv2 is still in the announced set"
grep -q "^$c1\$" "$state/mqtt-mq.announced" || fail "bmv1 left the announced set"

note "a plugin-declared quantity (ABI 1.2) is announced like a core one"
cat > "$tmp/d.ini" <<INI
[source.decl]
plugin = fixture-quantity

INI
mqtt_section >> "$tmp/d.ini"
printf '\n[route.all]\nfrom = *\nto = mq\n' >> "$tmp/d.ini"
sub decl 'homeassistant/#'
sleep 0.3
run_vicacq d
wait "$vicacq_pid" || { show "$tmp/d.log"; fail "the declared-quantity run failed"; }
wait_for "$tmp/decl" "decl_dev1_fixture_mode/config" 5
grep '/decl_dev1_fixture_mode/config ' "$tmp/decl" |
  grep -q '"name":"Mode".*"device_class":"enum","options":\["idle","running","fault"\]' ||
  { show "$tmp/decl"; fail "fixture.mode is not an enum with its declared label set"; }
grep '/decl_dev1_fixture_frequency/config ' "$tmp/decl" |
  grep -q '"name":"Grid frequency".*"device_class":"frequency","state_class":"measurement","unit_of_measurement":"Hz"' ||
  { show "$tmp/decl"; fail "fixture.frequency is not announced with its declared classes"; }
cat "$tmp/decl" >> "$tmp/run1"

note "every config of the runs follows HA's rules"
grep -q "^$c2 (null)" "$tmp/run1" || fail "the subscriber saw no removal of bmv2's config"
"$PY" - "$tmp/run1" <<'PYEOF' || fail "a config breaks HA 2026.4 rules"
import json, re, sys
ok = re.compile(r"^(sensor|binary_sensor|number)\.(?!_)(?!.*__)[a-z0-9_]+(?<!_)$")
bad = 0
for line in open(sys.argv[1], encoding="utf-8"):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if payload in ("", "(null)"):  # removed (mosquitto_sub shows "(null)")
        continue
    cfg = json.loads(payload)
    comp = topic.split("/")[1]
    if "object_id" in cfg or not ok.match(cfg.get("default_entity_id", "")) or \
            not cfg["default_entity_id"].startswith(comp + ".") or \
            len(cfg.get("name", "")) > 40 or not cfg.get("name"):
        print("bad:", topic, payload[:200]); bad += 1
sys.exit(1 if bad else 0)
PYEOF
exit 0

#!/bin/sh
# modbus-gx against the GX simulator: discovery of the test system, every
# encoding decoded, one record per (service, path), devices named as the
# README says (system/settings/hub4 "100", instance-0 services "0"), tags.
. "$top_srcdir/tests/e2e/lib.sh"
. "$srcdir/tests/lib.sh"

start_sim sim --system "$srcdir/tests/system.txt"
gx_pipeline "$tmp/gx.ini" "$sim_port"
run 20 timeout --foreground --preserve-status -s TERM 6 "$VICACQ" -c "$tmp/gx.ini"
# timeout's TERM makes the daemon flush and exit 0.
[ "$rc" = 0 ] || { show "$tmp/err"; fail "vicacq exited $rc"; }
out=$tmp/out

# Encodings (doc/protocols/modbus-gx.md §3).
expect_value "$out" 227 battery.voltage 26.41
expect_value "$out" 227 battery.current -30.2           # int16 negative
expect_value "$out" 227 ac_in.l1.voltage 231.4
expect_value "$out" 227 ac_in.l1.power -1250            # scale 0.1
expect_value "$out" 227 battery.soc 88.5
expect_value "$out" 204 battery.consumed_ah -45.5       # negative scale
expect_value "$out" 204 battery.time_to_go 600          # 0.01 s -> min
expect_value "$out" 204 battery.current -12.3           # int16 /10
expect_value "$out" 204 battery.temperature -5.5
expect_value "$out" 223 pv.voltage 71.25                # scale 100
expect_value "$out" 223 pv.power 1234.5                 # 789 (0.1 W) agrees with 792
expect_value "$out" 215 pv.power 70000                  # 16-bit wrapped: the 32-bit one
expect_value "$out" 30 grid.l1.power -1500              # 2638 int32 agrees with 2600
expect_value "$out" 30 grid.energy_forward 12345.67     # uint32 high word first
expect_value "$out" 100 battery.voltage 26.3
expect_value "$out" 100 pv.power 1234
expect_value "$out" 100 ess.grid_setpoint 50
expect_value "$out" 100 grid.l1.power -250
expect_value "$out" 0 battery.voltage 26.4              # VE.Can MPPT, instance 0

# Enums carry labels; strings are strings.
expect_match "$out" '"device":"223".*"quantity":"device.state","value":5,.*"text":"[a-z_]+"'
expect_match "$out" '"device":"100".*"quantity":"ess.mode","value":1,.*"text":"[a-z_]+"'
expect_match "$out" '"device":"223".*"quantity":"gx.solarcharger.custom_name","value":"Roof"'

# One record per (service, path) in a reading: pv.power of 223 once per time.
dups=$(grep -F '"device":"223"' "$out" | grep -F '"quantity":"pv.power"' |
       sed -n 's/.*"time":"\([^"]*\)".*/\1/p' | sort | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "pv.power of 223 emitted twice in one reading"
# System, settings and hub4 are one device; never also as "0".
expect_not_contains "$out" '"device":"0","quantity":"ess.'
expect_not_contains "$out" '"quantity":"gx.system.reserved'
# Reserved registers are never emitted.
if grep -q '"quantity":"gx\.[a-z0-9_]*\.reserved' "$out"; then fail "reserved emitted"; fi

# The discovery was kept in state_dir and is reused: the second run sends
# no probes.
[ -s "$tmp/state/modbus-gx.gx.discovery" ] || fail "no discovery file in state_dir"
before=$(requests sim)
run 20 timeout --foreground --preserve-status -s TERM 2 "$VICACQ" -c "$tmp/gx.ini"
second=$(( $(requests sim) - before ))
expect_contains "$tmp/err" "found before"
note "second run: $second requests"
exit 0

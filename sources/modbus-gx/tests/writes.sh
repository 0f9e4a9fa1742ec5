#!/bin/sh
# Guarded writes to the GX: FC6 for 16-bit registers and FC16 for 32-bit
# pairs with two's complement and scale, the grid setpoint through 2700 or
# 2703 by size, read back and emitted; refused before the wire when the
# pipeline grants no range, the range is outside the register's type, or
# the register is read-only; the GX's read/write switch reported as such;
# ESS mode-3 setpoints written again every setpoint_refresh.
. "$top_srcdir/tests/e2e/lib.sh"
. "$srcdir/tests/lib.sh"

start_sim sim --system "$srcdir/tests/system.txt" --control "$tmp/sim.control"

# wr NAME COMMAND WAIT [EXTRA [keep_running]]: run modbus-gx with a
# fixture-sink submitting COMMAND until its output file contains WAIT,
# then stop it (or leave it running, its pid in $pid).
wr() {
  cat >"$tmp/$1.ini" <<EOT
[vicacq]
log_level = info
command_timeout = 5s
state_dir = $tmp/state
[source.gx]
plugin = modbus-gx
host = 127.0.0.1
port = $sim_port
units = 100, 227
interval = 200ms
timeout = 500ms
setpoint_refresh = 1s
write.ess.grid_setpoint = -50000..50000
write.ess.l1.power_setpoint = -5000..5000
write.ess.mode = 1..3
${4:-}
[sink.t]
plugin = fixture-sink
output = $tmp/$1.sink
command = $2
command_after = 500ms
[route.all]
from = gx
to = t
EOT
  run 10 "$VICACQ" --check -c "$tmp/$1.ini"
  expect_rc 0 "--check of $1.ini"
  start "$1" -c "$tmp/$1.ini"
  wait_for "$tmp/$1.sink" "$3" 15
  [ "${5:-}" = keep_running ] && return 0
  kill -TERM "$pid"
  wait_exit "$pid" 10
  [ "$rc" = 0 ] || { show "$tmp/$1.err"; fail "$1: exit status $rc"; }
}

# In range, fits an int16: 2700 with FC6, confirmed by read-back.
wr small "gx/100/ess.grid_setpoint=-3000" "result 1 "
expect_contains "$tmp/small.sink" "result 1 0"
grep -q '^100 6 2700 1 ok 62536$' "$tmp/sim.log" || { show "$tmp/sim.log"; fail "no FC6 of -3000 to 2700"; }
expect_contains "$tmp/small.sink" "ess.grid_setpoint=-3000"

# Beyond an int16: 2703 (scale 0.01), never a wrapped 2700.
wr big "gx/100/ess.grid_setpoint=-45000" "result 1 "
expect_contains "$tmp/big.sink" "result 1 0"
grep -q '^100 6 2703 1 ok 65086$' "$tmp/sim.log" || { show "$tmp/sim.log"; fail "no FC6 of -450 to 2703"; }
if grep -q '^100 6 2700 1 ok 20536$' "$tmp/sim.log"; then fail "-45000 was wrapped into 2700"; fi

# Outside the granted range: refused by the core, nothing on the wire.
n=$(requests sim)
wr range "gx/100/ess.grid_setpoint=60000" "submitted "
expect_contains "$tmp/range.sink" "submitted -"
if awk -v n="$n" 'NR > n && $2 == 6' "$tmp/sim.log" | grep -q .; then fail "a refused write reached the GX"; fi

# Enum: ESS mode 3 (external control), a 16-bit register, read back.
wr mode "gx/100/ess.mode=3" "result 1 "
expect_contains "$tmp/mode.sink" "result 1 0"
grep -q '^100 6 2902 1 ok 3$' "$tmp/sim.log" || fail "no write of ess.mode"

# A mode-3 setpoint: int16 register 37 for -1000 W, then written again
# every setpoint_refresh (1 s) until the daemon stops.
n=$(requests sim)
wr refresh "gx/227/ess.l1.power_setpoint=-1000" "result 1 " "" keep_running
sleep 4
kill -TERM "$pid"
wait_exit "$pid" 10
writes=$(awk -v n="$n" 'NR > n' "$tmp/sim.log" | grep -c '^227 6 37 1 ok 64536$')
note "setpoint writes in about 4 s: $writes"
[ "$writes" -ge 4 ] || { show "$tmp/sim.log"; fail "the setpoint was not written again every second ($writes writes)"; }
expect_contains "$tmp/refresh.sink" "result 1 0"

# The GX's read/write switch off: 0x02 on a W register, said as such.
sim_control sim "rw off"
wr rwoff "gx/100/ess.grid_setpoint=100" "result 1 "
expect_contains "$tmp/rwoff.sink" "read-only"
sim_control sim "rw on"

# --check refuses what cannot be written: a read-only quantity, and a range
# beyond the register's type (ac_in.current_limit is an int16 at scale 10).
cat >"$tmp/bad.ini" <<EOT
[source.gx]
plugin = modbus-gx
host = 127.0.0.1
write.battery.voltage = 0..100
write.ac_in.current_limit = 0..5000
[sink.t]
plugin = stdout
[route.all]
from = gx
to = t
EOT
run 10 "$VICACQ" --check -c "$tmp/bad.ini"
expect_rc 2 "--check of grants that cannot work"
expect_contains "$tmp/err" "battery.voltage"
expect_contains "$tmp/err" "ac_in.current_limit"
exit 0

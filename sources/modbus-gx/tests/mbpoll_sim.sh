#!/bin/sh
# The GX simulator checked once with an independent Modbus client
# (Debian's mbpoll), so that the simulator the other tests trust is right:
# words and encodings as the register list says, 0x02 and 0x0A (0x0B in
# the old firmware's mode) where a GX answers them, FC6 writes that stick,
# writes to read-only registers refused.
. "$top_srcdir/tests/e2e/lib.sh"
. "$srcdir/tests/lib.sh"
command -v mbpoll >/dev/null 2>&1 || skip "mbpoll is not installed (apt-get install mbpoll)"

start_sim sim --system "$srcdir/tests/system.txt"
mb() { run 10 mbpoll -m tcp -0 -1 -p "$sim_port" "$@"; cat "$tmp/err" >>"$tmp/out"; }

mb -a 227 -r 26 -c 2 -t 4 127.0.0.1
expect_contains "$tmp/out" "[26]: 	2641"          # 26.41 V at scale 100
expect_contains "$tmp/out" "(-302)"                # -30.2 A, int16 at scale 10
mb -a 100 -r 908 -c 1 -t 4:int -B 127.0.0.1
expect_contains "$tmp/out" "[908]: 	-250"          # int32, high word first
mb -a 204 -r 265 -c 1 -t 4 127.0.0.1
expect_contains "$tmp/out" "[265]: 	455"           # consumed Ah, scale -10
mb -a 100 -r 6000 -c 1 -t 4 127.0.0.1
expect_contains "$tmp/out" "Illegal data address"  # no register there
mb -a 99 -r 800 -c 1 -t 4 127.0.0.1
expect_contains "$tmp/out" "Gateway path unavailable"
mb -a 227 -r 840 -c 1 -t 4 127.0.0.1
expect_contains "$tmp/out" "Gateway path unavailable"  # system asked at 227
mb -a 100 -r 2700 -t 4 127.0.0.1 -- 64302           # -1234 W
mb -a 100 -r 2700 -c 1 -t 4 127.0.0.1
expect_contains "$tmp/out" "(-1234)"
mb -a 100 -r 840 -t 4 127.0.0.1 -- 5                # an R register
expect_contains "$tmp/out" "Illegal data address"
kill "$sim_pid"

start_sim old --system "$srcdir/tests/system.txt" --old-firmware
mb -a 99 -r 800 -c 1 -t 4 127.0.0.1
expect_contains "$tmp/out" "Target device failed to respond"   # 0x0B
mb -a 100 -r 840 -c 10 -t 4 127.0.0.1
expect_contains "$tmp/out" "Illegal data address"  # the old gap at 847-849
exit 0

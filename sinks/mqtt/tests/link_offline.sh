#!/bin/sh
# A source that loses its device: the vedirect plugin reads a charger over
# tcp:// (a ser2net-like peer), the peer goes away, the plugin emits
# link.online false, and the device's availability topic says offline at
# once (long before device_timeout).
. "${srcdir:-.}/tests/lib.sh"
need python3

start_broker
capture=$top_srcdir/tests/data/vedirect/smartsolar-mppt-75-15_fw1.56.dump
# The peer sends the capture slowly enough to be seen online, then hangs
# up and refuses every reconnect.
python3 "$top_srcdir/tests/tools/capture_peer.py" "$capture" "$tmp/peer.port" \
  64 0.02 1 --hang-up &
pids="$pids $!"
wait_for "$tmp/peer.port" "" 5
peer_port=$(cat "$tmp/peer.port")

sub st 'vicacq/mppt/+/availability' 'vicacq/mppt/+/link/online'
sleep 0.3
{
  cat <<INI
[source.mppt]
plugin = vedirect
port = tcp://127.0.0.1:$peer_port

INI
  mqtt_section "device_timeout = 5m"
  cat <<INI

[route.all]
from = *
to = mq
INI
} > "$tmp/l.ini"
run_vicacq l
wait_for "$tmp/st" "/availability online" 10
note "the peer hangs up"
wait_for "$tmp/st" "/availability offline" 10
grep -q "/link/online OFF" "$tmp/st" || { show "$tmp/st"; fail "link.online OFF was not published"; }
dev=$(sed -n 's|^vicacq/mppt/\([^/]*\)/availability online$|\1|p' "$tmp/st" | head -1)
[ -n "$dev" ] || fail "no device id in the availability topic"
grep -q "^vicacq/mppt/$dev/availability offline" "$tmp/st" || { show "$tmp/st"; fail "offline not on the device's own topic"; }
note "ok: $dev went offline when its link was lost"

#!/bin/sh
# A reading whose device id is not UTF-8 can never be published (MQTT
# topics must be UTF-8; libmosquitto refuses the publish).  It is rejected
# and counted, never retried, and every other reading still flows:
# sent = delivered + rejected, exactly.
. "${srcdir:-.}/tests/lib.sh"

start_broker
sub st 'vicacq/#'
sleep 0.3
bad=$(printf 'bad\377\376id')
{
  cat <<INI
[vicacq]
log_level = info

[source.bad]
plugin = fixture-source
count = 40
burst = 4
interval = 20ms
records = 3
device = $bad

[source.good]
plugin = fixture-source
count = 60
burst = 4
interval = 20ms
records = 2

INI
  mqtt_section "retain = no"
  cat <<INI

[route.all]
from = *
to = mq
INI
} > "$tmp/u.ini"
run_vicacq u
n=0
while kill -0 "$vicacq_pid" 2>/dev/null && [ $n -lt 400 ]; do sleep 0.05; n=$((n+1)); done
kill -0 "$vicacq_pid" 2>/dev/null && { show "$tmp/u.log"; fail "the daemon did not finish in 20 s (a reading blocks the sink?)"; }
wait "$vicacq_pid" || { show "$tmp/u.log"; fail "vicacq exited with an error"; }
wait_for "$tmp/st" "vicacq/status offline" 5

sent=$((40 * 3 + 60 * 2))
delivered=$(grep -c '^vicacq/good/fixture1/fixture/value/' "$tmp/st")
# The core's account of the sink: accepted = written + rejected.
line=$(grep -a 'sink\.mq: records: ' "$tmp/u.log" | tail -n 1)
accepted=$(echo "$line" | sed -n 's/.* \([0-9]*\) accepted.*/\1/p')
written=$(echo "$line" | sed -n 's/.* \([0-9]*\) written.*/\1/p')
rejected=$(echo "$line" | sed -n 's/.* \([0-9]*\) rejected.*/\1/p')
note "sent $sent, delivered $delivered, rejected ${rejected:-?} ($line)"
[ "$accepted" = "$sent" ] && [ "$written" = "$delivered" ] ||
  { show "$tmp/u.log"; fail "the core counted $accepted accepted, $written written"; }
[ "$delivered" -eq $((60 * 2)) ] || { show "$tmp/u.log"; fail "delivered $delivered of the good source's 120 records"; }
[ -n "$rejected" ] || { show "$tmp/u.log"; fail "no records_rejected counter in the log"; }
[ "$rejected" -eq $((40 * 3)) ] || { show "$tmp/u.log"; fail "rejected $rejected, expected 120"; }
[ $((delivered + rejected)) -eq "$sent" ] || fail "sent $sent != delivered + rejected"
grep -a -q 'device bad\\xff\\xfeid are rejected' "$tmp/u.log" ||
  { show "$tmp/u.log"; fail "no warning naming the id (escaped)"; }
[ "$(grep -a -c 'are rejected: the id is not UTF-8' "$tmp/u.log")" -eq 1 ] || fail "the warning is not given once"
grep -q "^vicacq/bad" "$tmp/st" && fail "something of the bad device was published"
exit 0

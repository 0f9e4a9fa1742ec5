#!/bin/sh
# sinks/tests/all_strings.ini (every string option of the mqtt and influx
# sinks set) passes --check, runs, and survives SIGHUP reloads with no
# server up: the sinks keep copies of what they need.
. "${srcdir:-.}/tests/lib.sh"

ini="$top_srcdir/sinks/tests/all_strings.ini"
(cd "$top_srcdir" && "$VICACQ" -c "$ini" --check) > "$tmp/check.log" 2>&1 ||
  { show "$tmp/check.log"; fail "--check refused all_strings.ini"; }
cp "$ini" "$tmp/a.ini"
run_vicacq a
wait_for "$tmp/a.log" "connecting to localhost:1" 10
sleep 0.3
kill -HUP "$vicacq_pid"
wait_for "$tmp/a.log" "reload" 10
sleep 0.3
# A changed section is stopped and started again, the rest kept.
sed 's/^node_id = all-strings$/node_id = all-strings-2/; s/^measurement = vq_measurement$/measurement = vq_m2/' \
  "$ini" > "$tmp/a.ini"
kill -HUP "$vicacq_pid"
wait_for "$tmp/a.log" "2 started, 2 stopped" 10
sleep 0.5
kill -0 "$vicacq_pid" 2>/dev/null || { show "$tmp/a.log"; fail "vicacq died on reload"; }
kill -TERM "$vicacq_pid"
wait "$vicacq_pid" || { show "$tmp/a.log"; fail "vicacq exited with an error"; }
grep -q "vq-password\|vq-token" "$tmp/a.log" && fail "a secret was logged"
exit 0

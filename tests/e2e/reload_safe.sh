#!/bin/sh
# SIGHUP must never break what runs (issue 9, items 1 and 2):
#  - a file that passes the schema but that a plugin refuses (check() or
#    create()) keeps every running instance as it was, nothing stopped;
#  - a kept instance keeps the strings cfg_string gave it (every string
#    option set explicitly, several reloads: under ASan a use-after-free
#    aborts, in any build the device id written must not change).
. "$(dirname "$0")/lib.sh"

cfg="$tmp/p.ini"
dev="device-$(printf '%080d' 1)" # long enough that malloc reuses nothing
write() {
  cat >"$cfg" <<EOF2
[vicacq]
shutdown_timeout = 3s
[source.fix]
plugin = fixture-source
count = 0
interval = 10ms
burst = 2
device = $dev
$1
[sink.t1]
plugin = fixture-sink
output = $tmp/t1.sink
script = ok
retry_initial = 50ms
$2
[route.all]
from = *
to = t1
EOF2
}
# goes_on: the source still delivers (20 more readings within 10 s).
goes_on() {
  _n=$(grep -c '^reading fix ' "$tmp/t1.sink")
  wait_lines "$tmp/t1.sink" '^reading fix ' $((_n + 20)) 10
}

write "" ""
start daemon -c "$cfg"
err="$tmp/daemon.err"
wait_lines "$tmp/t1.sink" '^reading fix ' 20 15

note "unchanged file, five times: the kept instances' strings stay valid"
for i in 1 2 3 4 5; do
  kill -HUP "$pid"
  wait_lines "$err" "reloaded $cfg: 2 kept, 0 started, 0 stopped" "$i" 5
done
goes_on

note "a new source that create() refuses: nothing stopped, nothing started"
write "" "" 
cat >>"$cfg" <<EOF2
[source.bad]
plugin = fixture-source
fail = create_silent
EOF2
kill -HUP "$pid"
wait_for "$err" "a plugin refused it (see above); still running the previous pipeline" 5
expect_contains "$err" "$cfg:19: [source.bad]: plugin fixture-source could not be created"
goes_on

note "a changed source whose new section create() refuses: the old one runs on"
write "fail = create" ""
kill -HUP "$pid"
wait_lines "$err" "a plugin refused it" 2 5
expect_contains "$err" "$cfg:9: [source.fix] key 'fail': refused by create() on purpose"
goes_on

note "a changed sink that check() ... (fixture-sink has none): a source check() refuses"
write "fail = check" ""
kill -HUP "$pid"
wait_lines "$err" "is invalid .see above.; still running the previous pipeline" 1 5
expect_contains "$err" "$cfg:9: [source.fix] key 'fail': refused by check() on purpose"
goes_on

note "a changed source whose new section fails at start(): the previous one comes back"
write "fail = start" ""
kill -HUP "$pid"
wait_for "$err" "source.fix: its new section could not start: it goes on with its previous one" 5
expect_contains "$err" "$cfg:3: [source.fix]: plugin fixture-source could not start: Input/output error"
goes_on
# The file is fine again: the next reload replaces the restored instance.
write "" ""
kill -HUP "$pid"
wait_lines "$err" "reloaded $cfg: 2 kept, 0 started, 0 stopped" 6 5
goes_on

note "SIGTERM: one contiguous run, one device id"
kill -TERM "$pid"
wait_exit "$pid" 10
expect_eq "exit status" "$rc" 0
# Only the reload whose new section failed to start stopped an instance
# (and brought it back).
n=$(grep -E -c "started, [1-9][0-9]* stopped" "$err")
expect_eq "reloads that stopped an instance" "$n" 1
expect_not_contains "$err" "0 kept"
expect_contiguous "$tmp/t1.sink" fix 1
bad=$(awk -v d="$dev" '$1 == "reading" && $3 != d' "$tmp/t1.sink" | head -n 3)
[ -z "$bad" ] || { echo "$bad"; fail "readings with another device id than '$dev' (a dangling cfg_string)"; }
exit 0

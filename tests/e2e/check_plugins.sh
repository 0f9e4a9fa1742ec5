#!/bin/sh
# The shipped plugins' own checks (ABI 1.2 check()) through --check and the
# start: a file --check refuses names FILE:LINE and the key, and the start
# refuses it the same way, before anything runs (issue 9, item 3).
. "$(dirname "$0")/lib.sh"

: "${top_builddir:?}"
for d in sinks/mqtt sinks/influx sources/vedirect sources/ble-adv; do
  ls "$top_builddir/$d/"*.la >/dev/null 2>&1 || skip "$d was not built"
done
VICACQ_PLUGIN_PATH="$VICACQ_PLUGIN_PATH:$top_builddir/sinks/mqtt:$top_builddir/sinks/influx:$top_builddir/sources/vedirect:$top_builddir/sources/ble-adv"
export VICACQ_PLUGIN_PATH

cfg="$tmp/p.ini"
# sink PLUGIN LINES...: a fixture source and one sink [sink.s] of PLUGIN
# whose keys start at line 5.
sink() {
  _plugin=$1
  shift
  {
    printf '[source.a]\nplugin = fixture-source\n'
    printf '[sink.s]\nplugin = %s\n' "$_plugin"
    for _l in "$@"; do echo "$_l"; done
    printf '[route.r]\nfrom = *\nto = s\n'
  } >"$cfg"
}

# refused TEXT: --check and the start both exit 2 saying TEXT.
refused() {
  "$VICACQ" -c "$cfg" --check >"$tmp/out" 2>"$tmp/err"
  expect_eq "--check exit status" "$?" 2
  expect_contains "$tmp/err" "$1"
  timeout 20 "$VICACQ" -c "$cfg" >"$tmp/out" 2>"$tmp/err"
  expect_eq "start exit status" "$?" 2
  expect_contains "$tmp/err" "$1"
  expect_not_contains "$tmp/err" "running $cfg"
}

note "influx: url without scheme, url without server, api = v2 without org or bucket"
sink influx "url = 127.0.0.1:8086"
refused "$cfg:5: [sink.s] key 'url': '127.0.0.1:8086' must start with http:// or https://"
sink influx "url = http://"
refused "$cfg:5: [sink.s] key 'url': 'http://' names no server"
sink influx "url = http://127.0.0.1:1" "api = v2" "bucket = b" "token = t"
refused "[sink.s] key 'org': api = v2 needs an org"
sink influx "url = http://127.0.0.1:1" "api = v2" "org = o" "token = t"
refused "[sink.s] key 'bucket': api = v2 needs a bucket"

note "mqtt: topic roots, credentials, TLS keys without TLS"
sink mqtt "base_topic = victron/"
refused "$cfg:5: [sink.s] key 'base_topic': 'victron/' must not end with '/'"
sink mqtt "password = x"
refused "$cfg:5: [sink.s] key 'password': is sent only with a username"
sink mqtt "tls_ca_file = /etc/ssl/certs/ca-certificates.crt"
refused "$cfg:5: [sink.s] key 'tls_ca_file': is set but tls = no"

note "vedirect: tcp:// without a port, port and capture together"
# source PLUGIN LINES...: [source.v] of PLUGIN (keys from line 3) to stdout.
source() {
  _plugin=$1
  shift
  {
    printf '[source.v]\nplugin = %s\n' "$_plugin"
    for _l in "$@"; do echo "$_l"; done
    printf '[sink.o]\nplugin = stdout\n[route.r]\nfrom = *\nto = o\n'
  } >"$cfg"
}
source vedirect "port = tcp://127.0.0.1"
refused "$cfg:3: [source.v] key 'port': 'tcp://127.0.0.1': expected tcp://HOST:PORT"
source vedirect "port = tcp://127.0.0.1:99999"
refused "$cfg:3: [source.v] key 'port': 'tcp://127.0.0.1:99999': bad TCP port number"
source vedirect "port = /dev/null" "capture = $tmp/none"
refused "[source.v] key 'capture': give either port or capture, not both"

note "ble-adv: a malformed key, a bad address"
source ble-adv "address = C0:3B:98:12:34:56" "key = 0123456789abcdef"
refused "$cfg:4: [source.v] key 'key': not 32 hexadecimal digits"
source ble-adv "address = C0:3B:98:12:34" "key = 0123456789abcdef0123456789abcdef"
refused "$cfg:3: [source.v] key 'address': 'C0:3B:98:12:34' is not a Bluetooth address"

note "a file the checks accept starts"
sink influx "url = http://127.0.0.1:1" "api = v2" "org = o" "bucket = b" "token = t"
"$VICACQ" -c "$cfg" --check >"$tmp/out" 2>"$tmp/err" || { show "$tmp/err"; fail "--check refused a good influx section"; }
exit 0

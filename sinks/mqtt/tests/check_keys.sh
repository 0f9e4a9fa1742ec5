#!/bin/sh
# vicacq --check catches what used to fail only at start, in the mqtt and
# the influx sink, each problem on the line of the key that causes it
# (FILE:LINE: [sink.ID] key 'KEY': ...), and exits 2; the same file fixed
# passes.
. "${srcdir:-.}/tests/lib.sh"

cat > "$tmp/bad.ini" <<'INI'
[source.fx]
plugin = fixture-source

[sink.mq]
plugin = mqtt
base_topic = vicacq/#
tls_cert_file = /etc/client.pem
node_id = my node

[sink.db]
plugin = influx
url = localhost:8086
api = v2
org = home

[route.all]
from = *
to = mq, db
INI
(cd "$tmp" && "$VICACQ" -c bad.ini --check) > "$tmp/check.out" 2>&1
rc=$?
cat "$tmp/check.out"
[ "$rc" -eq 2 ] || fail "--check exited $rc, expected 2"
expect() {
  grep -F -q -e "$1" "$tmp/check.out" || fail "no '$1' in the --check output"
}
expect "bad.ini:6: [sink.mq] key 'base_topic': "
expect "bad.ini:7: [sink.mq] key 'tls_cert_file': "
expect "bad.ini:8: [sink.mq] key 'node_id': "
expect "bad.ini:12: [sink.db] key 'url': 'localhost:8086' must start with http:// or https://"
expect "[sink.db] key 'bucket': api = v2 needs a bucket"
expect "[sink.db] key 'token': api = v2 needs a token"

sed -e 's|^base_topic = vicacq/#$|base_topic = vicacq|' -e '/^tls_cert_file/d' \
    -e 's|^node_id = my node$|node_id = my-node|' \
    -e 's|^url = localhost:8086$|url = http://localhost:8086|' \
    -e 's|^org = home$|org = home\nbucket = b\ntoken = t|' \
    "$tmp/bad.ini" > "$tmp/good.ini"
(cd "$tmp" && "$VICACQ" -c good.ini --check) > "$tmp/good.out" 2>&1 ||
  { cat "$tmp/good.out"; fail "the fixed file does not pass --check"; }
exit 0

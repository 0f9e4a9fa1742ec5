#!/bin/sh
# TLS with certificates made here (a CA, a server certificate for
# 127.0.0.1, a client certificate the broker requires) and password
# authentication (password_file).  Then a wrong password: a clear error in
# the log, retries with back-off (a handful of attempts, not a busy loop),
# and little CPU time.
. "${srcdir:-.}/tests/lib.sh"
need openssl mosquitto_passwd

cd "$tmp" || fail "no temporary directory"
ossl() { openssl "$@" >>"$tmp/openssl.log" 2>&1 || { show "$tmp/openssl.log"; fail "openssl $1 failed"; }; }
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=vicacq test CA" \
  -keyout ca.key -out ca.crt
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
ossl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
ossl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
  -extfile san.ext -out server.crt
ossl req -newkey rsa:2048 -nodes -subj "/CN=vicacq" -keyout client.key -out client.csr
ossl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
  -out client.crt
chmod 644 ./*.key
mosquitto_passwd -b -c "$tmp/passwd" vq 's3cret pass' >/dev/null 2>&1 ||
  fail "mosquitto_passwd failed"
chmod 644 "$tmp/passwd"
printf 's3cret pass\n' > "$tmp/good.pw"
printf 'not it\n' > "$tmp/bad.pw"

BROKER_ANON=false
start_broker "cafile $tmp/ca.crt" "certfile $tmp/server.crt" \
  "keyfile $tmp/server.key" "require_certificate true" \
  "password_file $tmp/passwd"

mosquitto_sub -W 60 -h 127.0.0.1 -p "$port" --cafile ca.crt --cert client.crt \
  --key client.key -u vq -P 's3cret pass' -v -t 'vicacq/#' > "$tmp/got" 2>"$tmp/sub.err" &
pids="$pids $!"
sleep 0.5

pipeline() { # name password-file
  {
    cat <<INI
[source.fx]
plugin = fixture-source
count = 0
interval = 100ms
burst = 1

INI
    mqtt_section "tls = yes" "tls_ca_file = $tmp/ca.crt" \
      "tls_cert_file = $tmp/client.crt" "tls_key_file = $tmp/client.key" \
      "username = vq" "password_file = $2" "reconnect_min = 500ms" \
      "reconnect_max = 2s" "discovery = no"
    cat <<INI

[route.all]
from = *
to = mq
INI
  } > "$tmp/$1.ini"
}

note "TLS, client certificate and password"
pipeline good "$tmp/good.pw"
run_vicacq good
wait_for "$tmp/got" "vicacq/fx/fixture1/fixture/value/0 5" 10
grep -q "TLS" "$tmp/good.log" || fail "the log does not say TLS"
grep -q "s3cret" "$tmp/good.log" && fail "the password was logged"
kill -TERM "$vicacq_pid"
wait "$vicacq_pid"

note "a wrong password"
pipeline bad "$tmp/bad.pw"
run_vicacq bad
sleep 6
attempts=$(grep -c "unreachable: broker refused" "$tmp/bad.log")
ticks=$(awk '{print $14 + $15}' "/proc/$vicacq_pid/stat")
hz=$(getconf CLK_TCK)
note "$attempts refused attempts in 6 s, $ticks CPU ticks (of $hz per second)"
grep -q "broker refused: Not authorized\|broker refused: Connection Refused: not authorised\|broker refused: Bad user name or password" "$tmp/bad.log" ||
  { show "$tmp/bad.log"; fail "no clear error for a wrong password"; }
[ "$attempts" -ge 2 ] || { show "$tmp/bad.log"; fail "no retries"; }
[ "$attempts" -le 12 ] || { show "$tmp/bad.log"; fail "retrying too fast: $attempts attempts"; }
[ "$ticks" -lt $((hz / 2)) ] || fail "busy: $ticks CPU ticks in 6 s"
grep -q "not it" "$tmp/bad.log" && fail "the password was logged"
exit 0

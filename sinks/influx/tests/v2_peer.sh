#!/bin/sh
# The v2 API against a peer written for the test (v2_peer.py): path,
# query (org, bucket, precision, escaped), the token from token_file,
# Content-Type and the body; 429 with Retry-After honoured (the gap is
# measured); 413 splits the batch until the server takes it, with gzip.
. "$(dirname "$0")/lib.sh"
need_plugin tests plugins/fixture-source.la

# peer NAME ARGS...: start v2_peer.py; sets $peer_url, log in $tmp/NAME.log.
peer() {
  _name=$1
  shift
  : >"$tmp/$_name.log"
  "$PY" "$srcdir/tests/v2_peer.py" "$tmp/$_name.port" "$tmp/$_name.log" "$@" \
    2>"$tmp/$_name.err" &
  pids="$pids $!"
  _lend=$(($(date +%s) + 10))
  until [ -f "$tmp/$_name.port" ]; do
    [ "$(date +%s)" -gt "$_lend" ] && { show "$tmp/$_name.err"; fail "v2 peer did not start"; }
    sleep_short
  done
  peer_url="http://127.0.0.1:$(cat "$tmp/$_name.port")"
}

# pipeline FILE URL EXTRA...: fixture readings (count 10) to a v2 sink.
pipeline() {
  _f=$1
  _u=$2
  shift 2
  {
    printf '[vicacq]\nlog_level = info\n'
    printf '[source.fix]\nplugin = fixture-source\ncount = 10\nrecords = 2\n'
    printf '[sink.db]\nplugin = influx\napi = v2\nurl = %s/\norg = my org\n' "$_u"
    printf 'bucket = b&1\ntoken_file = %s\nprecision = ms\nretry_initial = 100ms\n' "$tmp/token"
    for _x in "$@"; do printf '%s\n' "$_x"; done
    printf '[route.all]\nfrom = *\nto = db\n'
  } >"$_f"
}

printf 's3cr3t-t0ken\n' >"$tmp/token"

# ------------------------------------------------------------------
note "request shape"
peer basic
pipeline "$tmp/basic.ini" "$peer_url"
run 30 "$VICACQ" -c "$tmp/basic.ini"
expect_rc 0 "v2 run"
expect_contains "$tmp/err" "sink.db: records: 20 accepted, 20 written, 0 queued, 0 dropped, 0 rejected, 0 retries, 0 lost"
expect_not_contains "$tmp/err" "s3cr3t"
"$PY" - "$tmp/basic.log" <<'EOP' || fail "v2 requests are not right"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert reqs, "no request"
lines = []
for r in reqs:
    assert r["path"] == "/api/v2/write", r["path"]
    assert r["query"] == {"org": ["my org"], "bucket": ["b&1"], "precision": ["ms"]}, r["query"]
    assert r["authorization"] == "Token s3cr3t-t0ken", r["authorization"]
    assert r["content_type"] == "text/plain; charset=utf-8", r["content_type"]
    assert r["content_encoding"] is None
    assert r["status"] == 204
    lines += r["lines"]
assert len(lines) == 10, lines
prev = 0
for i, l in enumerate(lines):
    head, fields, ts = l.rsplit(" ", 2)
    assert head == 'victron,source=fix,device=fixture1,product=Fixture\\,\\ the\\ "test"\\ device', head
    assert fields == "fixture.value.0=%d,fixture.value.1=%s" % (i, repr(i + 0.01)), fields
    # milliseconds since the epoch: 13 digits now, not decreasing
    assert len(ts) == 13 and int(ts) >= prev, ts
    prev = int(ts)
print("ok")
EOP

# ------------------------------------------------------------------
note "429 with Retry-After: 2 is honoured"
peer throttle --throttle 1:2
pipeline "$tmp/throttle.ini" "$peer_url"
run 30 "$VICACQ" -c "$tmp/throttle.ini"
expect_rc 0 "v2 throttled run"
expect_contains "$tmp/err" "sink.db: records: 20 accepted, 20 written, 0 queued, 0 dropped, 0 rejected"
expect_contains "$tmp/err" "server busy (HTTP 429), sending again in 2000 ms"
"$PY" - "$tmp/throttle.log" <<'EOP' || fail "Retry-After was not honoured"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert [r["status"] for r in reqs][:2] == [429, 204], [r["status"] for r in reqs]
gap = reqs[1]["time"] - reqs[0]["time"]
print("gap after 429: %.3f s" % gap)
assert 2.0 <= gap < 3.0, gap
assert reqs[0]["lines"] == reqs[1]["lines"]
sent = [l for r in reqs if r["status"] == 204 for l in r["lines"]]
assert len(sent) == 10 and len(set(sent)) == 10, sent
EOP

# ------------------------------------------------------------------
note "413 splits the batch (gzip on)"
peer split --max-lines 3
pipeline "$tmp/split.ini" "$peer_url" "gzip = yes"
run 30 "$VICACQ" -c "$tmp/split.ini"
expect_rc 0 "v2 split run"
expect_contains "$tmp/err" "sink.db: records: 20 accepted, 20 written, 0 queued, 0 dropped, 0 rejected"
expect_contains "$tmp/err" "request too large (HTTP 413)"
"$PY" - "$tmp/split.log" <<'EOP' || fail "413 was not handled by splitting"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
print([(r["status"], len(r["lines"])) for r in reqs])
assert all(r["content_encoding"] == "gzip" for r in reqs)
assert reqs[0]["status"] == 413 and len(reqs[0]["lines"]) == 10
sent = [l for r in reqs if r["status"] == 204 for l in r["lines"]]
assert all(len(r["lines"]) <= 3 for r in reqs if r["status"] == 204)
# every line exactly once, in order
assert sent == reqs[0]["lines"], sent
EOP
exit 0

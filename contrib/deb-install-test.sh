#!/bin/sh
# The package install test: install the .debs built by `make deb` with
# dpkg, use the installed daemon (version, every plugin from the packaged
# plugin directory, --check of the shipped pipeline), the service user, the
# unit's hardening score, a plugin built against vicacq-dev, then purge
# and check that nothing is left but what policy allows (the system user).
#   contrib/deb-install-test.sh DIR_WITH_DEBS
# Needs root; changes the system it runs on (meant for CI).
set -u
debs=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vicacq-deb-test.XXXXXX") || exit 99
failed=0
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: deb-install-test: $*" >&2; failed=1; }
ok() { echo "ok: $*"; }

[ "$(id -u)" -eq 0 ] || { echo "deb-install-test: needs root" >&2; exit 1; }
pkg=$(ls "$debs"/vicacq_*.deb 2>/dev/null | head -n 1)
dev=$(ls "$debs"/vicacq-dev_*.deb 2>/dev/null | head -n 1)
[ -n "$pkg" ] && [ -n "$dev" ] || { echo "no vicacq .debs in $debs" >&2; exit 1; }

if dpkg-query -W -f='${Status}' vicacq 2>/dev/null | grep -q installed; then
  echo "deb-install-test: vicacq is installed already; not touching it" >&2
  exit 1
fi
# What is there before, to compare with what purge leaves.
find /etc /lib/systemd /usr /var/lib -xdev 2>/dev/null | sort >"$work/before"

dpkg -i "$pkg" "$dev" || { echo "dpkg -i failed" >&2; exit 1; }

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
plugindir=/usr/lib/$multiarch/vicacq

/usr/bin/vicacq --version >"$work/version" 2>&1 && grep -q '0\.' "$work/version" &&
  ok "vicacq --version: $(head -n 1 "$work/version")" || fail "vicacq --version"

# Every plugin the package ships is found from the packaged path, with no
# VICACQ_PLUGIN_PATH.
env -u VICACQ_PLUGIN_PATH /usr/bin/vicacq --list-plugins >"$work/plugins" 2>&1 ||
  fail "vicacq --list-plugins exits $?"
cat "$work/plugins"
n=0
for so in "$plugindir"/*.so; do
  name=$(basename "$so" .so)
  n=$((n + 1))
  grep -q "^$name " "$work/plugins" || fail "plugin $name ($so) not listed"
done
[ "$n" -ge 5 ] || fail "only $n plugins in $plugindir"
ok "$n plugins listed from $plugindir"

env -u VICACQ_PLUGIN_PATH /usr/bin/vicacq --check -c /etc/vicacq/pipeline.ini &&
  ok "--check /etc/vicacq/pipeline.ini" || fail "--check of the shipped pipeline"
dpkg-query --control-show vicacq conffiles | grep -q '^/etc/vicacq/pipeline.ini$' &&
  ok "pipeline.ini is a conffile" || fail "/etc/vicacq/pipeline.ini is not a conffile"

# The service user, its groups, the unit and its score.
id vicacq >"$work/id" 2>&1 || fail "no user vicacq"
for g in dialout bluetooth; do
  grep -q "($g)" "$work/id" || fail "vicacq is not in group $g: $(cat "$work/id")"
done
ok "user: $(cat "$work/id")"
unit=/lib/systemd/system/vicacq.service
grep -q '^ExecStart=/usr/bin/vicacq -c /etc/vicacq/pipeline.ini$' "$unit" ||
  fail "the unit does not run /etc/vicacq/pipeline.ini"
if command -v systemd-analyze >/dev/null; then
  score=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1 |
    sed -n 's/.*Overall exposure level for vicacq.service: \([0-9.]*\).*/\1/p')
  awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.5) }' &&
    ok "installed unit exposure $score" || fail "installed unit exposure '$score' above 2.5"
fi

# vicacq-dev: a plugin of one's own built and found through pkg-config.
if [ -d "$here/../examples/plugin-hello" ] && command -v cc >/dev/null; then
  cp -R "$here/../examples/plugin-hello" "$work/hello"
  pd=$(pkg-config --variable=plugindir vicacq)
  [ "$pd" = "$plugindir" ] || fail "pkg-config plugindir '$pd', not $plugindir"
  if make -s -C "$work/hello" >"$work/hello.log" 2>&1; then
    VICACQ_PLUGIN_PATH="$work/hello" /usr/bin/vicacq --list-plugins 2>&1 | grep -q '^hello ' &&
      ok "plugin-hello built against vicacq-dev and loaded" ||
      fail "plugin-hello built but not listed"
  else
    cat "$work/hello.log"; fail "plugin-hello does not build against vicacq-dev"
  fi
fi

# As if the service had run: a spool in its state directory, which purge
# must remove.
mkdir -p /var/lib/vicacq/spool/mqtt && : >/var/lib/vicacq/spool/mqtt/0000000000000001.seg
chown -R vicacq:vicacq /var/lib/vicacq
dpkg --purge vicacq-dev vicacq || fail "dpkg --purge"
for p in vicacq vicacq-dev; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || st=not-installed
  [ "$st" = not-installed ] || fail "$p is '$st' after purge"
done
find /etc /lib/systemd /usr /var/lib -xdev 2>/dev/null | sort >"$work/after"
# Left behind on purpose: the system user (policy: never removed), and
# systemd's/dpkg's own bookkeeping.
comm -13 "$work/before" "$work/after" |
  grep -v -E '^/var/lib/(dpkg|systemd/deb-systemd-helper-(enabled|masked))(/|$)' \
  >"$work/left" || :
if [ -s "$work/left" ]; then
  cat "$work/left"; fail "purge left files behind"
else
  ok "purge left nothing behind"
fi
[ $failed -eq 0 ] && echo "deb-install-test: passed"
exit $failed

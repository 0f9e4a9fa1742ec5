#!/bin/sh
# Set up a Debian/Ubuntu machine to build and test vicacq, then build it.
# Installs the build dependencies and the real peers the tests run against
# (mosquitto, influxd, dbus-daemon with python3-dbusmock, socat), the
# tools of the Debian package build (make deb), then runs autoreconf,
# configure and make.  Safe to run again.
set -eu
cd "$(dirname "$0")"

BUILD_DEPS="build-essential autoconf automake libtool pkg-config
  libuv1-dev libltdl-dev libssl-dev libserialport-dev libmodbus-dev
  libmosquitto-dev libsystemd-dev libcurl4-openssl-dev zlib1g-dev"
TEST_DEPS="mosquitto mosquitto-clients influxdb influxdb-client dbus-daemon
  python3 python3-dbusmock python3-dbus python3-gi socat openssl procps psmisc clang libclang-rt-14-dev
  valgrind mbpoll systemd"
# The Debian package build (make deb) and its checks.
PACKAGE_DEPS="dpkg-dev debhelper fakeroot lintian"

missing=""
for pkg in $BUILD_DEPS $TEST_DEPS $PACKAGE_DEPS; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "bootstrap: installing:$missing"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
  # Debian starts the packaged brokers/databases; the tests run their own
  # on free ports, so the system ones are not needed.
  for svc in mosquitto influxdb; do
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
  done
fi

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure --quiet
make -j"$(nproc)" --quiet
echo "bootstrap: built. Next: make demo (the demo pipeline) or make check (the tests)."

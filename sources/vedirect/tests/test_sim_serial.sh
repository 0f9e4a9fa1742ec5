#!/bin/sh
# The IP22 simulator on a pty opened through libserialport: test_sim makes
# a private mount namespace and bind-mounts the pty over /dev/ttyS0; the
# shim answers the modem-line ioctls a pty does not support.  Needs root
# (skips with 77 otherwise).
if [ "$(id -u)" != 0 ]; then
  echo "SKIP: the pty test needs root (unshare -m and a bind mount)"
  exit 77
fi
shim=$(pwd)/tests/.libs/ttyshim.so
if [ ! -f "$shim" ]; then
  echo "ttyshim.so was not built" >&2
  exit 99
fi
LD_PRELOAD=$shim exec ./tests/test_sim serial

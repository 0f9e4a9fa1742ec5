#!/bin/sh
# The IP22 simulator over tcp:// (a local TCP peer).
exec ./tests/test_sim tcp

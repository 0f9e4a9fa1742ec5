#!/bin/sh
# Seed corpora for the core fuzzers: the bundled pipeline files and one
# spooled reading per value type.
set -eu
out=$1; src=$2
mkdir -p "$out/pipeline" "$out/spool"
printf x > "$out/spool/empty"
cp "$src"/examples/*.ini "$out/pipeline/"
printf '[source.a]\nplugin = fixture-source\nwrite.x = 1..2\n[sink.b]\nplugin = stdout\nqueue_max_bytes = 8M\nretry_initial = 250ms\n[route.r]\nfrom = a, *\nto = b\nmatch = battery.*\n' > "$out/pipeline/seed.ini"

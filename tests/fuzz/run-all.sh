#!/bin/sh
# Build and run every libFuzzer target of the tree for a bounded time from
# its checked-in seed corpus; used by CI, runnable by hand:
#   tests/fuzz/run-all.sh [SECONDS_EACH] [TARGET...]
# (from the top of a configured build tree; default 60 s each, every
# target).  A target is a file DIR/fuzz/fuzz_NAME.c defining
# LLVMFuzzerTestOneInput, built by the rule fuzz/fuzz_NAME of DIR's
# Makefile.  Its seeds are the first that exists of DIR/fuzz/corpus/
# fuzz_NAME/ (the convention), tests/fuzz/corpus/fuzz_NAME/, the forms
# some targets use (DIR/fuzz/seeds-NAME/, DIR/fuzz/corpus_NAME/, also with
# NAME's last word only) and a DIR/fuzz/corpus/ of plain files; a dictionary DIR/fuzz/NAME.dict or
# DIR/fuzz/fuzz_NAME.dict is used when there is one.  New targets are
# picked up without editing this file.  Prints one line per target and
# "fuzz: N passed, N failed"; exits non-zero when a target fails to
# build, crashes, leaks or has no seeds.
set -u
seconds=${1:-60}
[ $# -gt 0 ] && shift
top_builddir=$(pwd)
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
work=$top_builddir/_ci/fuzz
mkdir -p "$work"

if [ $# -gt 0 ]; then
  targets=$*
else
  targets=$(cd "$top_srcdir" && grep -l LLVMFuzzerTestOneInput \
    $(find . \( -path ./_ci -o -path ./deb-build -o -path './vicacq-*' \) -prune \
      -o -path '*/fuzz/fuzz_*.c' -print) | sort)
fi

pass=0; fail=0
for src in $targets; do
  src=${src#./}
  name=$(basename "$src" .c)
  fdir=$(dirname "$src")        # DIR/fuzz
  dir=$(dirname "$fdir")        # DIR (the Makefile that builds it)
  log=$work/$name.log
  if ! make -C "$top_builddir/$dir" "fuzz/$name" >"$log" 2>&1; then
    echo "FAIL: $name: does not build (make -C $dir fuzz/$name), see $log"
    tail -n 20 "$log"
    fail=$((fail + 1)); continue
  fi
  seeds=""
  short=${name#fuzz_}; last=${name##*_}
  for d in "$top_srcdir/$fdir/corpus/$name" "$top_srcdir/tests/fuzz/corpus/$name" \
           "$top_srcdir/$fdir/seeds-$short" "$top_srcdir/$fdir/seeds-$last" \
           "$top_srcdir/$fdir/corpus_$short" "$top_srcdir/$fdir/corpus_$last"; do
    [ -d "$d" ] && { seeds=$d; break; }
  done
  # A directory's one corpus/ holding the seeds themselves.
  if [ -z "$seeds" ] && [ -d "$top_srcdir/$fdir/corpus" ] &&
     [ -n "$(find "$top_srcdir/$fdir/corpus" -maxdepth 1 -type f)" ]; then
    seeds=$top_srcdir/$fdir/corpus
  fi
  if [ -z "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
    echo "FAIL: $name: no seed corpus (add tests/fuzz/corpus/$name/)"
    fail=$((fail + 1)); continue
  fi
  dict=""
  for d in "$top_srcdir/$fdir/${name#fuzz_}.dict" "$top_srcdir/$fdir/$name.dict"; do
    [ -f "$d" ] && { dict="-dict=$d"; break; }
  done
  # Work on a copy: what the run finds is not written into the tree.
  rm -rf "$work/$name.corpus"
  cp -R "$seeds" "$work/$name.corpus"
  if (cd "$work" && "$top_builddir/$dir/fuzz/$name" -max_total_time="$seconds" \
        -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        $dict "$name.corpus") >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "PASS: $name: ${execs:-?} runs in ${seconds}s from $(ls "$seeds" | wc -l) seeds"
    pass=$((pass + 1))
  else
    echo "FAIL: $name: see $log"
    grep -E -A 30 'ERROR: |SUMMARY|Test unit written' "$log" | head -n 60
    fail=$((fail + 1))
  fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]

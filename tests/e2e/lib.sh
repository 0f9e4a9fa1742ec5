# Shared helpers of the end-to-end tests (sourced, POSIX sh).
#
# The test harness (tests/Makefile.am) exports VICACQ (the binary),
# VICACQ_PLUGIN_PATH (fixture plugins and the stdout sink), top_srcdir,
# top_builddir, srcdir and MAKE.  A test exits 0 when it passes, 77 when
# it is skipped and anything else when it fails, after saying why.
#
# Every test gets its own temporary directory ($tmp), removed on exit
# together with any daemon still running.  Waits are bounded: a hung
# daemon fails the test, it never hangs the suite.  The helpers' own
# variables start with _l so that they do not clobber a test's.

set -u

: "${VICACQ:?VICACQ must name the vicacq binary (run through make check)}"
: "${VICACQ_PLUGIN_PATH:?VICACQ_PLUGIN_PATH must be set (run through make check)}"
export VICACQ_PLUGIN_PATH

test_name=$(basename "$0" .sh)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vicacq-e2e-$test_name.XXXXXX") ||
  { echo "FAIL: cannot create a temporary directory" >&2; exit 99; }
pids=""

cleanup() {
  for _lp in $pids; do
    kill -KILL "$_lp" 2>/dev/null
    wait "$_lp" 2>/dev/null
  done
  pids=""
  if [ -n "${KEEP_TMP:-}" ]; then
    echo "(kept $tmp)" >&2
  else
    rm -rf "$tmp"
  fi
}
trap '_lrc=$?; cleanup; exit $_lrc' EXIT
trap 'exit 130' INT TERM HUP

# fail MESSAGE...: say why and exit 1.
fail() {
  echo "FAIL: $test_name: $*" >&2
  exit 1
}

# skip MESSAGE...: the test cannot run here.
skip() {
  echo "SKIP: $test_name: $*"
  exit 77
}

# note MESSAGE...: progress, goes to the .log file.
note() {
  echo "--- $*"
}

# show FILE: print a file into the log (for failure context).
show() {
  echo "----- $1:" >&2
  if [ -f "$1" ]; then head -n 60 "$1" >&2; else echo "(missing)" >&2; fi
  echo "-----" >&2
}

# expect_contains FILE TEXT: FILE has a line containing TEXT (fixed string).
expect_contains() {
  grep -F -q -e "$2" "$1" 2>/dev/null && return 0
  show "$1"
  fail "$1 does not contain: $2"
}

# expect_not_contains FILE TEXT
expect_not_contains() {
  if grep -F -q -e "$2" "$1" 2>/dev/null; then
    show "$1"
    fail "$1 contains what it must not: $2"
  fi
}

# expect_match FILE REGEX: FILE has a line matching the extended REGEX.
expect_match() {
  grep -E -q -e "$2" "$1" 2>/dev/null && return 0
  show "$1"
  fail "$1 has no line matching: $2"
}

# expect_eq WHAT GOT WANT
expect_eq() {
  [ "$2" = "$3" ] && return 0
  fail "$1: got '$2', expected '$3'"
}

# expect_lines FILE N: FILE has exactly N lines.
expect_lines() {
  _ln=$(wc -l <"$1" | tr -d ' ')
  [ "$_ln" = "$2" ] && return 0
  show "$1"
  fail "$1 has $_ln lines, expected $2"
}

# sleep_short: a twentieth of a second (whole seconds if sleep cannot).
sleep_short() {
  sleep 0.05 2>/dev/null || sleep 1
}

# wait_for FILE TEXT TIMEOUT_SECONDS: poll until FILE contains TEXT.
wait_for() {
  _lend=$(($(date +%s) + $3))
  while ! grep -F -q -e "$2" "$1" 2>/dev/null; do
    if [ "$(date +%s)" -gt "$_lend" ]; then
      show "$1"
      fail "timed out after $3 s waiting for '$2' in $1"
    fi
    sleep_short
  done
}

# wait_lines FILE PATTERN N TIMEOUT: poll until FILE has >= N lines
# matching the extended regex PATTERN.
wait_lines() {
  _lend=$(($(date +%s) + $4))
  while :; do
    _ln=$(grep -E -c -e "$2" "$1" 2>/dev/null) || _ln=0
    [ "$_ln" -ge "$3" ] && return 0
    if [ "$(date +%s)" -gt "$_lend" ]; then
      show "$1"
      fail "timed out after $4 s waiting for $3 lines matching '$2' in $1 (have $_ln)"
    fi
    sleep_short
  done
}

# run T CMD...: run CMD in the foreground, killed after T seconds; its
# standard output goes to $tmp/out, standard error to $tmp/err and its exit
# status to $rc.
run() {
  _lt=$1
  shift
  rc=0
  timeout -k 2 "$_lt" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    show "$tmp/err"
    fail "timed out after $_lt s: $*"
  fi
}

# expect_rc WANT WHAT: the last run ended with status WANT.
expect_rc() {
  [ "$rc" = "$1" ] && return 0
  show "$tmp/out"
  show "$tmp/err"
  fail "$2: exit status $rc, expected $1"
}

# start NAME ARGS...: start $VICACQ ARGS in the background; its output goes
# to $tmp/NAME.out and $tmp/NAME.err, its pid to $pid (and the list that
# cleanup kills).
start() {
  _lname=$1
  shift
  "$VICACQ" "$@" >"$tmp/$_lname.out" 2>"$tmp/$_lname.err" &
  pid=$!
  pids="$pids $pid"
}

# running PID: the process has not exited yet (a zombie has).
running() {
  _lst=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  case $_lst in
    "" | Z*) return 1 ;;
  esac
  return 0
}

# wait_exit PID TIMEOUT: wait until the daemon exits, its status in $rc;
# kill it and fail when it does not exit within TIMEOUT seconds.
wait_exit() {
  _lend=$(($(date +%s) + $2))
  while running "$1"; do
    if [ "$(date +%s)" -gt "$_lend" ]; then
      kill -KILL "$1" 2>/dev/null
      wait "$1" 2>/dev/null
      forget "$1"
      fail "process $1 did not exit within $2 s"
    fi
    sleep_short
  done
  rc=0
  wait "$1" || rc=$?
  forget "$1"
}

# forget PID: drop PID from the list cleanup kills.
forget() {
  _lp_new=""
  for _lp in $pids; do
    [ "$_lp" = "$1" ] || _lp_new="$_lp_new $_lp"
  done
  pids=$_lp_new
}

# now_ms: milliseconds since the epoch (for timing assertions).
now_ms() {
  _lt=$(date +%s%N 2>/dev/null)
  case $_lt in
    *N) echo $(($(date +%s) * 1000)) ;;
    *) echo $((_lt / 1000000)) ;;
  esac
}

# seqs FILE SOURCE: the seq numbers of the fixture-sink "reading" lines of
# SOURCE, one per line, in the order delivered.
seqs() {
  awk -v src="$2" '$1 == "reading" && $2 == src { print $4 }' "$1"
}

# expect_contiguous FILE SOURCE [FIRST]: the readings of SOURCE in FILE
# have seq FIRST (default 1), FIRST+1, ... with no gap, duplicate or
# reordering; prints nothing, sets $last to the last seq and $count.
expect_contiguous() {
  _lfirst=${3:-1}
  seqs "$1" "$2" >"$tmp/seqs.txt"
  count=$(wc -l <"$tmp/seqs.txt" | tr -d ' ')
  [ "$count" -gt 0 ] || { show "$1"; fail "no readings of $2 in $1"; }
  _lbad=$(awk -v want="$_lfirst" '$1 != want { print NR": got "$1", expected "want; exit } { want++ }' "$tmp/seqs.txt")
  if [ -n "$_lbad" ]; then
    show "$1"
    fail "readings of $2 in $1 are not contiguous from $_lfirst: line $_lbad"
  fi
  last=$(tail -n 1 "$tmp/seqs.txt")
}

/* Replay pacing with an injected clock: what a driver loop that waits as
 * told would emit, and when, for the cases issue reports named. */
#include <stdint.h>

#include "vq_replay.h"
#include "vqtest.h"

#define WALL0 1764547200000000000LL /* any wall-clock start */
#define S 1000000000LL

/* Drive `passes` passes over captures[0..n) (loop when passes > 1) on a
 * simulated clock, for at most until_ms; returns the events emitted and
 * fills stamps[] and at_ms[] (the clock when each was emitted). */
static size_t drive(double speed, const int64_t *captures, size_t n,
                    unsigned passes, uint64_t until_ms, int64_t *stamps,
                    uint64_t *at_ms, size_t max) {
  struct vq_replay r;
  uint64_t now = 5000; /* the loop clock does not start at 0 */
  size_t emitted = 0;
  unsigned p;
  vq_replay_init(&r, speed);
  for (p = 0; p < passes; p++) {
    size_t i;
    for (i = 0; i < n; i++) {
      struct vq_replay_event ev =
          vq_replay_place(&r, captures[i], now, WALL0 + (int64_t)(now - 5000) * 1000000);
      now += vq_replay_wait_ms(&r, &ev, now);
      if (now - 5000 > until_ms || emitted == max) return emitted;
      stamps[emitted] = ev.stamp_ns;
      at_ms[emitted] = now - 5000;
      emitted++;
    }
    vq_replay_wrap(&r);
  }
  return emitted;
}

static size_t distinct_increasing(const int64_t *t, size_t n) {
  size_t i, k = n ? 1 : 0;
  for (i = 1; i < n; i++)
    if (t[i] > t[i - 1]) k++;
  return k;
}

static int64_t stamps[100000];
static uint64_t at_ms[100000];

/* 248 cycles at speed 0: all at once, but 248 distinct times 1 s apart. */
static void test_fast_distinct(void) {
  int64_t cap[248];
  size_t i, n;
  for (i = 0; i < 248; i++) cap[i] = (int64_t)i * S;
  n = drive(0, cap, 248, 1, 0, stamps, at_ms, 100000);
  CHECK_INT(n, 248);
  CHECK_INT(distinct_increasing(stamps, n), 248);
  CHECK_INT(at_ms[247], 0);
  CHECK_INT(stamps[0], WALL0);
  CHECK_INT(stamps[247], WALL0 + 247 * S);
}

/* Equal capture times (blocks of one cycle) and a capture going back
 * still get distinct, increasing stamps. */
static void test_equal_and_backwards(void) {
  const int64_t cap[] = {10 * S, 10 * S, 9 * S, 11 * S};
  size_t n = drive(0, cap, 4, 1, 0, stamps, at_ms, 100000);
  CHECK_INT(n, 4);
  CHECK_INT(distinct_increasing(stamps, n), 4);
  CHECK_INT(stamps[1], WALL0 + 1);
  CHECK_INT(stamps[3], WALL0 + S);
}

/* A one-block recording looped at speed 1: one event a second across
 * the wraps, not tens of thousands in 2 s. */
static void test_loop_one_event(void) {
  const int64_t cap[] = {0};
  size_t n = drive(1, cap, 1, 100000, 2000, stamps, at_ms, 100000);
  CHECK_INT(n, 3); /* at 0, 1 and 2 s */
  CHECK_INT(at_ms[1], 1000);
  CHECK_INT(at_ms[2], 2000);
  CHECK_INT(distinct_increasing(stamps, n), 3);
}

/* Pacing goes on across the wrap: the next pass starts one gap after the
 * last event, at speed 2 half of that. */
static void test_loop_wrap_gap(void) {
  const int64_t cap[] = {100 * S, 101 * S, 102 * S};
  size_t n = drive(2, cap, 3, 3, 10000, stamps, at_ms, 100000);
  CHECK_INT(n, 9);
  CHECK_INT(at_ms[2], 1000);
  CHECK_INT(at_ms[3], 1500); /* 3 s of capture time at speed 2 */
  CHECK_INT(at_ms[8], 4000);
  CHECK_INT(stamps[3], WALL0 + 1500000000LL);
  CHECK_INT(distinct_increasing(stamps, n), 9);
}

/* speed 20: six cycles 50 ms apart. */
static void test_speed(void) {
  int64_t cap[6];
  size_t i, n;
  for (i = 0; i < 6; i++) cap[i] = (int64_t)i * S;
  n = drive(20, cap, 6, 1, 100000, stamps, at_ms, 100000);
  CHECK_INT(n, 6);
  for (i = 0; i < 6; i++) CHECK_INT(at_ms[i], 50 * i);
}

static void test_throttle(void) {
  struct vq_replay r;
  uint64_t wait = 99;
  unsigned i, yields = 0;
  vq_replay_init(&r, 0);
  CHECK_INT(vq_replay_throttle(&r, 60, &wait), 1);
  CHECK_INT(wait, VQ_REPLAY_BACKLOG_WAIT_MS);
  for (i = 0; i < 2 * VQ_REPLAY_BURST; i++)
    if (vq_replay_throttle(&r, 10, &wait)) {
      yields++;
      CHECK_INT(wait, 0);
    }
  CHECK_INT(yields, 2);
  CHECK_INT(vq_replay_throttle(&r, -1, &wait), 0);
  CHECK_INT(vq_replay_blocked(&r, VQ_REPLAY_BACKLOG_PAUSE), 1);
  CHECK_INT(vq_replay_blocked(&r, VQ_REPLAY_BACKLOG_PAUSE - 1), 0);
  CHECK_INT(vq_replay_blocked(&r, -1), 0);
  vq_replay_init(&r, 1); /* paced replays wait for time, not for sinks */
  CHECK_INT(vq_replay_throttle(&r, 100, &wait), 0);
  CHECK_INT(vq_replay_blocked(&r, 100), 0);
  vq_replay_init(&r, -3);
  CHECK_DBL(r.speed, 0);
}

int main(void) {
  test_fast_distinct();
  test_equal_and_backwards();
  test_loop_one_event();
  test_loop_wrap_gap();
  test_speed();
  test_throttle();
  VQTEST_END();
}

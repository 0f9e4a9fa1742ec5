/* Replay pacing (see vq_replay.h). */
#include "vq_replay.h"

#include <math.h>
#include <string.h>

void vq_replay_init(struct vq_replay *r, double speed) {
  memset(r, 0, sizeof *r);
  r->speed = speed > 0 && isfinite(speed) ? speed : 0;
  r->wrap_gap_ns = VQ_REPLAY_WRAP_GAP_NS;
}

/* Timeline position -> offset from the start in wall-clock ns. */
static int64_t scaled(const struct vq_replay *r, int64_t pos_ns) {
  return r->speed > 0 ? (int64_t)llround((double)pos_ns / r->speed) : pos_ns;
}

struct vq_replay_event vq_replay_place(struct vq_replay *r, int64_t capture_ns,
                                       uint64_t mono_ms, int64_t wall_ns) {
  struct vq_replay_event ev;
  int64_t pos;
  if (!r->started) {
    r->started = 1;
    r->start_ms = mono_ms;
    r->start_wall_ns = wall_ns;
    r->pass_first_ns = capture_ns;
    r->pass_base_ns = 0;
    r->last_pos_ns = 0;
    r->last_stamp_ns = wall_ns - 1;
  } else if (r->wrapped) {
    r->wrapped = 0;
    r->pass_first_ns = capture_ns;
    r->pass_base_ns = r->last_pos_ns + r->wrap_gap_ns;
  }
  pos = r->pass_base_ns + (capture_ns - r->pass_first_ns);
  if (pos < r->last_pos_ns) pos = r->last_pos_ns;
  r->last_pos_ns = pos;
  ev.pos_ns = pos;
  ev.stamp_ns = r->start_wall_ns + scaled(r, pos);
  if (ev.stamp_ns <= r->last_stamp_ns) ev.stamp_ns = r->last_stamp_ns + 1;
  r->last_stamp_ns = ev.stamp_ns;
  return ev;
}

uint64_t vq_replay_wait_ms(const struct vq_replay *r,
                           const struct vq_replay_event *ev, uint64_t mono_ms) {
  int64_t due_ms, now_ms;
  if (r->speed <= 0 || !r->started) return 0;
  /* Round up: waking a little late is harmless, early means waiting twice. */
  due_ms = (scaled(r, ev->pos_ns) + 999999) / 1000000;
  now_ms = (int64_t)(mono_ms - r->start_ms);
  return due_ms > now_ms ? (uint64_t)(due_ms - now_ms) : 0;
}

int vq_replay_throttle(struct vq_replay *r, int backlog, uint64_t *wait_ms) {
  if (r->speed > 0) return 0;
  if (vq_replay_blocked(r, backlog)) {
    r->burst = 0;
    *wait_ms = VQ_REPLAY_BACKLOG_WAIT_MS;
    return 1;
  }
  if (++r->burst >= VQ_REPLAY_BURST) {
    r->burst = 0;
    *wait_ms = 0;
    return 1;
  }
  return 0;
}

int vq_replay_blocked(const struct vq_replay *r, int backlog) {
  return r->speed <= 0 && backlog >= VQ_REPLAY_BACKLOG_PAUSE;
}

void vq_replay_wrap(struct vq_replay *r) {
  r->passes++;
  if (r->started) r->wrapped = 1;
}

/* Replay pacing: the one implementation of how a source replays a
 * recording (a VE.Direct byte dump, a BLE capture) for `speed`, `loop`
 * and the times its readings get (doc/design.md §9.3).
 *
 * Pure bookkeeping, no I/O and no clock of its own: the caller passes the
 * loop's clock (ms) and the wall clock (ns) in, so the logic is tested
 * with an injected clock.  The caller reads an event (a line, a block),
 * places it, waits as told (a host timer), then emits it with the stamp
 * it was given.
 *
 *   speed 0   as fast as the sinks take it: never waits for time, pauses
 *             while the fullest sink queue is at VQ_REPLAY_BACKLOG_PAUSE %
 *             or more, and gives the loop a turn every VQ_REPLAY_BURST
 *             events.  Stamps keep the recording's spacing from the
 *             replay's start (a 248-cycle VE.Direct dump spans 247 s).
 *   speed N   each event is due (capture time since the first) / N after
 *             the start; stamps are those due times (at 1: real time).
 *   loop      the recording starts over VQ_REPLAY_WRAP_GAP_NS after its
 *             last event, on the same timeline: pacing and stamps go on
 *             across the wrap instead of starting again from zero.
 * Stamps are strictly increasing, so no two readings of one replay share
 * a time (a time-series database would merge them). */
#ifndef VQ_REPLAY_H
#define VQ_REPLAY_H

#include <stdint.h>

/* Sink fill (percent, vq_host.backlog) at which a speed-0 replay waits. */
#define VQ_REPLAY_BACKLOG_PAUSE 50
/* How long it waits before asking again (a 0 ms timer would spin). */
#define VQ_REPLAY_BACKLOG_WAIT_MS 1
/* Events in a row at speed 0 before the loop gets a turn. */
#define VQ_REPLAY_BURST 256
/* Time from a recording's last event to its first on the next pass. */
#define VQ_REPLAY_WRAP_GAP_NS 1000000000LL

struct vq_replay {
  double speed;          /* 0: as fast as possible; else times real time */
  int64_t wrap_gap_ns;   /* VQ_REPLAY_WRAP_GAP_NS unless changed */
  uint64_t passes;       /* completed passes (vq_replay_wrap calls) */
  /* internal */
  int started, wrapped;
  uint64_t start_ms;     /* loop clock at the first event */
  int64_t start_wall_ns; /* wall clock at the first event */
  int64_t pass_first_ns; /* capture time of this pass's first event */
  int64_t pass_base_ns;  /* timeline position of this pass's first event */
  int64_t last_pos_ns;   /* timeline position of the newest event */
  int64_t last_stamp_ns;
  unsigned burst;
};

/* An event on the replay's timeline. */
struct vq_replay_event {
  int64_t pos_ns;   /* since the replay's first event, capture time scale */
  int64_t stamp_ns; /* the time its readings get (CLOCK_REALTIME ns) */
};

/* speed < 0 is taken as 0. */
void vq_replay_init(struct vq_replay *r, double speed);

/* Place the next event, captured at capture_ns (any origin: only
 * differences count; a capture time that goes backwards counts as equal
 * to the one before).  mono_ms and wall_ns are the clocks now; the first
 * event fixes the replay's start with them. */
struct vq_replay_event vq_replay_place(struct vq_replay *r, int64_t capture_ns,
                                       uint64_t mono_ms, int64_t wall_ns);

/* Milliseconds until the event is due (0: now).  Always 0 at speed 0. */
uint64_t vq_replay_wait_ms(const struct vq_replay *r,
                           const struct vq_replay_event *ev, uint64_t mono_ms);

/* Speed 0 only (else always 0): call once per event handled, with the
 * host's backlog (percent; -1 when the host cannot tell).  1 when the
 * caller should pause for *wait_ms (0: one loop turn) before the next
 * event, 0 to go on. */
int vq_replay_throttle(struct vq_replay *r, int backlog, uint64_t *wait_ms);

/* Speed 0 only: whether the replay must go on waiting before its next
 * event, because the sinks it feeds are still at VQ_REPLAY_BACKLOG_PAUSE %
 * (check again after VQ_REPLAY_BACKLOG_WAIT_MS).  Always 0 at speed > 0 or
 * when the backlog is unknown (-1). */
int vq_replay_blocked(const struct vq_replay *r, int backlog);

/* The recording starts over (loop = yes): its next event comes
 * wrap_gap_ns after the last one. */
void vq_replay_wrap(struct vq_replay *r);

#endif

/* The core side of a sink: its bounded queue, the batch in flight,
 * retries with back-off, drop accounting, and the optional spool. */
#ifndef VQ_SINK_RT_H
#define VQ_SINK_RT_H

#include <stdint.h>
#include <uv.h>

#include "instance.h"
#include "item.h"
#include "log.h"
#include "pipeline.h"

struct vq_spool;

struct vq_sink_counters {
  uint64_t accepted;  /* records taken into the queue */
  uint64_t written;   /* records the sink delivered */
  uint64_t dropped;   /* records dropped on overflow */
  uint64_t rejected;  /* records the sink rejected */
  uint64_t retries;   /* batches retried */
  uint64_t lost;      /* records given up when the daemon stopped */
};

struct vq_sink_rt {
  struct vq_ctx *ctx;
  struct vq_sink_settings set;

  /* Queue: a ring of items, oldest at head. */
  struct vq_item **ring;
  size_t cap, head, count;
  uint64_t records, bytes; /* queued + in flight */

  /* The batch in flight. */
  struct vq_batch batch;
  struct vq_item **batch_items;
  const struct vq_reading **batch_readings;
  size_t batch_cap;
  int in_flight;    /* handed to write(), not completed */
  int in_write;     /* inside write(): completion is deferred */
  int have_result;  /* a completion arrived inside write() */
  int result_status;
  uint32_t result_done, result_rejected;
  char result_reason[256];

  uv_timer_t retry_timer;
  int backing_off;
  uint64_t backoff_ms;
  uint64_t jitter_state; /* the back-off jitter's generator */

  struct vq_sink_counters n;
  uint64_t dropped_emitted; /* last count emitted as vicacq.sink.ID.dropped */
  struct vq_ratelimit drop_log, retry_log, reject_log;

  struct vq_spool *spool;
  uint64_t spool_dropped_seen; /* vq_spool_dropped() already in n.dropped */
  int closing;
  int abandoned;           /* vq_sink_rt_abandon ran */
  uint64_t lost_in_flight; /* records of the batch counted in n.lost */

  /* Asks the daemon to run vq_sink_rt_drain soon (NULL: nobody). */
  void (*kick)(struct vq_sink_rt *rt);
};

/* 0 or -errno.  Opens the spool when configured.  `kick` is called
 * whenever a drain could make progress (a reading queued, a write done,
 * a back-off over). */
int vq_sink_rt_init(struct vq_sink_rt *rt, struct vq_ctx *ctx, uv_loop_t *loop,
                    void (*kick)(struct vq_sink_rt *rt));
/* Close the timer; on_closed(rt) once it is closed. */
void vq_sink_rt_close(struct vq_sink_rt *rt, void (*on_closed)(uv_handle_t *));
/* Release everything (after close). */
void vq_sink_rt_free(struct vq_sink_rt *rt);

/* Queue an item (takes a reference), dropping the oldest on overflow. */
void vq_sink_rt_push(struct vq_sink_rt *rt, struct vq_item *it);

/* Hand the next batch to the sink if it is free; returns 1 when the sink
 * could take more right away (completed synchronously), else 0. */
int vq_sink_rt_drain(struct vq_sink_rt *rt);

/* Something is queued and a write could start now. */
int vq_sink_rt_ready(const struct vq_sink_rt *rt);
/* How full the queue (or spool) is, in percent of its bound. */
int vq_sink_rt_fill_percent(const struct vq_sink_rt *rt);
/* Records queued or in flight. */
uint64_t vq_sink_rt_pending(const struct vq_sink_rt *rt);

/* vq_host.batch_done. */
void vq_sink_rt_batch_done(struct vq_sink_rt *rt, const struct vq_batch *b,
                           int status, uint32_t done, uint32_t rejected,
                           const char *reason);

/* At shutdown: count what is left as lost (or kept in the spool); it is
 * no longer pending.  A batch still in flight that completes afterwards
 * is counted as written (or rejected) instead of lost. */
void vq_sink_rt_abandon(struct vq_sink_rt *rt);

#endif

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
  uint64_t lost;      /* records still queued when the daemon stopped */
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

  struct vq_sink_counters n;
  uint64_t dropped_emitted; /* last count emitted as vicacq.sink.ID.dropped */
  struct vq_ratelimit drop_log, retry_log, reject_log;

  struct vq_spool *spool;
  int closing;
};

/* 0 or -errno.  Opens the spool when configured. */
int vq_sink_rt_init(struct vq_sink_rt *rt, struct vq_ctx *ctx,
                    uv_loop_t *loop);
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

/* At shutdown: count what is left as lost (or kept in the spool). */
void vq_sink_rt_abandon(struct vq_sink_rt *rt);

/* The daemon's hook to run drains soon (set by the daemon). */
extern void (*vq_sink_rt_kick)(struct vq_sink_rt *rt);

#endif

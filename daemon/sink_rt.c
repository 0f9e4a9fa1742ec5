#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "sink_rt.h"
#include "spool.h"

static void kick(struct vq_sink_rt *rt) {
  if (rt->kick != NULL) rt->kick(rt);
}

/* The back-off jitter's generator (splitmix64), one per sink, seeded from
 * the kernel so that daemons restarted together (a power cut) spread out
 * instead of retrying in step. */
static void seed_jitter(struct vq_sink_rt *rt) {
  uint64_t seed;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
    seed = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)rt;
  rt->jitter_state = seed;
}

static uint64_t next_jitter(struct vq_sink_rt *rt) {
  uint64_t z = (rt->jitter_state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* Take over what the spool gave up since the last look. */
static void count_spool_drops(struct vq_sink_rt *rt) {
  uint64_t now = vq_spool_dropped(rt->spool);
  rt->n.dropped += now - rt->spool_dropped_seen;
  rt->spool_dropped_seen = now;
}

static uint64_t now_ms(struct vq_sink_rt *rt) {
  return uv_now(rt->retry_timer.loop);
}

int vq_sink_rt_init(struct vq_sink_rt *rt, struct vq_ctx *ctx,
                    uv_loop_t *loop, void (*kick_cb)(struct vq_sink_rt *rt)) {
  int rc;
  memset(rt, 0, sizeof *rt);
  rt->ctx = ctx;
  rt->kick = kick_cb;
  seed_jitter(rt);
  vq_sink_settings_read(ctx->section, &rt->set);
  rt->batch_cap = rt->set.batch_max_records;
  rt->batch_items = calloc(rt->batch_cap, sizeof *rt->batch_items);
  rt->batch_readings = calloc(rt->batch_cap, sizeof *rt->batch_readings);
  if (rt->batch_items == NULL || rt->batch_readings == NULL) {
    free(rt->batch_items);
    free(rt->batch_readings);
    return -ENOMEM;
  }
  rt->batch.size = sizeof rt->batch;
  rt->batch.readings = rt->batch_readings;
  rt->backoff_ms = rt->set.retry_initial_ms;
  rt->drop_log.interval_ms = 10000;
  rt->retry_log.interval_ms = 10000;
  rt->reject_log.interval_ms = 10000;
  rc = uv_timer_init(loop, &rt->retry_timer);
  if (rc != 0) {
    free(rt->batch_items);
    free(rt->batch_readings);
    return rc;
  }
  rt->retry_timer.data = rt;
  if (rt->set.spool_dir != NULL) {
    rc = vq_spool_open(&rt->spool, rt->set.spool_dir, ctx->id,
                       rt->set.spool_max_bytes, rt->set.spool_sync,
                       ctx->label);
    if (rc != 0) {
      uv_close((uv_handle_t *)&rt->retry_timer, NULL);
      free(rt->batch_items);
      free(rt->batch_readings);
      return rc;
    }
  }
  return 0;
}

void vq_sink_rt_close(struct vq_sink_rt *rt, void (*on_closed)(uv_handle_t *)) {
  rt->closing = 1;
  uv_timer_stop(&rt->retry_timer);
  uv_close((uv_handle_t *)&rt->retry_timer, on_closed);
}

void vq_sink_rt_free(struct vq_sink_rt *rt) {
  size_t i;
  for (i = 0; i < rt->count; i++)
    vq_item_unref(rt->ring[(rt->head + i) % rt->cap]);
  for (i = 0; i < rt->batch.nreadings; i++) vq_item_unref(rt->batch_items[i]);
  if (rt->spool) vq_spool_close(rt->spool);
  free(rt->ring);
  free(rt->batch_items);
  free(rt->batch_readings);
}

uint64_t vq_sink_rt_pending(const struct vq_sink_rt *rt) {
  uint64_t n = rt->records - rt->lost_in_flight;
  if (rt->spool) n += vq_spool_pending_records(rt->spool);
  return n;
}

int vq_sink_rt_fill_percent(const struct vq_sink_rt *rt) {
  uint64_t by_records, by_bytes;
  if (rt->spool) return vq_spool_fill_percent(rt->spool);
  by_records = rt->records * 100 / rt->set.queue_max_records;
  by_bytes = rt->bytes * 100 / rt->set.queue_max_bytes;
  by_records = by_records > by_bytes ? by_records : by_bytes;
  return by_records > 100 ? 100 : (int)by_records;
}

int vq_sink_rt_ready(const struct vq_sink_rt *rt) {
  if (rt->in_flight || rt->backing_off || rt->closing) return 0;
  if (rt->batch.nreadings > 0) return 1; /* a retried remainder */
  if (rt->spool) return vq_spool_pending_records(rt->spool) > 0;
  return rt->count > 0;
}

/* Take the oldest queued item off the ring; returns its record count. */
static uint32_t discard_head(struct vq_sink_rt *rt) {
  struct vq_item *it = rt->ring[rt->head];
  uint32_t n = it->reading.nrecords;
  rt->head = (rt->head + 1) % rt->cap;
  rt->count--;
  rt->records -= n;
  rt->bytes -= it->bytes;
  vq_item_unref(it);
  return n;
}

static void drop_oldest(struct vq_sink_rt *rt) {
  rt->n.dropped += discard_head(rt);
}

static void log_drops(struct vq_sink_rt *rt, uint64_t before) {
  uint64_t held;
  if (rt->n.dropped == before) return;
  if (vq_ratelimit_pass(&rt->drop_log, now_ms(rt), &held))
    vq_log(VQ_LOG_WARN, rt->ctx->label,
           "queue full (%llu records or %llu bytes): dropped the oldest "
           "records, %llu dropped so far",
           (unsigned long long)rt->set.queue_max_records,
           (unsigned long long)rt->set.queue_max_bytes,
           (unsigned long long)rt->n.dropped);
}

void vq_sink_rt_push(struct vq_sink_rt *rt, struct vq_item *it) {
  uint64_t before = rt->n.dropped;
  rt->n.accepted += it->reading.nrecords;
  if (rt->spool) {
    /* The spool says why when it drops (rate-limited); a reading it could
     * not write is counted here. */
    if (vq_spool_append(rt->spool, it) != 0)
      rt->n.dropped += it->reading.nrecords;
    count_spool_drops(rt);
    kick(rt);
    return;
  }
  while (rt->count > 0 &&
         (rt->records + it->reading.nrecords > rt->set.queue_max_records ||
          rt->bytes + it->bytes > rt->set.queue_max_bytes))
    drop_oldest(rt);
  if (rt->count == rt->cap) {
    size_t cap = rt->cap ? rt->cap * 2 : 64, i;
    struct vq_item **ring = malloc(cap * sizeof *ring);
    if (ring == NULL) {
      rt->n.dropped += it->reading.nrecords;
      vq_log(VQ_LOG_ERROR, rt->ctx->label, "out of memory: reading dropped");
      return;
    }
    for (i = 0; i < rt->count; i++) ring[i] = rt->ring[(rt->head + i) % rt->cap];
    free(rt->ring);
    rt->ring = ring;
    rt->cap = cap;
    rt->head = 0;
  }
  rt->ring[(rt->head + rt->count) % rt->cap] = vq_item_ref(it);
  rt->count++;
  rt->records += it->reading.nrecords;
  rt->bytes += it->bytes;
  log_drops(rt, before);
  kick(rt);
}

static void add_to_batch(struct vq_sink_rt *rt, struct vq_item *it) {
  size_t i = rt->batch.nreadings++;
  rt->batch_items[i] = it;
  rt->batch_readings[i] = &it->reading;
  rt->batch.nrecords += it->reading.nrecords;
}

/* Fill the batch from the queue head (or spool) up to batch_max_records
 * records, always at least one reading. */
static void fill_batch(struct vq_sink_rt *rt) {
  if (rt->spool) {
    struct vq_item *it;
    while (rt->batch.nreadings < rt->batch_cap &&
           (rt->batch.nreadings == 0 ||
            rt->batch.nrecords < rt->set.batch_max_records) &&
           (it = vq_spool_next(rt->spool)) != NULL) {
      rt->records += it->reading.nrecords;
      rt->bytes += it->bytes;
      add_to_batch(rt, it);
      if (rt->batch.nrecords >= rt->set.batch_max_records) break;
    }
    count_spool_drops(rt); /* damage found on the way */
    return;
  }
  while (rt->count > 0 && rt->batch.nreadings < rt->batch_cap) {
    struct vq_item *it = rt->ring[rt->head];
    if (rt->batch.nreadings > 0 &&
        rt->batch.nrecords + it->reading.nrecords > rt->set.batch_max_records)
      break;
    rt->head = (rt->head + 1) % rt->cap;
    rt->count--;
    add_to_batch(rt, it);
  }
}

/* Drop the first n readings of the batch (finished), keep the rest. */
static void release_batch_head(struct vq_sink_rt *rt, uint32_t n) {
  uint32_t i, records = 0;
  for (i = 0; i < n; i++) {
    struct vq_item *it = rt->batch_items[i];
    records += it->reading.nrecords;
    rt->records -= it->reading.nrecords;
    rt->bytes -= it->bytes;
    vq_item_unref(it);
  }
  memmove(rt->batch_items, rt->batch_items + n,
          (rt->batch.nreadings - n) * sizeof *rt->batch_items);
  memmove(rt->batch_readings, rt->batch_readings + n,
          (rt->batch.nreadings - n) * sizeof *rt->batch_readings);
  rt->batch.nreadings -= n;
  rt->batch.nrecords -= records;
  if (rt->lost_in_flight > 0) {
    /* Finished after abandon counted them lost: they are not. */
    uint64_t back = records < rt->lost_in_flight ? records : rt->lost_in_flight;
    rt->lost_in_flight -= back;
    rt->n.lost -= back;
  }
  if (rt->spool && n > 0) vq_spool_ack(rt->spool, n);
}

static void on_retry_timer(uv_timer_t *t) {
  struct vq_sink_rt *rt = t->data;
  rt->backing_off = 0;
  kick(rt);
}

static void back_off(struct vq_sink_rt *rt) {
  /* Exponential with +-25% jitter so that many sinks (or daemons) do not
   * hammer a recovering server in step. */
  uint64_t delay = rt->backoff_ms;
  uint64_t spread = delay / 2;
  if (spread > 0) delay = delay - delay / 4 + next_jitter(rt) % (spread + 1);
  rt->backoff_ms *= 2;
  if (rt->backoff_ms > rt->set.retry_max_ms) rt->backoff_ms = rt->set.retry_max_ms;
  rt->backing_off = 1;
  uv_timer_start(&rt->retry_timer, on_retry_timer, delay, 0);
}

static void complete(struct vq_sink_rt *rt, int status, uint32_t done,
                     uint32_t rejected, const char *reason) {
  uint64_t held, records = rt->batch.nrecords;
  const char *why = reason && *reason ? reason : "no reason given";

  rt->in_flight = 0;
  switch (status) {
  case VQ_WRITE_OK:
    rt->n.written += records;
    release_batch_head(rt, rt->batch.nreadings);
    rt->backoff_ms = rt->set.retry_initial_ms;
    break;
  case VQ_WRITE_REJECT:
    rt->n.rejected += records;
    if (vq_ratelimit_pass(&rt->reject_log, now_ms(rt), &held))
      vq_log(VQ_LOG_ERROR, rt->ctx->label,
             "rejected %llu records: %s (%llu rejected so far)",
             (unsigned long long)records, why,
             (unsigned long long)rt->n.rejected);
    release_batch_head(rt, rt->batch.nreadings);
    rt->backoff_ms = rt->set.retry_initial_ms;
    break;
  case VQ_WRITE_PARTIAL: {
    uint32_t i, finished = 0;
    if (done > rt->batch.nreadings) done = rt->batch.nreadings;
    for (i = 0; i < done; i++) finished += rt->batch_readings[i]->nrecords;
    if (rejected > finished) rejected = finished;
    rt->n.written += finished - rejected;
    rt->n.rejected += rejected;
    if (rejected > 0 && vq_ratelimit_pass(&rt->reject_log, now_ms(rt), &held))
      vq_log(VQ_LOG_WARN, rt->ctx->label,
             "%u of %u records rejected: %s (%llu rejected so far)",
             (unsigned)rejected, (unsigned)finished, why,
             (unsigned long long)rt->n.rejected);
    release_batch_head(rt, done);
    if (rt->batch.nreadings > 0) {
      rt->batch.attempt++;
      rt->n.retries++;
      back_off(rt);
    } else {
      rt->backoff_ms = rt->set.retry_initial_ms;
    }
    break;
  }
  case VQ_WRITE_RETRY:
  default:
    rt->batch.attempt++;
    rt->n.retries++;
    if (vq_ratelimit_pass(&rt->retry_log, now_ms(rt), &held))
      vq_log(VQ_LOG_WARN, rt->ctx->label,
             "write failed, will retry %llu records in ~%llums: %s",
             (unsigned long long)records, (unsigned long long)rt->backoff_ms,
             why);
    back_off(rt);
    break;
  }
  if (rt->batch.nreadings == 0) rt->batch.attempt = 0;
  kick(rt);
}

void vq_sink_rt_batch_done(struct vq_sink_rt *rt, const struct vq_batch *b,
                           int status, uint32_t done, uint32_t rejected,
                           const char *reason) {
  if (b != &rt->batch || !rt->in_flight) {
    vq_log(VQ_LOG_ERROR, rt->ctx->label,
           "plugin bug: batch_done for a batch that is not in flight");
    return;
  }
  if (status < VQ_WRITE_OK || status > VQ_WRITE_PARTIAL) {
    vq_log(VQ_LOG_ERROR, rt->ctx->label,
           "plugin bug: unknown write status %d, retrying", status);
    status = VQ_WRITE_RETRY;
  }
  if (rt->in_write) {
    rt->have_result = 1;
    rt->result_status = status;
    rt->result_done = done;
    rt->result_rejected = rejected;
    snprintf(rt->result_reason, sizeof rt->result_reason, "%s",
             reason ? reason : "");
    return;
  }
  complete(rt, status, done, rejected, reason);
}

int vq_sink_rt_drain(struct vq_sink_rt *rt) {
  int rc;
  if (!vq_sink_rt_ready(rt) || rt->ctx->state != VQ_INST_STARTED) return 0;
  if (rt->batch.nreadings == 0) fill_batch(rt);
  if (rt->batch.nreadings == 0) return 0;
  rt->in_flight = 1;
  rt->in_write = 1;
  rt->have_result = 0;
  rc = rt->ctx->plugin->write(rt->ctx->instance, &rt->batch);
  rt->in_write = 0;
  if (rt->have_result) {
    complete(rt, rt->result_status, rt->result_done, rt->result_rejected,
             rt->result_reason);
    return rt->result_status == VQ_WRITE_OK ||
           rt->result_status == VQ_WRITE_REJECT;
  }
  if (rc < 0) {
    complete(rt, VQ_WRITE_RETRY, 0, 0, strerror(-rc));
    return 0;
  }
  return 0;
}

void vq_sink_rt_abandon(struct vq_sink_rt *rt) {
  uint64_t in_flight = rt->batch.nrecords, left = rt->records;
  if (rt->abandoned) return;
  rt->abandoned = 1;
  if (rt->spool) {
    /* Unacknowledged readings stay in the spool for the next start, but
     * for those whose frames were dropped to make room. */
    uint64_t unbacked = vq_spool_unbacked_records(rt->spool);
    uint64_t kept = vq_spool_pending_records(rt->spool) + in_flight - unbacked;
    vq_spool_flush(rt->spool);
    if (unbacked > 0) {
      rt->n.lost += unbacked;
      rt->lost_in_flight = unbacked;
      vq_log(VQ_LOG_WARN, rt->ctx->label,
             "stopping with %llu records in flight that are no longer in "
             "the spool (dropped to make room): lost",
             (unsigned long long)unbacked);
    }
    if (kept > 0)
      vq_log(VQ_LOG_INFO, rt->ctx->label,
             "%llu records kept in the spool for the next start",
             (unsigned long long)kept);
    return;
  }
  if (left > 0) {
    /* Lost, so no longer queued; a batch in flight that completes after
     * all moves its records from lost to written (release_batch_head). */
    rt->n.lost += left;
    rt->lost_in_flight = in_flight;
    while (rt->count > 0) discard_head(rt);
    vq_log(VQ_LOG_WARN, rt->ctx->label,
           "stopping with %llu records not delivered (shutdown_timeout "
           "reached; set spool_dir to keep them across restarts)",
           (unsigned long long)left);
  }
}

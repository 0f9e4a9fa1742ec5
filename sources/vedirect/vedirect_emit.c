/* vedirect readings: one per valid block, with the block's time (see
 * vedirect_plugin.h for the parts of the plugin).
 *
 * Blocks that carry no identity (BMV history blocks, the second block of
 * split MPPT cycles) get the identity of the block before; when nothing is
 * known yet, the newest such block is held until an identifying block
 * comes.
 *
 * Replays (file: ports) go through lib/replay: one device cycle per second
 * of recording (a cycle starts with the PID block; for devices without PID
 * every block is one), the blocks of a cycle as far apart as their bytes
 * take on the line, so every reading gets a distinct, plausible time and
 * speed/loop pace across the end of the file. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>
#include <time.h>

#include "vedirect_plugin.h"

int64_t vd_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t vd_now_ms(struct vd *v) {
  uv_update_time(v->loop);
  return uv_now(v->loop);
}

static void emit_records(struct vd *v, const struct vq_record *recs, size_t n,
                         int64_t time_ns) {
  struct vq_reading r = VQ_READING_INIT;
  struct vq_tag tags[VED_IDENT_TAGS];
  int rc;
  r.device = v->ident.device;
  r.time_ns = time_ns;
  r.tags = tags;
  r.ntags = ved_ident_tags(&v->ident, tags);
  r.records = recs;
  r.nrecords = (uint32_t)n;
  rc = v->host->emit(v->ctx, &r);
  if (rc < 0) {
    v->host->stat_add(v->ctx, "emit_failed", 1);
    v->host->log(v->ctx, VQ_LOG_DEBUG, "emit: %s", strerror(-rc));
  }
}

void vd_emit_one(struct vd *v, const char *quantity, int type, double f,
                 int64_t i) {
  struct vq_record rec;
  if (!ved_ident_known(&v->ident)) return;
  memset(&rec, 0, sizeof rec);
  rec.quantity = quantity;
  rec.type = (uint32_t)type;
  if (type == VQ_VALUE_DOUBLE) rec.value.f64 = f;
  else rec.value.i64 = i;
  emit_records(v, &rec, 1, 0);
}

void vd_set_online(struct vd *v, int online, const char *why, int err) {
  if (online == v->online) return;
  v->online = online;
  if (online) {
    if (v->ever_online)
      v->host->log(v->ctx, VQ_LOG_INFO, "data flows again from %s",
                   v->port_spec);
    v->ever_online = 1;
  } else if (v->ever_online) {
    v->host->log(v->ctx, VQ_LOG_WARN, "link lost (%s%s%s); reconnecting",
                 why, err ? ": " : "", err ? uv_strerror(err) : "");
  }
  vd_emit_one(v, VED_Q_ONLINE, VQ_VALUE_BOOL, 0, online);
}

static void emit_block(struct vd *v, const struct ved_field *fields, size_t n,
                       int64_t time_ns) {
  ved_block_decode(fields, n, &v->blk);
  if (v->blk.bad_values)
    v->host->stat_add(v->ctx, "bad_values", (int64_t)v->blk.bad_values);
  if (v->blk.unknown_labels)
    v->host->stat_add(v->ctx, "unknown_labels", (int64_t)v->blk.unknown_labels);
  if (v->blk.nrecords > 0)
    emit_records(v, v->blk.records, v->blk.nrecords, time_ns);
}

/* A valid block with its time: identity first (it applies to this
 * block's records), then the held block, then this one. */
static void handle_block(struct vd *v, const struct ved_field *fields,
                         size_t n, int64_t time_ns) {
  int was_known = ved_ident_known(&v->ident);
  ved_ident_update(&v->ident, fields, n);
  if (!ved_ident_known(&v->ident)) {
    /* keep the newest one until we know whose it is */
    memcpy(v->held_fields, fields, n * sizeof *fields);
    v->held_n = n;
    v->held_time = time_ns;
    if (v->held) v->host->stat_add(v->ctx, "blocks_unidentified", 1);
    v->held = 1;
    return;
  }
  if (!v->online) vd_set_online(v, 1, NULL, 0);
  if (v->held) {
    v->held = 0;
    emit_block(v, v->held_fields, v->held_n, v->held_time);
  }
  emit_block(v, fields, n, time_ns);
  if (!was_known && v->port_kind != VED_PORT_FILE) vd_link_identified(v);
}

static int backlog(struct vd *v) {
  return VQ_HOST_HAS(v->host, backlog) ? v->host->backlog(v->ctx) : -1;
}

static void pace_resume(void *arg) {
  struct vd *v = arg;
  if (v->stopping) return;
  if (v->pending) {
    v->pending = 0;
    handle_block(v, v->pending_fields, v->pending_n, v->pending_stamp);
    if (v->stopping) return;
  }
  /* While the sinks are still full, wait on: re-arm the same timer (a
   * host older than 1.2 gets a new one). */
  if (vq_replay_blocked(&v->replay, backlog(v))) {
    if (VQ_HOST_HAS(v->host, timer_again) &&
        v->host->timer_again(v->ctx, v->pace_timer, VQ_REPLAY_BACKLOG_WAIT_MS,
                             0) == 0)
      return;
    v->host->timer_stop(v->ctx, v->pace_timer);
    v->pace_timer = v->host->timer_start(v->ctx, VQ_REPLAY_BACKLOG_WAIT_MS, 0,
                                         pace_resume, v);
    if (v->pace_timer != NULL) return;
  } else {
    /* one-shot timers are freed here, or they would pile up in the host */
    v->host->timer_stop(v->ctx, v->pace_timer);
    v->pace_timer = NULL;
  }
  ved_port_resume(v->port);
}

/* Stop reading until a timer says go on: the stream keeps the bytes after
 * this block, the port reads nothing more (even when the block ended the
 * read: a pause asked for on a read's last byte must hold too). */
static void pace_wait(struct vd *v, uint64_t ms) {
  v->pace_timer = v->host->timer_start(v->ctx, ms, 0, pace_resume, v);
  if (v->pace_timer == NULL) {
    v->host->stat_add(v->ctx, "replay_unpaced", 1);
    return; /* cannot wait: go on unpaced rather than stall */
  }
  ved_stream_hold(&v->stream);
  ved_port_pause(v->port);
}

static void replay_block(struct vd *v, const struct ved_field *fields,
                         size_t n, uint64_t end_pos) {
  int has_pid = 0;
  size_t i;
  int64_t capture;
  uint64_t now = vd_now_ms(v), wait;
  struct vq_replay_event ev;

  for (i = 0; i < n && !has_pid; i++)
    has_pid = strcmp(fields[i].label, "PID") == 0;
  if (has_pid || !v->seen_pid || v->cycle == 0) {
    v->cycle++;
    v->cycle_pos = end_pos;
  }
  if (has_pid) v->seen_pid = 1;
  capture = (int64_t)(v->cycle - 1) * 1000000000LL +
            (int64_t)(end_pos - v->cycle_pos) * VED_BYTE_NS;
  ev = vq_replay_place(&v->replay, capture, now, vd_now_ns());
  wait = vq_replay_wait_ms(&v->replay, &ev, now);
  if (wait > 0) {
    memcpy(v->pending_fields, fields, n * sizeof *fields);
    v->pending_n = n;
    v->pending_stamp = ev.stamp_ns;
    v->pending = 1;
    pace_wait(v, wait);
    if (v->pace_timer == NULL) { /* unpaced: now */
      v->pending = 0;
      handle_block(v, fields, n, ev.stamp_ns);
    }
    return;
  }
  handle_block(v, fields, n, ev.stamp_ns);
  if (v->stopping) return;
  if (vq_replay_throttle(&v->replay, backlog(v), &wait)) pace_wait(v, wait);
}

void vd_on_block(void *arg, const struct ved_field *fields, size_t n,
                 const struct ved_block_at *at) {
  struct vd *v = arg;
  v->last_block_ms = vd_now_ms(v);
  v->host->stat_add(v->ctx, "blocks_valid", 1);
  if (v->dump || v->stopping) return;
  if (v->port_kind == VED_PORT_FILE) replay_block(v, fields, n, at->end_pos);
  else handle_block(v, fields, n, at->time_ns);
}

void vd_on_bad_block(void *arg) {
  struct vd *v = arg;
  v->host->stat_add(v->ctx, "blocks_bad", 1);
}

void vd_replay_rewound(struct vd *v) {
  /* The parser keeps its state: a capture cut between blocks (the first
   * one's leading CR LF at the end of the file) joins up across the wrap;
   * one cut inside a block fails its checksum there. */
  vq_replay_wrap(&v->replay);
  v->cycle = 0;
  v->cycle_pos = 0;
  v->seen_pid = 0;
}

void vd_replay_end(struct vd *v) {
  if (v->held) v->host->stat_add(v->ctx, "blocks_unidentified", 1);
  v->held = 0;
}

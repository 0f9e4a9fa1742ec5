/* The daemon's lifecycle: run a pipeline on one libuv loop, stop with a
 * bounded flush, and the loop's own callbacks.  Instances are instance.c's,
 * the post queue post.c's, SIGHUP reload.c's. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "daemon.h"
#include "intern.h"
#include "loader.h"
#include "log.h"
#include "plugin_check.h"
#include "section_kind.h"
#include "chain.h"
#include "router.h"
#include "sink_rt.h"
#include "spool.h"

/* How often spools are flushed and drop counters emitted. */
#define TICK_MS 1000
#define DROP_EMIT_EVERY_TICKS 5

static void check_progress(struct vq_daemon *d);
static void on_drain(uv_idle_t *idle);

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */










static void log_stats(struct vq_daemon *d) {
  struct vq_ctx *c;
  size_t i;
  for (c = d->instances; c != NULL; c = c->next) {
    if (c->sink != NULL) {
      const struct vq_sink_counters *n = &c->sink->n;
      vq_log(VQ_LOG_INFO, c->label,
             "records: %llu accepted, %llu written, %llu queued, %llu dropped, "
             "%llu rejected, %llu retries, %llu lost",
             (unsigned long long)n->accepted, (unsigned long long)n->written,
             (unsigned long long)vq_sink_rt_pending(c->sink),
             (unsigned long long)n->dropped, (unsigned long long)n->rejected,
             (unsigned long long)n->retries, (unsigned long long)n->lost);
    } else if (c->kind == VQ_KIND_SOURCE) {
      vq_log(VQ_LOG_INFO, c->label, "readings: %llu",
             (unsigned long long)c->seq);
    }
    for (i = 0; i < c->nstats; i++)
      vq_log(VQ_LOG_INFO, c->label, "%s: %lld", c->stats[i].name,
             (long long)c->stats[i].value);
  }
}

/* ------------------------------------------------------------------ */
/* Routes and the daemon's own records                                 */
/* ------------------------------------------------------------------ */

void vq_daemon_compile_routes(struct vq_daemon *d) {
  struct vq_ctx *c;
  for (c = d->instances; c != NULL; c = c->next)
    if (c->kind == VQ_KIND_SOURCE && !c->removed &&
        vq_router_compile(c, d->pipeline, d->instances) != 0)
      vq_log(VQ_LOG_ERROR, c->label, "out of memory compiling routes");
  if (vq_router_compile(&d->internal, d->pipeline, d->instances) != 0)
    vq_error("out of memory compiling routes");
  vq_chain_compile(d);
}

/* Emit vicacq.sink.ID.dropped for every sink whose count moved. */
static void emit_drop_counts(struct vq_daemon *d) {
  struct vq_ctx *c;
  for (c = d->instances; c != NULL; c = c->next) {
    char quantity[128];
    struct vq_record rec;
    struct vq_reading r = VQ_READING_INIT;
    if (c->sink == NULL || c->sink->n.dropped == c->sink->dropped_emitted)
      continue;
    c->sink->dropped_emitted = c->sink->n.dropped;
    snprintf(quantity, sizeof quantity, "vicacq.sink.%s.dropped", c->id);
    memset(&rec, 0, sizeof rec);
    rec.quantity = quantity;
    rec.unit = "";
    rec.type = VQ_VALUE_INT;
    rec.value.i64 = (int64_t)c->sink->n.dropped;
    r.device = "vicacq";
    r.records = &rec;
    r.nrecords = 1;
    vq_router_deliver(&d->internal, &r, vq_realtime_ns());
  }
  vq_daemon_kick(d);
}

/* ------------------------------------------------------------------ */
/* Loop callbacks                                                      */
/* ------------------------------------------------------------------ */

void vq_daemon_kick(struct vq_daemon *d) {
  if (!uv_is_closing((uv_handle_t *)&d->drain) && !uv_is_active((uv_handle_t *)&d->drain))
    uv_idle_start(&d->drain, on_drain);
}

static int all_sources_finished(const struct vq_daemon *d) {
  const struct vq_ctx *c;
  int any = 0;
  for (c = d->instances; c != NULL; c = c->next) {
    if (c->kind != VQ_KIND_SOURCE || c->removed) continue;
    any = 1;
    if (!c->finished) return 0;
  }
  return any;
}

static void begin_stop(struct vq_daemon *d, const char *why) {
  struct vq_ctx *c;
  if (d->state != VQ_DAEMON_RUNNING) return;
  vq_info("%s: stopping sources, then delivering what is queued", why);
  d->state = VQ_DAEMON_STOPPING_SOURCES;
  vq_notify_stopping(&d->notify);
  for (c = d->instances; c != NULL; c = c->next)
    if (c->kind == VQ_KIND_SOURCE) vq_instance_stop(c);
  vq_daemon_kick(d);
}

static void on_drain(uv_idle_t *idle) {
  struct vq_daemon *d = idle->data;
  struct vq_ctx *c;
  int busy = 0;

  for (c = d->instances; c != NULL; c = c->next) {
    int rounds;
    if (c->sink == NULL) continue;
    for (rounds = 0; rounds < 64 && vq_sink_rt_drain(c->sink); rounds++) {}
    if (vq_sink_rt_ready(c->sink) && c->state == VQ_INST_STARTED) busy = 1;
  }
  if (d->state == VQ_DAEMON_RUNNING && all_sources_finished(d)) {
    d->finite = 1;
    begin_stop(d, "every source has finished");
  }
  check_progress(d);
  if (!busy) uv_idle_stop(idle);
}

static void on_shutdown_timeout(uv_timer_t *t) {
  struct vq_daemon *d = t->data;
  struct vq_ctx *c;
  if (d->state != VQ_DAEMON_FLUSHING) return;
  vq_warn("shutdown_timeout reached with records still queued");
  for (c = d->instances; c != NULL; c = c->next)
    if (c->sink != NULL) vq_sink_rt_abandon(c->sink);
  d->state = VQ_DAEMON_STOPPING_SINKS;
  for (c = d->instances; c != NULL; c = c->next)
    if (c->kind == VQ_KIND_SINK) vq_instance_stop(c);
  vq_daemon_kick(d);
}

static void close_daemon_handles(struct vq_daemon *d) {
  uv_close((uv_handle_t *)&d->drain, NULL);
  uv_close((uv_handle_t *)&d->sigterm, NULL);
  uv_close((uv_handle_t *)&d->sigint, NULL);
  uv_close((uv_handle_t *)&d->sighup, NULL);
  uv_close((uv_handle_t *)&d->sigusr1, NULL);
  uv_close((uv_handle_t *)&d->shutdown_timer, NULL);
  uv_close((uv_handle_t *)&d->tick, NULL);
  uv_close((uv_handle_t *)&d->post_async, NULL);
  vq_control_shutdown(&d->control);
  vq_notify_close(&d->notify);
}

/* Reap instances removed by a reload (or failed) once fully stopped, and
 * move the shutdown along its states. */
static void check_progress(struct vq_daemon *d) {
  struct vq_ctx **p, *c;
  int all_stopped = 1, flushed = 1, restarted = 0;

  for (p = &d->instances; (c = *p) != NULL;) {
    if (c->retiring && c->state == VQ_INST_STARTED && c->sink != NULL &&
        ((vq_sink_rt_pending(c->sink) == 0 && !c->sink->in_flight) ||
         uv_now(&d->loop) >= c->retire_deadline_ms)) {
      vq_sink_rt_abandon(c->sink);
      vq_instance_stop(c);
    }
    if (c->removed && c->state == VQ_INST_STOPPED && c->open_handles == 0 &&
        d->state == VQ_DAEMON_RUNNING) {
      struct vq_ctx *w;
      *p = c->next;
      /* What waited for it to stop (reload.c, restore_previous). */
      for (w = d->instances; w != NULL; w = w->next)
        if (w->start_after == c) {
          w->start_after = NULL;
          if (w->seq < c->seq) w->seq = c->seq;
          if (vq_instance_start(w) == 0) restarted = 1;
        }
      vq_instance_free(d, c);
      continue;
    }
    p = &c->next;
  }
  if (restarted) vq_daemon_compile_routes(d);

  switch (d->state) {
  case VQ_DAEMON_STOPPING_SOURCES:
    for (c = d->instances; c != NULL; c = c->next)
      if (c->kind == VQ_KIND_SOURCE &&
          (c->state != VQ_INST_STOPPED || c->open_handles > 0))
        all_stopped = 0;
    if (!all_stopped) return;
    /* Processors next: what they still hold (a window) reaches the sinks. */
    d->state = VQ_DAEMON_STOPPING_PROCESSORS;
    for (c = d->instances; c != NULL; c = c->next)
      if (c->kind == VQ_KIND_PROCESSOR) vq_instance_stop(c);
    /* fall through */
  case VQ_DAEMON_STOPPING_PROCESSORS:
    for (c = d->instances; c != NULL; c = c->next)
      if (c->kind == VQ_KIND_PROCESSOR &&
          (c->state != VQ_INST_STOPPED || c->open_handles > 0))
        all_stopped = 0;
    if (!all_stopped) return;
    d->state = VQ_DAEMON_FLUSHING;
    emit_drop_counts(d);
    uv_timer_start(&d->shutdown_timer, on_shutdown_timeout,
                   d->pipeline->daemon.shutdown_timeout_ms, 0);
    /* fall through */
  case VQ_DAEMON_FLUSHING:
    for (c = d->instances; c != NULL; c = c->next)
      if (c->sink != NULL && c->state == VQ_INST_STARTED &&
          (vq_sink_rt_pending(c->sink) > 0 || c->sink->in_flight))
        flushed = 0;
    if (!flushed) return;
    uv_timer_stop(&d->shutdown_timer);
    d->state = VQ_DAEMON_STOPPING_SINKS;
    for (c = d->instances; c != NULL; c = c->next)
      if (c->kind == VQ_KIND_SINK) vq_instance_stop(c);
    /* fall through */
  case VQ_DAEMON_STOPPING_SINKS:
    for (c = d->instances; c != NULL; c = c->next)
      if (c->state != VQ_INST_STOPPED || c->open_handles > 0) all_stopped = 0;
    if (!all_stopped) return;
    d->state = VQ_DAEMON_DONE;
    log_stats(d);
    close_daemon_handles(d);
    break;
  default:
    break;
  }
}

static void on_tick(uv_timer_t *t) {
  struct vq_daemon *d = t->data;
  static unsigned ticks;
  struct vq_ctx *c;
  for (c = d->instances; c != NULL; c = c->next)
    if (c->sink != NULL && c->sink->spool != NULL)
      vq_spool_flush(c->sink->spool);
  if (++ticks % DROP_EMIT_EVERY_TICKS == 0) emit_drop_counts(d);
  vq_notify_status(&d->notify);
  check_progress(d);
}



/* A derived source (group) is finished when every source feeding it is. */
static void derived_finished(struct vq_daemon *d, struct vq_ctx *member) {
  size_t i;
  for (i = 0; i < member->nderived; i++) {
    struct vq_ctx *g = member->derived[i], *m;
    int all = 1;
    for (m = d->instances; m != NULL; m = m->next) {
      size_t k;
      if (m->removed || m->kind != VQ_KIND_SOURCE) continue;
      for (k = 0; k < m->nderived; k++)
        if (m->derived[k] == g && !m->finished) all = 0;
    }
    if (all) vq_daemon_source_finished(d, g);
  }
}

void vq_daemon_source_finished(struct vq_daemon *d, struct vq_ctx *ctx) {
  if (ctx->finished) return;
  ctx->finished = 1;
  vq_log(VQ_LOG_INFO, ctx->label, "finished");
  derived_finished(d, ctx);
  vq_daemon_kick(d); /* the stop starts from the loop, not inside the plugin */
}

/* ------------------------------------------------------------------ */
/* Signals                                                             */
/* ------------------------------------------------------------------ */





static void on_signal(uv_signal_t *s, int signum) {
  struct vq_daemon *d = s->data;
  switch (signum) {
  case SIGHUP:
    if (d->state != VQ_DAEMON_RUNNING || d->path == NULL) break;
    vq_notify_reloading(&d->notify);
    vq_daemon_reload(d);
    vq_notify_ready(&d->notify);
    break;
  case SIGUSR1:
    log_stats(d);
    break;
  default:
    if (d->state == VQ_DAEMON_RUNNING)
      begin_stop(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
    else
      vq_info("already stopping");
    break;
  }
}

/* ------------------------------------------------------------------ */
/* Run                                                                 */
/* ------------------------------------------------------------------ */

/* Every handle of the daemon itself, for setting up and closing. */
static uv_handle_t **daemon_handles(struct vq_daemon *d, size_t *n) {
  static uv_handle_t *h[8];
  h[0] = (uv_handle_t *)&d->drain;
  h[1] = (uv_handle_t *)&d->sigterm;
  h[2] = (uv_handle_t *)&d->sigint;
  h[3] = (uv_handle_t *)&d->sighup;
  h[4] = (uv_handle_t *)&d->sigusr1;
  h[5] = (uv_handle_t *)&d->shutdown_timer;
  h[6] = (uv_handle_t *)&d->tick;
  h[7] = (uv_handle_t *)&d->post_async;
  *n = 8;
  return h;
}

/* Initialise the daemon's handles; on failure the ones set up are closed
 * again (the caller runs the loop once to finish closing them). */
static int init_handles(struct vq_daemon *d) {
  size_t n, i, done = 0;
  uv_handle_t **h = daemon_handles(d, &n);
  int rc = 0;
  for (i = 0; i < n && rc == 0; i++, done++) {
    if (i == 0) rc = uv_idle_init(&d->loop, &d->drain);
    else if (i <= 4) rc = uv_signal_init(&d->loop, (uv_signal_t *)h[i]);
    else if (i <= 6) rc = uv_timer_init(&d->loop, (uv_timer_t *)h[i]);
    else rc = uv_async_init(&d->loop, &d->post_async, vq_daemon_on_post);
    if (rc == 0) h[i]->data = d;
  }
  if (rc == 0)
    rc = vq_control_init(&d->control, &d->loop, &d->instances,
                         d->pipeline->daemon.command_timeout_ms);
  else
    done--; /* the one that failed is not open */
  if (rc == 0 && (rc = vq_notify_init(&d->notify, d)) != 0)
    vq_control_shutdown(&d->control);
  if (rc != 0) {
    for (i = 0; i < done; i++) uv_close(h[i], NULL);
    return -EIO;
  }
  uv_signal_start(&d->sigterm, on_signal, SIGTERM);
  uv_signal_start(&d->sigint, on_signal, SIGINT);
  uv_signal_start(&d->sighup, on_signal, SIGHUP);
  uv_signal_start(&d->sigusr1, on_signal, SIGUSR1);
  uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS);
  return 0;
}

/* Records a finite pipeline lost (dropped from a full queue, or given up
 * at shutdown); rejected ones the server refused, each logged. */
static uint64_t undelivered(const struct vq_daemon *d) {
  const struct vq_ctx *c;
  uint64_t n = 0;
  for (c = d->instances; c != NULL; c = c->next)
    if (c->sink != NULL)
      n += c->sink->n.dropped + c->sink->n.lost;
  return n;
}

static void daemon_free(struct vq_daemon *d) {
  struct vq_ctx *c;
  while ((c = d->instances) != NULL) {
    d->instances = c->next;
    vq_instance_free(d, c);
  }
  vq_router_clear(&d->internal);
  vq_daemon_posts_free(d);
  if (uv_loop_close(&d->loop) != 0)
    vq_debug("event loop closed with handles open");
  uv_mutex_destroy(&d->post_lock);
  vq_pipeline_unref(d->pipeline);
  free(d);
}

/* Start every created instance, kind by kind in start_order (sinks
 * before the sources that feed them); with `first_failure`, none after
 * the first that fails.  Returns how many failed. */
int vq_daemon_start_created(struct vq_daemon *d, int first_failure) {
  int order, max = vq_kind_max_order(), failed = 0;
  struct vq_ctx *c;
  for (order = 0; order <= max; order++)
    for (c = d->instances; c != NULL && !(first_failure && failed); c = c->next)
      if (c->section != NULL && !c->removed && c->state == VQ_INST_CREATED &&
          c->start_after == NULL &&
          vq_kind_row_of(c->section->kind)->start_order == order &&
          vq_instance_start(c) != 0)
        failed++;
  return failed;
}

int vq_daemon_run(struct vq_pipeline *p, const char *path) {
  struct vq_daemon *d = calloc(1, sizeof *d);
  struct vq_ctx *c;
  int failed = 0, rc;

  p->refs = 1;
  if (d == NULL) {
    vq_pipeline_unref(p);
    return VQ_EXIT_RUNTIME;
  }
  signal(SIGPIPE, SIG_IGN);
  d->pipeline = p;
  d->path = path;
  if (uv_loop_init(&d->loop) != 0) {
    vq_error("cannot initialise the event loop");
    vq_pipeline_unref(p);
    free(d);
    return VQ_EXIT_RUNTIME;
  }
  if (uv_mutex_init(&d->post_lock) != 0) {
    vq_error("cannot initialise the event loop");
    uv_loop_close(&d->loop);
    vq_pipeline_unref(p);
    free(d);
    return VQ_EXIT_RUNTIME;
  }
  d->internal.daemon = d;
  d->internal.kind = VQ_KIND_SOURCE;
  d->internal.id = vq_intern("vicacq");
  d->internal.state = VQ_INST_STARTED;
  snprintf(d->internal.label, sizeof d->internal.label, "vicacq");
  if (init_handles(d) != 0) {
    vq_error("cannot set up the event loop handles");
    uv_run(&d->loop, UV_RUN_DEFAULT); /* finish closing them */
    daemon_free(d);
    return VQ_EXIT_RUNTIME;
  }

  /* Sinks first so sources have somewhere to deliver from the start. */
  for (rc = 0; rc <= vq_kind_max_order(); rc++) {
    size_t i;
    for (i = 0; i < p->nsections; i++) {
      struct vq_section *s = &p->sections[i];
      if (vq_kind_row_of(s->kind)->start_order != rc) continue;
      c = vq_instance_new(d, p, s);
      if (c == NULL) {
        failed = 1;
        continue;
      }
      vq_instance_append(d, c);
      if (c->removed) failed = 1;
    }
  }
  vq_daemon_compile_routes(d);
  if (!failed && vq_daemon_start_created(d, 1) != 0) failed = 1;
  if (failed) {
    int config_error = 0;
    for (c = d->instances; c != NULL; c = c->next)
      if (c->cfg_errors > 0) config_error = 1;
    vq_error("could not start the pipeline; stopping");
    /* A plugin that named a key found a problem in the file. */
    d->exit_code = config_error ? VQ_EXIT_CONFIG : VQ_EXIT_RUNTIME;
    for (c = d->instances; c != NULL; c = c->next) vq_instance_stop(c);
    d->state = VQ_DAEMON_STOPPING_SINKS;
    vq_daemon_kick(d);
  } else {
    vq_info("running %s: %s", path ? path : "pipeline",
            "sources and sinks started");
    vq_notify_ready(&d->notify);
  }

  uv_run(&d->loop, UV_RUN_DEFAULT);

  rc = d->exit_code;
  if (rc == VQ_EXIT_OK && d->finite) {
    uint64_t n = undelivered(d);
    if (n > 0) {
      vq_error("%llu records were not delivered (see the counts above)",
               (unsigned long long)n);
      rc = VQ_EXIT_UNDELIVERED;
    }
  }
  daemon_free(d);
  return rc;
}

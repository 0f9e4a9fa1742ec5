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
#include "router.h"
#include "sink_rt.h"
#include "spool.h"

/* How often spools are flushed and drop counters emitted. */
#define TICK_MS 1000
#define DROP_EMIT_EVERY_TICKS 5

struct vq_post {
  struct vq_ctx *ctx;
  vq_callback cb;
  void *arg;
  struct vq_post *next;
};

static void check_progress(struct vq_daemon *d);
static void kick_from_sink(struct vq_sink_rt *rt);
static void on_drain(uv_idle_t *idle);

/* ------------------------------------------------------------------ */
/* Instances                                                           */
/* ------------------------------------------------------------------ */

static void pipeline_unref(struct vq_pipeline *p) {
  if (p != NULL && --p->refs == 0) vq_pipeline_free(p);
}

static void sink_closed(uv_handle_t *h) {
  struct vq_sink_rt *rt = h->data;
  rt->ctx->open_handles--;
  vq_daemon_kick(rt->ctx->daemon); /* the stop may now complete */
}

/* Create the instance of section `s` of pipeline `p` (not started).  A
 * plugin that fails is reported at the section's FILE:LINE unless it said
 * why itself (cfg_error); the ctx is then marked removed for the loop to
 * reap. */
static struct vq_ctx *instance_new(struct vq_daemon *d, struct vq_pipeline *p,
                                   struct vq_section *s) {
  struct vq_ctx *ctx = calloc(1, sizeof *ctx);
  int rc;
  if (ctx == NULL) {
    vq_error("%s:%d: [%s]: out of memory", p->path, s->line, s->name);
    return NULL;
  }
  ctx->daemon = d;
  ctx->pipeline = p;
  ctx->pipeline->refs++;
  ctx->section = s;
  ctx->kind = s->kind == VQ_SECTION_SOURCE ? VQ_KIND_SOURCE : VQ_KIND_SINK;
  ctx->id = vq_intern(s->id);
  snprintf(ctx->label, sizeof ctx->label, "%s", s->name);
  ctx->plugin = s->plugin;
  if (ctx->kind == VQ_KIND_SINK) {
    ctx->sink = malloc(sizeof *ctx->sink);
    if (ctx->sink == NULL ||
        (rc = vq_sink_rt_init(ctx->sink, ctx, &d->loop,
                             kick_from_sink)) != 0) {
      vq_log(VQ_LOG_ERROR, ctx->label, "cannot set up the sink queue");
      free(ctx->sink);
      pipeline_unref(ctx->pipeline);
      free(ctx);
      return NULL;
    }
  }
  rc = ctx->plugin->create(&vq_host_table, ctx, &ctx->instance);
  if (rc == 0 && ctx->cfg_errors > 0) {
    /* It reported a problem yet returned 0: the problem wins. */
    ctx->plugin->destroy(ctx->instance);
    rc = -EINVAL;
  }
  if (rc != 0) {
    if (ctx->cfg_errors == 0)
      vq_error("%s:%d: [%s]: plugin %s could not be created: %s", p->path,
               s->line, s->name, ctx->plugin->name,
               strerror(rc < 0 ? -rc : rc));
    if (ctx->sink) {
      ctx->open_handles++;
      vq_sink_rt_close(ctx->sink, sink_closed);
    }
    ctx->state = VQ_INST_STOPPED;
    ctx->removed = 1;
    ctx->instance = NULL;
    return ctx; /* appended so the loop can reap it, reported as failed */
  }
  return ctx;
}

static void append_instance(struct vq_daemon *d, struct vq_ctx *ctx) {
  struct vq_ctx **p = &d->instances;
  while (*p != NULL) p = &(*p)->next;
  *p = ctx;
}

/* Drop what `ctx` posted and refuse its later posts (plugin.h: nothing
 * posted runs once the stop has completed). */
static void purge_posts(struct vq_daemon *d, struct vq_ctx *ctx) {
  struct vq_post **p, *post;
  uv_mutex_lock(&d->post_lock);
  ctx->posts_closed = 1;
  for (p = &d->posts; (post = *p) != NULL;) {
    if (post->ctx == ctx) {
      *p = post->next;
      free(post);
    } else {
      p = &post->next;
    }
  }
  uv_mutex_unlock(&d->post_lock);
}

/* Free an instance whose plugin stopped and whose handles are closed. */
static void instance_free(struct vq_daemon *d, struct vq_ctx *ctx) {
  size_t i;
  purge_posts(d, ctx);
  vq_control_forget(&d->control, ctx);
  if (ctx->instance != NULL) ctx->plugin->destroy(ctx->instance);
  if (ctx->sink != NULL) {
    vq_sink_rt_free(ctx->sink);
    free(ctx->sink);
  }
  vq_router_clear(ctx);
  for (i = 0; i < ctx->nstats; i++) free(ctx->stats[i].name);
  free(ctx->stats);
  pipeline_unref(ctx->pipeline);
  free(ctx);
}

static void on_instance_stopped(struct vq_ctx *ctx) {
  struct vq_timer *t;
  if (ctx->state == VQ_INST_STOPPED) return;
  ctx->state = VQ_INST_STOPPED;
  purge_posts(ctx->daemon, ctx);
  /* Timers the plugin left running are closed for it. */
  while ((t = ctx->timers) != NULL) vq_host_table.timer_stop(ctx, t);
  if (ctx->sink != NULL && !ctx->sink->closing) {
    ctx->open_handles++;
    vq_sink_rt_close(ctx->sink, sink_closed);
  }
  vq_log(VQ_LOG_DEBUG, ctx->label, "stopped");
  vq_daemon_kick(ctx->daemon);
}

static void instance_stop(struct vq_ctx *ctx) {
  if (ctx->state == VQ_INST_STOPPING || ctx->state == VQ_INST_STOPPED) return;
  if (ctx->state == VQ_INST_CREATED) {
    on_instance_stopped(ctx);
    return;
  }
  ctx->state = VQ_INST_STOPPING;
  vq_control_forget(&ctx->daemon->control, ctx);
  ctx->plugin->stop(ctx->instance, on_instance_stopped);
}

static int instance_start(struct vq_ctx *ctx) {
  int rc;
  if (ctx->removed) return -EINVAL;
  ctx->state = VQ_INST_STARTED;
  rc = ctx->plugin->start(ctx->instance);
  if (rc == 0 && ctx->cfg_errors > 0) rc = -EINVAL;
  if (rc != 0) {
    if (ctx->cfg_errors == 0)
      vq_error("%s:%d: [%s]: plugin %s could not start: %s",
               ctx->pipeline->path, ctx->section->line, ctx->section->name,
               ctx->plugin->name, strerror(rc < 0 ? -rc : rc));
    ctx->state = VQ_INST_CREATED;
    ctx->removed = 1;
    instance_stop(ctx);
    return rc;
  }
  return 0;
}

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
    } else {
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

static void compile_routes(struct vq_daemon *d) {
  struct vq_ctx *c;
  for (c = d->instances; c != NULL; c = c->next)
    if (c->kind == VQ_KIND_SOURCE && !c->removed &&
        vq_router_compile(c, d->pipeline, d->instances) != 0)
      vq_log(VQ_LOG_ERROR, c->label, "out of memory compiling routes");
  if (vq_router_compile(&d->internal, d->pipeline, d->instances) != 0)
    vq_error("out of memory compiling routes");
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

static void kick_from_sink(struct vq_sink_rt *rt) {
  vq_daemon_kick(rt->ctx->daemon);
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
  for (c = d->instances; c != NULL; c = c->next)
    if (c->kind == VQ_KIND_SOURCE) instance_stop(c);
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
    if (c->kind == VQ_KIND_SINK) instance_stop(c);
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
}

/* Reap instances removed by a reload (or failed) once fully stopped, and
 * move the shutdown along its states. */
static void check_progress(struct vq_daemon *d) {
  struct vq_ctx **p, *c;
  int all_stopped = 1, flushed = 1;

  for (p = &d->instances; (c = *p) != NULL;) {
    if (c->retiring && c->state == VQ_INST_STARTED && c->sink != NULL &&
        ((vq_sink_rt_pending(c->sink) == 0 && !c->sink->in_flight) ||
         uv_now(&d->loop) >= c->retire_deadline_ms)) {
      vq_sink_rt_abandon(c->sink);
      instance_stop(c);
    }
    if (c->removed && c->state == VQ_INST_STOPPED && c->open_handles == 0 &&
        d->state == VQ_DAEMON_RUNNING) {
      *p = c->next;
      instance_free(d, c);
      continue;
    }
    p = &c->next;
  }

  switch (d->state) {
  case VQ_DAEMON_STOPPING_SOURCES:
    for (c = d->instances; c != NULL; c = c->next)
      if (c->kind == VQ_KIND_SOURCE &&
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
      if (c->kind == VQ_KIND_SINK) instance_stop(c);
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
  check_progress(d);
}

static void on_post(uv_async_t *a) {
  struct vq_daemon *d = a->data;
  struct vq_post *list, *reversed = NULL;
  uv_mutex_lock(&d->post_lock);
  list = d->posts;
  d->posts = NULL;
  uv_mutex_unlock(&d->post_lock);
  while (list != NULL) { /* posts were pushed at the front: restore order */
    struct vq_post *next = list->next;
    list->next = reversed;
    reversed = list;
    list = next;
  }
  while (reversed != NULL) {
    struct vq_post *next = reversed->next;
    /* An earlier callback may have completed this instance's stop. */
    if (!reversed->ctx->posts_closed) reversed->cb(reversed->arg);
    free(reversed);
    reversed = next;
  }
}

int vq_daemon_post(struct vq_daemon *d, struct vq_ctx *ctx, vq_callback cb,
                   void *arg) {
  struct vq_post *post = malloc(sizeof *post);
  if (post == NULL) return -ENOMEM;
  post->ctx = ctx;
  post->cb = cb;
  post->arg = arg;
  uv_mutex_lock(&d->post_lock);
  if (ctx->posts_closed) {
    uv_mutex_unlock(&d->post_lock);
    free(post);
    return -ESHUTDOWN;
  }
  post->next = d->posts;
  d->posts = post;
  uv_mutex_unlock(&d->post_lock);
  return uv_async_send(&d->post_async);
}

void vq_daemon_source_finished(struct vq_daemon *d, struct vq_ctx *ctx) {
  if (ctx->finished) return;
  ctx->finished = 1;
  vq_log(VQ_LOG_INFO, ctx->label, "finished");
  vq_daemon_kick(d); /* the stop starts from the loop, not inside the plugin */
}

/* ------------------------------------------------------------------ */
/* Reload                                                              */
/* ------------------------------------------------------------------ */

static struct vq_ctx *find_instance(struct vq_daemon *d, int kind,
                                    const char *id) {
  struct vq_ctx *c;
  for (c = d->instances; c != NULL; c = c->next)
    if (c->kind == kind && !c->removed && !c->retiring &&
        strcmp(c->id, id) == 0)
      return c;
  return NULL;
}

/* Whether running instance `c` goes on unchanged under pipeline `next`
 * (its section is the same, or it is a spooled sink whose changes wait
 * for a restart). */
static int reload_keeps(const struct vq_ctx *c, const struct vq_pipeline *next,
                        int say) {
  const struct vq_section *s = vq_pipeline_find(
      next, c->kind == VQ_KIND_SOURCE ? VQ_SECTION_SOURCE : VQ_SECTION_SINK,
      c->id);
  if (s == NULL) return 0;
  if (vq_section_equal(c->section, s)) return 1;
  if (c->kind == VQ_KIND_SINK && c->sink->spool != NULL) {
    if (!say) return 1;
    /* Two instances must never share one spool directory (the old one
     * draining while the new one starts would deliver twice): a spooled
     * sink keeps its settings until the daemon restarts. */
    vq_log(VQ_LOG_WARN, c->label,
           "has a spool: its changes take effect after a restart");
    return 1;
  }
  return 0;
}

/* Give up on instances created for a reload that cannot go ahead: they
 * were never started; the loop reaps them. */
static void discard_fresh(struct vq_daemon *d, struct vq_ctx *fresh) {
  while (fresh != NULL) {
    struct vq_ctx *c = fresh;
    fresh = c->next;
    c->next = NULL;
    c->removed = 1;
    instance_stop(c);
    append_instance(d, c);
  }
}

/* SIGHUP.  Every instance the new file needs is created before anything
 * running is touched, so a file the plugins refuse leaves the pipeline as
 * it was.  A kept instance stays on the pipeline (and section) it was
 * created with: the strings its plugin got from cfg_string live in it
 * (plugin.h, "Lifetimes"). */
static void reload(struct vq_daemon *d) {
  struct vq_pipeline *next, *old = d->pipeline;
  struct vq_ctx *c, *fresh = NULL, **tail = &fresh;
  unsigned kept = 0, started = 0, stopped = 0;
  int failed = 0;
  size_t i;

  vq_info("SIGHUP: re-reading %s", d->path);
  next = vq_pipeline_open(d->path);
  if (next == NULL) {
    vq_error("%s is invalid (see above); still running the previous pipeline",
             d->path);
    /* The loader's search path follows the file that runs. */
    vq_loader_init(old->daemon.plugin_path);
    return;
  }
  next->refs = 1;

  for (i = 0; i < next->nsections; i++) {
    struct vq_section *s = &next->sections[i];
    int kind = s->kind == VQ_SECTION_SOURCE ? VQ_KIND_SOURCE : VQ_KIND_SINK;
    struct vq_ctx *running;
    if (s->kind != VQ_SECTION_SOURCE && s->kind != VQ_SECTION_SINK) continue;
    running = find_instance(d, kind, s->id);
    if (running != NULL && reload_keeps(running, next, 0)) continue;
    c = instance_new(d, next, s);
    if (c == NULL) {
      failed = 1;
      continue;
    }
    *tail = c;
    tail = &c->next;
    if (c->removed) failed = 1;
  }
  if (failed) {
    discard_fresh(d, fresh);
    pipeline_unref(next);
    vq_loader_init(old->daemon.plugin_path);
    vq_error("%s: a plugin refused it (see above); still running the previous "
             "pipeline", d->path);
    vq_daemon_kick(d);
    return;
  }

  vq_log_setup(next->daemon.log_level, next->daemon.log_target);
  d->control.default_timeout_ms = next->daemon.command_timeout_ms;
  for (c = d->instances; c != NULL; c = c->next) {
    if (c->removed || c->retiring) continue;
    if (reload_keeps(c, next, 1)) {
      kept++;
      continue;
    }
    stopped++;
    if (c->kind == VQ_KIND_SINK) {
      /* Deliver what it holds first, within the shutdown timeout. */
      c->retiring = 1;
      c->removed = 1;
      c->retire_deadline_ms =
          uv_now(&d->loop) + next->daemon.shutdown_timeout_ms;
    } else {
      c->removed = 1;
      instance_stop(c);
    }
  }
  d->pipeline = next;
  while (fresh != NULL) {
    struct vq_ctx *old_c;
    c = fresh;
    fresh = c->next;
    c->next = NULL;
    /* A restarted source keeps counting: seq grows for the life of the
     * process, as plugin.h promises sinks. */
    for (old_c = d->instances; old_c != NULL; old_c = old_c->next)
      if (old_c->kind == c->kind && old_c->removed &&
          strcmp(old_c->id, c->id) == 0 && old_c->seq > c->seq)
        c->seq = old_c->seq;
    append_instance(d, c);
    started++;
  }
  compile_routes(d);
  /* Start sinks before sources so that nothing is emitted into nowhere. */
  for (c = d->instances; c != NULL; c = c->next)
    if (c->kind == VQ_KIND_SINK && c->state == VQ_INST_CREATED && !c->removed)
      instance_start(c);
  for (c = d->instances; c != NULL; c = c->next)
    if (c->kind == VQ_KIND_SOURCE && c->state == VQ_INST_CREATED &&
        !c->removed)
      instance_start(c);
  compile_routes(d);
  pipeline_unref(old);
  vq_info("reloaded %s: %u kept, %u started, %u stopped", d->path, kept,
          started, stopped);
  vq_daemon_kick(d);
}

static void on_signal(uv_signal_t *s, int signum) {
  struct vq_daemon *d = s->data;
  switch (signum) {
  case SIGHUP:
    if (d->state == VQ_DAEMON_RUNNING && d->path != NULL) reload(d);
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
    else rc = uv_async_init(&d->loop, &d->post_async, on_post);
    if (rc == 0) h[i]->data = d;
  }
  if (rc == 0)
    rc = vq_control_init(&d->control, &d->loop, &d->instances,
                         d->pipeline->daemon.command_timeout_ms);
  else
    done--; /* the one that failed is not open */
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
  struct vq_post *post;
  while ((c = d->instances) != NULL) {
    d->instances = c->next;
    instance_free(d, c);
  }
  vq_router_clear(&d->internal);
  while ((post = d->posts) != NULL) {
    d->posts = post->next;
    free(post);
  }
  if (uv_loop_close(&d->loop) != 0)
    vq_debug("event loop closed with handles open");
  uv_mutex_destroy(&d->post_lock);
  pipeline_unref(d->pipeline);
  free(d);
}

int vq_daemon_run(struct vq_pipeline *p, const char *path) {
  struct vq_daemon *d = calloc(1, sizeof *d);
  struct vq_ctx *c;
  int failed = 0, rc;

  p->refs = 1;
  if (d == NULL) {
    pipeline_unref(p);
    return VQ_EXIT_RUNTIME;
  }
  signal(SIGPIPE, SIG_IGN);
  d->pipeline = p;
  d->path = path;
  if (uv_loop_init(&d->loop) != 0) {
    vq_error("cannot initialise the event loop");
    pipeline_unref(p);
    free(d);
    return VQ_EXIT_RUNTIME;
  }
  if (uv_mutex_init(&d->post_lock) != 0) {
    vq_error("cannot initialise the event loop");
    uv_loop_close(&d->loop);
    pipeline_unref(p);
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
  for (rc = 0; rc < 2; rc++) {
    size_t i;
    for (i = 0; i < p->nsections; i++) {
      struct vq_section *s = &p->sections[i];
      if (s->kind != (rc == 0 ? VQ_SECTION_SINK : VQ_SECTION_SOURCE)) continue;
      c = instance_new(d, p, s);
      if (c == NULL) {
        failed = 1;
        continue;
      }
      append_instance(d, c);
      if (c->removed) failed = 1;
    }
  }
  compile_routes(d);
  for (c = d->instances; !failed && c != NULL; c = c->next)
    if (c->kind == VQ_KIND_SINK && instance_start(c) != 0) failed = 1;
  for (c = d->instances; !failed && c != NULL; c = c->next)
    if (c->kind == VQ_KIND_SOURCE && instance_start(c) != 0) failed = 1;
  if (failed) {
    int config_error = 0;
    for (c = d->instances; c != NULL; c = c->next)
      if (c->cfg_errors > 0) config_error = 1;
    vq_error("could not start the pipeline; stopping");
    /* A plugin that named a key found a problem in the file. */
    d->exit_code = config_error ? VQ_EXIT_CONFIG : VQ_EXIT_RUNTIME;
    for (c = d->instances; c != NULL; c = c->next) instance_stop(c);
    d->state = VQ_DAEMON_STOPPING_SINKS;
    vq_daemon_kick(d);
  } else {
    vq_info("running %s: %s", path ? path : "pipeline",
            "sources and sinks started");
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

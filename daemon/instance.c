/* Instances: creating one for a section, starting it, stopping it (the
 * plugin's asynchronous stop) and freeing it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "intern.h"
#include "log.h"
#include "chain.h"
#include "router.h"
#include "section_kind.h"
#include "sink_rt.h"

static void kick_from_sink(struct vq_sink_rt *rt) {
  vq_daemon_kick(rt->ctx->daemon);
}

void vq_pipeline_unref(struct vq_pipeline *p) {
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
struct vq_ctx *vq_instance_new(struct vq_daemon *d, struct vq_pipeline *p,
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
  ctx->kind = vq_kind_row_of(s->kind)->plugin_kind;
  ctx->id = vq_intern(s->id);
  snprintf(ctx->label, sizeof ctx->label, "%s", s->name);
  ctx->plugin = s->plugin;
  if (vq_kind_row_of(s->kind)->has_queue) {
    ctx->sink = malloc(sizeof *ctx->sink);
    if (ctx->sink == NULL ||
        (rc = vq_sink_rt_init(ctx->sink, ctx, &d->loop,
                             kick_from_sink)) != 0) {
      vq_log(VQ_LOG_ERROR, ctx->label, "cannot set up the sink queue");
      free(ctx->sink);
      vq_pipeline_unref(ctx->pipeline);
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

void vq_instance_append(struct vq_daemon *d, struct vq_ctx *ctx) {
  struct vq_ctx **p = &d->instances;
  while (*p != NULL) p = &(*p)->next;
  *p = ctx;
}

/* Free an instance whose plugin stopped and whose handles are closed. */
void vq_instance_free(struct vq_daemon *d, struct vq_ctx *ctx) {
  size_t i;
  vq_daemon_posts_close(d, ctx);
  vq_control_forget(&d->control, ctx);
  if (ctx->instance != NULL) ctx->plugin->destroy(ctx->instance);
  if (ctx->sink != NULL) {
    vq_sink_rt_free(ctx->sink);
    free(ctx->sink);
  }
  vq_router_clear(ctx);
  vq_chain_clear(ctx);
  free(ctx->scratch);
  for (i = 0; i < ctx->nstats; i++) free(ctx->stats[i].name);
  free(ctx->stats);
  vq_pipeline_unref(ctx->pipeline);
  free(ctx);
}

static void on_instance_stopped(struct vq_ctx *ctx) {
  struct vq_timer *t;
  if (ctx->state == VQ_INST_STOPPED) return;
  ctx->state = VQ_INST_STOPPED;
  vq_daemon_posts_close(ctx->daemon, ctx);
  /* Timers the plugin left running are closed for it. */
  while ((t = ctx->timers) != NULL) vq_host_table.timer_stop(ctx, t);
  if (ctx->sink != NULL && !ctx->sink->closing) {
    ctx->open_handles++;
    vq_sink_rt_close(ctx->sink, sink_closed);
  }
  vq_log(VQ_LOG_DEBUG, ctx->label, "stopped");
  vq_daemon_kick(ctx->daemon);
}

void vq_instance_stop(struct vq_ctx *ctx) {
  if (ctx->state == VQ_INST_STOPPING || ctx->state == VQ_INST_STOPPED) return;
  if (ctx->state == VQ_INST_CREATED) {
    on_instance_stopped(ctx);
    return;
  }
  ctx->state = VQ_INST_STOPPING;
  vq_control_forget(&ctx->daemon->control, ctx);
  ctx->plugin->stop(ctx->instance, on_instance_stopped);
}

int vq_instance_start(struct vq_ctx *ctx) {
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
    vq_instance_stop(ctx);
    return rc;
  }
  return 0;
}

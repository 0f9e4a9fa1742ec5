/* SIGHUP: re-reading the pipeline file into the running daemon. */
#include "config.h"

#include <string.h>

#include "daemon.h"
#include "loader.h"
#include "log.h"
#include "plugin_check.h"
#include "section_kind.h"
#include "sink_rt.h"

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
  const struct vq_section *s = vq_pipeline_find(next, c->section->kind, c->id);
  if (s == NULL) return 0;
  if (vq_section_equal(c->section, s)) return 1;
  if (c->sink != NULL && c->sink->spool != NULL) {
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
    vq_instance_stop(c);
    vq_instance_append(d, c);
  }
}

/* A new section that could not start: the instance it replaced comes
 * back with its previous section once it has stopped, so that a failure
 * keeps the pipeline as it was (a new instance that replaced nothing just
 * stays down). */
static void restore_previous(struct vq_daemon *d, struct vq_ctx *failed) {
  struct vq_ctx *o, *r;
  for (o = d->instances; o != NULL; o = o->next)
    if (o != failed && o->kind == failed->kind && o->removed &&
        o->pipeline != failed->pipeline && strcmp(o->id, failed->id) == 0 &&
        o->start_after == NULL)
      break;
  if (o == NULL) return;
  r = vq_instance_new(d, o->pipeline, o->section);
  if (r == NULL || r->removed) {
    vq_log(VQ_LOG_ERROR, o->label,
           "its new section could not start, nor its previous one be "
           "created again: it stays down");
    if (r != NULL) vq_instance_append(d, r);
    return;
  }
  r->seq = o->seq;
  r->start_after = o;
  vq_instance_append(d, r);
  vq_log(VQ_LOG_WARN, o->label,
         "its new section could not start: it goes on with its previous "
         "one (from %s:%d)", o->pipeline->path, o->section->line);
}

/* SIGHUP.  Every instance the new file needs is created before anything
 * running is touched, so a file the plugins refuse leaves the pipeline as
 * it was.  A kept instance stays on the pipeline (and section) it was
 * created with: the strings its plugin got from cfg_string live in it
 * (plugin.h, "Lifetimes"). */
void vq_daemon_reload(struct vq_daemon *d) {
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
    const struct vq_kind_row *kind = vq_kind_row_of(s->kind);
    struct vq_ctx *running;
    if (kind->plugin_kind == 0) continue; /* not an instance */
    running = find_instance(d, kind->plugin_kind, s->id);
    if (running != NULL && reload_keeps(running, next, 0)) continue;
    c = vq_instance_new(d, next, s);
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
    vq_pipeline_unref(next);
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
    if (c->sink != NULL) {
      /* Deliver what it holds first, within the shutdown timeout. */
      c->retiring = 1;
      c->removed = 1;
      c->retire_deadline_ms =
          uv_now(&d->loop) + next->daemon.shutdown_timeout_ms;
    } else {
      c->removed = 1;
      vq_instance_stop(c);
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
    c->reload_fresh = 1;
    vq_instance_append(d, c);
    started++;
  }
  vq_daemon_compile_routes(d);
  /* Sinks before sources (the kinds' start_order), so that nothing is
   * emitted into nowhere. */
  vq_daemon_start_created(d, 0);
  for (c = d->instances; c != NULL; c = c->next) {
    if (!c->reload_fresh) continue;
    c->reload_fresh = 0;
    if (c->removed) restore_previous(d, c);
  }
  vq_daemon_compile_routes(d);
  vq_pipeline_unref(old);
  vq_info("reloaded %s: %u kept, %u started, %u stopped", d->path, kept,
          started, stopped);
  vq_daemon_kick(d);
}

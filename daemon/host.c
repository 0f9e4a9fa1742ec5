/* The vq_host table: everything a plugin can ask of the core. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "chain.h"
#include "daemon.h"
#include "log.h"
#include "router.h"
#include "sink_rt.h"
#include "value_parse.h"
#include "vocabulary.h"

static void *host_loop(struct vq_ctx *ctx) { return &ctx->daemon->loop; }

static void host_log(struct vq_ctx *ctx, int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vq_logv(level, ctx->label, fmt, ap);
  va_end(ap);
}


static int host_emit(struct vq_ctx *ctx, const struct vq_reading *r) {
  int rc;
  if (ctx->kind == VQ_KIND_PROCESSOR) {
    /* A processor flushing in stop() still delivers. */
    if (ctx->state != VQ_INST_STARTED && ctx->state != VQ_INST_STOPPING)
      return 0;
    rc = vq_chain_processor_emit(ctx, r);
    if (rc == -EINVAL)
      vq_log(VQ_LOG_ERROR, ctx->label, "plugin bug: malformed reading not "
             "passed on");
    vq_daemon_kick(ctx->daemon);
    return rc;
  }
  if (ctx->kind != VQ_KIND_SOURCE) {
    vq_log(VQ_LOG_ERROR, ctx->label, "plugin bug: emit from a sink");
    return -EINVAL;
  }
  /* What a source flushes in stop() is delivered: sinks stop after every
   * source (daemon.c, check_progress). */
  if (ctx->state != VQ_INST_STARTED && ctx->state != VQ_INST_STOPPING) return 0;
  rc = vq_chain_source_emit(ctx, r,
                            r && r->time_ns ? r->time_ns : vq_realtime_ns());
  if (rc == -EINVAL)
    vq_log(VQ_LOG_ERROR, ctx->label,
           "plugin bug: malformed reading (no device, no records, or a "
           "record without quantity or with an unknown type) not emitted");
  else if (rc == -ENOMEM)
    vq_log(VQ_LOG_ERROR, ctx->label, "out of memory: reading dropped");
  else
    vq_daemon_kick(ctx->daemon);
  return rc;
}

static void host_finished(struct vq_ctx *ctx) {
  vq_daemon_source_finished(ctx->daemon, ctx);
}

static void timer_fired(uv_timer_t *t) {
  struct vq_timer *timer = t->data;
  timer->cb(timer->arg);
}

static void timer_closed(uv_handle_t *h) {
  struct vq_timer *timer = h->data;
  timer->ctx->open_handles--;
  free(timer);
}

static struct vq_timer *host_timer_start(struct vq_ctx *ctx,
                                         uint64_t timeout_ms,
                                         uint64_t repeat_ms, vq_callback cb,
                                         void *arg) {
  struct vq_timer *timer;
  if (cb == NULL || ctx->state == VQ_INST_STOPPED) return NULL;
  timer = calloc(1, sizeof *timer);
  if (timer == NULL) return NULL;
  if (uv_timer_init(&ctx->daemon->loop, &timer->handle) != 0) {
    free(timer);
    return NULL;
  }
  timer->handle.data = timer;
  timer->ctx = ctx;
  timer->cb = cb;
  timer->arg = arg;
  timer->next = ctx->timers;
  ctx->timers = timer;
  ctx->open_handles++;
  uv_timer_start(&timer->handle, timer_fired, timeout_ms, repeat_ms);
  return timer;
}

static void host_timer_stop(struct vq_ctx *ctx, struct vq_timer *timer) {
  struct vq_timer **p;
  if (timer == NULL) return;
  for (p = &ctx->timers; *p != NULL; p = &(*p)->next) {
    if (*p == timer) {
      *p = timer->next;
      uv_timer_stop(&timer->handle);
      uv_close((uv_handle_t *)&timer->handle, timer_closed);
      return;
    }
  }
  vq_log(VQ_LOG_ERROR, ctx->label, "plugin bug: timer_stop of an unknown timer");
}

static int host_timer_again(struct vq_ctx *ctx, struct vq_timer *timer,
                            uint64_t timeout_ms, uint64_t repeat_ms) {
  struct vq_timer *t;
  for (t = ctx->timers; t != NULL; t = t->next)
    if (t == timer)
      return uv_timer_start(&t->handle, timer_fired, timeout_ms, repeat_ms);
  vq_log(VQ_LOG_ERROR, ctx->label,
         "plugin bug: timer_again of a timer it does not own");
  return -EINVAL;
}

static const struct vq_option *schema_option(struct vq_ctx *ctx,
                                             const char *key) {
  const struct vq_option *o;
  for (o = ctx->plugin->options; o != NULL && o->key != NULL; o++)
    if (strcmp(o->key, key) == 0) return o;
  return NULL;
}

/* The text of a key: given value, else default.  -EINVAL for a key the
 * schema lacks, -ENOENT for neither. */
static int lookup(struct vq_ctx *ctx, const char *key, const char **out) {
  const struct vq_option *o = schema_option(ctx, key);
  const struct vq_kv *kv;
  if (o == NULL) {
    vq_log(VQ_LOG_ERROR, ctx->label,
           "plugin bug: asked for key '%s' that its schema does not declare",
           key);
    return -EINVAL;
  }
  kv = vq_section_get(ctx->section, key);
  *out = kv ? kv->value : o->default_value;
  return *out ? 0 : -ENOENT;
}

static const char *host_cfg_string(struct vq_ctx *ctx, const char *key) {
  const char *v;
  return lookup(ctx, key, &v) == 0 ? v : NULL;
}

static int host_cfg_int(struct vq_ctx *ctx, const char *key, int64_t *out) {
  const char *v;
  int rc = lookup(ctx, key, &v);
  return rc ? rc : vq_parse_int(v, out);
}

static int host_cfg_double(struct vq_ctx *ctx, const char *key, double *out) {
  const char *v;
  int rc = lookup(ctx, key, &v);
  return rc ? rc : vq_parse_double(v, out);
}

static int host_cfg_bool(struct vq_ctx *ctx, const char *key, int *out) {
  const char *v;
  int rc = lookup(ctx, key, &v);
  return rc ? rc : vq_parse_bool(v, out);
}

static int host_cfg_duration(struct vq_ctx *ctx, const char *key,
                             uint64_t *out) {
  const char *v;
  int rc = lookup(ctx, key, &v);
  return rc ? rc : vq_parse_duration_ms(v, out);
}

/* The C type a binding writes follows from the schema type. */
static int bind_one(struct vq_ctx *ctx, const struct vq_cfg_bind *b,
                    void *base) {
  const struct vq_option *o = schema_option(ctx, b->key);
  char *field = (char *)base + b->offset;
  const char *v;
  int64_t i;
  double d;
  int flag;
  uint64_t ms;
  int rc;

  if (o == NULL) return -EINVAL; /* logged by schema_option's caller */
  if (o->type != b->type) {
    vq_log(VQ_LOG_ERROR, ctx->label,
           "plugin bug: cfg_bind of '%s' as type %u, the schema says %u",
           b->key, (unsigned)b->type, (unsigned)o->type);
    return -EINVAL;
  }
  rc = lookup(ctx, b->key, &v);
  if (rc == -ENOENT) return 0; /* neither value nor default: untouched */
  if (rc != 0) return rc;
  switch (b->type) {
  case VQ_OPT_STRING:
  case VQ_OPT_ENUM:
  case VQ_OPT_SECRET:
    memcpy(field, &v, sizeof v);
    return 0;
  case VQ_OPT_INT:
    rc = vq_parse_int(v, &i);
    if (rc == 0) memcpy(field, &i, sizeof i);
    break;
  case VQ_OPT_DOUBLE:
    rc = vq_parse_double(v, &d);
    if (rc == 0) memcpy(field, &d, sizeof d);
    break;
  case VQ_OPT_BOOL:
    rc = vq_parse_bool(v, &flag);
    if (rc == 0) memcpy(field, &flag, sizeof flag);
    break;
  case VQ_OPT_DURATION:
    rc = vq_parse_duration_ms(v, &ms);
    if (rc == 0) memcpy(field, &ms, sizeof ms);
    break;
  default:
    rc = -EINVAL;
    break;
  }
  if (rc != 0)
    vq_log(VQ_LOG_ERROR, ctx->label,
           "plugin bug: cfg_bind cannot read '%s' (its default '%s' does not "
           "parse as its type)", b->key, v);
  return rc != 0 ? -EINVAL : 0;
}

static int host_cfg_bind(struct vq_ctx *ctx, const struct vq_cfg_bind *table,
                         void *base) {
  const struct vq_cfg_bind *b;
  int rc;
  for (b = table; b != NULL && b->key != NULL; b++) {
    if (schema_option(ctx, b->key) == NULL) {
      vq_log(VQ_LOG_ERROR, ctx->label,
             "plugin bug: cfg_bind of key '%s' that its schema does not "
             "declare", b->key);
      return -EINVAL;
    }
    if ((rc = bind_one(ctx, b, base)) != 0) return rc;
  }
  return 0;
}

static int host_cfg_each(struct vq_ctx *ctx, const char *prefix,
                         void (*fn)(void *arg, const char *key,
                                    const char *value),
                         void *arg) {
  size_t i, n = strlen(prefix);
  int count = 0;
  for (i = 0; i < ctx->section->nkv; i++) {
    const struct vq_kv *kv = &ctx->section->kv[i];
    if (strncmp(kv->key, prefix, n) != 0) continue;
    fn(arg, kv->key, kv->value);
    count++;
  }
  return count;
}

/* "FILE:LINE: [kind.id] key 'k': why", at the key's own line (or the
 * section's when the key was not written: its default is what failed). */
static void host_cfg_error(struct vq_ctx *ctx, const char *key,
                           const char *fmt, ...) {
  char message[1024];
  const struct vq_kv *kv = key ? vq_section_get(ctx->section, key) : NULL;
  int line = kv ? kv->line : ctx->section->line;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  if (key != NULL)
    vq_error("%s:%d: [%s] key '%s': %s", ctx->pipeline->path, line,
             ctx->section->name, key, message);
  else
    vq_error("%s:%d: [%s]: %s", ctx->pipeline->path, line, ctx->section->name,
             message);
  ctx->cfg_errors++;
}

static void host_batch_done(struct vq_ctx *ctx, const struct vq_batch *batch,
                            int status, uint32_t done, uint32_t rejected,
                            const char *reason) {
  if (ctx->sink == NULL) {
    vq_log(VQ_LOG_ERROR, ctx->label, "plugin bug: batch_done from a source");
    return;
  }
  vq_sink_rt_batch_done(ctx->sink, batch, status, done, rejected, reason);
}

static int64_t host_command_submit(struct vq_ctx *ctx,
                                   const struct vq_command *cmd,
                                   const char **reason) {
  return vq_control_submit(&ctx->daemon->control, ctx, cmd, reason);
}

static void host_command_done(struct vq_ctx *ctx, uint64_t ticket, int status,
                              const char *message) {
  vq_control_done(&ctx->daemon->control, ctx, ticket, status, message);
}

static int host_command_range(struct vq_ctx *ctx, const char *source,
                              const char *quantity, double *min, double *max,
                              double *step) {
  struct vq_section *s =
      vq_pipeline_find(ctx->daemon->pipeline, VQ_SECTION_SOURCE, source);
  size_t i;
  if (s == NULL) return -ENOENT;
  for (i = 0; i < s->ngrants; i++) {
    if (strcmp(s->grants[i].quantity, quantity) != 0) continue;
    if (min) *min = s->grants[i].min;
    if (max) *max = s->grants[i].max;
    if (step) *step = s->grants[i].writable->step;
    return 0;
  }
  return -ENOENT;
}

static void host_stat_add(struct vq_ctx *ctx, const char *name,
                          int64_t delta) {
  size_t i;
  struct vq_stat *grown;
  for (i = 0; i < ctx->nstats; i++) {
    if (strcmp(ctx->stats[i].name, name) == 0) {
      ctx->stats[i].value += delta;
      return;
    }
  }
  grown = realloc(ctx->stats, (ctx->nstats + 1) * sizeof *grown);
  if (grown == NULL) return;
  ctx->stats = grown;
  grown[ctx->nstats].name = strdup(name);
  if (grown[ctx->nstats].name == NULL) return;
  grown[ctx->nstats].value = delta;
  ctx->nstats++;
}

static int host_post(struct vq_ctx *ctx, vq_callback cb, void *arg) {
  return vq_daemon_post(ctx->daemon, ctx, cb, arg);
}

static const struct vq_quantity_info *host_quantity_info(struct vq_ctx *ctx,
                                                         const char *q) {
  (void)ctx;
  return vq_vocabulary_find(q);
}

static const char *host_instance_id(struct vq_ctx *ctx) { return ctx->id; }

static const char *host_state_dir(struct vq_ctx *ctx) {
  return ctx->pipeline->daemon.state_dir;
}

static int host_backlog(struct vq_ctx *ctx) {
  size_t i;
  int fullest = 0;
  for (i = 0; i < ctx->ntargets; i++) {
    const struct vq_ctx *sink = ctx->targets[i].sink;
    int fill;
    if (sink->sink == NULL || sink->retiring) continue;
    fill = vq_sink_rt_fill_percent(sink->sink);
    if (fill > fullest) fullest = fill;
  }
  return fullest;
}

const struct vq_host vq_host_table = {
    .size = sizeof(struct vq_host),
    .abi_major = VQ_ABI_MAJOR,
    .abi_minor = VQ_ABI_MINOR,
    .loop = host_loop,
    .log = host_log,
    .emit = host_emit,
    .finished = host_finished,
    .timer_start = host_timer_start,
    .timer_stop = host_timer_stop,
    .cfg_string = host_cfg_string,
    .cfg_int = host_cfg_int,
    .cfg_double = host_cfg_double,
    .cfg_bool = host_cfg_bool,
    .cfg_duration = host_cfg_duration,
    .batch_done = host_batch_done,
    .command_submit = host_command_submit,
    .command_done = host_command_done,
    .command_range = host_command_range,
    .stat_add = host_stat_add,
    .post = host_post,
    .quantity_info = host_quantity_info,
    .instance_id = host_instance_id,
    .state_dir = host_state_dir,
    .backlog = host_backlog,
    .cfg_error = host_cfg_error,
    .timer_again = host_timer_again,
    .cfg_bind = host_cfg_bind,
    .cfg_each = host_cfg_each,
};

/* The struct vq_host functions of the test host (see vqt_host.h), as
 * daemon/host.c does them where a plugin can tell the difference.  Over
 * 600 lines because it is the whole host table, one short function per
 * host call, kept together like daemon/host.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "intern.h"
#include "value_parse.h"
#include "vocabulary.h"
#include "vqt_host_int.h"

/* ---- small helpers ---- */

int vqt_strv_push(struct strv *s, const char *text) {
  char *copy = strdup(text ? text : "");
  if (copy == NULL) return -ENOMEM;
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 32;
    char **grown = realloc(s->v, cap * sizeof *grown);
    if (grown == NULL) {
      free(copy);
      return -ENOMEM;
    }
    s->v = grown;
    s->cap = cap;
  }
  s->v[s->n++] = copy;
  return 0;
}

void vqt_strv_free(struct strv *s) {
  size_t i;
  for (i = 0; i < s->n; i++) free(s->v[i]);
  free(s->v);
  memset(s, 0, sizeof *s);
}

static struct vqt_host *H(struct vq_ctx *ctx) {
  if (ctx->h == NULL) {
    fprintf(stderr, "plugin bug: the ctx given to check() used after check() "
                    "returned\n");
    abort();
  }
  return ctx->h;
}

void vqt_bug(struct vqt_host *h, const char *fmt, ...) {
  va_list ap;
  h->bugs++;
  fprintf(stderr, "%s: plugin bug: ", h->label);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* During check() only the cfg_* getters, cfg_bind, cfg_error, log and
 * instance_id may be called. */
static int check_only_cfg(struct vqt_host *h, const char *what) {
  if (!h->in_check) return 0;
  vqt_bug(h, "%s called from check()", what);
  return 1;
}

/* ---- host table ---- */

static void *h_loop(struct vq_ctx *ctx) {
  check_only_cfg(H(ctx), "loop");
  return H(ctx)->loop;
}

static void h_log(struct vq_ctx *ctx, int level, const char *fmt, ...) {
  struct vqt_host *h = H(ctx);
  char buf[1024];
  va_list ap;
  struct log_entry *grown;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (h->verbose || level <= VQ_LOG_WARN)
    fprintf(stderr, "[%d] %s: %s\n", level, h->label, buf);
  grown = realloc(h->logs, (h->nlogs + 1) * sizeof *grown);
  if (grown == NULL) return;
  h->logs = grown;
  grown[h->nlogs].level = level;
  grown[h->nlogs].text = strdup(buf);
  if (grown[h->nlogs].text != NULL) h->nlogs++;
}

/* Tag lines for the tags whose value for the device changed. */
static void record_tags(struct vqt_host *h, const struct vq_reading *r) {
  uint32_t t;
  char key[256], line[600];
  for (t = 0; t < r->ntags; t++) {
    size_t i;
    snprintf(key, sizeof key, "%s\n%s", r->device, r->tags[t].key);
    for (i = 0; i < h->tag_seen.n; i += 2)
      if (strcmp(h->tag_seen.v[i], key) == 0) break;
    if (i < h->tag_seen.n) {
      char *copy;
      if (strcmp(h->tag_seen.v[i + 1], r->tags[t].value) == 0) continue;
      if ((copy = strdup(r->tags[t].value)) == NULL) continue;
      free(h->tag_seen.v[i + 1]);
      h->tag_seen.v[i + 1] = copy;
    } else if (vqt_strv_push(&h->tag_seen, key) != 0 ||
               vqt_strv_push(&h->tag_seen, r->tags[t].value) != 0) {
      continue;
    }
    snprintf(line, sizeof line, "%s tag %s=%s", r->device, r->tags[t].key,
             r->tags[t].value);
    vqt_strv_push(&h->lines, line);
    if (h->verbose) fprintf(stderr, "  %s\n", line);
  }
}

static void record_lines(struct vqt_host *h, const struct vq_reading *r) {
  uint32_t i;
  char text[512], line[600];
  record_tags(h, r);
  for (i = 0; i < r->nrecords; i++) {
    vqt_record_text(VQ_READING_RECORD(r, i), text, sizeof text);
    snprintf(line, sizeof line, "%s %s", r->device, text);
    vqt_strv_push(&h->lines, line);
    if (h->verbose) fprintf(stderr, "  %s\n", line);
  }
}

static int h_emit(struct vq_ctx *ctx, const struct vq_reading *r) {
  struct vqt_host *h = H(ctx);
  const struct vq_reading *copy;
  size_t i;
  int rc;
  if (check_only_cfg(h, "emit")) return -EINVAL;
  if (h->kind != VQ_KIND_SOURCE && h->kind != VQ_KIND_PROCESSOR) {
    vqt_bug(h, "emit from a sink");
    return -EINVAL;
  }
  /* A processor still delivers what it flushes in stop(). */
  if (h->phase != PH_STARTED &&
      !(h->kind == VQ_KIND_PROCESSOR && h->phase == PH_STOPPING))
    return 0; /* the core drops these quietly */
  if (r == NULL || r->nrecords == 0) rc = -EINVAL;
  else if (h->kind == VQ_KIND_PROCESSOR && r->source == NULL) {
    vqt_bug(h, "a processor's reading must keep its source");
    return -EINVAL;
  } else
    rc = vqt_list_add(&h->readings, r,
                      h->kind == VQ_KIND_PROCESSOR ? vq_intern(r->source) : h->id,
                      h->kind == VQ_KIND_PROCESSOR ? r->time_ns : 0,
                      h->seq + 1);
  if (rc == -EINVAL) {
    vqt_bug(h, "malformed reading (no device, no records, or a record without "
           "quantity or with an unknown type) not emitted");
    return rc;
  }
  if (rc != 0) return rc;
  h->seq++;
  copy = h->readings.items[h->readings.n - 1];
  for (i = 0; i + 1 < h->readings.n; i++)
    if (h->readings.items[i]->time_ns == copy->time_ns) break;
  if (i + 1 == h->readings.n) h->distinct_times++;
  record_lines(h, copy);
  if (h->on_emit != NULL) h->on_emit(h->on_emit_arg, copy);
  return 0;
}

static void h_finished(struct vq_ctx *ctx) {
  if (check_only_cfg(H(ctx), "finished")) return;
  H(ctx)->finished++;
}

static void timer_fired(uv_timer_t *t) {
  struct vq_timer *timer = t->data;
  timer->cb(timer->arg);
}

static void timer_closed(uv_handle_t *handle) {
  struct vq_timer *timer = handle->data;
  timer->h->ntimers--;
  free(timer);
}

static struct vq_timer *h_timer_start(struct vq_ctx *ctx, uint64_t timeout_ms,
                                      uint64_t repeat_ms, vq_callback cb,
                                      void *arg) {
  struct vqt_host *h = H(ctx);
  struct vq_timer *timer;
  if (check_only_cfg(h, "timer_start")) return NULL;
  if (cb == NULL || h->phase == PH_STOPPED) return NULL;
  timer = calloc(1, sizeof *timer);
  if (timer == NULL) return NULL;
  if (uv_timer_init(h->loop, &timer->handle) != 0) {
    free(timer);
    return NULL;
  }
  timer->handle.data = timer;
  timer->h = h;
  timer->cb = cb;
  timer->arg = arg;
  timer->next = h->timers;
  h->timers = timer;
  h->ntimers++;
  uv_timer_start(&timer->handle, timer_fired, timeout_ms, repeat_ms);
  return timer;
}

static struct vq_timer **find_timer(struct vqt_host *h, struct vq_timer *t) {
  struct vq_timer **p;
  for (p = &h->timers; *p != NULL; p = &(*p)->next)
    if (*p == t) return p;
  return NULL;
}

void vqt_timer_stop(struct vq_ctx *ctx, struct vq_timer *timer) {
  struct vqt_host *h = H(ctx);
  struct vq_timer **p;
  if (check_only_cfg(h, "timer_stop") || timer == NULL) return;
  if ((p = find_timer(h, timer)) == NULL) {
    vqt_bug(h, "timer_stop of an unknown timer");
    return;
  }
  *p = timer->next;
  uv_timer_stop(&timer->handle);
  uv_close((uv_handle_t *)&timer->handle, timer_closed);
}

static int h_timer_again(struct vq_ctx *ctx, struct vq_timer *timer,
                         uint64_t timeout_ms, uint64_t repeat_ms) {
  struct vqt_host *h = H(ctx);
  if (check_only_cfg(h, "timer_again")) return -EINVAL;
  if (timer == NULL || find_timer(h, timer) == NULL) {
    vqt_bug(h, "timer_again of a timer the instance does not own");
    return -EINVAL;
  }
  return uv_timer_start(&timer->handle, timer_fired, timeout_ms, repeat_ms);
}

const struct vq_option *vqt_schema_option(const struct vqt_host *h,
                                             const char *key) {
  const struct vq_option *o, *prefix = NULL;
  for (o = h->plugin->options; o != NULL && o->key != NULL; o++) {
    size_t n = strlen(o->key);
    if (strcmp(o->key, key) == 0) return o;
    /* ABI 1.3 prefix keys ("scale." for "scale.battery.current"). */
    if ((o->flags & VQ_OPT_PREFIX) && n > 0 && o->key[n - 1] == '.' &&
        strncmp(o->key, key, n) == 0 && key[n] != '\0' && prefix == NULL)
      prefix = o;
  }
  return prefix;
}

const char *vqt_given(const struct vqt_host *h, const char *key) {
  size_t i;
  for (i = 0; i < h->kv.n; i += 2)
    if (strcmp(h->kv.v[i], key) == 0) return h->kv.v[i + 1];
  return NULL;
}

/* As daemon/host.c: the given text, else the default; -EINVAL for a key
 * the schema lacks, -ENOENT for neither. */
static int lookup(struct vqt_host *h, const char *key, const char **out) {
  const struct vq_option *o = vqt_schema_option(h, key);
  if (o == NULL) {
    vqt_bug(h, "asked for key '%s' that its schema does not declare", key);
    return -EINVAL;
  }
  *out = vqt_given(h, key);
  if (*out == NULL) *out = o->default_value;
  return *out ? 0 : -ENOENT;
}

static const char *h_cfg_string(struct vq_ctx *ctx, const char *key) {
  const char *v;
  return lookup(H(ctx), key, &v) == 0 ? v : NULL;
}

static int h_cfg_int(struct vq_ctx *ctx, const char *key, int64_t *out) {
  const char *v;
  int rc = lookup(H(ctx), key, &v);
  return rc ? rc : vq_parse_int(v, out);
}

static int h_cfg_double(struct vq_ctx *ctx, const char *key, double *out) {
  const char *v;
  int rc = lookup(H(ctx), key, &v);
  return rc ? rc : vq_parse_double(v, out);
}

static int h_cfg_bool(struct vq_ctx *ctx, const char *key, int *out) {
  const char *v;
  int rc = lookup(H(ctx), key, &v);
  return rc ? rc : vq_parse_bool(v, out);
}

static int h_cfg_duration(struct vq_ctx *ctx, const char *key, uint64_t *out) {
  const char *v;
  int rc = lookup(H(ctx), key, &v);
  return rc ? rc : vq_parse_duration_ms(v, out);
}

static int h_cfg_each(struct vq_ctx *ctx, const char *prefix,
                      void (*fn)(void *arg, const char *key, const char *value),
                      void *arg) {
  struct vqt_host *h = H(ctx);
  size_t i, n = strlen(prefix);
  int count = 0;
  if (!h->in_check && !h->in_create) {
    vqt_bug(h, "cfg_each outside check() and create()");
    return 0;
  }
  for (i = 0; i < h->kv.n; i += 2)
    if (strncmp(h->kv.v[i], prefix, n) == 0) {
      fn(arg, h->kv.v[i], h->kv.v[i + 1]);
      count++;
    }
  return count;
}

static int h_cfg_bind(struct vq_ctx *ctx, const struct vq_cfg_bind *table,
                      void *base) {
  struct vqt_host *h = H(ctx);
  const struct vq_cfg_bind *b;
  if (!h->in_check && !h->in_create) {
    vqt_bug(h, "cfg_bind outside check() and create()");
    return -EINVAL;
  }
  /* Every entry is checked before any field is written. */
  for (b = table; b->key != NULL; b++) {
    const struct vq_option *o = vqt_schema_option(h, b->key);
    if (o == NULL || o->type != b->type) {
      vqt_bug(h, "cfg_bind: key '%s' %s", b->key,
          o ? "has another type in the schema" : "is not in the schema");
      return -EINVAL;
    }
  }
  for (b = table; b->key != NULL; b++) {
    char *field = (char *)base + b->offset;
    const char *v;
    int rc = lookup(h, b->key, &v);
    if (rc == -ENOENT) continue;
    if (rc != 0) return rc;
    switch (b->type) {
    case VQ_OPT_INT: {
      int64_t i;
      if ((rc = vq_parse_int(v, &i)) == 0) memcpy(field, &i, sizeof i);
      break;
    }
    case VQ_OPT_DOUBLE: {
      double d;
      if ((rc = vq_parse_double(v, &d)) == 0) memcpy(field, &d, sizeof d);
      break;
    }
    case VQ_OPT_BOOL: {
      int i;
      if ((rc = vq_parse_bool(v, &i)) == 0) memcpy(field, &i, sizeof i);
      break;
    }
    case VQ_OPT_DURATION: {
      uint64_t ms;
      if ((rc = vq_parse_duration_ms(v, &ms)) == 0)
        memcpy(field, &ms, sizeof ms);
      break;
    }
    default: /* STRING, ENUM, SECRET */
      memcpy(field, &v, sizeof v);
    }
    if (rc != 0) return rc; /* a default the schema's own type rejects */
  }
  return 0;
}

void vqt_add_error(struct vqt_host *h, const char *key, const char *msg) {
  char line[1024];
  if (key != NULL) snprintf(line, sizeof line, "key '%s': %s", key, msg);
  else snprintf(line, sizeof line, "%s", msg);
  fprintf(stderr, "%s: [%s] %s\n", "vqt_host", h->label, line);
  vqt_strv_push(&h->errors, line);
  h->errors_in_step++;
}

static void h_cfg_error(struct vq_ctx *ctx, const char *key, const char *fmt,
                        ...) {
  struct vqt_host *h = H(ctx);
  char msg[768];
  va_list ap;
  if (!h->in_step) {
    vqt_bug(h, "cfg_error outside check(), create() and start()");
    return;
  }
  if (key != NULL && vqt_schema_option(h, key) == NULL)
    vqt_bug(h, "cfg_error for key '%s' that its schema does not declare", key);
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  vqt_add_error(h, key, msg);
}

static void h_batch_done(struct vq_ctx *ctx, const struct vq_batch *batch,
                         int status, uint32_t done, uint32_t rejected,
                         const char *reason) {
  struct vqt_host *h = H(ctx);
  if (check_only_cfg(h, "batch_done")) return;
  if (h->kind != VQ_KIND_SINK) {
    vqt_bug(h, "batch_done from a source");
    return;
  }
  if (!h->batch_pending || batch != h->batch) {
    vqt_bug(h, "batch_done for a batch not in flight");
    return;
  }
  h->batch_pending = 0;
  h->batch_result.status = status;
  h->batch_result.done = done;
  h->batch_result.rejected = rejected;
  snprintf(h->batch_result.reason, sizeof h->batch_result.reason, "%s",
           reason ? reason : "");
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int64_t h_command_submit(struct vq_ctx *ctx,
                                const struct vq_command *cmd,
                                const char **reason) {
  struct vqt_host *h = H(ctx);
  struct submitted *grown, *s;
  if (check_only_cfg(h, "command_submit")) return -EINVAL;
  if (cmd == NULL || cmd->source == NULL || cmd->quantity == NULL) {
    if (reason) *reason = "command without source or quantity";
    return -EINVAL;
  }
  grown = realloc(h->submitted, (h->nsubmitted + 1) * sizeof *grown);
  if (grown == NULL) return -ENOMEM;
  h->submitted = grown;
  s = &grown[h->nsubmitted];
  memset(s, 0, sizeof *s);
  s->cmd = *cmd;
  s->cmd.size = sizeof s->cmd;
  s->cmd.ticket = ++h->next_ticket;
  s->cmd.origin = h->label;
  s->source = dup_or_null(cmd->source);
  s->device = dup_or_null(cmd->device);
  s->quantity = dup_or_null(cmd->quantity);
  s->unit = dup_or_null(cmd->unit);
  s->cmd.source = s->source;
  s->cmd.device = s->device;
  s->cmd.quantity = s->quantity;
  s->cmd.unit = s->unit;
  h->nsubmitted++;
  return (int64_t)s->cmd.ticket;
}

void vqt_command_done(struct vq_ctx *ctx, uint64_t ticket, int status,
                           const char *message) {
  struct vqt_host *h = H(ctx);
  struct vqt_done *grown;
  if (check_only_cfg(h, "command_done")) return;
  if (vqt_host_done_of(h, ticket) != NULL) {
    vqt_bug(h, "command %llu completed twice", (unsigned long long)ticket);
    return;
  }
  grown = realloc(h->done, (h->ndone + 1) * sizeof *grown);
  if (grown == NULL) return;
  h->done = grown;
  grown[h->ndone].ticket = ticket;
  grown[h->ndone].status = status;
  snprintf(grown[h->ndone].message, sizeof grown[h->ndone].message, "%s",
           message ? message : "");
  if (h->verbose)
    fprintf(stderr, "%s: command %llu done: %d %s\n", h->label,
            (unsigned long long)ticket, status, grown[h->ndone].message);
  h->ndone++;
}

const struct vq_writable *vqt_find_writable(const struct vqt_host *h,
                                               const char *quantity) {
  const struct vq_writable *w;
  for (w = h->plugin->writables; w != NULL && w->quantity != NULL; w++)
    if (strcmp(w->quantity, quantity) == 0) return w;
  return NULL;
}

/* Only this instance's own grants are known here (source == its id). */
static int h_command_range(struct vq_ctx *ctx, const char *source,
                           const char *quantity, double *min, double *max,
                           double *step) {
  struct vqt_host *h = H(ctx);
  char key[256];
  const char *v;
  const struct vq_writable *w;
  double lo, hi;
  if (check_only_cfg(h, "command_range")) return -ENOENT;
  if (source == NULL || quantity == NULL || strcmp(source, h->id) != 0)
    return -ENOENT;
  snprintf(key, sizeof key, "write.%s", quantity);
  if ((v = vqt_given(h, key)) == NULL || (w = vqt_find_writable(h, quantity)) == NULL ||
      vq_parse_range(v, &lo, &hi) != 0)
    return -ENOENT;
  if (min) *min = lo;
  if (max) *max = hi;
  if (step) *step = w->step;
  return 0;
}

static void h_stat_add(struct vq_ctx *ctx, const char *name, int64_t delta) {
  struct vqt_host *h = H(ctx);
  struct stat_entry *grown;
  size_t i;
  if (check_only_cfg(h, "stat_add")) return;
  for (i = 0; i < h->nstats; i++)
    if (strcmp(h->stats[i].name, name) == 0) {
      h->stats[i].value += delta;
      return;
    }
  grown = realloc(h->stats, (h->nstats + 1) * sizeof *grown);
  if (grown == NULL) return;
  h->stats = grown;
  if ((grown[h->nstats].name = strdup(name)) == NULL) return;
  grown[h->nstats].value = delta;
  h->nstats++;
}

void vqt_run_posts(uv_async_t *a) {
  struct vqt_host *h = a->data;
  struct post *p;
  uv_mutex_lock(&h->post_lock);
  p = h->posts;
  h->posts = NULL;
  uv_mutex_unlock(&h->post_lock);
  /* They were pushed newest first: reverse to run them in order. */
  {
    struct post *rev = NULL;
    while (p != NULL) {
      struct post *next = p->next;
      p->next = rev;
      rev = p;
      p = next;
    }
    p = rev;
  }
  while (p != NULL) {
    struct post *next = p->next;
    p->cb(p->arg);
    free(p);
    p = next;
  }
}

/* The one call that is safe from any thread: it touches only the locked
 * queue and uv_async_send. */
static int h_post(struct vq_ctx *ctx, vq_callback cb, void *arg) {
  struct vqt_host *h = H(ctx);
  struct post *p;
  uv_mutex_lock(&h->post_lock);
  if (h->posts_closed) {
    uv_mutex_unlock(&h->post_lock);
    return -ESHUTDOWN;
  }
  uv_mutex_unlock(&h->post_lock);
  if ((p = malloc(sizeof *p)) == NULL) return -ENOMEM;
  p->cb = cb;
  p->arg = arg;
  uv_mutex_lock(&h->post_lock);
  if (h->posts_closed) { /* stopped between the two locks */
    uv_mutex_unlock(&h->post_lock);
    free(p);
    return -ESHUTDOWN;
  }
  p->next = h->posts;
  h->posts = p;
  uv_mutex_unlock(&h->post_lock);
  uv_async_send(&h->async);
  return 0;
}

static const struct vq_quantity_info *h_quantity_info(struct vq_ctx *ctx,
                                                      const char *quantity) {
  struct vqt_host *h = H(ctx);
  const struct vq_quantity_info *q;
  /* ABI 1.3 allows it in check() (a processor checks what it is given). */
  if ((h->plugin->abi_minor < 3 && check_only_cfg(h, "quantity_info")) ||
      quantity == NULL)
    return NULL;
  if (h->plugin->abi_minor >= 2)
    for (q = h->plugin->quantities; q != NULL && q->name != NULL;
         q = (const struct vq_quantity_info *)(const void *)((const char *)q +
                                                              q->size))
      if (strcmp(q->name, quantity) == 0) return q;
  return vq_vocabulary_find(quantity);
}

static const char *h_instance_id(struct vq_ctx *ctx) { return H(ctx)->id; }

static const char *h_state_dir(struct vq_ctx *ctx) {
  check_only_cfg(H(ctx), "state_dir");
  return H(ctx)->state_dir;
}

static int h_backlog(struct vq_ctx *ctx) {
  check_only_cfg(H(ctx), "backlog");
  return H(ctx)->backlog;
}

const struct vq_host vqt_table = {
    .size = sizeof(struct vq_host),
    .abi_major = VQ_ABI_MAJOR,
    .abi_minor = VQ_ABI_MINOR,
    .loop = h_loop,
    .log = h_log,
    .emit = h_emit,
    .finished = h_finished,
    .timer_start = h_timer_start,
    .timer_stop = vqt_timer_stop,
    .cfg_string = h_cfg_string,
    .cfg_int = h_cfg_int,
    .cfg_double = h_cfg_double,
    .cfg_bool = h_cfg_bool,
    .cfg_duration = h_cfg_duration,
    .batch_done = h_batch_done,
    .command_submit = h_command_submit,
    .command_done = vqt_command_done,
    .command_range = h_command_range,
    .stat_add = h_stat_add,
    .post = h_post,
    .quantity_info = h_quantity_info,
    .instance_id = h_instance_id,
    .state_dir = h_state_dir,
    .backlog = h_backlog,
    .cfg_error = h_cfg_error,
    .timer_again = h_timer_again,
    .cfg_bind = h_cfg_bind,
    .cfg_each = h_cfg_each,
};


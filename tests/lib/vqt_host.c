/* The test host (see vqt_host.h).  Where the daemon's behaviour matters to
 * a plugin, this follows daemon/host.c and daemon/daemon.c: the option
 * values are checked and parsed by the core's own functions, readings are
 * copied by vq_item_copy, a failed start() is not followed by stop(). */
#include "vqt_host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "pipeline.h"
#include "value_parse.h"
#include "vocabulary.h"
#include "vqt_reading.h"

enum phase { PH_NEW, PH_CHECKED, PH_CREATED, PH_STARTED, PH_STOPPING,
             PH_STOPPED };

struct strv {
  char **v;
  size_t n, cap;
};

struct vq_ctx {
  struct vqt_host *h;
};

struct vq_timer {
  uv_timer_t handle;
  struct vqt_host *h;
  vq_callback cb;
  void *arg;
  struct vq_timer *next;
};

struct post {
  struct post *next;
  vq_callback cb;
  void *arg;
};

struct stat_entry {
  char *name;
  int64_t value;
};

struct log_entry {
  int level;
  char *text;
};

struct submitted {
  struct vq_command cmd;
  char *source, *device, *quantity, *unit;
};

struct vqt_host {
  struct vq_ctx ctx;
  struct vq_ctx check_ctx; /* check()'s own, dead once check() returns */
  struct vq_host table;
  uv_loop_t *loop;
  const struct vq_plugin *plugin;
  uint32_t kind;
  char *id, *label;
  struct strv kv; /* key, value, key, value: secrets resolved */
  void *instance;
  enum phase phase;
  int in_check, in_create, in_step, errors_in_step, stopped_cb, verbose;

  struct vqt_list readings;
  struct strv lines;
  struct strv tag_seen; /* "DEVICE\nKEY", value, ... */
  uint64_t seq;
  size_t distinct_times;
  void (*on_emit)(void *arg, const struct vq_reading *r);
  void *on_emit_arg;

  struct log_entry *logs;
  size_t nlogs;
  struct strv errors;
  struct stat_entry *stats;
  size_t nstats;
  int bugs, finished;

  struct vq_timer *timers;
  size_t ntimers;
  uv_async_t async;
  uv_mutex_t post_lock;
  struct post *posts;
  int posts_closed; /* after the instance stopped: post() refuses */

  int backlog;
  char *state_dir;

  struct vqt_done *done;
  size_t ndone;
  uint64_t next_ticket;
  struct submitted *submitted;
  size_t nsubmitted;

  int batch_pending;
  const struct vq_batch *batch;
  struct vqt_batch_result batch_result;
};

/* ---- small helpers ---- */

static int strv_push(struct strv *s, const char *text) {
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

static void strv_free(struct strv *s) {
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

static void bug(struct vqt_host *h, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void bug(struct vqt_host *h, const char *fmt, ...) {
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
  bug(h, "%s called from check()", what);
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
    } else if (strv_push(&h->tag_seen, key) != 0 ||
               strv_push(&h->tag_seen, r->tags[t].value) != 0) {
      continue;
    }
    snprintf(line, sizeof line, "%s tag %s=%s", r->device, r->tags[t].key,
             r->tags[t].value);
    strv_push(&h->lines, line);
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
    strv_push(&h->lines, line);
    if (h->verbose) fprintf(stderr, "  %s\n", line);
  }
}

static int h_emit(struct vq_ctx *ctx, const struct vq_reading *r) {
  struct vqt_host *h = H(ctx);
  const struct vq_reading *copy;
  size_t i;
  int rc;
  if (check_only_cfg(h, "emit")) return -EINVAL;
  if (h->kind != VQ_KIND_SOURCE) {
    bug(h, "emit from a sink");
    return -EINVAL;
  }
  if (h->phase != PH_STARTED) return 0; /* the core drops these quietly */
  if (r == NULL || r->nrecords == 0) rc = -EINVAL;
  else rc = vqt_list_add(&h->readings, r, h->id, 0, h->seq + 1);
  if (rc == -EINVAL) {
    bug(h, "malformed reading (no device, no records, or a record without "
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

static void h_timer_stop(struct vq_ctx *ctx, struct vq_timer *timer) {
  struct vqt_host *h = H(ctx);
  struct vq_timer **p;
  if (check_only_cfg(h, "timer_stop") || timer == NULL) return;
  if ((p = find_timer(h, timer)) == NULL) {
    bug(h, "timer_stop of an unknown timer");
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
    bug(h, "timer_again of a timer the instance does not own");
    return -EINVAL;
  }
  return uv_timer_start(&timer->handle, timer_fired, timeout_ms, repeat_ms);
}

static const struct vq_option *schema_option(const struct vqt_host *h,
                                             const char *key) {
  const struct vq_option *o;
  for (o = h->plugin->options; o != NULL && o->key != NULL; o++)
    if (strcmp(o->key, key) == 0) return o;
  return NULL;
}

static const char *given(const struct vqt_host *h, const char *key) {
  size_t i;
  for (i = 0; i < h->kv.n; i += 2)
    if (strcmp(h->kv.v[i], key) == 0) return h->kv.v[i + 1];
  return NULL;
}

/* As daemon/host.c: the given text, else the default; -EINVAL for a key
 * the schema lacks, -ENOENT for neither. */
static int lookup(struct vqt_host *h, const char *key, const char **out) {
  const struct vq_option *o = schema_option(h, key);
  if (o == NULL) {
    bug(h, "asked for key '%s' that its schema does not declare", key);
    return -EINVAL;
  }
  *out = given(h, key);
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

static int h_cfg_bind(struct vq_ctx *ctx, const struct vq_cfg_bind *table,
                      void *base) {
  struct vqt_host *h = H(ctx);
  const struct vq_cfg_bind *b;
  if (!h->in_check && !h->in_create) {
    bug(h, "cfg_bind outside check() and create()");
    return -EINVAL;
  }
  /* Every entry is checked before any field is written. */
  for (b = table; b->key != NULL; b++) {
    const struct vq_option *o = schema_option(h, b->key);
    if (o == NULL || o->type != b->type) {
      bug(h, "cfg_bind: key '%s' %s", b->key,
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

static void add_error(struct vqt_host *h, const char *key, const char *msg) {
  char line[1024];
  if (key != NULL) snprintf(line, sizeof line, "key '%s': %s", key, msg);
  else snprintf(line, sizeof line, "%s", msg);
  fprintf(stderr, "%s: [%s] %s\n", "vqt_host", h->label, line);
  strv_push(&h->errors, line);
  h->errors_in_step++;
}

static void h_cfg_error(struct vq_ctx *ctx, const char *key, const char *fmt,
                        ...) {
  struct vqt_host *h = H(ctx);
  char msg[768];
  va_list ap;
  if (!h->in_step) {
    bug(h, "cfg_error outside check(), create() and start()");
    return;
  }
  if (key != NULL && schema_option(h, key) == NULL)
    bug(h, "cfg_error for key '%s' that its schema does not declare", key);
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  add_error(h, key, msg);
}

static void h_batch_done(struct vq_ctx *ctx, const struct vq_batch *batch,
                         int status, uint32_t done, uint32_t rejected,
                         const char *reason) {
  struct vqt_host *h = H(ctx);
  if (check_only_cfg(h, "batch_done")) return;
  if (h->kind != VQ_KIND_SINK) {
    bug(h, "batch_done from a source");
    return;
  }
  if (!h->batch_pending || batch != h->batch) {
    bug(h, "batch_done for a batch not in flight");
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

static void h_command_done(struct vq_ctx *ctx, uint64_t ticket, int status,
                           const char *message) {
  struct vqt_host *h = H(ctx);
  struct vqt_done *grown;
  if (check_only_cfg(h, "command_done")) return;
  if (vqt_host_done_of(h, ticket) != NULL) {
    bug(h, "command %llu completed twice", (unsigned long long)ticket);
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

static const struct vq_writable *find_writable(const struct vqt_host *h,
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
  if ((v = given(h, key)) == NULL || (w = find_writable(h, quantity)) == NULL ||
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

static void run_posts(uv_async_t *a) {
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
  if (check_only_cfg(h, "quantity_info") || quantity == NULL) return NULL;
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

static const struct vq_host table_template = {
    .size = sizeof(struct vq_host),
    .abi_major = VQ_ABI_MAJOR,
    .abi_minor = VQ_ABI_MINOR,
    .loop = h_loop,
    .log = h_log,
    .emit = h_emit,
    .finished = h_finished,
    .timer_start = h_timer_start,
    .timer_stop = h_timer_stop,
    .cfg_string = h_cfg_string,
    .cfg_int = h_cfg_int,
    .cfg_double = h_cfg_double,
    .cfg_bool = h_cfg_bool,
    .cfg_duration = h_cfg_duration,
    .batch_done = h_batch_done,
    .command_submit = h_command_submit,
    .command_done = h_command_done,
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
};

/* ---- set-up and the steps ---- */

struct vqt_host *vqt_host_new(uv_loop_t *loop, const struct vq_plugin *plugin,
                              uint32_t kind, const char *id,
                              const char *const *kv) {
  struct vqt_host *h = calloc(1, sizeof *h);
  size_t i, n;
  if (h == NULL) return NULL;
  h->ctx.h = h;
  h->table = table_template;
  h->loop = loop;
  h->plugin = plugin;
  h->kind = kind;
  h->verbose = getenv("VQT_VERBOSE") != NULL;
  h->id = strdup(id);
  n = strlen(id) + 8;
  h->label = malloc(n);
  if (h->id == NULL || h->label == NULL) goto fail;
  snprintf(h->label, n, "%s.%s", kind == VQ_KIND_SINK ? "sink" : "source", id);
  for (i = 0; kv != NULL && kv[i] != NULL; i += 2)
    if (strv_push(&h->kv, kv[i]) != 0 || strv_push(&h->kv, kv[i + 1]) != 0)
      goto fail;
  if (uv_mutex_init(&h->post_lock) != 0) goto fail;
  if (uv_async_init(loop, &h->async, run_posts) != 0) {
    uv_mutex_destroy(&h->post_lock);
    goto fail;
  }
  h->async.data = h;
  return h;
fail:
  strv_free(&h->kv);
  free(h->id);
  free(h->label);
  free(h);
  return NULL;
}

/* Read the first line of a secret's file, trimmed, as the core does. */
static int read_secret(struct vqt_host *h, const char *key, const char *path,
                       char **out) {
  char buf[1024], msg[1200];
  size_t len;
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(msg, sizeof msg, "cannot read '%s': %s", path, strerror(errno));
    add_error(h, key, msg);
    return -EINVAL;
  }
  if (fgets(buf, sizeof buf, f) == NULL) buf[0] = '\0';
  fclose(f);
  len = strlen(buf);
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
                     buf[len - 1] == ' ' || buf[len - 1] == '\t'))
    buf[--len] = '\0';
  *out = strdup(buf);
  return *out ? 0 : -ENOMEM;
}

static void check_grant(struct vqt_host *h, const char *key,
                        const char *value) {
  const struct vq_writable *w = find_writable(h, key + 6);
  double lo, hi;
  char msg[512];
  if (w == NULL) {
    add_error(h, key, "the plugin cannot write this quantity");
  } else if (vq_parse_range(value, &lo, &hi) != 0) {
    snprintf(msg, sizeof msg, "'%s' is not a range MIN..MAX", value);
    add_error(h, key, msg);
  } else if (lo < w->min || hi > w->max) {
    snprintf(msg, sizeof msg, "%g..%g is outside the device's %g..%g", lo, hi,
             w->min, w->max);
    add_error(h, key, msg);
  }
}

/* The section against the schema, as the core's pipeline loader does. */
static void check_schema(struct vqt_host *h) {
  const struct vq_option *o;
  char err[512];
  size_t i;
  for (i = 0; i < h->kv.n; i += 2) {
    const char *key = h->kv.v[i];
    size_t len = strlen(key);
    if (strncmp(key, "write.", 6) == 0 && h->kind == VQ_KIND_SOURCE) {
      check_grant(h, key, h->kv.v[i + 1]);
      continue;
    }
    if (len > 5 && strcmp(key + len - 5, "_file") == 0) {
      char base[256];
      snprintf(base, sizeof base, "%.*s", (int)(len - 5), key);
      o = schema_option(h, base);
      if (o != NULL && o->type == VQ_OPT_SECRET) {
        char *secret = NULL, *base_copy = strdup(base);
        if (base_copy != NULL &&
            read_secret(h, key, h->kv.v[i + 1], &secret) == 0) {
          free(h->kv.v[i]);
          free(h->kv.v[i + 1]);
          h->kv.v[i] = base_copy;
          h->kv.v[i + 1] = secret;
        } else {
          free(base_copy);
        }
        continue;
      }
    }
    if ((o = schema_option(h, key)) == NULL) {
      add_error(h, key, "unknown key");
      continue;
    }
    if (vq_option_check(o, h->kv.v[i + 1], err, sizeof err) != 0)
      add_error(h, key, err);
  }
  for (o = h->plugin->options; o != NULL && o->key != NULL; o++)
    if ((o->flags & VQ_OPT_REQUIRED) && given(h, o->key) == NULL)
      add_error(h, o->key, "is required");
}

int vqt_host_check(struct vqt_host *h) {
  int rc = 0;
  if (h->phase >= PH_CHECKED) return 0;
  h->errors_in_step = 0;
  check_schema(h);
  if (h->errors_in_step) return -EINVAL;
  if (h->plugin->abi_minor >= 2 && h->plugin->check != NULL) {
    h->check_ctx.h = h;
    h->in_check = h->in_step = 1;
    rc = h->plugin->check(&h->table, &h->check_ctx);
    h->in_check = h->in_step = 0;
    h->check_ctx.h = NULL;
    if (rc == 0 && h->errors_in_step) rc = -EINVAL;
    if (rc != 0 && !h->errors_in_step) add_error(h, NULL, "check failed");
    if (rc != 0) return rc;
  }
  h->phase = PH_CHECKED;
  return 0;
}

int vqt_host_create(struct vqt_host *h) {
  int rc;
  if (h->phase >= PH_CREATED) return 0;
  if ((rc = vqt_host_check(h)) != 0) return rc;
  h->errors_in_step = 0;
  h->in_step = h->in_create = 1;
  rc = h->plugin->create(&h->table, &h->ctx, &h->instance);
  h->in_step = h->in_create = 0;
  if (rc == 0 && h->errors_in_step) rc = -EINVAL;
  if (rc != 0) {
    /* The core forgets the instance: a failed create() cleans up itself. */
    h->instance = NULL;
    h->phase = PH_STOPPED;
    return rc;
  }
  h->phase = PH_CREATED;
  return 0;
}

static void close_timers(struct vqt_host *h) {
  while (h->timers != NULL) h_timer_stop(&h->ctx, h->timers);
}

/* Once stopped, nothing posted runs any more and post() refuses. */
static void close_posts(struct vqt_host *h) {
  struct post *p;
  uv_mutex_lock(&h->post_lock);
  h->posts_closed = 1;
  p = h->posts;
  h->posts = NULL;
  uv_mutex_unlock(&h->post_lock);
  while (p != NULL) {
    struct post *next = p->next;
    free(p);
    p = next;
  }
}

static void on_stopped(struct vq_ctx *ctx) {
  struct vqt_host *h = H(ctx);
  if (h->stopped_cb) bug(h, "stopped callback called twice");
  h->stopped_cb = 1;
  h->phase = PH_STOPPED;
  close_timers(h);
  close_posts(h);
}

int vqt_host_start(struct vqt_host *h) {
  int rc;
  if (h->phase >= PH_STARTED) return 0;
  if ((rc = vqt_host_create(h)) != 0) return rc;
  h->errors_in_step = 0;
  h->phase = PH_STARTED;
  h->in_step = 1;
  rc = h->plugin->start(h->instance);
  h->in_step = 0;
  if (rc == 0 && h->errors_in_step) rc = -EINVAL;
  if (rc != 0) {
    /* As the daemon: no stop() after a failed start(); destroy at once. */
    h->phase = PH_STOPPED;
    close_timers(h);
    close_posts(h);
    h->plugin->destroy(h->instance);
    h->instance = NULL;
    uv_run(h->loop, UV_RUN_NOWAIT);
  }
  return rc;
}

static int stopped_pred(struct vqt_host *h, void *arg) {
  (void)arg;
  return h->stopped_cb && h->ntimers == 0;
}

int vqt_host_stop(struct vqt_host *h) {
  int rc = 0;
  if (h->phase == PH_STARTED) {
    h->phase = PH_STOPPING;
    h->plugin->stop(h->instance, on_stopped);
    if (!vqt_host_run_until(h, stopped_pred, NULL, 5000)) {
      bug(h, "never reported stopped (or left timers open)");
      rc = -ETIMEDOUT;
    }
  } else if (h->phase == PH_CREATED || h->phase == PH_CHECKED) {
    h->phase = PH_STOPPED;
    close_posts(h);
  }
  if (h->instance != NULL && rc == 0) {
    h->plugin->destroy(h->instance);
    h->instance = NULL;
  }
  uv_run(h->loop, UV_RUN_NOWAIT);
  return rc;
}

static void async_closed(uv_handle_t *handle) { (void)handle; }

void vqt_host_free(struct vqt_host *h) {
  size_t i;
  if (h == NULL) return;
  vqt_host_stop(h);
  close_timers(h);
  close_posts(h);
  uv_close((uv_handle_t *)&h->async, async_closed);
  uv_run(h->loop, UV_RUN_NOWAIT);
  uv_mutex_destroy(&h->post_lock);
  vqt_host_clear(h);
  strv_free(&h->tag_seen);
  strv_free(&h->kv);
  strv_free(&h->errors);
  for (i = 0; i < h->nlogs; i++) free(h->logs[i].text);
  free(h->logs);
  for (i = 0; i < h->nstats; i++) free(h->stats[i].name);
  free(h->stats);
  for (i = 0; i < h->nsubmitted; i++) {
    free(h->submitted[i].source);
    free(h->submitted[i].device);
    free(h->submitted[i].quantity);
    free(h->submitted[i].unit);
  }
  free(h->submitted);
  free(h->done);
  free(h->state_dir);
  free(h->id);
  free(h->label);
  free(h);
}

/* ---- running the loop ---- */

static void wake(uv_timer_t *t) { (void)t; }

int vqt_host_run_until(struct vqt_host *h,
                       int (*pred)(struct vqt_host *h, void *arg), void *arg,
                       uint64_t timeout_ms) {
  uv_timer_t tick;
  uint64_t start;
  int met;
  uv_update_time(h->loop);
  start = uv_now(h->loop);
  uv_timer_init(h->loop, &tick);
  uv_timer_start(&tick, wake, 5, 5);
  while (!(met = pred(h, arg)) && uv_now(h->loop) - start < timeout_ms)
    uv_run(h->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(h->loop, UV_RUN_NOWAIT); /* the timer lives on this stack */
  return met;
}

static int finished_pred(struct vqt_host *h, void *arg) {
  (void)arg;
  return h->finished > 0;
}

int vqt_host_run_until_finished(struct vqt_host *h, uint64_t timeout_ms) {
  return vqt_host_run_until(h, finished_pred, NULL, timeout_ms);
}

static int readings_pred(struct vqt_host *h, void *arg) {
  return h->readings.n >= *(const size_t *)arg;
}

int vqt_host_run_until_readings(struct vqt_host *h, size_t n,
                                uint64_t timeout_ms) {
  return vqt_host_run_until(h, readings_pred, &n, timeout_ms);
}

static int never(struct vqt_host *h, void *arg) {
  (void)h;
  (void)arg;
  return 0;
}

void vqt_host_run_for(struct vqt_host *h, uint64_t ms) {
  vqt_host_run_until(h, never, NULL, ms);
}

/* ---- settings and getters ---- */

void vqt_host_set_backlog(struct vqt_host *h, int percent) {
  h->backlog = percent;
}

void vqt_host_set_state_dir(struct vqt_host *h, const char *dir) {
  free(h->state_dir);
  h->state_dir = dir ? strdup(dir) : NULL;
}

void vqt_host_on_emit(struct vqt_host *h,
                      void (*fn)(void *arg, const struct vq_reading *r),
                      void *arg) {
  h->on_emit = fn;
  h->on_emit_arg = arg;
}

const struct vq_plugin *vqt_host_plugin(const struct vqt_host *h) {
  return h->plugin;
}

void *vqt_host_instance(const struct vqt_host *h) { return h->instance; }

size_t vqt_host_nreadings(const struct vqt_host *h) { return h->readings.n; }

const struct vq_reading *vqt_host_reading(const struct vqt_host *h, size_t i) {
  return i < h->readings.n ? h->readings.items[i] : NULL;
}

const struct vq_reading *const *vqt_host_readings(const struct vqt_host *h) {
  return vqt_list_readings(&h->readings);
}

size_t vqt_host_distinct_times(const struct vqt_host *h) {
  return h->distinct_times;
}

size_t vqt_host_count(const struct vqt_host *h, const char *needle,
                      const char **last) {
  size_t i, n = 0;
  for (i = 0; i < h->lines.n; i++)
    if (strstr(h->lines.v[i], needle) != NULL) {
      n++;
      if (last) *last = h->lines.v[i];
    }
  return n;
}

size_t vqt_host_find_line(const struct vqt_host *h, size_t from,
                          const char *needle) {
  size_t i;
  for (i = from; i < h->lines.n; i++)
    if (strstr(h->lines.v[i], needle) != NULL) return i;
  return (size_t)-1;
}

const char *vqt_host_line(const struct vqt_host *h, size_t i) {
  return i < h->lines.n ? h->lines.v[i] : NULL;
}

void vqt_host_clear(struct vqt_host *h) {
  vqt_list_clear(&h->readings);
  strv_free(&h->lines);
  h->distinct_times = 0;
}

int vqt_host_finished(const struct vqt_host *h) { return h->finished; }

size_t vqt_host_log_count(const struct vqt_host *h, int level,
                          const char *needle) {
  size_t i, n = 0;
  for (i = 0; i < h->nlogs; i++)
    if (h->logs[i].level <= level &&
        (needle == NULL || strstr(h->logs[i].text, needle) != NULL))
      n++;
  return n;
}

size_t vqt_host_errors(const struct vqt_host *h, const char *needle) {
  size_t i, n = 0;
  for (i = 0; i < h->errors.n; i++)
    if (needle == NULL || strstr(h->errors.v[i], needle) != NULL) n++;
  return n;
}

int64_t vqt_host_stat(const struct vqt_host *h, const char *name) {
  size_t i;
  for (i = 0; i < h->nstats; i++)
    if (strcmp(h->stats[i].name, name) == 0) return h->stats[i].value;
  return 0;
}

int vqt_host_bugs(const struct vqt_host *h) { return h->bugs; }

size_t vqt_host_ntimers(const struct vqt_host *h) { return h->ntimers; }

/* ---- control path ---- */

uint64_t vqt_host_command(struct vqt_host *h, const char *device,
                          const char *quantity, double value, const char *unit,
                          int64_t deadline_ms) {
  struct vq_command cmd;
  int rc;
  memset(&cmd, 0, sizeof cmd);
  cmd.size = sizeof cmd;
  cmd.ticket = ++h->next_ticket;
  cmd.source = h->id;
  cmd.device = device;
  cmd.quantity = quantity;
  cmd.value = value;
  cmd.unit = unit;
  cmd.deadline_ns = vq_realtime_ns() + deadline_ms * 1000000;
  cmd.origin = "test";
  rc = h->plugin->command(h->instance, &cmd);
  if (rc < 0 && vqt_host_done_of(h, cmd.ticket) == NULL)
    h_command_done(&h->ctx, cmd.ticket, rc, "command() failed");
  return cmd.ticket;
}

size_t vqt_host_ndone(const struct vqt_host *h) { return h->ndone; }

const struct vqt_done *vqt_host_done(const struct vqt_host *h, size_t i) {
  return i < h->ndone ? &h->done[i] : NULL;
}

const struct vqt_done *vqt_host_done_of(const struct vqt_host *h,
                                        uint64_t ticket) {
  size_t i;
  for (i = 0; i < h->ndone; i++)
    if (h->done[i].ticket == ticket) return &h->done[i];
  return NULL;
}

size_t vqt_host_nsubmitted(const struct vqt_host *h) { return h->nsubmitted; }

const struct vq_command *vqt_host_submitted(const struct vqt_host *h,
                                            size_t i) {
  return i < h->nsubmitted ? &h->submitted[i].cmd : NULL;
}

void vqt_host_submitted_result(struct vqt_host *h, size_t i, int status,
                               const char *message) {
  if (i >= h->nsubmitted || h->plugin->command_result == NULL) return;
  h->plugin->command_result(h->instance, h->submitted[i].cmd.ticket, status,
                            message);
}

/* ---- sinks ---- */

static int batch_pred(struct vqt_host *h, void *arg) {
  (void)arg;
  return !h->batch_pending;
}

int vqt_host_write(struct vqt_host *h, const struct vq_reading *const *readings,
                   size_t n, uint32_t attempt, uint64_t timeout_ms,
                   struct vqt_batch_result *res) {
  struct vq_batch batch;
  size_t i;
  int rc;
  memset(&batch, 0, sizeof batch);
  batch.size = sizeof batch;
  batch.nreadings = (uint32_t)n;
  batch.readings = readings;
  batch.attempt = attempt;
  for (i = 0; i < n; i++) batch.nrecords += readings[i]->nrecords;
  memset(&h->batch_result, 0, sizeof h->batch_result);
  h->batch = &batch;
  h->batch_pending = 1;
  rc = h->plugin->write(h->instance, &batch);
  if (rc < 0 && h->batch_pending) {
    h->batch_pending = 0;
    h->batch_result.status = rc;
  } else if (!vqt_host_run_until(h, batch_pred, NULL, timeout_ms)) {
    /* The batch lives on this stack: a late batch_done is a bug report. */
    h->batch = NULL;
    h->batch_pending = 0;
    h->batch_result.status = -ETIMEDOUT;
  }
  h->batch = NULL;
  if (res) *res = h->batch_result;
  return h->batch_result.status;
}

int vqt_host_write_fn(void *arg, const struct vq_reading *const *readings,
                      size_t n) {
  int rc = vqt_host_write(arg, readings, n, 0, 5000, NULL);
  return rc == VQ_WRITE_OK ? 0 : rc;
}

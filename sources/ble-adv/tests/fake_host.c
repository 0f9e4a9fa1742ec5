/* Stand-in host for plugin tests (see fake_host.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_host.h"

#define MAX_KV 32
#define MAX_READINGS 4096
#define MAX_LOGS 512
#define MAX_STATS 64

struct vq_ctx {
  struct fh *h;
};

struct vq_timer {
  uv_timer_t t;
  vq_callback cb;
  void *arg;
};

struct fh {
  struct vq_ctx ctx;
  const struct vq_plugin *plugin;
  char id[64];
  char *kv[MAX_KV][2];
  int nkv;
  void *inst;
  int created, finished, stopped;
  struct fh_reading *readings;
  int nreadings;
  struct {
    int level;
    char text[600];
  } logs[MAX_LOGS];
  int nlogs;
  struct {
    char name[48];
    int64_t value;
  } stats[MAX_STATS];
  int nstats;
};

static uv_loop_t *loop;
static int quiet;
static void (*emit_hook)(const char *id, const struct fh_reading *r);

void fh_on_emit(void (*fn)(const char *id, const struct fh_reading *r)) { emit_hook = fn; }

void fh_quiet(int q) { quiet = q; }

uv_loop_t *fh_loop(void) {
  if (loop == NULL) loop = uv_default_loop();
  return loop;
}

static void *h_loop(struct vq_ctx *ctx) { return fh_loop(); }

static void h_log(struct vq_ctx *ctx, int level, const char *fmt, ...) {
  struct fh *h = ctx->h;
  char buf[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (!quiet) fprintf(stderr, "[%d] source.%s: %s\n", level, h->id, buf);
  if (h->nlogs < MAX_LOGS) {
    h->logs[h->nlogs].level = level;
    snprintf(h->logs[h->nlogs].text, sizeof h->logs[h->nlogs].text, "%s", buf);
    h->nlogs++;
  }
}

static int h_emit(struct vq_ctx *ctx, const struct vq_reading *r) {
  struct fh *h = ctx->h;
  struct fh_reading *o;
  uint32_t i;
  if (r->device == NULL || r->size < sizeof *r || r->record_size < sizeof(struct vq_record))
    return -EINVAL;
  if (h->nreadings >= MAX_READINGS) return -ENOSPC;
  o = &h->readings[h->nreadings++];
  memset(o, 0, sizeof *o);
  snprintf(o->device, sizeof o->device, "%s", r->device);
  o->time_ns = r->time_ns;
  for (i = 0; i < r->ntags; i++) {
    if (strcmp(r->tags[i].key, "product") == 0)
      snprintf(o->product, sizeof o->product, "%s", r->tags[i].value);
    if (strcmp(r->tags[i].key, "product_id") == 0)
      snprintf(o->product_id, sizeof o->product_id, "%s", r->tags[i].value);
  }
  for (i = 0; i < r->nrecords && i < 32; i++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, i);
    struct fh_record *x = &o->records[o->nrecords++];
    snprintf(x->quantity, sizeof x->quantity, "%s", rec->quantity);
    x->type = rec->type;
    x->flags = rec->flags;
    if (rec->type == VQ_VALUE_DOUBLE)
      x->f64 = rec->value.f64;
    else if (rec->type != VQ_VALUE_STRING)
      x->i64 = rec->value.i64;
    if (rec->text != NULL) {
      x->has_text = 1;
      snprintf(x->text, sizeof x->text, "%s", rec->text);
    }
  }
  if (emit_hook != NULL) emit_hook(h->id, o);
  return 0;
}

static void h_finished(struct vq_ctx *ctx) { ctx->h->finished++; }

static void timer_fire(uv_timer_t *t) {
  struct vq_timer *vt = t->data;
  vt->cb(vt->arg);
}

static struct vq_timer *h_timer_start(struct vq_ctx *ctx, uint64_t timeout, uint64_t repeat,
                                      vq_callback cb, void *arg) {
  struct vq_timer *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  uv_timer_init(fh_loop(), &t->t);
  t->t.data = t;
  t->cb = cb;
  t->arg = arg;
  uv_timer_start(&t->t, timer_fire, timeout, repeat);
  return t;
}

static void free_timer(uv_handle_t *hd) { free(hd->data); }

static void h_timer_stop(struct vq_ctx *ctx, struct vq_timer *t) {
  uv_close((uv_handle_t *)&t->t, free_timer);
}

static const struct vq_option *schema(const struct fh *h, const char *key) {
  const struct vq_option *o;
  for (o = h->plugin->options; o->key != NULL; o++)
    if (strcmp(o->key, key) == 0) return o;
  return NULL;
}

static const char *h_cfg_string(struct vq_ctx *ctx, const char *key) {
  struct fh *h = ctx->h;
  const struct vq_option *o = schema(h, key);
  int i;
  if (o == NULL) return NULL;
  for (i = 0; i < h->nkv; i++)
    if (strcmp(h->kv[i][0], key) == 0) return h->kv[i][1];
  return o->default_value;
}

static int h_cfg_double(struct vq_ctx *ctx, const char *key, double *out) {
  const char *v;
  char *end;
  if (schema(ctx->h, key) == NULL) return -EINVAL;
  if ((v = h_cfg_string(ctx, key)) == NULL) return -ENOENT;
  *out = strtod(v, &end);
  return *end == '\0' ? 0 : -EINVAL;
}

static int h_cfg_int(struct vq_ctx *ctx, const char *key, int64_t *out) {
  double d;
  int rc = h_cfg_double(ctx, key, &d);
  if (rc == 0) *out = (int64_t)d;
  return rc;
}

static int h_cfg_bool(struct vq_ctx *ctx, const char *key, int *out) {
  const char *v;
  if (schema(ctx->h, key) == NULL) return -EINVAL;
  if ((v = h_cfg_string(ctx, key)) == NULL) return -ENOENT;
  *out = strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
         strcasecmp(v, "on") == 0;
  return 0;
}

static int h_cfg_duration(struct vq_ctx *ctx, const char *key, uint64_t *out) {
  const char *v;
  char *end;
  double d;
  if (schema(ctx->h, key) == NULL) return -EINVAL;
  if ((v = h_cfg_string(ctx, key)) == NULL) return -ENOENT;
  d = strtod(v, &end);
  if (strcmp(end, "ms") == 0) *out = (uint64_t)d;
  else if (strcmp(end, "s") == 0 || *end == '\0') *out = (uint64_t)(d * 1000);
  else if (strcmp(end, "m") == 0) *out = (uint64_t)(d * 60000);
  else return -EINVAL;
  return 0;
}

static void h_stat_add(struct vq_ctx *ctx, const char *name, int64_t delta) {
  struct fh *h = ctx->h;
  int i;
  for (i = 0; i < h->nstats; i++)
    if (strcmp(h->stats[i].name, name) == 0) {
      h->stats[i].value += delta;
      return;
    }
  if (h->nstats < MAX_STATS) {
    snprintf(h->stats[h->nstats].name, sizeof h->stats[0].name, "%s", name);
    h->stats[h->nstats++].value = delta;
  }
}

static const char *h_instance_id(struct vq_ctx *ctx) { return ctx->h->id; }

static const struct vq_host host = {
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
  .stat_add = h_stat_add,
  .instance_id = h_instance_id,
};

struct fh *fh_new(const struct vq_plugin *plugin, const char *id, const char *const *kv) {
  struct fh *h = calloc(1, sizeof *h);
  if (h == NULL) return NULL;
  h->readings = calloc(MAX_READINGS, sizeof *h->readings);
  if (h->readings == NULL) {
    free(h);
    return NULL;
  }
  h->ctx.h = h;
  h->plugin = plugin;
  snprintf(h->id, sizeof h->id, "%s", id);
  for (; kv != NULL && kv[0] != NULL && h->nkv < MAX_KV; kv += 2) {
    h->kv[h->nkv][0] = strdup(kv[0]);
    h->kv[h->nkv][1] = strdup(kv[1]);
    h->nkv++;
  }
  return h;
}

int fh_create_start(struct fh *h) {
  int rc = h->plugin->create(&host, &h->ctx, &h->inst);
  if (rc != 0) return rc;
  h->created = 1;
  return h->plugin->start(h->inst);
}

static void stop_tick(uv_timer_t *t) { (void)t; }

int fh_run_until_finished(struct fh *h, uint64_t timeout_ms) {
  uint64_t end = uv_now(fh_loop()) + timeout_ms;
  uv_timer_t tick;
  uv_timer_init(fh_loop(), &tick);
  uv_timer_start(&tick, stop_tick, 10, 10);
  while (!h->finished && uv_now(fh_loop()) < end) uv_run(fh_loop(), UV_RUN_ONCE);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(fh_loop(), UV_RUN_NOWAIT);
  return h->finished > 0;
}

void fh_run_for(uint64_t ms) {
  uint64_t end;
  uv_timer_t tick;
  uv_update_time(fh_loop());
  end = uv_now(fh_loop()) + ms;
  uv_timer_init(fh_loop(), &tick);
  uv_timer_start(&tick, stop_tick, 5, 5);
  while (uv_now(fh_loop()) < end) uv_run(fh_loop(), UV_RUN_ONCE);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(fh_loop(), UV_RUN_NOWAIT);
}

static void on_stopped(struct vq_ctx *ctx) { ctx->h->stopped++; }

int fh_stop_destroy(struct fh *h) {
  int i;
  if (h->created) {
    h->plugin->stop(h->inst, on_stopped);
    for (i = 0; i < 1000 && !h->stopped; i++) uv_run(fh_loop(), UV_RUN_ONCE);
    /* Closes complete in the next loop turns. */
    uv_run(fh_loop(), UV_RUN_NOWAIT);
    h->plugin->destroy(h->inst);
    h->created = 0;
  }
  return h->stopped == 1 ? 0 : -1;
}

void fh_free(struct fh *h) {
  int i;
  for (i = 0; i < h->nkv; i++) {
    free(h->kv[i][0]);
    free(h->kv[i][1]);
  }
  free(h->readings);
  free(h);
}

int fh_nreadings(const struct fh *h) { return h->nreadings; }
const struct fh_reading *fh_reading_at(const struct fh *h, int i) { return &h->readings[i]; }

const struct fh_record *fh_find(const struct fh_reading *r, const char *quantity) {
  int i;
  for (i = 0; i < r->nrecords; i++)
    if (strcmp(r->records[i].quantity, quantity) == 0) return &r->records[i];
  return NULL;
}

int64_t fh_stat(const struct fh *h, const char *name) {
  int i;
  for (i = 0; i < h->nstats; i++)
    if (strcmp(h->stats[i].name, name) == 0) return h->stats[i].value;
  return 0;
}

int fh_log_count(const struct fh *h, int level, const char *needle) {
  int i, n = 0;
  for (i = 0; i < h->nlogs; i++)
    if (h->logs[i].level == level && strstr(h->logs[i].text, needle) != NULL) n++;
  return n;
}

int fh_finished(const struct fh *h) { return h->finished; }

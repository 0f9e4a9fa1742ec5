/* Test host for the vedirect plugin; see host_stub.h. */
#define _GNU_SOURCE
#include "host_stub.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const struct vq_plugin *vedirect_LTX_vq_plugin_entry(const uint16_t *majors,
                                                     size_t nmajors);

struct vq_ctx {
  struct stub *s;
};
static struct vq_ctx the_ctx;

struct vq_timer {
  uv_timer_t t;
  vq_callback cb;
  void *arg;
};

static struct stub *S(struct vq_ctx *c) { return c->s; }

static void *h_loop(struct vq_ctx *c) { return S(c)->loop; }

static void h_log(struct vq_ctx *c, int level, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (strstr(buf, "link lost")) S(c)->lost_logs++;
  if (strstr(buf, "flows again")) S(c)->again_logs++;
  if (S(c)->verbose || level <= VQ_LOG_WARN)
    fprintf(stderr, "[%d] source.test: %s\n", level, buf);
}

static void add_line(struct stub *s, const char *line) {
  if (s->nlines < STUB_LINES) s->lines[s->nlines++] = strdup(line);
  if (s->verbose) fprintf(stderr, "  %s\n", line);
}

static int h_emit(struct vq_ctx *c, const struct vq_reading *r) {
  struct stub *s = S(c);
  uint32_t i;
  char line[600];
  if (r->device == NULL || r->device[0] == '\0' || r->nrecords == 0)
    return -EINVAL;
  s->readings++;
  for (i = 0; i < r->ntags; i++) {
    snprintf(line, sizeof line, "%s tag %s=%s", r->device, r->tags[i].key,
             r->tags[i].value);
    if (s->readings == 1) add_line(s, line);
  }
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, i);
    int n = snprintf(line, sizeof line, "%s %s=", r->device, rec->quantity);
    if (rec->flags & VQ_RECORD_NA) {
      snprintf(line + n, sizeof line - (size_t)n, "NA");
    } else {
      switch (rec->type) {
        case VQ_VALUE_DOUBLE:
          snprintf(line + n, sizeof line - (size_t)n, "%.6g", rec->value.f64);
          break;
        case VQ_VALUE_STRING:
          snprintf(line + n, sizeof line - (size_t)n, "%s", rec->value.str);
          break;
        default:
          snprintf(line + n, sizeof line - (size_t)n, "%lld%s%s%s",
                   (long long)rec->value.i64, rec->text ? " [" : "",
                   rec->text ? rec->text : "", rec->text ? "]" : "");
      }
    }
    add_line(s, line);
  }
  return 0;
}

static void h_finished(struct vq_ctx *c) { S(c)->finished++; }

static void timer_fire(uv_timer_t *t) {
  struct vq_timer *vt = t->data;
  vt->cb(vt->arg);
}

static struct vq_timer *h_timer_start(struct vq_ctx *c, uint64_t timeout,
                                      uint64_t repeat, vq_callback cb,
                                      void *arg) {
  struct vq_timer *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  uv_timer_init(S(c)->loop, &t->t);
  t->t.data = t;
  t->cb = cb;
  t->arg = arg;
  uv_timer_start(&t->t, timer_fire, timeout, repeat);
  return t;
}

static void timer_free(uv_handle_t *h) { free(h->data); }

static void h_timer_stop(struct vq_ctx *c, struct vq_timer *t) {
  (void)c;
  uv_timer_stop(&t->t);
  uv_close((uv_handle_t *)&t->t, timer_free);
}

static const char *lookup(struct stub *s, const char *key) {
  size_t i;
  for (i = 0; s->kv[i]; i += 2)
    if (strcmp(s->kv[i], key) == 0) return s->kv[i + 1];
  return NULL;
}

static const struct vq_option *opt(struct stub *s, const char *key) {
  const struct vq_option *o;
  for (o = s->plugin->options; o->key; o++)
    if (strcmp(o->key, key) == 0) return o;
  return NULL;
}

static const char *h_cfg_string(struct vq_ctx *c, const char *key) {
  const char *v = lookup(S(c), key);
  const struct vq_option *o = opt(S(c), key);
  if (v) return v;
  return o ? o->default_value : NULL;
}

static int h_cfg_double(struct vq_ctx *c, const char *key, double *out) {
  const char *v = h_cfg_string(c, key);
  char *end;
  if (opt(S(c), key) == NULL) return -EINVAL;
  if (v == NULL) return -ENOENT;
  *out = strtod(v, &end);
  return *end ? -EINVAL : 0;
}

static int h_cfg_int(struct vq_ctx *c, const char *key, int64_t *out) {
  double d;
  int rc = h_cfg_double(c, key, &d);
  if (rc == 0) *out = (int64_t)d;
  return rc;
}

static int h_cfg_bool(struct vq_ctx *c, const char *key, int *out) {
  const char *v = h_cfg_string(c, key);
  if (opt(S(c), key) == NULL) return -EINVAL;
  if (v == NULL) return -ENOENT;
  *out = strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
  return 0;
}

static int h_cfg_duration(struct vq_ctx *c, const char *key, uint64_t *out) {
  const char *v = h_cfg_string(c, key);
  char *end;
  double d;
  if (opt(S(c), key) == NULL) return -EINVAL;
  if (v == NULL) return -ENOENT;
  d = strtod(v, &end);
  if (strcmp(end, "ms") == 0) *out = (uint64_t)d;
  else if (strcmp(end, "s") == 0 || *end == '\0') *out = (uint64_t)(d * 1000);
  else if (strcmp(end, "m") == 0) *out = (uint64_t)(d * 60000);
  else return -EINVAL;
  return 0;
}

static void h_command_done(struct vq_ctx *c, uint64_t ticket, int status,
                           const char *msg) {
  struct stub *s = S(c);
  s->done_ticket = ticket;
  s->done_status = status;
  s->done_count++;
  snprintf(s->done_msg, sizeof s->done_msg, "%s", msg ? msg : "");
  if (s->verbose) fprintf(stderr, "command %llu done: %d %s\n",
                          (unsigned long long)ticket, status, s->done_msg);
}

static int h_command_range(struct vq_ctx *c, const char *source,
                           const char *quantity, double *min, double *max,
                           double *step) {
  char key[128];
  const char *v;
  (void)source;
  snprintf(key, sizeof key, "write.%s", quantity);
  const char *dots;
  char *end;
  v = lookup(S(c), key);
  if (v == NULL || (dots = strstr(v, "..")) == NULL) return -ENOENT;
  {
    char lo[64];
    snprintf(lo, sizeof lo, "%.*s", (int)(dots - v), v);
    *min = strtod(lo, &end);
    if (*end || lo[0] == '\0') return -ENOENT;
  }
  *max = strtod(dots + 2, &end);
  if (*end) return -ENOENT;
  *step = 0.1;
  return 0;
}

static void h_stat_add(struct vq_ctx *c, const char *name, int64_t d) {
  (void)c;
  (void)name;
  (void)d;
}

static const char *h_instance_id(struct vq_ctx *c) {
  (void)c;
  return "test";
}

int stub_start(struct stub *s, uv_loop_t *loop, const char *const *kv) {
  static const uint16_t majors[] = {VQ_ABI_MAJOR};
  int rc;
  s->loop = loop;
  s->kv = kv;
  s->verbose = getenv("VED_VERBOSE") != NULL;
  s->plugin = vedirect_LTX_vq_plugin_entry(majors, 1);
  if (s->plugin == NULL) return -ENOENT;
  s->host.size = sizeof s->host;
  s->host.abi_major = VQ_ABI_MAJOR;
  s->host.abi_minor = VQ_ABI_MINOR;
  s->host.loop = h_loop;
  s->host.log = h_log;
  s->host.emit = h_emit;
  s->host.finished = h_finished;
  s->host.timer_start = h_timer_start;
  s->host.timer_stop = h_timer_stop;
  s->host.cfg_string = h_cfg_string;
  s->host.cfg_int = h_cfg_int;
  s->host.cfg_double = h_cfg_double;
  s->host.cfg_bool = h_cfg_bool;
  s->host.cfg_duration = h_cfg_duration;
  s->host.command_done = h_command_done;
  s->host.command_range = h_command_range;
  s->host.stat_add = h_stat_add;
  s->host.instance_id = h_instance_id;
  the_ctx.s = s;
  if ((rc = s->plugin->create(&s->host, &the_ctx, &s->instance)) < 0) return rc;
  return s->plugin->start(s->instance);
}

static void on_stopped(struct vq_ctx *c) { S(c)->stopped = 1; }

void stub_stop(struct stub *s) {
  s->plugin->stop(s->instance, on_stopped);
  while (!s->stopped) uv_run(s->loop, UV_RUN_ONCE);
  s->plugin->destroy(s->instance);
}

size_t stub_count(const struct stub *s, const char *needle, const char **last) {
  size_t i, n = 0;
  for (i = 0; i < s->nlines; i++)
    if (strstr(s->lines[i], needle)) {
      n++;
      if (last) *last = s->lines[i];
    }
  return n;
}

uint64_t stub_command(struct stub *s, const char *device, double value,
                      int64_t deadline_ms) {
  static uint64_t next_ticket = 1;
  struct vq_command cmd;
  struct timespec ts;
  memset(&cmd, 0, sizeof cmd);
  clock_gettime(CLOCK_REALTIME, &ts);
  cmd.size = sizeof cmd;
  cmd.ticket = next_ticket++;
  cmd.source = "test";
  cmd.device = device;
  cmd.quantity = "charger.current_limit";
  cmd.value = value;
  cmd.unit = "A";
  cmd.deadline_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec +
                    deadline_ms * 1000000;
  cmd.origin = "test";
  s->plugin->command(s->instance, &cmd);
  return cmd.ticket;
}

void stub_free(struct stub *s) {
  size_t i;
  for (i = 0; i < s->nlines; i++) free(s->lines[i]);
  s->nlines = 0;
}

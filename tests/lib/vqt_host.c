/* The test host (see vqt_host.h): set-up, the daemon's steps, running the
 * loop, and what the test asks.  Where the daemon's behaviour matters to a
 * plugin this follows daemon/daemon.c and daemon/pipeline.c: the section is
 * checked by the core's vq_option_check, a failed start() is not followed
 * by stop().  The functions the plugin calls are in vqt_table.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "pipeline.h"
#include "value_parse.h"
#include "vqt_host_int.h"

/* ---- set-up and the steps ---- */

struct vqt_host *vqt_host_new(uv_loop_t *loop, const struct vq_plugin *plugin,
                              uint32_t kind, const char *id,
                              const char *const *kv) {
  struct vqt_host *h = calloc(1, sizeof *h);
  size_t i, n;
  if (h == NULL) return NULL;
  h->ctx.h = h;
  h->table = vqt_table;
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
    if (vqt_strv_push(&h->kv, kv[i]) != 0 || vqt_strv_push(&h->kv, kv[i + 1]) != 0)
      goto fail;
  if (uv_mutex_init(&h->post_lock) != 0) goto fail;
  if (uv_async_init(loop, &h->async, vqt_run_posts) != 0) {
    uv_mutex_destroy(&h->post_lock);
    goto fail;
  }
  h->async.data = h;
  return h;
fail:
  vqt_strv_free(&h->kv);
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
    vqt_add_error(h, key, msg);
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
  const struct vq_writable *w = vqt_find_writable(h, key + 6);
  double lo, hi;
  char msg[512];
  if (w == NULL) {
    vqt_add_error(h, key, "the plugin cannot write this quantity");
  } else if (vq_parse_range(value, &lo, &hi) != 0) {
    snprintf(msg, sizeof msg, "'%s' is not a range MIN..MAX", value);
    vqt_add_error(h, key, msg);
  } else if (lo < w->min || hi > w->max) {
    snprintf(msg, sizeof msg, "%g..%g is outside the device's %g..%g", lo, hi,
             w->min, w->max);
    vqt_add_error(h, key, msg);
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
      o = vqt_schema_option(h, base);
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
    if ((o = vqt_schema_option(h, key)) == NULL) {
      vqt_add_error(h, key, "unknown key");
      continue;
    }
    if (vq_option_check(o, h->kv.v[i + 1], err, sizeof err) != 0)
      vqt_add_error(h, key, err);
  }
  for (o = h->plugin->options; o != NULL && o->key != NULL; o++)
    if ((o->flags & VQ_OPT_REQUIRED) && vqt_given(h, o->key) == NULL)
      vqt_add_error(h, o->key, "is required");
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
    if (rc != 0 && !h->errors_in_step) vqt_add_error(h, NULL, "check failed");
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
  while (h->timers != NULL) vqt_timer_stop(&h->ctx, h->timers);
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
  struct vqt_host *h = ctx->h;
  if (h->stopped_cb) vqt_bug(h, "stopped callback called twice");
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
      vqt_bug(h, "never reported stopped (or left timers open)");
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
  vqt_strv_free(&h->tag_seen);
  vqt_strv_free(&h->kv);
  vqt_strv_free(&h->errors);
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
  vqt_strv_free(&h->lines);
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
    vqt_command_done(&h->ctx, cmd.ticket, rc, "command() failed");
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

/* modbus-gx: a whole Victron system through its GX device over Modbus TCP.
 * This file is the loop side: options, lifecycle, turning the worker's
 * results into readings, commands, the scan tool.  The network side is
 * gx_worker.c.  sources/modbus-gx/README.md describes the plugin;
 * doc/protocols/modbus-gx.md the GX. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gx.h"
#include "gx_discover.h"
#include "vq_mkdirs.h"

static const struct vq_option options[] = {
    {.key = "host", .type = VQ_OPT_STRING, .flags = VQ_OPT_REQUIRED,
     .help = "address or name of the GX device (its Modbus TCP server must "
             "be on: Settings, Services or Integrations, Modbus TCP)"},
    {.key = "port", .type = VQ_OPT_INT, .default_value = "502", .min = 1,
     .max = 65535, .help = "Modbus TCP port of the GX"},
    {.key = "units", .type = VQ_OPT_STRING, .default_value = "auto",
     .help = "auto (discover, result kept in state_dir) or the unit ids to "
             "read, e.g. 100, 225, 226, 227 (the GX page 'Available "
             "services' lists them)"},
    {.key = "interval", .type = VQ_OPT_DURATION, .default_value = "5s",
     .min = 100, .max = 86400000, .help = "time between poll cycles"},
    {.key = "timeout", .type = VQ_OPT_DURATION, .default_value = "2s",
     .min = 100, .max = 60000,
     .help = "response timeout (the GX's first reads of a register are slow)"},
    {.key = "setpoint_refresh", .type = VQ_OPT_DURATION, .default_value = "10s",
     .min = 1000, .max = 60000,
     .help = "ESS mode-3 setpoints are written again this often until the "
             "next command (the GX drops them after 10-60 s)"},
    {.key = "mode", .type = VQ_OPT_ENUM, .default_value = "poll",
     .choices = "poll|scan",
     .help = "poll: emit readings; scan: discover, print and finish "
             "(vicacq scan modbus-gx)"},
    {.key = NULL}};

static const struct vq_tool tools[] = {
    {.name = "scan",
     .summary = "find the units and services of a GX and print the units = "
                "line to use",
     .preset = "mode=scan",
     .options = "host,port,timeout",
     .required = "host"},
    {.name = NULL}};

void gx_device_id(int unit, int service, char out[8]) {
  if (gx_service_is_system(service)) snprintf(out, 8, "100");
  else if (unit == 100 || unit == 0) snprintf(out, 8, "0");
  else snprintf(out, 8, "%d", unit);
}

/* ---- from the worker ---------------------------------------------------- */

struct gx_msg {
  struct gx *gx;
  int level;
  uint64_t ticket;
  int status;
  char text[];
};

static void post_or_free(struct gx *gx, vq_callback cb, void *arg) {
  if (gx->host->post(gx->ctx, cb, arg) != 0) free(arg);
}

static void on_log(void *arg) {
  struct gx_msg *m = arg;
  m->gx->host->log(m->gx->ctx, m->level, "%s", m->text);
  free(m);
}

void gx_post_log(struct gx *gx, int level, const char *fmt, ...) {
  va_list ap;
  char buf[512];
  struct gx_msg *m;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  m = malloc(sizeof *m + strlen(buf) + 1);
  if (m == NULL) return;
  m->gx = gx;
  m->level = level;
  strcpy(m->text, buf);
  post_or_free(gx, on_log, m);
}

static void on_command_done(void *arg) {
  struct gx_msg *m = arg;
  m->gx->host->command_done(m->gx->ctx, m->ticket, m->status,
                            m->text[0] ? m->text : NULL);
  free(m);
}

void gx_post_command_done(struct gx *gx, uint64_t ticket, int status,
                          const char *message) {
  size_t n = message ? strlen(message) : 0;
  struct gx_msg *m = malloc(sizeof *m + n + 1);
  if (m == NULL) return;
  m->gx = gx;
  m->ticket = ticket;
  m->status = status;
  memcpy(m->text, message ? message : "", n + 1);
  post_or_free(gx, on_command_done, m);
}

static void on_stat(void *arg) {
  struct gx_msg *m = arg;
  m->gx->host->stat_add(m->gx->ctx, m->text, (int64_t)m->ticket);
  free(m);
}

void gx_post_stat(struct gx *gx, const char *name, int64_t delta) {
  struct gx_msg *m = malloc(sizeof *m + strlen(name) + 1);
  if (m == NULL) return;
  m->gx = gx;
  m->ticket = (uint64_t)delta;
  strcpy(m->text, name);
  post_or_free(gx, on_stat, m);
}

void gx_out_free(struct gx_out *out) {
  size_t i;
  for (i = 0; i < out->nsamples; i++) free(out->samples[i].text);
  free(out->samples);
  free(out->product);
  free(out->product_id);
  free(out->custom_name);
  free(out->serial);
  free(out->firmware);
  free(out);
}

/* The label of an enum code: the vocabulary's label set (shared by every
 * transport) when it has one, else the CSV's words. */
static const char *label_of(struct gx *gx, const struct gx_point *pt,
                            int64_t code, char *fallback, size_t size) {
  const struct vq_quantity_info *q = gx->host->quantity_info(gx->ctx, pt->quantity);
  const struct vq_label *labels = pt->labels;
  uint32_t n = pt->nlabels, i;
  if (q != NULL && VQ_HAS_FIELD(q, struct vq_quantity_info, nlabels) &&
      q->labels != NULL) {
    labels = q->labels;
    n = q->nlabels;
  }
  for (i = 0; i < n; i++)
    if (labels[i].code == code) return labels[i].label;
  snprintf(fallback, size, "unknown_%lld", (long long)code);
  return fallback;
}

static void on_reading(void *arg) {
  struct gx_out *out = arg;
  struct gx *gx = out->gx;
  struct vq_record *recs = calloc(out->nsamples + 1, sizeof *recs);
  char (*fallback)[32] = calloc(out->nsamples + 1, sizeof *fallback);
  struct vq_tag tags[7];
  struct vq_reading r = VQ_READING_INIT;
  size_t i, n = 0, nt = 0;
  if (recs == NULL || fallback == NULL) goto done;
  for (i = 0; i < out->nsamples; i++) {
    const struct gx_sample *s = &out->samples[i];
    const struct gx_point *pt = &gx_points[s->point];
    struct vq_record *rec = &recs[n++];
    rec->quantity = pt->quantity;
    rec->unit = pt->unit;
    rec->type = pt->type;
    if (pt->type == VQ_VALUE_STRING) {
      rec->value.str = s->text ? s->text : "";
    } else if (pt->type == VQ_VALUE_ENUM) {
      rec->value.i64 = (int64_t)s->value;
      rec->text = label_of(gx, pt, rec->value.i64, fallback[i], sizeof fallback[i]);
    } else {
      rec->value.f64 = s->value;
    }
  }
  if (out->online >= 0) {
    struct vq_record *rec = &recs[n++];
    rec->quantity = "link.online";
    rec->type = VQ_VALUE_BOOL;
    rec->value.i64 = out->online;
  }
  tags[nt++] = (struct vq_tag){"service", gx_services[out->service]};
  if (out->product) tags[nt++] = (struct vq_tag){"product", out->product};
  if (out->product_id) tags[nt++] = (struct vq_tag){"product_id", out->product_id};
  if (out->custom_name) tags[nt++] = (struct vq_tag){"custom_name", out->custom_name};
  if (out->serial) tags[nt++] = (struct vq_tag){"serial", out->serial};
  if (out->firmware) tags[nt++] = (struct vq_tag){"firmware", out->firmware};
  r.device = out->device;
  r.time_ns = out->time_ns;
  r.tags = tags;
  r.ntags = (uint32_t)nt;
  r.records = recs;
  r.nrecords = (uint32_t)n;
  if (n > 0 && gx->host->emit(gx->ctx, &r) != 0)
    gx->host->stat_add(gx->ctx, "emit_failed", 1);
done:
  free(recs);
  free(fallback);
  gx_out_free(out);
}

void gx_post_reading(struct gx *gx, struct gx_out *out) {
  if (gx->host->post(gx->ctx, on_reading, out) != 0) gx_out_free(out);
}

struct gx_text {
  struct gx *gx;
  char *text;
};

static void on_scan_done(void *arg) {
  struct gx_text *t = arg;
  fputs(t->text, stdout);
  fflush(stdout);
  free(t->text);
  free(t);
}

void gx_post_scan_done(struct gx *gx, char *text) {
  struct gx_text *t = malloc(sizeof *t);
  if (t == NULL || text == NULL) {
    free(t);
    free(text);
    return;
  }
  t->gx = gx;
  t->text = text;
  if (gx->host->post(gx->ctx, on_scan_done, t) != 0) {
    free(text);
    free(t);
  }
}

static void on_exited(void *arg) {
  struct gx *gx = arg;
  uv_thread_join(&gx->thread);
  gx->thread_started = 0;
  if (gx->mode == GX_MODE_SCAN && gx->stopped == NULL)
    gx->host->finished(gx->ctx);
  if (gx->stopped) {
    vq_stopped_cb done = gx->stopped;
    gx->stopped = NULL;
    done(gx->ctx);
  }
}

void gx_post_exited(struct gx *gx) {
  gx->host->post(gx->ctx, on_exited, gx);
}

/* ---- configuration ------------------------------------------------------- */

static void cfg_problem(const struct vq_host *host, struct vq_ctx *ctx,
                        const char *key, const char *fmt, const char *what) {
  if (VQ_HOST_HAS(host, cfg_error)) host->cfg_error(ctx, key, fmt, what);
  else host->log(ctx, VQ_LOG_ERROR, fmt, what);
}

/* units = auto | a comma-separated list of unit ids 0..247. */
static int parse_units(const char *text, uint8_t units[256], int *is_auto) {
  const char *p = text;
  memset(units, 0, 256);
  *is_auto = strcmp(text, "auto") == 0;
  if (*is_auto) return 0;
  while (*p) {
    char *end;
    long u;
    while (*p == ' ' || *p == ',') p++;
    if (*p == '\0') break;
    u = strtol(p, &end, 10);
    if (end == p || u < 0 || u > 247) return -EINVAL;
    units[u] = 1;
    p = end;
    while (*p == ' ') p++;
    if (*p != ',' && *p != '\0') return -EINVAL;
  }
  return 0;
}

static int gx_check(const struct vq_host *host, struct vq_ctx *ctx) {
  const char *units = host->cfg_string(ctx, "units");
  uint8_t list[256];
  int is_auto, rc = 0;
  if (units == NULL || parse_units(units, list, &is_auto) != 0) {
    cfg_problem(host, ctx, "units",
                "'%s' is not auto or a list of unit ids 0..247",
                units ? units : "");
    rc = -EINVAL;
  }
  return rc;
}

static int gx_create(const struct vq_host *host, struct vq_ctx *ctx,
                     void **instance) {
  struct gx *gx;
  int64_t port;
  const char *mode, *dir, *units;
  int rc = gx_check(host, ctx);
  if (rc != 0) return rc;
  gx = calloc(1, sizeof *gx);
  if (gx == NULL) return -ENOMEM;
  gx->host = host;
  gx->ctx = ctx;
  gx->hostname = host->cfg_string(ctx, "host");
  units = host->cfg_string(ctx, "units");
  if (host->cfg_int(ctx, "port", &port) != 0 ||
      host->cfg_duration(ctx, "interval", &gx->interval_ms) != 0 ||
      host->cfg_duration(ctx, "timeout", &gx->timeout_ms) != 0 ||
      host->cfg_duration(ctx, "setpoint_refresh", &gx->refresh_ms) != 0 ||
      (mode = host->cfg_string(ctx, "mode")) == NULL ||
      parse_units(units, gx->units, &gx->units_auto) != 0) {
    free(gx);
    return -EINVAL;
  }
  snprintf(gx->port, sizeof gx->port, "%d", (int)port);
  gx->mode = strcmp(mode, "scan") == 0 ? GX_MODE_SCAN : GX_MODE_POLL;
  dir = host->state_dir(ctx);
  if (dir != NULL &&
      snprintf(gx->cache_path, sizeof gx->cache_path,
               "%s/modbus-gx.%s.discovery", dir, host->instance_id(ctx)) >=
          (int)sizeof gx->cache_path)
    gx->cache_path[0] = '\0';
  gx->jobs_tail = &gx->jobs;
  if (uv_mutex_init(&gx->mu) != 0 || uv_cond_init(&gx->cv) != 0) {
    free(gx);
    return -ENOMEM;
  }
  *instance = gx;
  return 0;
}

static int gx_start(void *instance) {
  struct gx *gx = instance;
  int rc;
  if (gx->cache_path[0]) {
    char dir[4096];
    char *slash;
    snprintf(dir, sizeof dir, "%s", gx->cache_path);
    slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    vq_mkdirs(dir, 0750); /* an error shows when the file is opened */
  }
  rc = gx_worker_start(gx);
  if (rc != 0) {
    gx->host->log(gx->ctx, VQ_LOG_ERROR, "cannot start the worker thread: %s",
                  uv_strerror(rc));
    return rc;
  }
  gx->thread_started = 1;
  return 0;
}

static void gx_stop(void *instance, vq_stopped_cb done) {
  struct gx *gx = instance;
  if (!gx->thread_started) {
    done(gx->ctx);
    return;
  }
  gx->stopped = done;
  gx_worker_stop(gx);
}

static void gx_destroy(void *instance) {
  struct gx *gx = instance;
  struct gx_job *j = gx->jobs;
  while (j) {
    struct gx_job *next = j->next;
    free(j);
    j = next;
  }
  uv_cond_destroy(&gx->cv);
  uv_mutex_destroy(&gx->mu);
  free(gx);
}

/* A validated command (range and unit checked by the host): find the
 * point at that device and queue it for the worker. */
static int gx_command(void *instance, const struct vq_command *cmd) {
  struct gx *gx = instance;
  struct gx_job *job;
  size_t p;
  long unit;
  char *end;
  unit = strtol(cmd->device, &end, 10);
  if (*end != '\0' || unit < 0 || unit > 247) return -ENODEV;
  for (p = 0; p < gx_npoints; p++) {
    if (strcmp(gx_points[p].quantity, cmd->quantity) != 0) continue;
    /* The worker picks, among the points of this quantity, the one of a
     * service the unit has (system, settings and hub4 live on 100). */
    job = calloc(1, sizeof *job);
    if (job == NULL) return -ENOMEM;
    job->ticket = cmd->ticket;
    job->unit = (uint8_t)(unit == 0 ? 100 : unit);
    job->point = (int)p;
    job->value = cmd->value;
    gx_worker_submit(gx, job);
    return 0;
  }
  return -ENOENT;
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "modbus-gx",
    .version = "1.0.0",
    .description = "a whole Victron system through its GX device over "
                   "Modbus TCP",
    .kinds = VQ_KIND_SOURCE,
    .options = options,
    .writables = gx_writables,
    .create = gx_create,
    .start = gx_start,
    .stop = gx_stop,
    .destroy = gx_destroy,
    .command = gx_command,
    .check = gx_check,
    .quantities = gx_quantities,
    .tools = tools,
};

VQ_PLUGIN_DECLARE(modbus_gx, descriptor)

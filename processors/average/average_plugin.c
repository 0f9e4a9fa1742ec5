/* average: a slower stream for Home Assistant (or any sink) from fast
 * samples: per (source, device, quantity) the mean (or min, max, last,
 * time-weighted mean) over windows at multiples of `period` of the
 * readings' own time, one reading per device per window timed at its end;
 * the last partial window is flushed at stop.  The windowing is
 * avg_window.c; processors/README.md describes the processor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vicacq/plugin.h>

#include "avg_window.h"

struct average {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  struct avg_windows *windows;
  uint64_t late_reported;
};

static const struct vq_option options[] = {
    {.key = "period", .type = VQ_OPT_DURATION, .default_value = "60s",
     .min = 1, .max = 86400000,
     .help = "window length; windows start at multiples of it in the "
             "readings' time"},
    {.key = "stat", .type = VQ_OPT_ENUM, .default_value = "mean",
     .choices = "mean|min|max|last|twmean",
     .help = "what a window of numbers gives (enums, bitmasks and strings "
             "always give their last value); twmean weights each sample by "
             "how long it held"},
    {.key = NULL}};

static int stat_of(const char *s) {
  if (strcmp(s, "min") == 0) return AVG_MIN;
  if (strcmp(s, "max") == 0) return AVG_MAX;
  if (strcmp(s, "last") == 0) return AVG_LAST;
  if (strcmp(s, "twmean") == 0) return AVG_TWMEAN;
  return AVG_MEAN;
}

static int avg_create(const struct vq_host *host, struct vq_ctx *ctx,
                      void **instance) {
  struct average *a = calloc(1, sizeof *a);
  uint64_t period_ms;
  const char *stat = host->cfg_string(ctx, "stat");
  if (a == NULL) return -ENOMEM;
  if (host->cfg_duration(ctx, "period", &period_ms) != 0 || stat == NULL) {
    free(a);
    return -EINVAL;
  }
  a->host = host;
  a->ctx = ctx;
  a->windows = avg_new((int64_t)period_ms * 1000000, stat_of(stat));
  if (a->windows == NULL) {
    free(a);
    return -ENOMEM;
  }
  *instance = a;
  return 0;
}

static int avg_start(void *instance) {
  (void)instance;
  return 0;
}

/* A window is done: one reading of its device at the window's end. */
static void emit_window(void *arg, const char *source, const char *device,
                        int64_t time_ns, const struct vq_record *records,
                        size_t n) {
  struct average *a = arg;
  struct vq_reading r = VQ_READING_INIT;
  r.source = source;
  r.device = device;
  r.time_ns = time_ns;
  r.records = records;
  r.nrecords = (uint32_t)n;
  if (a->host->emit(a->ctx, &r) != 0) a->host->stat_add(a->ctx, "emit_failed", 1);
}

static void avg_stop(void *instance, vq_stopped_cb done) {
  struct average *a = instance;
  avg_flush(a->windows, emit_window, a);
  done(a->ctx);
}

static void avg_destroy(void *instance) {
  struct average *a = instance;
  avg_free(a->windows);
  free(a);
}

static int avg_process(void *instance, const struct vq_reading *r) {
  struct average *a = instance;
  uint32_t i;
  for (i = 0; i < r->nrecords; i++) {
    int rc = avg_add(a->windows, r->source, r->device, r->time_ns,
                     VQ_READING_RECORD(r, i), emit_window, a);
    if (rc != 0) return rc;
  }
  if (avg_late(a->windows) != a->late_reported) {
    /* Samples older than their window: counted as dropped, said once. */
    uint64_t late = avg_late(a->windows);
    if (a->late_reported == 0)
      a->host->log(a->ctx, VQ_LOG_WARN,
                   "samples older than their device's open window are "
                   "dropped (counted as 'late')");
    a->host->stat_add(a->ctx, "late", (int64_t)(late - a->late_reported));
    a->late_reported = late;
  }
  return 0;
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "average",
    .version = "1.0.0",
    .description = "mean, min, max, last or time-weighted mean over windows "
                   "of the readings' time",
    .kinds = VQ_KIND_PROCESSOR,
    .options = options,
    .create = avg_create,
    .start = avg_start,
    .stop = avg_stop,
    .destroy = avg_destroy,
    .process = avg_process,
};

VQ_PLUGIN_DECLARE(average, descriptor)

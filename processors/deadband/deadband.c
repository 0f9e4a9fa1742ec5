/* deadband: a value goes on only when it moved by at least `threshold`
 * (absolute, or "N%" of the last value sent) since the last one sent, or
 * with the first reading after `max_interval` has passed; enums, bitmasks,
 * booleans and strings on change.  Fewer writes to a Raspberry Pi's SD card
 * and to Home Assistant's database.  Time is the readings' own.
 * processors/README.md. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <vicacq/plugin.h>

#include "vq_series.h"
#include "vq_reading_copy.h"

struct last {
  int have;
  int64_t time_ns;
  double value;     /* numbers */
  int64_t code;     /* enums, bitmasks, booleans */
  uint64_t text_hash; /* strings */
  uint32_t flags;
};

struct deadband {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  double threshold;
  int percent;
  uint64_t max_interval_ms;
  struct vq_series_map *series;
  struct vq_record *scratch;
  size_t cap;
};

static const struct vq_option options[] = {
    {.key = "threshold", .type = VQ_OPT_STRING, .flags = VQ_OPT_REQUIRED,
     .help = "smallest change that goes on: a value in the quantity's unit "
             "(0.02) or a percentage of the last value sent (5%)"},
    {.key = "max_interval", .type = VQ_OPT_DURATION, .default_value = "5m",
     .min = 0, .max = 604800000,
     .help = "a value goes on at least this often (0: only on change)"},
    {.key = NULL}};

static int parse_threshold(const char *text, double *v, int *percent) {
  char *end;
  *v = strtod(text, &end);
  *percent = 0;
  if (end == text || !isfinite(*v) || *v < 0) return -EINVAL;
  if (*end == '%') {
    *percent = 1;
    end++;
  }
  return *end == '\0' ? 0 : -EINVAL;
}

static int db_check(const struct vq_host *host, struct vq_ctx *ctx) {
  double v;
  int pct;
  const char *t = host->cfg_string(ctx, "threshold");
  if (t == NULL || parse_threshold(t, &v, &pct) != 0) {
    host->cfg_error(ctx, "threshold",
                    "'%s' is not a number >= 0 or a percentage (5%%)",
                    t ? t : "");
    return -EINVAL;
  }
  return 0;
}

static int db_create(const struct vq_host *host, struct vq_ctx *ctx,
                     void **instance) {
  struct deadband *d;
  if (db_check(host, ctx) != 0) return -EINVAL;
  d = calloc(1, sizeof *d);
  if (d == NULL) return -ENOMEM;
  d->host = host;
  d->ctx = ctx;
  parse_threshold(host->cfg_string(ctx, "threshold"), &d->threshold,
                  &d->percent);
  host->cfg_duration(ctx, "max_interval", &d->max_interval_ms);
  d->series = vq_series_new(sizeof(struct last));
  if (d->series == NULL) {
    free(d);
    return -ENOMEM;
  }
  *instance = d;
  return 0;
}

static int db_start(void *instance) {
  (void)instance;
  return 0;
}

static void db_stop(void *instance, vq_stopped_cb done) {
  struct deadband *d = instance;
  done(d->ctx);
}

static void db_destroy(void *instance) {
  struct deadband *d = instance;
  vq_series_free(d->series);
  free(d->scratch);
  free(d);
}

static uint64_t hash_text(const char *s) {
  uint64_t h = 14695981039346656037ull;
  for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Whether a record goes on; updates what was last sent when it does. */
static int passes(const struct deadband *d, struct last *l,
                  const struct vq_record *r, int64_t t) {
  int due = !l->have || (r->flags & VQ_RECORD_NA) != (l->flags & VQ_RECORD_NA) ||
            (d->max_interval_ms > 0 &&
             t - l->time_ns >= (int64_t)d->max_interval_ms * 1000000);
  if (!due && !(r->flags & VQ_RECORD_NA)) {
    switch (r->type) {
    case VQ_VALUE_DOUBLE:
    case VQ_VALUE_INT: {
      double v = r->type == VQ_VALUE_DOUBLE ? r->value.f64 : (double)r->value.i64;
      double limit = d->percent ? fabs(l->value) * d->threshold / 100.0
                                : d->threshold;
      /* 12.52 - 12.50 is 0.0199999... in doubles: a change the size of
       * the threshold passes. */
      due = v != l->value &&
            fabs(v - l->value) >= limit - 1e-9 * (1 + fabs(limit));
      break;
    }
    case VQ_VALUE_STRING:
      due = hash_text(r->value.str) != l->text_hash;
      break;
    default:
      due = r->value.i64 != l->code;
    }
  }
  if (!due) return 0;
  l->have = 1;
  l->time_ns = t;
  l->flags = r->flags;
  if (r->type == VQ_VALUE_DOUBLE) l->value = r->value.f64;
  else if (r->type == VQ_VALUE_INT) l->value = (double)r->value.i64;
  else if (r->type == VQ_VALUE_STRING) l->text_hash = hash_text(r->value.str);
  else l->code = r->value.i64;
  return 1;
}

static int db_process(void *instance, const struct vq_reading *r) {
  struct deadband *d = instance;
  struct vq_reading out;
  uint32_t i, n = 0;
  if (r->nrecords > d->cap) {
    struct vq_record *grown = realloc(d->scratch, r->nrecords * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    d->scratch = grown;
    d->cap = r->nrecords;
  }
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, i);
    struct last *l = vq_series_get(d->series, r->source, r->device,
                                   rec->quantity, NULL);
    if (l == NULL) return -ENOMEM;
    if (passes(d, l, rec, r->time_ns)) d->scratch[n++] = *rec;
  }
  if (n == r->nrecords) return d->host->emit(d->ctx, r);
  if (n == 0) return 0; /* nothing moved: the reading is held back */
  out = vq_reading_with_records(r, d->scratch, n);
  return d->host->emit(d->ctx, &out);
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "deadband",
    .version = "1.0.0",
    .description = "values go on when they change enough, or at least every "
                   "max_interval",
    .kinds = VQ_KIND_PROCESSOR,
    .options = options,
    .create = db_create,
    .start = db_start,
    .stop = db_stop,
    .destroy = db_destroy,
    .check = db_check,
    .process = db_process,
};

VQ_PLUGIN_DECLARE(deadband, descriptor)

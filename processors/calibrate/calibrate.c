/* calibrate: value * scale + offset, per quantity (a current sensor's
 * calibration factor, a sign flip, a voltage offset), as BatMON's
 * current_calibration and invert_current do.  processors/README.md. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <vicacq/plugin.h>
#include "vq_reading_copy.h"

struct cal_entry {
  char *quantity;
  double scale, offset;
};

struct cal {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  struct cal_entry *entries;
  size_t n;
  struct vq_record *scratch;
  size_t cap;
};

static const struct vq_option options[] = {
    {.key = "scale.", .type = VQ_OPT_DOUBLE, .flags = VQ_OPT_PREFIX,
     .min = 1, .max = 0,
     .help = "scale.QUANTITY = FACTOR: the value is multiplied by it "
             "(-1 flips the sign of a current)"},
    {.key = "offset.", .type = VQ_OPT_DOUBLE, .flags = VQ_OPT_PREFIX,
     .min = 1, .max = 0,
     .help = "offset.QUANTITY = VALUE: added after the scale, in the "
             "quantity's unit"},
    {.key = NULL}};

struct gather {
  struct cal *c;
  const struct vq_host *host;
  struct vq_ctx *ctx;
  int is_scale;
  int bad;
};

static struct cal_entry *entry_for(struct cal *c, const char *q) {
  size_t i;
  struct cal_entry *grown;
  for (i = 0; i < c->n; i++)
    if (strcmp(c->entries[i].quantity, q) == 0) return &c->entries[i];
  grown = realloc(c->entries, (c->n + 1) * sizeof *grown);
  if (grown == NULL) return NULL;
  c->entries = grown;
  grown[c->n].quantity = strdup(q);
  if (grown[c->n].quantity == NULL) return NULL;
  grown[c->n].scale = 1;
  grown[c->n].offset = 0;
  return &c->entries[c->n++];
}

/* One scale.Q or offset.Q key: a number quantity, or an error. */
static void on_key(void *arg, const char *key, const char *value) {
  struct gather *g = arg;
  const char *q = strchr(key, '.') + 1;
  const struct vq_quantity_info *info = g->host->quantity_info(g->ctx, q);
  double v;
  char *end;
  (void)value;
  if (info != NULL && info->type != VQ_VALUE_DOUBLE &&
      info->type != VQ_VALUE_INT) {
    g->host->cfg_error(g->ctx, key,
                       "%s is not a number (its values are %s): only numbers "
                       "can be calibrated", q,
                       info->type == VQ_VALUE_ENUM ? "codes of a list"
                       : info->type == VQ_VALUE_BITMASK ? "bits"
                       : info->type == VQ_VALUE_BOOL ? "on/off" : "text");
    g->bad = 1;
    return;
  }
  if (g->c == NULL) return;
  v = strtod(value, &end);
  {
    struct cal_entry *e = entry_for(g->c, q);
    if (e == NULL) {
      g->bad = 1;
      return;
    }
    if (g->is_scale) e->scale = v;
    else e->offset = v;
  }
}

static int walk(const struct vq_host *host, struct vq_ctx *ctx, struct cal *c) {
  struct gather g = {c, host, ctx, 1, 0};
  host->cfg_each(ctx, "scale.", on_key, &g);
  g.is_scale = 0;
  host->cfg_each(ctx, "offset.", on_key, &g);
  return g.bad ? -EINVAL : 0;
}

static int cal_check(const struct vq_host *host, struct vq_ctx *ctx) {
  return walk(host, ctx, NULL);
}

static int cal_create(const struct vq_host *host, struct vq_ctx *ctx,
                      void **instance) {
  struct cal *c = calloc(1, sizeof *c);
  int rc;
  if (c == NULL) return -ENOMEM;
  c->host = host;
  c->ctx = ctx;
  rc = walk(host, ctx, c);
  if (rc != 0) {
    size_t i;
    for (i = 0; i < c->n; i++) free(c->entries[i].quantity);
    free(c->entries);
    free(c);
    return rc;
  }
  *instance = c;
  return 0;
}

static int cal_start(void *instance) {
  (void)instance;
  return 0;
}

static void cal_stop(void *instance, vq_stopped_cb done) {
  struct cal *c = instance;
  done(c->ctx);
}

static void cal_destroy(void *instance) {
  struct cal *c = instance;
  size_t i;
  for (i = 0; i < c->n; i++) free(c->entries[i].quantity);
  free(c->entries);
  free(c->scratch);
  free(c);
}

static const struct cal_entry *find(const struct cal *c, const char *q) {
  size_t i;
  for (i = 0; i < c->n; i++)
    if (strcmp(c->entries[i].quantity, q) == 0) return &c->entries[i];
  return NULL;
}

static int cal_process(void *instance, const struct vq_reading *r) {
  struct cal *c = instance;
  struct vq_reading out;
  uint32_t i, touched = 0;
  if (r->nrecords > c->cap) {
    struct vq_record *grown = realloc(c->scratch, r->nrecords * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    c->scratch = grown;
    c->cap = r->nrecords;
  }
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, i);
    const struct cal_entry *e = find(c, rec->quantity);
    c->scratch[i] = *rec;
    if (e == NULL || (rec->flags & VQ_RECORD_NA)) continue;
    if (rec->type == VQ_VALUE_DOUBLE) {
      c->scratch[i].value.f64 = rec->value.f64 * e->scale + e->offset;
      touched++;
    } else if (rec->type == VQ_VALUE_INT) {
      c->scratch[i].value.i64 =
          (int64_t)llround((double)rec->value.i64 * e->scale + e->offset);
      touched++;
    }
  }
  /* Nothing to calibrate: the reading goes on as it is, uncopied. */
  if (touched == 0) return c->host->emit(c->ctx, r);
  out = vq_reading_with_records(r, c->scratch, r->nrecords);
  return c->host->emit(c->ctx, &out);
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "calibrate",
    .version = "1.0.0",
    .description = "value * scale + offset per quantity",
    .kinds = VQ_KIND_PROCESSOR,
    .options = options,
    .create = cal_create,
    .start = cal_start,
    .stop = cal_stop,
    .destroy = cal_destroy,
    .check = cal_check,
    .process = cal_process,
};

VQ_PLUGIN_DECLARE(calibrate, descriptor)

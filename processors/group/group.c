/* group: one virtual battery (or any device) made of others, e.g. two
 * SmartShunts on batteries in parallel.  A source whose readings come from
 * other sources' (after their chains): a reading of the group's own device
 * (id = the section id) is emitted when every member has reported since the
 * last one and within `window` of the newest, timed at the newest member
 * reading; while a member is stale the group's values are emitted as not
 * available rather than wrong.  Time is the readings' own.
 * processors/README.md. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vicacq/plugin.h>

#define MAX_MEMBERS 16
#define MAX_AGG 32

enum agg_op { AGG_SUM, AGG_MEAN, AGG_MIN, AGG_MAX };

struct agg {
  char *quantity;
  int op;
};

struct member {
  char *source, *device;   /* device NULL: any device of the source */
  int have;                /* has reported at all */
  int fresh;               /* reported since the last group reading */
  int64_t last_ns;
  int64_t interval_ns;     /* observed: the usual time between readings */
  double values[MAX_AGG];
  uint8_t has[MAX_AGG];
};

struct group {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  const char *id;
  struct member members[MAX_MEMBERS];
  size_t nmembers;
  struct agg aggs[MAX_AGG];
  size_t naggs;
  uint64_t window_ms;      /* 0: 2 x the slowest member's interval */
  int64_t last_na_ns;
  const char *units[MAX_AGG];
};

static const struct vq_option options[] = {
    {.key = "members", .type = VQ_OPT_STRING, .flags = VQ_OPT_LIST | VQ_OPT_REQUIRED,
     .help = "the sources (or SOURCE/DEVICE) the group is made of"},
    {.key = "sum", .type = VQ_OPT_STRING, .flags = VQ_OPT_LIST,
     .help = "quantities added up (battery.current, battery.power)"},
    {.key = "mean", .type = VQ_OPT_STRING, .flags = VQ_OPT_LIST,
     .help = "quantities averaged (battery.voltage)"},
    {.key = "min", .type = VQ_OPT_STRING, .flags = VQ_OPT_LIST,
     .help = "quantities whose smallest member value counts (battery.soc)"},
    {.key = "max", .type = VQ_OPT_STRING, .flags = VQ_OPT_LIST,
     .help = "quantities whose largest member value counts"},
    {.key = "window", .type = VQ_OPT_DURATION, .default_value = "0",
     .min = 0, .max = 86400000,
     .help = "members must have reported within this time of the newest "
             "(0: twice the slowest member's observed interval)"},
    {.key = NULL}};

static const char *const op_keys[] = {"sum", "mean", "min", "max"};

static int parse(const struct vq_host *host, struct vq_ctx *ctx,
                 struct group *g) {
  char buf[2048], *save, *tok;
  int op, bad = 0;
  const char *text = host->cfg_string(ctx, "members");
  snprintf(buf, sizeof buf, "%s", text ? text : "");
  for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
    char *slash = strchr(tok, '/');
    if (g == NULL) continue;
    if (g->nmembers == MAX_MEMBERS) {
      host->cfg_error(ctx, "members", "at most %d members", MAX_MEMBERS);
      return -EINVAL;
    }
    if (slash) *slash = '\0';
    g->members[g->nmembers].source = strdup(tok);
    g->members[g->nmembers].device = slash ? strdup(slash + 1) : NULL;
    if (g->members[g->nmembers].source == NULL) return -ENOMEM;
    g->nmembers++;
  }
  for (op = 0; op < 4; op++) {
    text = host->cfg_string(ctx, op_keys[op]);
    if (text == NULL) continue;
    snprintf(buf, sizeof buf, "%s", text);
    for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
      const struct vq_quantity_info *q = host->quantity_info(ctx, tok);
      if (q != NULL && q->type != VQ_VALUE_DOUBLE && q->type != VQ_VALUE_INT) {
        host->cfg_error(ctx, op_keys[op], "%s is not a number", tok);
        bad = 1;
        continue;
      }
      if (g == NULL) continue;
      if (g->naggs == MAX_AGG) {
        host->cfg_error(ctx, op_keys[op], "at most %d quantities", MAX_AGG);
        return -EINVAL;
      }
      g->aggs[g->naggs].quantity = strdup(tok);
      g->aggs[g->naggs].op = op;
      g->units[g->naggs] = q ? q->unit : NULL;
      if (g->aggs[g->naggs].quantity == NULL) return -ENOMEM;
      g->naggs++;
    }
  }
  return bad ? -EINVAL : 0;
}

static int group_check(const struct vq_host *host, struct vq_ctx *ctx) {
  return parse(host, ctx, NULL);
}

static void group_destroy(void *instance) {
  struct group *g = instance;
  size_t i;
  for (i = 0; i < g->nmembers; i++) {
    free(g->members[i].source);
    free(g->members[i].device);
  }
  for (i = 0; i < g->naggs; i++) free(g->aggs[i].quantity);
  free(g);
}

static int group_create(const struct vq_host *host, struct vq_ctx *ctx,
                        void **instance) {
  struct group *g = calloc(1, sizeof *g);
  int rc;
  if (g == NULL) return -ENOMEM;
  g->host = host;
  g->ctx = ctx;
  g->id = host->instance_id(ctx);
  rc = parse(host, ctx, g);
  if (rc == 0 && g->naggs == 0) {
    host->cfg_error(ctx, NULL, "nothing to make: give sum, mean, min or max");
    rc = -EINVAL;
  }
  if (rc == 0) rc = host->cfg_duration(ctx, "window", &g->window_ms);
  if (rc != 0) {
    group_destroy(g);
    return rc;
  }
  *instance = g;
  return 0;
}

static int group_start(void *instance) {
  (void)instance;
  return 0;
}

static void group_stop(void *instance, vq_stopped_cb done) {
  struct group *g = instance;
  done(g->ctx);
}

static struct member *member_of(struct group *g, const struct vq_reading *r) {
  size_t i;
  for (i = 0; i < g->nmembers; i++)
    if (strcmp(g->members[i].source, r->source) == 0 &&
        (g->members[i].device == NULL ||
         strcmp(g->members[i].device, r->device) == 0))
      return &g->members[i];
  return NULL;
}

static int64_t window_ns(const struct group *g) {
  int64_t slowest = 0;
  size_t i;
  if (g->window_ms > 0) return (int64_t)g->window_ms * 1000000;
  for (i = 0; i < g->nmembers; i++)
    if (g->members[i].interval_ns > slowest) slowest = g->members[i].interval_ns;
  return 2 * slowest;
}

static void emit(struct group *g, int64_t t, int not_available) {
  struct vq_record recs[MAX_AGG];
  struct vq_reading r = VQ_READING_INIT;
  size_t a, i, n = 0;
  for (a = 0; a < g->naggs; a++) {
    struct vq_record *rec = &recs[n++];
    double v = 0;
    size_t have = 0;
    memset(rec, 0, sizeof *rec);
    rec->quantity = g->aggs[a].quantity;
    rec->unit = g->units[a];
    rec->type = VQ_VALUE_DOUBLE;
    for (i = 0; i < g->nmembers && !not_available; i++) {
      const struct member *m = &g->members[i];
      double x = m->values[a];
      if (!m->has[a]) continue;
      if (have == 0) v = x;
      else if (g->aggs[a].op == AGG_MIN) v = fmin(v, x);
      else if (g->aggs[a].op == AGG_MAX) v = fmax(v, x);
      else v += x;
      have++;
    }
    /* Every member must give the quantity, or the sum would be wrong. */
    if (not_available || have != g->nmembers) {
      rec->flags = VQ_RECORD_NA;
      continue;
    }
    rec->value.f64 = g->aggs[a].op == AGG_MEAN ? v / (double)have : v;
  }
  r.device = g->id;
  r.time_ns = t;
  r.records = recs;
  r.nrecords = (uint32_t)n;
  g->host->emit(g->ctx, &r);
}

static int group_process(void *instance, const struct vq_reading *r) {
  struct group *g = instance;
  struct member *m = member_of(g, r);
  int64_t win;
  size_t a, i, all_fresh = 1, stale = 0;
  uint32_t k;
  if (m == NULL) return 0;
  if (m->have && r->time_ns > m->last_ns) {
    /* The member's usual interval: a moving average that a gap (more than
     * three intervals) does not move, so an outage is not taken for a
     * slow member. */
    int64_t dt = r->time_ns - m->last_ns;
    if (m->interval_ns == 0) m->interval_ns = dt;
    else if (dt <= 3 * m->interval_ns)
      m->interval_ns = (4 * m->interval_ns + dt) / 5;
  }
  if (!m->have || r->time_ns >= m->last_ns) m->last_ns = r->time_ns;
  m->have = 1;
  m->fresh = 1;
  for (a = 0; a < g->naggs; a++) {
    for (k = 0; k < r->nrecords; k++) {
      const struct vq_record *rec = VQ_READING_RECORD(r, k);
      if (strcmp(rec->quantity, g->aggs[a].quantity) != 0) continue;
      m->has[a] = !(rec->flags & VQ_RECORD_NA) &&
                  (rec->type == VQ_VALUE_DOUBLE || rec->type == VQ_VALUE_INT);
      if (m->has[a])
        m->values[a] = rec->type == VQ_VALUE_DOUBLE ? rec->value.f64
                                                    : (double)rec->value.i64;
    }
  }
  win = window_ns(g);
  for (i = 0; i < g->nmembers; i++) {
    const struct member *o = &g->members[i];
    if (!o->fresh) all_fresh = 0;
    if (!o->have || (win > 0 && r->time_ns - o->last_ns > win)) stale = 1;
  }
  if (win == 0) return 0; /* the slowest member's interval is not known yet */
  if (stale) {
    /* Not available, at most once per window, rather than a wrong sum. */
    if (g->last_na_ns == 0 || r->time_ns - g->last_na_ns >= win) {
      emit(g, r->time_ns, 1);
      g->last_na_ns = r->time_ns;
      g->host->stat_add(g->ctx, "stale", 1);
    }
    return 0;
  }
  if (!all_fresh) return 0;
  emit(g, r->time_ns, 0);
  g->last_na_ns = 0;
  for (i = 0; i < g->nmembers; i++) g->members[i].fresh = 0;
  return 0;
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "group",
    .version = "1.0.0",
    .description = "a virtual device made of other sources' readings (sum, "
                   "mean, min, max)",
    .kinds = VQ_KIND_SOURCE,
    .options = options,
    .create = group_create,
    .start = group_start,
    .stop = group_stop,
    .destroy = group_destroy,
    .check = group_check,
    .process = group_process,
};

VQ_PLUGIN_DECLARE(group, descriptor)

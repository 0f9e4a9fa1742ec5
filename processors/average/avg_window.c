/* Average windows (avg_window.h).  Numbers: mean, min, max, last or
 * time-weighted mean; integers stay integers (the mean rounded), so a
 * field's type never changes in InfluxDB; enums, bitmasks, booleans and
 * strings take the last value.  Not-available samples are skipped; a
 * window of only not-available samples gives a not-available record; an
 * empty window gives nothing. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "avg_window.h"
#include "vq_series.h"

/* One quantity of one device in the open window. */
struct acc {
  char *quantity;
  char *unit;           /* as the records carry it (may be NULL) */
  uint32_t type;
  uint32_t n, na;
  double sum, min, max, last;
  int64_t last_i;
  char *text;           /* last label or string */
  int64_t t_first, t_last;
  double tw_sum;        /* integral of the step function so far */
};

/* One device: its open window and the quantities seen in it. */
struct dev {
  int64_t window;       /* index: floor(time / period) */
  int open;
  struct acc **q;
  size_t nq, capq;
};

struct avg_windows {
  int64_t period;
  int stat;
  struct vq_series_map *devs;  /* (source, device) -> struct dev */
  struct vq_series_map *accs;  /* (source, device, quantity) -> struct acc */
  uint64_t late;
  struct vq_record *out;       /* scratch for emission */
  size_t capout;
};

struct avg_windows *avg_new(int64_t period_ns, int stat) {
  struct avg_windows *w = calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->period = period_ns;
  w->stat = stat;
  w->devs = vq_series_new(sizeof(struct dev));
  w->accs = vq_series_new(sizeof(struct acc));
  if (w->devs == NULL || w->accs == NULL) {
    avg_free(w);
    return NULL;
  }
  return w;
}

static int free_acc(void *arg, const char *a, const char *b, const char *c,
                    void *value) {
  struct acc *q = value;
  (void)arg, (void)a, (void)b, (void)c;
  free(q->quantity);
  free(q->unit);
  free(q->text);
  return 0;
}

static int free_dev(void *arg, const char *a, const char *b, const char *c,
                    void *value) {
  (void)arg, (void)a, (void)b, (void)c;
  free(((struct dev *)value)->q);
  return 0;
}

void avg_free(struct avg_windows *w) {
  if (w == NULL) return;
  if (w->accs) vq_series_each(w->accs, free_acc, NULL);
  if (w->devs) vq_series_each(w->devs, free_dev, NULL);
  vq_series_free(w->accs);
  vq_series_free(w->devs);
  free(w->out);
  free(w);
}

static int64_t window_of(const struct avg_windows *w, int64_t t) {
  int64_t k = t / w->period;
  if (t % w->period != 0 && t < 0) k--; /* floor for times before 1970 */
  return k;
}

static int is_number(uint32_t type) {
  return type == VQ_VALUE_DOUBLE || type == VQ_VALUE_INT;
}

static double value_of(const struct vq_record *r) {
  return r->type == VQ_VALUE_DOUBLE ? r->value.f64 : (double)r->value.i64;
}

/* The record a finished accumulator gives, or 0 for none. */
static int acc_record(const struct avg_windows *w, const struct acc *q,
                      int64_t end, struct vq_record *r) {
  memset(r, 0, sizeof *r);
  r->quantity = q->quantity;
  r->unit = q->unit;
  r->type = q->type;
  if (q->n == 0) {
    if (q->na == 0) return 0;
    r->flags = VQ_RECORD_NA;
    return 1;
  }
  if (!is_number(q->type)) {
    if (q->type == VQ_VALUE_STRING) r->value.str = q->text ? q->text : "";
    else {
      r->value.i64 = q->last_i;
      r->text = q->text;
    }
    return 1;
  }
  {
    double v;
    switch (w->stat) {
    case AVG_MIN: v = q->min; break;
    case AVG_MAX: v = q->max; break;
    case AVG_LAST: v = q->last; break;
    case AVG_TWMEAN: {
      /* The last sample holds until the window's end. */
      double total = q->tw_sum + q->last * (double)(end - q->t_last);
      double span = (double)(end - q->t_first);
      v = span > 0 ? total / span : q->last;
      break;
    }
    default: v = q->sum / q->n; break;
    }
    if (q->type == VQ_VALUE_INT) r->value.i64 = (int64_t)llround(v);
    else r->value.f64 = v;
  }
  return 1;
}

static void acc_reset(struct acc *q) {
  q->n = q->na = 0;
  q->sum = q->tw_sum = 0;
}

/* Emit the open window of a device and start it afresh. */
static void close_window(struct avg_windows *w, const char *source,
                         const char *device, struct dev *d, avg_emit_fn emit,
                         void *arg) {
  int64_t end = (d->window + 1) * w->period;
  size_t i, n = 0;
  if (!d->open) return;
  if (d->nq > w->capout) {
    struct vq_record *grown = realloc(w->out, d->nq * sizeof *grown);
    if (grown == NULL) return;
    w->out = grown;
    w->capout = d->nq;
  }
  for (i = 0; i < d->nq; i++)
    if (acc_record(w, d->q[i], end, &w->out[n])) n++;
  if (n > 0) emit(arg, source, device, end, w->out, n);
  for (i = 0; i < d->nq; i++) acc_reset(d->q[i]);
  d->open = 0;
}

static int set_text(char **dst, const char *src) {
  char *copy;
  if (src == NULL) {
    free(*dst);
    *dst = NULL;
    return 0;
  }
  if (*dst && strcmp(*dst, src) == 0) return 0;
  copy = strdup(src);
  if (copy == NULL) return -ENOMEM;
  free(*dst);
  *dst = copy;
  return 0;
}

int avg_add(struct avg_windows *w, const char *source, const char *device,
            int64_t time_ns, const struct vq_record *rec, avg_emit_fn emit,
            void *arg) {
  int64_t win = window_of(w, time_ns);
  int created;
  struct dev *d = vq_series_get(w->devs, source, device, NULL, NULL);
  struct acc *q;
  if (d == NULL) return -ENOMEM;
  if (d->open && win < d->window) {
    w->late++;
    return 0;
  }
  if (d->open && win > d->window) close_window(w, source, device, d, emit, arg);
  if (!d->open) {
    d->open = 1;
    d->window = win;
  }
  q = vq_series_get(w->accs, source, device, rec->quantity, &created);
  if (q == NULL) return -ENOMEM;
  if (created) {
    if (d->nq == d->capq) {
      size_t cap = d->capq ? d->capq * 2 : 8;
      struct acc **grown = realloc(d->q, cap * sizeof *grown);
      if (grown == NULL) return -ENOMEM;
      d->q = grown;
      d->capq = cap;
    }
    d->q[d->nq++] = q;
    q->quantity = strdup(rec->quantity);
    if (q->quantity == NULL) return -ENOMEM;
  }
  if (set_text(&q->unit, rec->unit) != 0) return -ENOMEM;
  q->type = rec->type;
  if (rec->flags & VQ_RECORD_NA) {
    q->na++;
    return 0;
  }
  if (is_number(rec->type)) {
    double v = value_of(rec);
    if (!isfinite(v)) {
      q->na++;
      return 0;
    }
    if (q->n == 0) {
      q->min = q->max = v;
      q->t_first = time_ns;
      q->tw_sum = 0;
    } else {
      if (v < q->min) q->min = v;
      if (v > q->max) q->max = v;
      q->tw_sum += q->last * (double)(time_ns - q->t_last);
    }
    q->sum += v;
    q->last = v;
    q->t_last = time_ns;
  } else if (rec->type == VQ_VALUE_STRING) {
    if (set_text(&q->text, rec->value.str) != 0) return -ENOMEM;
  } else {
    q->last_i = rec->value.i64;
    if (set_text(&q->text, rec->text) != 0) return -ENOMEM;
  }
  q->n++;
  return 0;
}

struct flush_ctx {
  struct avg_windows *w;
  avg_emit_fn emit;
  void *arg;
};

static int flush_dev(void *arg, const char *a, const char *b, const char *c,
                     void *value) {
  struct flush_ctx *f = arg;
  (void)c;
  close_window(f->w, a, b, value, f->emit, f->arg);
  return 0;
}

void avg_flush(struct avg_windows *w, avg_emit_fn emit, void *arg) {
  struct flush_ctx f = {w, emit, arg};
  vq_series_each(w->devs, flush_dev, &f);
}

uint64_t avg_late(const struct avg_windows *w) { return w->late; }
size_t avg_series(const struct avg_windows *w) { return vq_series_count(w->accs); }
size_t avg_bytes(const struct avg_windows *w) {
  return vq_series_bytes(w->accs) + vq_series_bytes(w->devs);
}

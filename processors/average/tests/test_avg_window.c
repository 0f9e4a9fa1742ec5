/* Average windows: alignment to multiples of the period in the readings'
 * time, one reading per device per window at its end, every statistic,
 * integers kept integers, not-available and empty windows, the last
 * partial window at flush. */
#include <stdlib.h>
#include <string.h>

#include "../../../tests/vqtest.h"
#include "../avg_window.h"

#define S 1000000000LL

struct out {
  int n;
  char device[32][16];
  int64_t time[32];
  struct vq_record rec[32][4];
  size_t nrec[32];
  char text[32][4][16];
};

static void collect(void *arg, const char *source, const char *device,
                    int64_t t, const struct vq_record *r, size_t n) {
  struct out *o = arg;
  size_t i;
  (void)source;
  snprintf(o->device[o->n], 16, "%s", device);
  o->time[o->n] = t;
  o->nrec[o->n] = n;
  for (i = 0; i < n && i < 4; i++) {
    o->rec[o->n][i] = r[i];
    if (r[i].text) {
      snprintf(o->text[o->n][i], 16, "%s", r[i].text);
      o->rec[o->n][i].text = o->text[o->n][i];
    }
    o->rec[o->n][i].quantity = NULL; /* not kept past the call */
  }
  o->n++;
}

static struct vq_record dbl(const char *q, double v) {
  struct vq_record r;
  memset(&r, 0, sizeof r);
  r.quantity = q;
  r.type = VQ_VALUE_DOUBLE;
  r.value.f64 = v;
  return r;
}

static void test_mean_alignment(void) {
  struct avg_windows *w = avg_new(10 * S, AVG_MEAN);
  struct out o = {0};
  struct vq_record r;
  int64_t base = 1700000000LL * S; /* a multiple of 10 s */
  /* Samples at 3, 4, 9 s of the window 1700000000..10: mean 2.0 */
  r = dbl("battery.voltage", 1);
  avg_add(w, "s", "d", base + 3 * S, &r, collect, &o);
  r = dbl("battery.voltage", 2);
  avg_add(w, "s", "d", base + 4 * S, &r, collect, &o);
  r = dbl("battery.voltage", 3);
  avg_add(w, "s", "d", base + 9 * S + S / 2, &r, collect, &o);
  CHECK_INT(o.n, 0); /* still open */
  /* First sample of the next window closes it, timed at its end. */
  r = dbl("battery.voltage", 10);
  avg_add(w, "s", "d", base + 10 * S, &r, collect, &o);
  CHECK_INT(o.n, 1);
  CHECK_INT(o.time[0], base + 10 * S);
  CHECK_DBL(o.rec[0][0].value.f64, 2.0);
  /* Empty windows give nothing: the next sample is three windows on. */
  r = dbl("battery.voltage", 20);
  avg_add(w, "s", "d", base + 45 * S, &r, collect, &o);
  CHECK_INT(o.n, 2);
  CHECK_INT(o.time[1], base + 20 * S);
  CHECK_DBL(o.rec[1][0].value.f64, 10);
  /* Flush emits the partial window at its end time. */
  avg_flush(w, collect, &o);
  CHECK_INT(o.n, 3);
  CHECK_INT(o.time[2], base + 50 * S);
  CHECK_DBL(o.rec[2][0].value.f64, 20);
  avg_free(w);
}

static void test_stats(void) {
  static const int stats[] = {AVG_MIN, AVG_MAX, AVG_LAST, AVG_TWMEAN};
  /* Samples 4 at 0 s, 8 at 6 s in a 10 s window: min 4, max 8, last 8,
   * time-weighted (4*6 + 8*4) / 10 = 5.6. */
  static const double want[] = {4, 8, 8, 5.6};
  size_t i;
  for (i = 0; i < 4; i++) {
    struct avg_windows *w = avg_new(10 * S, stats[i]);
    struct out o = {0};
    struct vq_record r = dbl("pv.power", 4);
    avg_add(w, "s", "d", 0, &r, collect, &o);
    r = dbl("pv.power", 8);
    avg_add(w, "s", "d", 6 * S, &r, collect, &o);
    avg_flush(w, collect, &o);
    CHECK_INT(o.n, 1);
    CHECK_DBL(o.rec[0][0].value.f64, want[i]);
    avg_free(w);
  }
}

static void test_types_and_na(void) {
  struct avg_windows *w = avg_new(10 * S, AVG_MEAN);
  struct out o = {0};
  struct vq_record r;
  memset(&r, 0, sizeof r);
  /* Integers: the mean rounded, still an integer. */
  r.quantity = "link.rssi";
  r.type = VQ_VALUE_INT;
  r.value.i64 = -70;
  avg_add(w, "s", "d", 1 * S, &r, collect, &o);
  r.value.i64 = -73;
  avg_add(w, "s", "d", 2 * S, &r, collect, &o);
  /* Enums: the last value with its label. */
  memset(&r, 0, sizeof r);
  r.quantity = "device.state";
  r.type = VQ_VALUE_ENUM;
  r.value.i64 = 3;
  r.text = "bulk";
  avg_add(w, "s", "d", 1 * S, &r, collect, &o);
  r.value.i64 = 5;
  r.text = "float";
  avg_add(w, "s", "d", 2 * S, &r, collect, &o);
  /* Only not-available samples: a not-available record. */
  r = dbl("battery.temperature", 0);
  r.flags = VQ_RECORD_NA;
  avg_add(w, "s", "d", 1 * S, &r, collect, &o);
  /* Not-available samples are skipped in a mean. */
  r = dbl("battery.voltage", 12);
  avg_add(w, "s", "d", 1 * S, &r, collect, &o);
  r.flags = VQ_RECORD_NA;
  avg_add(w, "s", "d", 2 * S, &r, collect, &o);
  avg_flush(w, collect, &o);
  CHECK_INT(o.n, 1);
  CHECK_INT(o.nrec[0], 4);
  CHECK_INT(o.rec[0][0].type, VQ_VALUE_INT);
  CHECK_INT(o.rec[0][0].value.i64, -72); /* -71.5 rounded away from zero */
  CHECK_INT(o.rec[0][1].value.i64, 5);
  CHECK_STR(o.rec[0][1].text, "float");
  CHECK(o.rec[0][2].flags & VQ_RECORD_NA);
  CHECK_DBL(o.rec[0][3].value.f64, 12);
  CHECK(!(o.rec[0][3].flags & VQ_RECORD_NA));
  avg_free(w);
}

static void test_devices_apart_and_late(void) {
  struct avg_windows *w = avg_new(10 * S, AVG_MEAN);
  struct out o = {0};
  struct vq_record r = dbl("battery.voltage", 1);
  avg_add(w, "s", "a", 1 * S, &r, collect, &o);
  avg_add(w, "s", "b", 15 * S, &r, collect, &o);
  CHECK_INT(o.n, 0); /* each device has its own window */
  avg_add(w, "s", "a", 12 * S, &r, collect, &o);
  CHECK_INT(o.n, 1);
  CHECK_STR(o.device[0], "a");
  /* A sample older than the open window is dropped and counted. */
  avg_add(w, "s", "a", 3 * S, &r, collect, &o);
  CHECK_INT(avg_late(w), 1);
  CHECK_INT(avg_series(w), 2);
  avg_free(w);
}

int main(void) {
  test_mean_alignment();
  test_stats();
  test_types_and_na();
  test_devices_apart_and_late();
  VQTEST_END();
}

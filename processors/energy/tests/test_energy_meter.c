/* Energy integration against exact integrals, cycles, and the state file
 * (energy_meter.h, energy_state.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../../tests/vqtest.h"
#include "../energy_meter.h"
#include "../energy_state.h"

#define S 1000000000LL /* ns per second */
#define GAP (60 * S)

/* Close enough for sums of a few thousand doubles. */
#define CHECK_NEAR(a, b) CHECK(fabs((double)(a) - (double)(b)) <= 1e-12 * (1 + fabs((double)(b))))

static void test_constant(void) {
  struct energy_meter m = {0};
  int64_t t = 1700000000 * S;
  int i;
  /* 1000 W for an hour in irregular steps: 1 kWh in, nothing out. */
  static const int steps[] = {1, 7, 13, 2, 31, 5};
  int64_t now = t;
  energy_meter_add(&m, now, 1000, GAP);
  for (i = 0; now < t + 3600 * S; i++) {
    int64_t next = now + steps[i % 6] * S;
    if (next > t + 3600 * S) next = t + 3600 * S;
    now = next;
    energy_meter_add(&m, now, 1000, GAP);
  }
  CHECK_NEAR(m.in_kwh, 1.0);
  CHECK_DBL(m.out_kwh, 0);
  CHECK_NEAR(energy_meter_net(&m), 1.0);
}

static void test_ramp(void) {
  /* P(t) = 2 t W for t in [0, 1800] s, sampled irregularly: trapezoids
   * are exact for a line: integral = t^2 = 3,240,000 J = 0.9 kWh. */
  struct energy_meter m = {0};
  double t = 0;
  energy_meter_add(&m, 0, 0, GAP);
  while (t < 1800) {
    t += 0.37 + fmod(t, 3.0);
    if (t > 1800) t = 1800;
    energy_meter_add(&m, (int64_t)llround(t * S), 2 * ((double)llround(t * S) / S), GAP);
  }
  CHECK_NEAR(m.in_kwh, 1800.0 * 1800.0 / 3.6e6);
}

static void test_step_and_sign(void) {
  struct energy_meter m = {0};
  /* A step from +500 W to -500 W between two samples 10 s apart: the
   * line crosses zero at 5 s: 0.5*500*5 Ws in, the same out. */
  energy_meter_add(&m, 0, 500, GAP);
  energy_meter_add(&m, 10 * S, -500, GAP);
  CHECK_NEAR(m.in_kwh, 1250.0 / 3.6e6);
  CHECK_NEAR(m.out_kwh, 1250.0 / 3.6e6);
  CHECK_NEAR(energy_meter_net(&m), 0);
  /* Asymmetric crossing: +300 to -100 over 4 s crosses at 3 s. */
  memset(&m, 0, sizeof m);
  energy_meter_add(&m, 0, 300, GAP);
  energy_meter_add(&m, 4 * S, -100, GAP);
  CHECK_NEAR(m.in_kwh, 0.5 * 300 * 3 / 3.6e6);
  CHECK_NEAR(m.out_kwh, 0.5 * 100 * 1 / 3.6e6);
  /* Discharge only: counted out, positive. */
  memset(&m, 0, sizeof m);
  energy_meter_add(&m, 0, -1200, GAP);
  energy_meter_add(&m, 30 * S, -1200, GAP);
  CHECK_NEAR(m.out_kwh, 1200.0 * 30 / 3.6e6);
  CHECK_DBL(m.in_kwh, 0);
}

static void test_gap(void) {
  struct energy_meter m = {0};
  energy_meter_add(&m, 0, 1000, GAP);
  energy_meter_add(&m, 10 * S, 1000, GAP);
  /* 61 s without a sample: not bridged. */
  CHECK_INT(energy_meter_add(&m, 71 * S, 1000, GAP), 0);
  CHECK_INT(m.gaps, 1);
  energy_meter_add(&m, 81 * S, 1000, GAP);
  CHECK_NEAR(m.in_kwh, 1000.0 * 20 / 3.6e6);
  /* Time going back is ignored and counted. */
  CHECK_INT(energy_meter_add(&m, 50 * S, 1000, GAP), 0);
  CHECK_INT(m.backwards, 1);
  CHECK_NEAR(m.in_kwh, 1000.0 * 20 / 3.6e6);
}

static void test_cycles(void) {
  struct cycle_counter c = {0};
  int i;
  double soc = 100;
  /* 100 -> 0 -> 100 in 1 % steps every 10 s: one cycle. */
  cycle_counter_add(&c, 0, soc, GAP);
  for (i = 1; i <= 200; i++) {
    soc += i <= 100 ? -1 : 1;
    cycle_counter_add(&c, (int64_t)i * 10 * S, soc, GAP);
  }
  CHECK_NEAR(c.cycles, 1.0);
  /* A gap is not counted. */
  cycle_counter_add(&c, 5000 * S, 50, GAP);
  CHECK_NEAR(c.cycles, 1.0);
  CHECK_INT(c.gaps, 1);
}

static void test_state_roundtrip(void) {
  struct vq_series_map *m = vq_series_new(sizeof(struct energy_series));
  struct vq_series_map *c = vq_series_new(sizeof(struct cycle_series));
  struct vq_series_map *m2 = vq_series_new(sizeof(struct energy_series));
  struct vq_series_map *c2 = vq_series_new(sizeof(struct cycle_series));
  struct energy_series *e;
  struct cycle_series *k;
  char *text, err[128];
  size_t len;
  e = vq_series_get(m, "shunt", "c03b 98%", "battery.power", NULL);
  e->meter.in_kwh = 1234.5678901234567;
  e->meter.out_kwh = 0.1 + 0.2;
  e->meter.have_last = 1;
  e->meter.last_ns = 1700000000123456789LL;
  e->meter.last_w = -12.25;
  e->meter.gaps = 3;
  k = vq_series_get(c, "shunt", "c03b 98%", NULL, NULL);
  k->counter.cycles = 12.345;
  CHECK_INT(energy_state_format(m, c, &text, &len), 0);
  CHECK_INT(energy_state_parse(text, len, m2, c2, err, sizeof err), 0);
  e = vq_series_find(m2, "shunt", "c03b 98%", "battery.power");
  CHECK(e != NULL);
  if (e) {
    /* Never rounded: the same doubles back. */
    CHECK(e->meter.in_kwh == 1234.5678901234567);
    CHECK(e->meter.out_kwh == 0.1 + 0.2);
    CHECK_INT(e->meter.last_ns, 1700000000123456789LL);
    CHECK(e->meter.last_w == -12.25);
    CHECK_INT(e->meter.gaps, 3);
  }
  k = vq_series_find(c2, "shunt", "c03b 98%", NULL);
  CHECK(k != NULL && k->counter.cycles == 12.345);
  /* Torn: cut anywhere, it is refused as a whole. */
  {
    size_t cut;
    for (cut = 0; cut < len; cut += 7) {
      struct vq_series_map *m3 = vq_series_new(sizeof(struct energy_series));
      struct vq_series_map *c3 = vq_series_new(sizeof(struct cycle_series));
      CHECK_INT(energy_state_parse(text, cut, m3, c3, err, sizeof err), -EINVAL);
      vq_series_free(m3);
      vq_series_free(c3);
    }
  }
  /* Exactly len bytes, no NUL after them (a file read as is), ending at
   * an unreadable page: nothing past the end is read (a crash if it is). */
  {
    long page = sysconf(_SC_PAGESIZE);
    char *two = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct vq_series_map *m3 = vq_series_new(sizeof(struct energy_series));
    struct vq_series_map *c3 = vq_series_new(sizeof(struct cycle_series));
    CHECK(two != MAP_FAILED && len <= (size_t)page);
    if (two != MAP_FAILED && len <= (size_t)page &&
        mprotect(two + page, (size_t)page, PROT_NONE) == 0) {
      char *exact = two + page - len;
      memcpy(exact, text, len);
      CHECK_INT(energy_state_parse(exact, len, m3, c3, err, sizeof err), 0);
      CHECK_INT(vq_series_count(m3), 1);
    }
    if (two != MAP_FAILED) munmap(two, 2 * (size_t)page);
    vq_series_free(m3);
    vq_series_free(c3);
  }
  /* Edited: one digit changed. */
  {
    char *bad = strdup(text);
    char *digit = strstr(bad, "1234.5");
    struct vq_series_map *m3 = vq_series_new(sizeof(struct energy_series));
    struct vq_series_map *c3 = vq_series_new(sizeof(struct cycle_series));
    digit[0] = '9';
    CHECK_INT(energy_state_parse(bad, len, m3, c3, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "checksum") != NULL);
    free(bad);
    vq_series_free(m3);
    vq_series_free(c3);
  }
  free(text);
  vq_series_free(m);
  vq_series_free(c);
  vq_series_free(m2);
  vq_series_free(c2);
}

int main(void) {
  test_constant();
  test_ramp();
  test_step_and_sign();
  test_gap();
  test_cycles();
  test_state_roundtrip();
  VQTEST_END();
}

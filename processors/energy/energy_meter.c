/* Trapezoidal energy integration and cycle counting (energy_meter.h). */
#include <math.h>

#include "energy_meter.h"

#define NS_PER_HOUR 3.6e12

/* A segment's energy (Wh x 1000 -> kWh) into in or out by its sign. */
static void book(struct energy_meter *m, double watt_ns) {
  double kwh = watt_ns / NS_PER_HOUR / 1000.0;
  if (kwh > 0) m->in_kwh += kwh;
  else m->out_kwh -= kwh;
}

int energy_meter_add(struct energy_meter *m, int64_t t_ns, double watts,
                     int64_t max_gap_ns) {
  int64_t dt;
  double p0 = m->last_w, p1 = watts;
  if (!isfinite(watts)) return 0;
  if (!m->have_last) {
    m->last_ns = t_ns;
    m->last_w = watts;
    m->have_last = 1;
    return 0;
  }
  dt = t_ns - m->last_ns;
  if (dt < 0) {
    m->backwards++;
    return 0;
  }
  m->last_ns = t_ns;
  m->last_w = watts;
  if (dt == 0) return 0;
  if (dt > max_gap_ns) {
    m->gaps++;
    return 0;
  }
  if ((p0 > 0 && p1 < 0) || (p0 < 0 && p1 > 0)) {
    /* Split at the zero crossing of the straight line between them. */
    double t0 = (double)dt * p0 / (p0 - p1);
    book(m, p0 * t0 / 2.0);
    book(m, p1 * ((double)dt - t0) / 2.0);
  } else {
    book(m, (p0 + p1) * (double)dt / 2.0);
  }
  return 1;
}

double energy_meter_net(const struct energy_meter *m) {
  return m->in_kwh - m->out_kwh;
}

int cycle_counter_add(struct cycle_counter *c, int64_t t_ns, double soc,
                      int64_t max_gap_ns) {
  int64_t dt;
  double d;
  if (!isfinite(soc)) return 0;
  if (!c->have_last) {
    c->last_ns = t_ns;
    c->last_soc = soc;
    c->have_last = 1;
    return 0;
  }
  dt = t_ns - c->last_ns;
  if (dt < 0) return 0;
  d = fabs(soc - c->last_soc);
  c->last_ns = t_ns;
  c->last_soc = soc;
  if (dt > max_gap_ns) {
    c->gaps++;
    return 0;
  }
  if (d == 0) return 0;
  c->cycles += d / 200.0;
  return 1;
}

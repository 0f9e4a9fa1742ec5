/* Energy meters from power samples: trapezoidal integration into energy
 * in (power > 0, for battery.power: charging) and out, split at zero
 * crossings; battery cycles from the state of charge.  Pure functions on
 * the readings' own time, no I/O (processors/energy/README.md). */
#ifndef VQ_ENERGY_METER_H
#define VQ_ENERGY_METER_H

#include <stdint.h>

/** One meter: what it counted, and the last sample it integrates from. */
struct energy_meter {
  double in_kwh;      /* energy with power > 0 */
  double out_kwh;     /* energy with power < 0, counted positive */
  int64_t last_ns;    /* time of the last sample, valid when have_last */
  double last_w;
  int have_last;
  uint64_t gaps;      /* intervals longer than max_gap, not bridged */
  uint64_t backwards; /* samples older than the last one, ignored */
};

/** Add a power sample (W) at t_ns.  The interval since the previous
 *  sample is integrated as a trapezoid, split where the power crosses
 *  zero; an interval longer than max_gap_ns is not bridged (counted in
 *  gaps), nor is one that goes back in time.  Returns 1 when the counters
 *  changed, 0 otherwise. */
int energy_meter_add(struct energy_meter *m, int64_t t_ns, double watts,
                     int64_t max_gap_ns);

/** energy in - energy out. */
double energy_meter_net(const struct energy_meter *m);

/** Battery cycles from the state of charge, as BatMON counts them: the
 *  integral of |dSoC| (in %) over 200, so 100 -> 0 -> 100 is one cycle. */
struct cycle_counter {
  double cycles;
  int64_t last_ns;
  double last_soc;
  int have_last;
  uint64_t gaps;
};

/** Add a state-of-charge sample (%).  Returns 1 when cycles changed. */
int cycle_counter_add(struct cycle_counter *c, int64_t t_ns, double soc,
                      int64_t max_gap_ns);

#endif

/* Discovery of the units and service types of a GX system (gx_discover.c),
 * as a resumable walk so that a refresh can run a few probes per poll cycle
 * in the background. */
#ifndef VQ_GX_DISCOVER_H
#define VQ_GX_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include "gx_registers.h"

#define GX_DISC_MAX 64

struct gx_disc_entry {
  uint8_t unit;
  int service;
};

struct gx_disc {
  uint8_t units[256];
  size_t nunits;
  int listed;          /* units given in the pipeline file */
  size_t unit_i, type_i;
  int pass;            /* 0: the range's types, 1: a second list */
  int unit_hit;
  unsigned probes;     /* requests sent */
  struct gx_disc_entry found[GX_DISC_MAX];
  size_t nfound;
};

/** Probe one service type at one unit: 1 present, 0 absent, or a negative
 *  errno when the connection failed (the walk can be resumed). */
typedef int (*gx_probe_fn)(void *arg, int unit, int service);

/** Start a walk over the candidate units, or over `units_list` (256 flags)
 *  when not NULL. */
void gx_disc_begin(struct gx_disc *d, const uint8_t *units_list);

/** Send at most `budget` probes.  1 when the walk is complete, 0 when
 *  there is more, or the probe's negative errno. */
int gx_disc_step(struct gx_disc *d, gx_probe_fn probe, void *arg,
                 unsigned budget);

/** Whether a service type lives only on unit 0/100 (system, settings,
 *  hub4). */
int gx_service_is_system(int service);

/** Keep / read the result (atomically replaced file, "unit service"
 *  lines).  save: 0 or -errno; load: entries read or -errno. */
int gx_disc_save(const struct gx_disc_entry *found, size_t n, const char *path);
int gx_disc_load(struct gx_disc_entry *found, size_t max, const char *path);

#endif

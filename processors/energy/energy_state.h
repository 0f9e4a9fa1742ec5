/* The energy processor's counters on disk: a small text file, one line
 * per meter, ended by a CRC-32 of everything before it, so a torn or
 * edited file is recognised as corrupt rather than half-read.  Pure
 * functions; the plugin writes the file (temp file, fsync, rename). */
#ifndef VQ_ENERGY_STATE_H
#define VQ_ENERGY_STATE_H

#include <stddef.h>

#include "energy_meter.h"
#include "vq_series.h"

/** What is kept per (source, device, input quantity). */
struct energy_series {
  struct energy_meter meter;
  int live_slot1; /* its slot in the live file + 1; 0: none yet */
};

/** And per (source, device) for battery.cycles. */
struct cycle_series {
  struct cycle_counter counter;
  int live_slot1;
};

/** The file's text for the meters (energy_series values) and cycle
 *  counters (cycle_series values).  *out is malloc'd.  0 or -ENOMEM. */
int energy_state_format(struct vq_series_map *meters,
                        struct vq_series_map *cycles, char **out,
                        size_t *len);

/** Read a file's text into the maps.  0, or -EINVAL when the text is not
 *  a whole, intact state file (err says why; the maps may then hold part
 *  of it: the caller starts from empty maps). */
int energy_state_parse(const char *text, size_t len,
                       struct vq_series_map *meters,
                       struct vq_series_map *cycles, char *err, size_t errlen);

#endif

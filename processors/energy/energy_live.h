/* The energy meters' live copy: a small file mapped into memory (one
 * 256-byte slot per meter, each with its own CRC), written before every
 * reading that carries a new counter value goes on.  Its pages are the
 * kernel's, so a process killed with SIGKILL loses nothing: after a
 * restart the meters resume at the last value emitted, never below it.
 * The state file (energy_state.h) is the fsync'd copy for power cuts; the
 * plugin fsyncs this file first, so the state file is never newer.  No
 * blocking call here but the open/mmap at create (processors/README.md). */
#ifndef VQ_ENERGY_LIVE_H
#define VQ_ENERGY_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "energy_meter.h"

struct energy_live;

/** Open (or create) the live file at path.  NULL with *err = -errno. */
struct energy_live *energy_live_open(const char *path, int *err);
void energy_live_close(struct energy_live *l);
/** Its file descriptor (for fsync through libuv). */
int energy_live_fd(const struct energy_live *l);

/** The slot of (source, device, input), created when new: >= 0, or
 *  -ENOMEM / -ENOSPC (names too long for a slot). */
int energy_live_slot(struct energy_live *l, const char *source,
                     const char *device, const char *input);

/** Store a meter / a cycle counter in its slot. */
void energy_live_put_meter(struct energy_live *l, int slot,
                           const struct energy_meter *m);
void energy_live_put_cycles(struct energy_live *l, int slot,
                            const struct cycle_counter *c);

/** Visit every intact slot (its CRC right): what it holds, as a meter or
 *  (input "") a cycle counter. */
void energy_live_each(struct energy_live *l,
                      void (*fn)(void *arg, int slot, const char *source,
                                 const char *device, const char *input,
                                 const struct energy_meter *m,
                                 const struct cycle_counter *c),
                      void *arg);

#endif

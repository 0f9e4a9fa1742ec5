/* Windows of the average processor: per (source, device, quantity) over
 * windows at multiples of `period` in the readings' own time; one reading
 * per device per window, timed at the window's end, emitted when the
 * device's first reading of a later window arrives (or at flush).  Pure,
 * no I/O: output goes to a callback (processors/average/README.md). */
#ifndef VQ_AVG_WINDOW_H
#define VQ_AVG_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include <vicacq/plugin.h>

enum avg_stat { AVG_MEAN, AVG_MIN, AVG_MAX, AVG_LAST, AVG_TWMEAN };

struct avg_windows;

/** A window's reading: records of one device, time = the window's end.
 *  Everything is valid only during the call. */
typedef void (*avg_emit_fn)(void *arg, const char *source,
                            const char *device, int64_t time_ns,
                            const struct vq_record *records, size_t n);

struct avg_windows *avg_new(int64_t period_ns, int stat);
void avg_free(struct avg_windows *w);

/** Add one record of a reading of (source, device) at time_ns.  When it
 *  falls into a later window than the device's open one, that window is
 *  emitted first.  A sample older than the open window is dropped and
 *  counted.  0 or -ENOMEM. */
int avg_add(struct avg_windows *w, const char *source, const char *device,
            int64_t time_ns, const struct vq_record *rec, avg_emit_fn emit,
            void *arg);

/** Emit every open window (at stop).  */
void avg_flush(struct avg_windows *w, avg_emit_fn emit, void *arg);

/** Samples dropped for being older than their device's open window. */
uint64_t avg_late(const struct avg_windows *w);

/** Series tracked, and the bytes they use (benchmark). */
size_t avg_series(const struct avg_windows *w);
size_t avg_bytes(const struct avg_windows *w);

#endif

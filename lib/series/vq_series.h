/* A map from a series key (source, device, and a third name such as a
 * quantity) to a fixed-size block of state: what every processor keeps per
 * series.  Open addressing, keys copied; entries are never removed one by
 * one (a processor's series live as long as it does).  Not thread-safe:
 * processors run on the loop thread. */
#ifndef VQ_SERIES_H
#define VQ_SERIES_H

#include <stddef.h>

struct vq_series_map;

/** A map whose values are `value_size` bytes, zeroed when created. */
struct vq_series_map *vq_series_new(size_t value_size);
void vq_series_free(struct vq_series_map *m);

/** The value of (a, b, c); created (zeroed) when new, with *created set
 *  when created is not NULL.  c may be NULL (two-part keys).  NULL when
 *  out of memory. */
void *vq_series_get(struct vq_series_map *m, const char *a, const char *b,
                    const char *c, int *created);

/** The value of (a, b, c) if present, else NULL. */
void *vq_series_find(const struct vq_series_map *m, const char *a,
                     const char *b, const char *c);

/** Number of series. */
size_t vq_series_count(const struct vq_series_map *m);

/** Visit every series in insertion order; stop when fn returns non-zero
 *  (that value is returned). */
int vq_series_each(struct vq_series_map *m,
                   int (*fn)(void *arg, const char *a, const char *b,
                             const char *c, void *value),
                   void *arg);

/** Bytes the map uses (for the benchmark's memory per series). */
size_t vq_series_bytes(const struct vq_series_map *m);

#endif

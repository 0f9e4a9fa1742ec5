/* An item is the core's own copy of a reading: one allocation holding the
 * reading, its records, tags and strings, shared by reference between the
 * sink queues that carry it. */
#ifndef VQ_ITEM_H
#define VQ_ITEM_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"

struct vq_item {
  struct vq_reading reading; /* public view; pointers point into this block */
  uint32_t refs;
  uint32_t bytes; /* size of the allocation, for queue accounting */
};

/* Called for each record being copied; returns the flags to store (e.g.
 * with VQ_RECORD_WRITABLE added) or -1 to leave the record out. */
typedef int (*vq_item_filter)(void *arg, const struct vq_record *r);

/* Copy `in` for `source` (a string that outlives the item).  Records with a
 * NULL unit get the vocabulary's.  `filter` may be NULL.  Returns NULL with
 * *err set (-EINVAL malformed, -ENOMEM, -ENODATA when the filter left no
 * record). */
struct vq_item *vq_item_copy(const struct vq_reading *in, const char *source,
                             int64_t time_ns, uint64_t seq,
                             vq_item_filter filter, void *arg, int *err);

static inline struct vq_item *vq_item_ref(struct vq_item *it) {
  it->refs++;
  return it;
}
void vq_item_unref(struct vq_item *it);

/* The item whose reading this is (readings handed to sinks are items). */
static inline struct vq_item *vq_item_of(const struct vq_reading *r) {
  return (struct vq_item *)(void *)((char *)r - offsetof(struct vq_item, reading));
}

/* Spool encoding: a self-contained byte string.  vq_item_encode returns the
 * number of bytes written to buf (buf may be NULL to ask the size).
 * vq_item_decode returns a new item (refs 1) or NULL for malformed bytes;
 * `source` strings are interned by the caller-given function. */
size_t vq_item_encode(const struct vq_item *it, unsigned char *buf,
                      size_t buflen);
typedef const char *(*vq_intern_fn)(const char *s);
struct vq_item *vq_item_decode(const unsigned char *buf, size_t len,
                               vq_intern_fn intern);

#endif

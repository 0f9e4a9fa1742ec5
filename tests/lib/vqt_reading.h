/* Readings for tests: a builder for readings a test makes up, a list that
 * owns copies (made by the core's vq_item_copy, so they are exactly what
 * a sink gets from the daemon), and the harness that feeds readings to
 * whatever takes them (a sink through vqt_host_write_fn, a processor,
 * a formatter). */
#ifndef VQT_READING_H
#define VQT_READING_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"

#define VQT_MAX_RECORDS 64
#define VQT_MAX_TAGS 8

/* A reading under construction, with room for VQT_MAX_RECORDS records and
 * VQT_MAX_TAGS tags.  Strings are not copied: they must outlive the
 * builder's use (literals, usually).  Adding past the room is a test bug:
 * it aborts. */
struct vqt_builder {
  struct vq_reading reading; /* ready to emit, copy or feed at any time */
  struct vq_record records[VQT_MAX_RECORDS];
  struct vq_tag tags[VQT_MAX_TAGS];
};

/* Start a reading of `device` at time_ns (0: "now" on emit). */
void vqt_build(struct vqt_builder *b, const char *device, int64_t time_ns);
void vqt_build_tag(struct vqt_builder *b, const char *key, const char *value);
/* Each returns the new record, for setting flags or a unit (NULL: the
 * vocabulary's). */
struct vq_record *vqt_build_double(struct vqt_builder *b, const char *quantity,
                                   double value);
struct vq_record *vqt_build_int(struct vqt_builder *b, const char *quantity,
                                int64_t value);
struct vq_record *vqt_build_bool(struct vqt_builder *b, const char *quantity,
                                 int value);
struct vq_record *vqt_build_string(struct vqt_builder *b, const char *quantity,
                                   const char *value);
/* label: the code's label, or NULL when it has none. */
struct vq_record *vqt_build_enum(struct vqt_builder *b, const char *quantity,
                                 int64_t code, const char *label);
/* labels: the set bits' labels joined by ',' ("" for none). */
struct vq_record *vqt_build_bitmask(struct vqt_builder *b,
                                    const char *quantity, int64_t bits,
                                    const char *labels);
/* A not-available record of the given vq_value_type. */
struct vq_record *vqt_build_na(struct vqt_builder *b, const char *quantity,
                               uint32_t type);

/* Readings owned by the list: each is the core's copy (one allocation,
 * reference-counted as the daemon's queues do). */
struct vqt_list {
  struct vq_reading **items;
  size_t n, cap;
};

/* Copy `r` into the list as source `source` (a string that outlives the
 * list) with the given time (0: r's own, or now when that is 0 too) and
 * seq.  0, or -EINVAL for a reading the core refuses (no device, no
 * records, a record without quantity or with an unknown type), -ENOMEM. */
int vqt_list_add(struct vqt_list *l, const struct vq_reading *r,
                 const char *source, int64_t time_ns, uint64_t seq);
void vqt_list_clear(struct vqt_list *l);
static inline const struct vq_reading *const *vqt_list_readings(
    const struct vqt_list *l) {
  return (const struct vq_reading *const *)l->items;
}

/* Something that takes readings, n at a time; 0 to go on, anything else
 * stops the feed and is returned by it. */
typedef int (*vqt_feed_fn)(void *arg, const struct vq_reading *const *readings,
                           size_t n);
/* Hand readings[0..n) to fn in slices of at most `per_call` (0: all at
 * once).  0, or the first non-zero return of fn. */
int vqt_feed(const struct vq_reading *const *readings, size_t n,
             size_t per_call, vqt_feed_fn fn, void *arg);

/* The record of `quantity` in r, or NULL. */
const struct vq_record *vqt_record(const struct vq_reading *r,
                                   const char *quantity);
/* The value of tag `key` in r, or NULL. */
const char *vqt_tag(const struct vq_reading *r, const char *key);
/* One record as "QUANTITY=VALUE" (see vqt_host_count); returns buf. */
char *vqt_record_text(const struct vq_record *rec, char *buf, size_t len);

#endif

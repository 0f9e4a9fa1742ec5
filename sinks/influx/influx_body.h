/* A batch as an InfluxDB request body: the line protocol of every reading
 * (the shared formatter in lib/format/record_format.c), where each reading's
 * line is, so that a range of readings can be sent (halves after a 413)
 * and the lines a server dropped can be traced back to their records,
 * and optional gzip. */
#ifndef INFLUX_BODY_H
#define INFLUX_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "record_format.h"
#include "vicacq/plugin.h"

struct influx_body {
  struct vq_text text;
  size_t *end;       /* end[i]: end of reading i's line (start: end[i-1]) */
  uint32_t n, cap;   /* readings formatted */
  uint32_t lines;    /* readings that gave a line (some have no field) */
  struct vq_text gz; /* the gzip of the last range asked for */
};

void influx_body_init(struct influx_body *b);
void influx_body_free(struct influx_body *b);

/* Format the readings of a batch.  0 or -ENOMEM. */
int influx_body_format(struct influx_body *b, const struct vq_batch *batch,
                       const struct vq_lp_options *o, struct vq_lp_types *types);

/* Bytes and lines of readings [lo, hi). */
static inline size_t influx_body_offset(const struct influx_body *b, uint32_t i) {
  return i == 0 ? 0 : b->end[i - 1];
}
uint32_t influx_body_lines(const struct influx_body *b, uint32_t lo, uint32_t hi);

/* gzip readings [lo, hi) into b->gz.  0 or a negative errno. */
int influx_body_gzip(struct influx_body *b, uint32_t lo, uint32_t hi);

/* Readings in [lo, hi) whose line is `line` (the text a server quotes;
 * an unparsable line), or whose line has the field `field` (unescaped
 * quantity name; a type conflict).  Returns how many matched and adds up
 * their records (from batch) in *records. */
uint32_t influx_body_find_line(const struct influx_body *b,
                               const struct vq_batch *batch, uint32_t lo,
                               uint32_t hi, const char *line, size_t len,
                               uint32_t *records);
uint32_t influx_body_find_field(const struct influx_body *b,
                                const struct vq_batch *batch, uint32_t lo,
                                uint32_t hi, const char *field,
                                uint32_t *records);

#endif

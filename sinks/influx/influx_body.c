/* Request bodies for the influx sink (see influx_body.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "influx_body.h"

void influx_body_init(struct influx_body *b) {
  memset(b, 0, sizeof *b);
  vq_text_init(&b->text);
  vq_text_init(&b->gz);
}

void influx_body_free(struct influx_body *b) {
  vq_text_free(&b->text);
  vq_text_free(&b->gz);
  free(b->end);
  b->end = NULL;
  b->cap = b->n = 0;
}

int influx_body_format(struct influx_body *b, const struct vq_batch *batch,
                       const struct vq_lp_options *o, struct vq_lp_types *types) {
  uint32_t i;
  vq_text_clear(&b->text);
  b->n = b->lines = 0;
  if (batch->nreadings > b->cap) {
    size_t *end = realloc(b->end, batch->nreadings * sizeof *end);
    if (end == NULL) return -ENOMEM;
    b->end = end;
    b->cap = batch->nreadings;
  }
  for (i = 0; i < batch->nreadings; i++) {
    if (vq_format_line_protocol_typed(&b->text, batch->readings[i], o, types) > 0)
      b->lines++;
    b->end[i] = b->text.len;
  }
  if (b->text.failed) return -ENOMEM;
  b->n = batch->nreadings;
  return 0;
}

uint32_t influx_body_lines(const struct influx_body *b, uint32_t lo, uint32_t hi) {
  uint32_t i, n = 0;
  for (i = lo; i < hi; i++)
    if (b->end[i] > influx_body_offset(b, i)) n++;
  return n;
}

int influx_body_gzip(struct influx_body *b, uint32_t lo, uint32_t hi) {
  size_t off = influx_body_offset(b, lo), len = influx_body_offset(b, hi) - off;
  z_stream z;
  int rc;
  vq_text_clear(&b->gz);
  memset(&z, 0, sizeof z);
  /* windowBits 15 + 16: a gzip wrapper, which is what
   * Content-Encoding: gzip means.  Level 1: most of the size gain for a
   * fraction of the time (line protocol is very repetitive). */
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return -ENOMEM;
  {
    uLong bound = deflateBound(&z, (uLong)len);
    /* Grow the buffer once to the bound, then deflate in one go. */
    if (b->gz.cap < bound + 1) {
      char *d = realloc(b->gz.data, bound + 1);
      if (d == NULL) {
        deflateEnd(&z);
        return -ENOMEM;
      }
      b->gz.data = d;
      b->gz.cap = bound + 1;
    }
    z.next_in = (Bytef *)(b->text.data + off);
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)b->gz.data;
    z.avail_out = (uInt)bound;
    rc = deflate(&z, Z_FINISH);
    b->gz.len = z.total_out;
  }
  deflateEnd(&z);
  return rc == Z_STREAM_END ? 0 : -EIO;
}

uint32_t influx_body_find_line(const struct influx_body *b,
                               const struct vq_batch *batch, uint32_t lo,
                               uint32_t hi, const char *line, size_t len,
                               uint32_t *records) {
  uint32_t i, n = 0;
  *records = 0;
  for (i = lo; i < hi; i++) {
    size_t s = influx_body_offset(b, i), e = b->end[i];
    if (e > s && b->text.data[e - 1] == '\n') e--;
    if (e - s == len && memcmp(b->text.data + s, line, len) == 0) {
      n++;
      *records += batch->readings[i]->nrecords;
    }
  }
  return n;
}

uint32_t influx_body_find_field(const struct influx_body *b,
                                const struct vq_batch *batch, uint32_t lo,
                                uint32_t hi, const char *field,
                                uint32_t *records) {
  uint32_t i, j, n = 0;
  *records = 0;
  for (i = lo; i < hi; i++) {
    const struct vq_reading *r = batch->readings[i];
    if (b->end[i] == influx_body_offset(b, i)) continue; /* no line */
    for (j = 0; j < r->nrecords; j++) {
      const struct vq_record *rec = VQ_READING_RECORD(r, j);
      if (strcmp(rec->quantity, field) == 0 && !(rec->flags & VQ_RECORD_NA)) {
        n++;
        *records += r->nrecords;
        break;
      }
    }
  }
  return n;
}

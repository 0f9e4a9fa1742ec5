/* A reading passed on with a processor's own records: every processor that
 * rewrites, drops or adds records emits the same header over its scratch
 * array.  Header-only: each user adds -I$(top_srcdir)/lib/util. */
#ifndef VQ_READING_COPY_H
#define VQ_READING_COPY_H

#include <stdint.h>

#include <vicacq/plugin.h>

/* r's source, device, time and tags with records[0..n) instead of its own.
 * The result points at records and at r's strings, so it is valid only as
 * long as both are (in practice: for the emit call it is passed to). */
static inline struct vq_reading vq_reading_with_records(
    const struct vq_reading *r, const struct vq_record *records, uint32_t n) {
  struct vq_reading out = *r;
  out.size = sizeof out;
  out.record_size = sizeof *records;
  out.records = records;
  out.nrecords = n;
  return out;
}

#endif

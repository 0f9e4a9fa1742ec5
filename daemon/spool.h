/* A sink's queue on disk: append-only segment files of CRC-checked frames,
 * read oldest first, with the acknowledged position kept in a small file
 * so a restart resumes where delivery stopped.  Corrupt or torn frames are
 * reported and skipped; the good frames around them are kept. */
#ifndef VQ_SPOOL_H
#define VQ_SPOOL_H

#include <stdint.h>

#include "item.h"

struct vq_spool;

/* Open (creating) DIR/SINK_ID/.  `label` prefixes log lines. */
int vq_spool_open(struct vq_spool **out, const char *dir, const char *sink_id,
                  uint64_t max_bytes, const char *label);
void vq_spool_close(struct vq_spool *s);

/* Append a reading.  When the spool would exceed its size, the oldest
 * segment is removed first and its unread records added to *dropped. */
int vq_spool_append(struct vq_spool *s, const struct vq_item *it,
                    uint64_t *dropped);
/* Write buffered frames to the file. */
int vq_spool_flush(struct vq_spool *s);

/* The next unread reading (refs 1), or NULL when there is none. */
struct vq_item *vq_spool_next(struct vq_spool *s);
/* The oldest n readings handed out by next() are delivered. */
void vq_spool_ack(struct vq_spool *s, uint32_t n);

/* Records appended and not yet handed out by next(). */
uint64_t vq_spool_pending_records(const struct vq_spool *s);
/* Bytes on disk in percent of spool_max_bytes. */
int vq_spool_fill_percent(const struct vq_spool *s);
/* Frames skipped as corrupt since open (for tests and stats). */
uint64_t vq_spool_corrupt_frames(const struct vq_spool *s);

#endif

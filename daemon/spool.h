/* A sink's queue on disk: append-only segment files of CRC-checked frames
 * (spool_frame.h), read oldest first, with the acknowledged position kept
 * in a small file so a restart resumes where delivery stopped.  Corrupt or
 * torn frames are reported and skipped; the good frames around them are
 * kept.  Every record the spool gives up (for room, to a full disk, to
 * damage) is counted in vq_spool_dropped(). */
#ifndef VQ_SPOOL_H
#define VQ_SPOOL_H

#include <stdint.h>

#include "item.h"

struct vq_spool;

/* When appended frames reach the disk (spool_sync, doc/vicacq.ini.5).
 * Every frame is written to the file before append returns, so a crash of
 * the daemon (kill -9) loses nothing it accepted; the choice is about a
 * crash of the machine (power cut). */
enum vq_spool_sync {
  VQ_SPOOL_SYNC_NONE = 0,     /* the kernel writes back when it likes */
  VQ_SPOOL_SYNC_PERIODIC = 1, /* fdatasync from vq_spool_flush (each second) */
  VQ_SPOOL_SYNC_ALWAYS = 2    /* fdatasync before append returns */
};

/* Open (creating) DIR/SINK_ID/.  `label` prefixes log lines. */
int vq_spool_open(struct vq_spool **out, const char *dir, const char *sink_id,
                  uint64_t max_bytes, int sync, const char *label);
void vq_spool_close(struct vq_spool *s);

/* Append a reading.  0: it is kept (written, and synced with
 * VQ_SPOOL_SYNC_ALWAYS).  -errno: it is not (the disk failed; nothing of
 * it is left in the file) and the caller counts it.  To make room, the
 * oldest segments may be removed first, for spool_max_bytes or a full
 * disk; their unread records are added to vq_spool_dropped(). */
int vq_spool_append(struct vq_spool *s, const struct vq_item *it);
/* The periodic work: fdatasync what was appended since the last call
 * (VQ_SPOOL_SYNC_PERIODIC).  0 or -errno. */
int vq_spool_flush(struct vq_spool *s);

/* The next unread reading (refs 1), or NULL when every appended frame has
 * been handed out. */
struct vq_item *vq_spool_next(struct vq_spool *s);
/* The oldest n readings handed out by next() are delivered. */
void vq_spool_ack(struct vq_spool *s, uint32_t n);

/* Records appended and not yet handed out by next(). */
uint64_t vq_spool_pending_records(const struct vq_spool *s);
/* Records handed out, not acknowledged, whose frames were since removed to
 * make room: only the memory of the batch in flight still holds them. */
uint64_t vq_spool_unbacked_records(const struct vq_spool *s);
/* Records the spool gave up since open (see above). */
uint64_t vq_spool_dropped(const struct vq_spool *s);
/* Bytes on disk in percent of spool_max_bytes, or of the size of the file
 * system holding the spool when that is smaller (the backlog hint of
 * replays that wait for their sinks). */
int vq_spool_fill_percent(const struct vq_spool *s);
/* Frames skipped as corrupt since open (for tests and stats). */
uint64_t vq_spool_corrupt_frames(const struct vq_spool *s);
/* The size of one segment file, chosen at open (for tests). */
uint64_t vq_spool_segment_max(const struct vq_spool *s);

#endif

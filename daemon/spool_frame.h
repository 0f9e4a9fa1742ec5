/* The spool's on-disk formats, as pure functions over bytes: the frame
 * (magic, payload length, CRC-32, payload), the walk over a segment's
 * frames with resynchronisation after damage, and the ack file.  Kept
 * apart from the file handling in spool.c so that the fuzz targets reach
 * exactly the code that reads what a crash or a bad disk leaves behind. */
#ifndef VQ_SPOOL_FRAME_H
#define VQ_SPOOL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define VQ_FRAME_MAGIC 0x31465156u /* "VQF1", little endian */
#define VQ_FRAME_HEADER 12u
#define VQ_FRAME_MAX (16u << 20)
/* The smallest payload vq_item_encode writes: time, seq, ntags, nrecords
 * and two string lengths. */
#define VQ_FRAME_MIN_PAYLOAD 28u

/* Fill the 12-byte header for `payload` of `len` bytes. */
void vq_frame_header(unsigned char *header, const unsigned char *payload,
                     uint32_t len);

/* Total length of the valid frame at buf[off], or 0 when there is none
 * (short, bad magic, impossible length, checksum mismatch). */
size_t vq_frame_at(const unsigned char *buf, size_t len, size_t off);

/* Records in a valid frame's payload (the count after time, seq, ntags). */
uint32_t vq_frame_records(const unsigned char *frame);

/* Offset of the first valid frame at or after `off`, or `len`. */
size_t vq_frame_resync(const unsigned char *buf, size_t len, size_t off);

/* One stretch of damage found by vq_frame_walk: `skipped` bytes at `off`;
 * `at_end` when no good frame follows (a torn tail). */
typedef void (*vq_frame_damage_cb)(void *arg, size_t off, size_t skipped,
                                   int at_end);

struct vq_frame_walk {
  uint64_t frames;  /* good frames */
  uint64_t records; /* records in them */
  uint64_t damaged; /* stretches of damage skipped */
  size_t good_end;  /* offset after the last good frame */
  size_t boundary;  /* the last frame start or good end <= `stop` */
};

/* Walk the frames of buf[from..len): count the good ones, skip damage
 * (calling `damage` once per stretch, when not NULL).  `stop` (or
 * SIZE_MAX) asks for the last frame boundary at or before it, to check an
 * acknowledged offset. */
void vq_frame_walk(const unsigned char *buf, size_t len, size_t from,
                   size_t stop, struct vq_frame_walk *out,
                   vq_frame_damage_cb damage, void *arg);

/* The ack file: "SEGMENT OFFSET\n", the segment id in 16 hex digits and
 * the offset in decimal.  Returns the bytes written (< 48) to out. */
size_t vq_ack_format(char *out, size_t len, uint64_t seg, uint64_t off);
/* 0 when buf[0..len) is exactly one such line, else -1 (nothing set). */
int vq_ack_parse(const char *buf, size_t len, uint64_t *seg, uint64_t *off);

#endif

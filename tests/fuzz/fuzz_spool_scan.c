/* libFuzzer target: the walk over a spool segment's frames and the
 * resynchronisation after damage (spool_frame.c), on the bytes a crash or
 * a bad disk leaves in a segment file.  Checks what the spool relies on:
 * the walk ends, stays inside the buffer, finds only valid frames, and
 * resync finds exactly the first valid frame at or after its start. */
#include <stdint.h>
#include <stdlib.h>

#include "spool_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
  size_t len, end;
  uint64_t stretches;
};

static void on_damage(void *arg, size_t off, size_t skipped, int at_end) {
  struct seen *s = arg;
  /* Stretches come in order, inside the buffer, never empty. */
  if (off < s->end || skipped == 0 || off + skipped > s->len) abort();
  if (at_end != (off + skipped == s->len)) abort();
  s->end = off + skipped;
  s->stretches++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct vq_frame_walk w;
  struct seen seen = {size, 0, 0};
  size_t stop = size ? data[0] * size / 256 : 0, off, n, from;

  vq_frame_walk(data, size, 0, stop, &w, on_damage, &seen);
  if (w.good_end > size || w.boundary > stop || w.boundary > size) abort();
  if (w.damaged != seen.stretches) abort();
  /* Each good frame holds at least its header and a minimal payload. */
  if (w.frames * (VQ_FRAME_HEADER + VQ_FRAME_MIN_PAYLOAD) > size) abort();

  /* Resync from a place the input picks: the answer is a valid frame (or
   * the end), and nothing valid lies between the start and it. */
  from = size > 1 ? data[1] % size : 0;
  off = vq_frame_resync(data, size, from);
  if (off > size) abort();
  if (off < size && vq_frame_at(data, size, off) == 0) abort();
  if (size <= 512)
    for (n = from; n < off; n++)
      if (vq_frame_at(data, size, n) != 0) abort();
  return 0;
}

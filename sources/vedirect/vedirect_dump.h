/* The raw dump (mode = dump, `vicacq dump vedirect`): every byte read from
 * the port appended to a file, without blocking the loop (uv_fs writes,
 * queued in order).  The file replays with port = file:PATH. */
#ifndef VEDIRECT_DUMP_H
#define VEDIRECT_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct ved_dump_chunk;

struct ved_dump {
  uv_loop_t *loop;
  uv_file fd;
  const char *path; /* not owned */
  struct ved_dump_chunk *head, *tail;
  int busy, ending;
  uint64_t written, dropped, write_errors;
  uv_fs_t req;
  /* standard output may be a non-blocking pipe: a write that would block
   * is tried again after a short wait (the timer exists from then on) */
  uv_timer_t retry;
  int retry_open;
  /* Called once when every queued byte is written (or failed) after
   * ved_dump_end(), with the file closed; errors are counted above. */
  void (*closed)(void *arg);
  void *arg;
};

/* Create (or truncate) path; "-" is standard output.  0 or a negative
 * libuv error. */
int ved_dump_open(struct ved_dump *d, uv_loop_t *loop, const char *path,
                  void (*closed)(void *), void *arg);
/* Queue bytes (copied).  After ved_dump_end they are ignored. */
void ved_dump_bytes(struct ved_dump *d, const uint8_t *buf, size_t len);
/* No more bytes: close once the queue is written; closed() follows. */
void ved_dump_end(struct ved_dump *d);
/* Whether a write is still in flight (its request needs the loop). */
int ved_dump_busy(const struct ved_dump *d);
/* Free what is left: after closed(), or after a failed start (nothing
 * was written then, so no handle is open). */
void ved_dump_free(struct ved_dump *d);

#endif

/* VE.Direct block assembly: port reads in, timed blocks and HEX lines out.
 *
 * Between the port and the plugin: it runs the text parser over each read,
 * stops after every block so each gets its own time and position, drops a
 * block a live line paused inside (doc/protocols/vedirect.md §2.2), and
 * lets the consumer hold the stream after a block (replay pacing).  Pure
 * code: no I/O, the clocks come in with the bytes.
 *
 * A live block's time is the arrival of its read minus the line time of
 * the bytes after it in the read (19200 baud, 10 bits a byte): blocks that
 * arrive in one read (a TCP bridge batches) get the distinct times they
 * were sent at, and times never go backwards. */
#ifndef VEDIRECT_STREAM_H
#define VEDIRECT_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "vedirect_text.h"

/* Line time of one byte at 19200 baud 8N1, in ns. */
#define VED_BYTE_NS 520833
/* Silence inside a block on a live line that drops it (§2.2 step 5). */
#define VED_GAP_RESYNC_MS 500

/* Where and when a block ended. */
struct ved_block_at {
  uint64_t end_pos; /* stream bytes up to and including its checksum byte */
  int64_t time_ns;  /* live: when it was sent; replays: 0 (see vq_replay) */
};

struct ved_stream_cb {
  /* A valid block.  May call ved_stream_hold(). */
  void (*block)(void *arg, const struct ved_field *fields, size_t n,
                const struct ved_block_at *at);
  /* A block that failed its checksum or was cut (counted, dropped). */
  void (*bad_block)(void *arg);
  /* A HEX frame, as ved_hexline_cb. */
  void (*hex)(void *arg, const char *line, size_t len);
  void *arg;
};

struct ved_stream {
  struct ved_text text;
  struct ved_stream_cb cb;
  int live;
  uint64_t pos;          /* bytes consumed so far */
  uint64_t last_byte_ms; /* live: when the previous read arrived (0: none) */
  int64_t last_time_ns;
  /* the block that just ended, between the parser's two callbacks */
  int ended, ended_valid, hold;
  size_t nfields;
  struct ved_field fields[VED_FIELDS_MAX];
};

/* live: a serial or TCP line (gaps resync, blocks get arrival times);
 * else a replay. */
void ved_stream_init(struct ved_stream *s, int live,
                     const struct ved_stream_cb *cb);

/* Feed one read that arrived at now_ms (loop clock) / arrival_ns (wall
 * clock).  Returns the bytes consumed: len, or fewer when a block
 * callback called ved_stream_hold() (the caller feeds the rest later,
 * with the same or later clocks). */
size_t ved_stream_feed(struct ved_stream *s, const uint8_t *buf, size_t len,
                       uint64_t now_ms, int64_t arrival_ns);

/* From within the block callback: consume nothing after this block. */
void ved_stream_hold(struct ved_stream *s);

/* Forget a partly received block (a reconnect). */
void ved_stream_reset(struct ved_stream *s);

#endif

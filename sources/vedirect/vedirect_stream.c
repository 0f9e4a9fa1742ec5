/* VE.Direct block assembly (see vedirect_stream.h). */
#include "vedirect_stream.h"

#include <string.h>

static void on_block(void *arg, const struct ved_field *fields, size_t n) {
  struct ved_stream *s = arg;
  memcpy(s->fields, fields, n * sizeof *fields);
  s->nfields = n;
}

static void on_block_end(void *arg, int valid) {
  struct ved_stream *s = arg;
  s->ended = 1;
  s->ended_valid = valid;
  /* Return from the parser right here: the block's end position (and so
   * its time) is known only while its last byte is the current one. */
  ved_text_pause(&s->text);
}

static void on_hex(void *arg, const char *line, size_t len) {
  struct ved_stream *s = arg;
  if (s->cb.hex) s->cb.hex(s->cb.arg, line, len);
}

void ved_stream_init(struct ved_stream *s, int live,
                     const struct ved_stream_cb *cb) {
  memset(s, 0, sizeof *s);
  s->live = live;
  s->cb = *cb;
  ved_text_init(&s->text, on_block, on_hex, s);
  s->text.on_block_end = on_block_end;
}

void ved_stream_hold(struct ved_stream *s) { s->hold = 1; }

void ved_stream_reset(struct ved_stream *s) {
  ved_text_resync(&s->text);
  s->last_byte_ms = 0;
}

static int64_t live_time(struct ved_stream *s, size_t after, int64_t arrival_ns) {
  int64_t t = arrival_ns - (int64_t)after * VED_BYTE_NS;
  if (t <= s->last_time_ns) t = s->last_time_ns + 1;
  s->last_time_ns = t;
  return t;
}

size_t ved_stream_feed(struct ved_stream *s, const uint8_t *buf, size_t len,
                       uint64_t now_ms, int64_t arrival_ns) {
  size_t off = 0;
  if (s->live) {
    if (s->last_byte_ms && now_ms - s->last_byte_ms > VED_GAP_RESYNC_MS &&
        !ved_text_idle(&s->text))
      ved_text_resync(&s->text);
    s->last_byte_ms = now_ms;
  }
  s->hold = 0;
  while (off < len) {
    size_t used = ved_text_feed(&s->text, buf + off, len - off);
    off += used;
    s->pos += used;
    if (!s->ended) continue; /* only a block end pauses the parser */
    s->ended = 0;
    if (!s->ended_valid) {
      if (s->cb.bad_block) s->cb.bad_block(s->cb.arg);
      continue;
    }
    {
      struct ved_block_at at;
      at.end_pos = s->pos;
      at.time_ns = s->live ? live_time(s, len - off, arrival_ns) : 0;
      if (s->cb.block) s->cb.block(s->cb.arg, s->fields, s->nfields, &at);
    }
    if (s->hold) {
      s->hold = 0;
      return off;
    }
  }
  return off;
}

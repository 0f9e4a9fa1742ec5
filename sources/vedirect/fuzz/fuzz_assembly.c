/* libFuzzer target for VE.Direct block assembly in the plugin: port reads
 * in arbitrary pieces through vedirect_stream.c (live: gaps and arrival
 * times; replay: a consumer that holds the stream after blocks and feeds
 * the rest again), then device identity (vedirect_ident.c) and field
 * decoding of every block.  `make fuzz` builds and runs it with the seeds
 * of fuzz/seeds-assembly.
 *
 * Input: byte 0 picks live or replay and how often the consumer holds,
 * byte 1 the read size, the rest are the port's bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../vedirect_fields.h"
#include "../vedirect_ident.h"
#include "../vedirect_stream.h"

static struct ved_stream s;
static struct ved_ident id;
static struct ved_block blk;
static unsigned hold_every, blocks;
static uint64_t last_end;
static int64_t last_time;
static size_t fed;

static void on_block(void *arg, const struct ved_field *f, size_t n,
                     const struct ved_block_at *at) {
  struct vq_tag tags[VED_IDENT_TAGS];
  uint32_t nt, i;
  (void)arg;
  if (n > VED_FIELDS_MAX || at->end_pos <= last_end || at->end_pos > fed)
    __builtin_trap();
  last_end = at->end_pos;
  if (s.live) {
    if (at->time_ns <= last_time) __builtin_trap(); /* distinct, increasing */
    last_time = at->time_ns;
  } else if (at->time_ns != 0) {
    __builtin_trap();
  }
  ved_ident_update(&id, f, n);
  if (ved_ident_known(&id) != (id.device[0] != '\0')) __builtin_trap();
  if (memchr(id.device, '\0', sizeof id.device) == NULL) __builtin_trap();
  nt = ved_ident_tags(&id, tags);
  if (nt > VED_IDENT_TAGS) __builtin_trap();
  for (i = 0; i < nt; i++)
    if (tags[i].key == NULL || tags[i].value == NULL) __builtin_trap();
  ved_block_decode(f, n, &blk);
  for (i = 0; i < blk.nrecords; i++)
    if (blk.records[i].quantity == NULL) __builtin_trap();
  if (hold_every && ++blocks % hold_every == 0) ved_stream_hold(&s);
}

static void on_hex(void *arg, const char *line, size_t len) {
  (void)arg;
  if (len > VED_HEX_LINE_MAX) __builtin_trap();
  /* a serial number reply of any bytes */
  ved_ident_hex_serial(&id, (const uint8_t *)line, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct ved_stream_cb cb = {on_block, NULL, on_hex, NULL};
  size_t chunk, off = 0;
  uint64_t now_ms = 1000;
  int64_t now_ns = 1000000000000LL;
  int live;
  if (size < 2) return 0;
  live = data[0] & 1;
  /* only a replay's consumer holds (a live line cannot wait) */
  hold_every = live ? 0 : (data[0] >> 1) & 7;
  chunk = (size_t)data[1] + 1;
  data += 2;
  size -= 2;
  blocks = 0;
  last_end = 0;
  last_time = 0;
  fed = 0;
  ved_stream_init(&s, live, &cb);
  ved_ident_init(&id, (data[-2] & 0x80) ? "forced" : NULL);
  while (off < size) {
    size_t n = size - off < chunk ? size - off : chunk, used;
    fed = off + n;
    used = ved_stream_feed(&s, data + off, n, now_ms, now_ns);
    if (used > n || (used < n && hold_every == 0))
      __builtin_trap();
    if (s.pos != off + used) __builtin_trap();
    off += used;
    /* the clocks move on; a long silence now and then (live: resync) */
    now_ms += (data[off - (used ? 1 : 0)] & 0x40) ? 600 : 10;
    now_ns += 10000000;
  }
  if (s.text.stats.blocks != s.text.stats.blocks_valid + s.text.stats.blocks_bad)
    __builtin_trap();
  return 0;
}

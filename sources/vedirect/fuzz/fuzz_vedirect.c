/* libFuzzer target for the VE.Direct text framing, field decoding and the
 * HEX codec.  Build and run (see `make fuzz` in this directory):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I../../include \
 *     fuzz_vedirect.c ../vedirect_{text,fields,hex,products,control}.c
 *   ./fuzz_vedirect -max_total_time=60 corpus/
 * The first input byte picks how the rest is split into feed() calls, so
 * chunk boundaries are fuzzed too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../vedirect_fields.h"
#include "../vedirect_hex.h"
#include "../vedirect_text.h"

static struct ved_block blk;

static void on_block(void *arg, const struct ved_field *f, size_t n) {
  size_t i;
  (void)arg;
  ved_block_decode(f, n, &blk);
  /* every record must be well formed */
  for (i = 0; i < blk.nrecords; i++) {
    const struct vq_record *r = &blk.records[i];
    if (r->quantity == NULL || r->type < VQ_VALUE_DOUBLE || r->type > VQ_VALUE_BITMASK)
      __builtin_trap();
    if (r->type == VQ_VALUE_BITMASK && !(r->flags & VQ_RECORD_NA) &&
        (r->text == NULL || strlen(r->text) >= VED_BITS_TEXT_MAX))
      __builtin_trap();
  }
}

static void on_hex(void *arg, const char *line, size_t len) {
  struct ved_hex_frame f;
  struct ved_hex_reg r;
  char out[VED_HEX_FRAME_MAX];
  (void)arg;
  if (len > VED_HEX_LINE_MAX) __builtin_trap();
  if (ved_hex_decode(line, len, &f) == 0) {
    /* a frame that decodes re-encodes to a frame that decodes the same */
    struct ved_hex_frame g;
    int n = ved_hex_encode(f.cmd, f.payload, f.len, out, sizeof out);
    if (n < 0 || ved_hex_decode(out + 1, (size_t)n - 2, &g) != 0 ||
        g.cmd != f.cmd || g.len != f.len || memcmp(g.payload, f.payload, f.len))
      __builtin_trap();
    if (ved_hex_reg_parse(&f, &r) == 0) {
      uint16_t v16;
      uint32_t v32;
      ved_hex_u16(&r, &v16);
      ved_hex_u32(&r, &v32);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct ved_text p;
  size_t chunk, off = 0;
  if (size == 0) return 0;
  chunk = (size_t)data[0] + 1;
  data++;
  size--;
  ved_text_init(&p, on_block, on_hex, NULL);
  while (off < size) {
    size_t n = size - off < chunk ? size - off : chunk;
    if (ved_text_feed(&p, data + off, n) != n) __builtin_trap();
    off += n;
  }
  if (p.stats.blocks != p.stats.blocks_valid + p.stats.blocks_bad) __builtin_trap();
  /* the HEX decoder on the raw input as well */
  on_hex(NULL, (const char *)data, size < VED_HEX_LINE_MAX ? size : VED_HEX_LINE_MAX);
  return 0;
}

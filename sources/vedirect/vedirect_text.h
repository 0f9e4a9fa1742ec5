/* VE.Direct text protocol: block framing and the block checksum.
 *
 * Pure code: bytes go in through ved_text_feed(), complete blocks and HEX
 * frames come out through callbacks.  No I/O, no allocation.
 *
 * Framing (doc/protocols/vedirect.md §2.1-2.4): a block is a run of
 * "\r\n<label>\t<value>" fields ended by "\r\nChecksum\t<one raw byte>".
 * Every byte outside HEX frames is summed; the block is valid when the sum
 * of everything since the previous checksum byte is 0 mod 256.  The byte
 * after "Checksum\t" is taken unconditionally, whatever it is (':' and CR
 * happen).  A ':' anywhere else starts a HEX frame that runs to '\n' and is
 * kept out of the sum; afterwards the text state carries on. */
#ifndef VEDIRECT_TEXT_H
#define VEDIRECT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* [TXT] implementation guidelines: labels up to 8, values up to 32 chars. */
#define VED_LABEL_MAX 8
#define VED_VALUE_MAX 32
/* [TXT] allows 22 fields per block; a little slack for odd firmware. */
#define VED_FIELDS_MAX 32
/* Longest HEX frame kept, in characters between ':' and '\n'.  The longest
 * seen (IP22 0x1070 history record) is about 113; values are up to
 * String32 or 52-byte records. */
#define VED_HEX_LINE_MAX 300

struct ved_field {
  char label[VED_LABEL_MAX + 1];
  char value[VED_VALUE_MAX + 1];
};

/* A valid block: its fields in wire order. */
typedef void (*ved_block_cb)(void *arg, const struct ved_field *fields,
                             size_t nfields);
/* A HEX frame as received, without ':' and '\n' (and without a CR that
 * some copies put before the '\n').  Not yet checked: see vedirect_hex.h. */
typedef void (*ved_hexline_cb)(void *arg, const char *line, size_t len);

enum ved_text_state {
  VED_S_IDLE = 0,  /* waiting for '\n' that starts a field */
  VED_S_LABEL,
  VED_S_VALUE,
  VED_S_CHECKSUM,  /* next byte is the checksum, whatever it is */
  VED_S_HEX
};

struct ved_text_stats {
  uint64_t bytes;
  uint64_t blocks;         /* "Checksum" fields seen */
  uint64_t blocks_valid;
  uint64_t blocks_bad;     /* failed checksum or malformed: dropped */
  uint64_t hex_lines;      /* HEX frames handed to the hex callback */
  uint64_t hex_overflow;   /* HEX frames too long or broken: dropped */
  uint64_t resyncs;        /* garbage that sent the parser back to IDLE */
};

struct ved_text {
  uint8_t state;
  uint8_t saved_state; /* text state to go back to after a HEX frame */
  uint8_t sum;
  uint8_t poisoned;    /* current block lost bytes: fail it whatever the sum */
  uint8_t pause;       /* set by a callback: feed() returns after this byte */
  size_t llen, vlen, hlen;
  size_t nfields;
  char label[VED_LABEL_MAX + 1];
  char value[VED_VALUE_MAX + 1];
  char hex[VED_HEX_LINE_MAX + 1];
  struct ved_field fields[VED_FIELDS_MAX];
  ved_block_cb on_block;
  ved_hexline_cb on_hex;
  /* Called after every "Checksum" byte, valid or not (for replay pacing and
   * counters); may be NULL. */
  void (*on_block_end)(void *arg, int valid);
  void *arg;
  struct ved_text_stats stats;
};

void ved_text_init(struct ved_text *p, ved_block_cb on_block,
                   ved_hexline_cb on_hex, void *arg);

/* Feed bytes.  Returns the number consumed: len, or fewer when a callback
 * called ved_text_pause() (the caller feeds the rest later). */
size_t ved_text_feed(struct ved_text *p, const uint8_t *buf, size_t len);

/* From within a callback: stop feed() after the current byte. */
void ved_text_pause(struct ved_text *p);

/* Forget a partly received block (e.g. after a gap in the byte stream or
 * a reconnect): back to IDLE with the sum at 0.  Counts a resync when a
 * block was in progress.  Statistics are kept. */
void ved_text_resync(struct ved_text *p);

/* Non-zero when the parser is between blocks (nothing partial held). */
int ved_text_idle(const struct ved_text *p);

#endif

/* VE.Direct text protocol framing; see vedirect_text.h for the rules. */
#include "vedirect_text.h"

#include "vq_hex.h"

#include <string.h>

void ved_text_init(struct ved_text *p, ved_block_cb on_block,
                   ved_hexline_cb on_hex, void *arg) {
  memset(p, 0, sizeof *p);
  p->state = VED_S_IDLE;
  p->on_block = on_block;
  p->on_hex = on_hex;
  p->arg = arg;
}

void ved_text_pause(struct ved_text *p) { p->pause = 1; }

int ved_text_idle(const struct ved_text *p) {
  return p->state == VED_S_IDLE && p->sum == 0 && p->nfields == 0 &&
         !p->poisoned;
}

void ved_text_resync(struct ved_text *p) {
  if (!ved_text_idle(p)) p->stats.resyncs++;
  p->state = VED_S_IDLE;
  p->sum = 0;
  p->poisoned = 0;
  p->nfields = 0;
  p->llen = p->vlen = p->hlen = 0;
}

/* Garbage inside a block: the block can no longer pass, wait for the next
 * line.  The sum keeps running so the checksum still ends the block. */
static void garbage(struct ved_text *p) {
  p->poisoned = 1;
  p->stats.resyncs++;
  p->state = VED_S_IDLE;
  p->llen = p->vlen = 0;
}

static int printable(uint8_t c) { return c >= 0x20 && c <= 0x7e; }


static void hex_begin(struct ved_text *p) {
  p->saved_state = p->state;
  p->state = VED_S_HEX;
  p->hlen = 0;
}

static void block_end(struct ved_text *p, uint8_t c) {
  p->sum = (uint8_t)(p->sum + c);
  p->stats.blocks++;
  int valid = p->sum == 0 && !p->poisoned;
  if (valid) {
    p->stats.blocks_valid++;
    if (p->on_block) p->on_block(p->arg, p->fields, p->nfields);
  } else {
    p->stats.blocks_bad++;
  }
  /* The sum restarts right after the checksum byte, so the next block's
   * leading CR LF is part of the next sum
   * (doc/protocols/vedirect.md §2.2 step 3). */
  p->sum = 0;
  p->poisoned = 0;
  p->nfields = 0;
  p->state = VED_S_IDLE;
  if (p->on_block_end) p->on_block_end(p->arg, valid);
}

/* One byte in a text state (not HEX, not checksum). */
static void text_byte(struct ved_text *p, uint8_t c) {
  if (c == ':') {
    hex_begin(p);
    return;
  }
  p->sum = (uint8_t)(p->sum + c);
  switch (p->state) {
    case VED_S_IDLE:
      if (c == '\n') {
        p->state = VED_S_LABEL;
        p->llen = 0;
      }
      break;
    case VED_S_LABEL:
      if (c == '\t') {
        if (p->llen == 0) {
          garbage(p);
          break;
        }
        p->label[p->llen] = '\0';
        p->vlen = 0;
        p->state = strcmp(p->label, "Checksum") == 0 ? VED_S_CHECKSUM
                                                      : VED_S_VALUE;
      } else if (c == '\n' || c == '\r') {
        /* A blank line is harmless; a label cut by a line end is not. */
        if (p->llen != 0) {
          garbage(p);
          if (c == '\n') {
            p->state = VED_S_LABEL;
            p->llen = 0;
          }
        }
      } else if (p->llen >= VED_LABEL_MAX || !printable(c)) {
        garbage(p);
      } else {
        p->label[p->llen++] = (char)c;
      }
      break;
    case VED_S_VALUE:
      if (c == '\n') {
        if (p->nfields >= VED_FIELDS_MAX) {
          p->poisoned = 1; /* too many fields: drop the block at its end */
        } else {
          struct ved_field *f = &p->fields[p->nfields++];
          memcpy(f->label, p->label, p->llen + 1);
          memcpy(f->value, p->value, p->vlen);
          f->value[p->vlen] = '\0';
        }
        p->state = VED_S_LABEL;
        p->llen = 0;
      } else if (c == '\r') {
        /* the CR of the next field's CR LF */
      } else if (p->vlen >= VED_VALUE_MAX || !printable(c)) {
        garbage(p);
      } else {
        p->value[p->vlen++] = (char)c;
      }
      break;
    default:
      break;
  }
}

size_t ved_text_feed(struct ved_text *p, const uint8_t *buf, size_t len) {
  size_t i;
  p->pause = 0;
  for (i = 0; i < len; i++) {
    uint8_t c = buf[i];
    if (p->state == VED_S_VALUE || p->state == VED_S_LABEL) {
      /* Fast path for the bulk of the bytes: plain characters of a value
       * or label.  Anything special goes through the state machine. */
      char *dst = p->state == VED_S_VALUE ? p->value : p->label;
      size_t *n = p->state == VED_S_VALUE ? &p->vlen : &p->llen;
      size_t max = p->state == VED_S_VALUE ? VED_VALUE_MAX : VED_LABEL_MAX;
      uint8_t sum = p->sum;
      size_t k = *n;
      while (c > 0x20 && c <= 0x7e && c != ':' && k < max) {
        dst[k++] = (char)c;
        sum = (uint8_t)(sum + c);
        if (++i == len) break;
        c = buf[i];
      }
      p->sum = sum;
      *n = k;
      if (i == len) break;
    }
    switch (p->state) {
      case VED_S_CHECKSUM:
        block_end(p, c);
        break;
      case VED_S_HEX:
        if (c == '\n') {
          size_t n = p->hlen;
          if (n > 0 && p->hex[n - 1] == '\r') n--; /* CR LF copies */
          p->hex[n] = '\0';
          p->stats.hex_lines++;
          p->state = p->saved_state;
          if (p->on_hex) p->on_hex(p->arg, p->hex, n);
        } else if (c == ':') {
          /* The previous frame lost its '\n': drop it, start again. */
          p->stats.hex_overflow++;
          p->poisoned = 1;
          p->hlen = 0;
        } else if (p->hlen >= VED_HEX_LINE_MAX ||
                   !(vq_hex_digit(c) >= 0 || (c == '\r' && p->hlen > 0))) {
          /* Not a HEX frame after all (or its '\n' was lost): the text
           * bytes it swallowed are gone, so the block cannot pass.  Go
           * on in IDLE with this byte. */
          p->stats.hex_overflow++;
          p->poisoned = 1;
          p->state = VED_S_IDLE;
          p->llen = p->vlen = 0;
          text_byte(p, c);
        } else {
          p->hex[p->hlen++] = (char)c;
        }
        break;
      default:
        text_byte(p, c);
        break;
    }
    if (p->pause) {
      p->pause = 0;
      p->stats.bytes += i + 1;
      return i + 1;
    }
  }
  p->stats.bytes += len;
  return len;
}

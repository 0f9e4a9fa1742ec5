/* Table-driven decoder: a layout (ble_adv_tables.c) applied to a decrypted
 * payload.  Pure; never reads past the payload length. */
#include <math.h>
#include <string.h>

#include "ble_adv.h"

int ble_adv_read_bits(const uint8_t *p, size_t len, unsigned bit,
                      unsigned width, uint32_t *raw) {
  uint64_t acc = 0;
  unsigned first, last, i;
  if (width == 0 || width > 32) return -1;
  /* The whole field must have been sent (doc/protocols/ble-adv.md
   * §1.2: check every field). */
  if ((size_t)bit + width > len * 8) return -1;
  first = bit / 8;
  last = (bit + width - 1) / 8;
  for (i = last + 1; i-- > first;) acc = acc << 8 | p[i];
  acc >>= bit % 8;
  *raw = (uint32_t)(acc & ((width == 32) ? 0xFFFFFFFFu : ((1u << width) - 1)));
  return 0;
}

static int64_t sign_extend(uint32_t raw, unsigned width) {
  if (width < 32 && (raw & (1u << (width - 1))))
    return (int64_t)raw - ((int64_t)1 << width);
  if (width == 32) return (int32_t)raw;
  return raw;
}

/* Room for one text in the reading's arena: the next free byte and how
 * many are left. */
static char *arena(struct ble_adv_reading *out, size_t *room) {
  *room = sizeof out->text - out->text_used;
  return out->text + out->text_used;
}

/* Keep the text just written at `t` (through its NUL). */
static const char *arena_keep(struct ble_adv_reading *out, const char *t) {
  out->text_used += strlen(t) + 1;
  return t;
}

/* Enum text: the label (static), else "unknown_<code>" in the arena. */
static const char *enum_text(struct ble_adv_reading *out,
                             const struct vic_label_set *set, int64_t code) {
  size_t room;
  char *t = arena(out, &room);
  const char *label;
  if (room < VIC_CODE_TEXT_MAX) return "unknown"; /* the arena fits every record */
  label = vic_enum_text(set, code, t, room);
  return label == t ? arena_keep(out, t) : label;
}

/* Bitmask text (set bits' labels, or "field=state" of a pairs set). */
static const char *bits_text(struct ble_adv_reading *out,
                             const struct vic_label_set *set, uint32_t raw,
                             unsigned width) {
  size_t room;
  char *t = arena(out, &room);
  if (room < sizeof "none") return "none";
  vic_bits_text(set, raw, width, t, room); /* -ENOSPC keeps whole labels */
  return arena_keep(out, t);
}

int ble_adv_decode(uint8_t record_type, uint16_t model_id,
                   const uint8_t *payload, size_t len,
                   struct ble_adv_reading *out) {
  const struct ble_layout *layout = ble_adv_layout(record_type, model_id);
  size_t i;
  if (layout == NULL) return -1;
  out->model_id = model_id;
  out->record_type = record_type;
  out->product = vic_product_name(model_id);
  vic_product_id_text(model_id, out->product_id);
  out->nrecords = 0;
  out->text_used = 0;
  out->text[0] = '\0';
  for (i = 0; i < layout->nfields && out->nrecords < BLE_ADV_MAX_RECORDS; i++) {
    const struct ble_field *f = &layout->fields[i];
    struct vq_record *r = &out->records[out->nrecords];
    uint32_t raw;
    int have = ble_adv_read_bits(payload, len, f->bit, f->width, &raw) == 0;
    int64_t v;
    if (f->flags & BLE_F_COND) {
      uint32_t c;
      /* A conditional field exists only under its selector's value. */
      if (ble_adv_read_bits(payload, len, f->cond_bit, f->cond_width, &c) != 0 ||
          c != f->cond_value)
        continue;
    }
    r->quantity = f->quantity;
    r->unit = NULL;
    r->flags = 0;
    r->text = NULL;
    if (!have || ((f->flags & BLE_F_NA) && raw == f->na) ||
        ((f->flags & BLE_F_NA2) && raw == f->na2)) {
      r->flags = VQ_RECORD_NA;
      raw = 0;
    }
    v = (f->flags & BLE_F_SIGNED) ? sign_extend(raw, f->width) : (int64_t)raw;
    if (f->flags & BLE_F_NEGATE) v = -v;
    switch (f->kind) {
    case BLE_NUMBER:
      r->type = VQ_VALUE_DOUBLE;
      if (r->flags & VQ_RECORD_NA) {
        r->value.f64 = 0.0;
      } else {
        /* Divide by 100 rather than multiply by 0.01 (and add the offset
         * in steps first), so 1253 becomes the double nearest 12.53. */
        double inv = 1.0 / f->scale, steps = f->offset * inv;
        if (inv >= 1.0 && fabs(inv - rint(inv)) < 1e-9 && fabs(steps - rint(steps)) < 1e-6)
          r->value.f64 = ((double)v + rint(steps)) / rint(inv);
        else
          r->value.f64 = (double)v * f->scale + f->offset;
      }
      break;
    case BLE_INT:
      r->type = VQ_VALUE_INT;
      r->value.i64 = v;
      break;
    case BLE_ENUM:
      r->type = VQ_VALUE_ENUM;
      r->value.i64 = v;
      r->text = (r->flags & VQ_RECORD_NA) ? NULL : enum_text(out, f->labels, v);
      break;
    case BLE_BITMASK:
      r->type = VQ_VALUE_BITMASK;
      r->value.i64 = v;
      r->text = bits_text(out, f->labels, raw, f->width);
      break;
    default:
      continue;
    }
    out->nrecords++;
  }
  return 0;
}

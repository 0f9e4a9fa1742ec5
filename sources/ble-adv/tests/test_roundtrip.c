/* Round trips: for every record layout and every field, payloads holding
 * the field's minimum, maximum, a negative (signed fields) and its NA value
 * are packed with an independent bit writer, encrypted, and run through the
 * receive path.  The field under test must decode to the expected value and
 * every other field must keep its own (distinct) value, which catches
 * overlapping or misplaced fields.  A second table checks physical extremes
 * stated in the protocol notes, in their units. */
#include "testutil.h"

static const uint8_t key[16] = {0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static uint16_t nonce = 1;

static void put_bits(uint8_t *p, unsigned bit, unsigned width, uint32_t v) {
  unsigned i;
  for (i = 0; i < width; i++) {
    unsigned b = bit + i;
    if (v >> i & 1u)
      p[b / 8] |= (uint8_t)(1u << (b % 8));
    else
      p[b / 8] &= (uint8_t)~(1u << (b % 8));
  }
}

static uint32_t mask(unsigned w) { return w == 32 ? 0xFFFFFFFFu : (1u << w) - 1; }

/* The value the notes' rule gives for raw: sign, negation, scale, offset. */
static double expected_value(const struct ble_field *f, uint32_t raw) {
  int64_t v = raw;
  if ((f->flags & BLE_F_SIGNED) && (raw >> (f->width - 1) & 1u))
    v = (int64_t)raw - ((int64_t)1 << f->width);
  if (f->flags & BLE_F_NEGATE) v = -v;
  if (f->kind == BLE_NUMBER) return (double)v * f->scale + f->offset;
  return (double)v;
}

static int is_na(const struct ble_field *f, uint32_t raw) {
  return ((f->flags & BLE_F_NA) && raw == f->na) ||
         ((f->flags & BLE_F_NA2) && raw == f->na2);
}

/* The largest raw value at or below v that is not NA. */
static uint32_t below_na(const struct ble_field *f, uint32_t v) {
  while (is_na(f, v)) v--;
  return v;
}

/* Nominal raw value of field i: distinct per field, never NA. */
static uint32_t nominal(const struct ble_field *f, size_t i) {
  uint32_t v = (uint32_t)(i * 7 + 3) & mask(f->width);
  if (is_na(f, v)) v = 0;
  return v;
}

static int cond_active(const struct ble_field *f, const uint8_t *p, size_t n) {
  uint32_t c;
  if (!(f->flags & BLE_F_COND)) return 1;
  return ble_adv_read_bits(p, n, f->cond_bit, f->cond_width, &c) == 0 && c == f->cond_value;
}

static void check_record(const char *what, const struct ble_adv_reading *r,
                         const struct ble_field *f, uint32_t raw) {
  const struct vq_record *rec = tu_find(r, f->quantity);
  CHECK_MSG(rec != NULL, "%s: %s missing", what, f->quantity);
  if (rec == NULL) return;
  if (is_na(f, raw)) {
    CHECK_MSG(rec->flags & VQ_RECORD_NA, "%s: %s raw %#x should be NA", what, f->quantity, raw);
    return;
  }
  CHECK_MSG(!(rec->flags & VQ_RECORD_NA), "%s: %s raw %#x flagged NA", what, f->quantity, raw);
  if (f->kind == BLE_NUMBER)
    CHECK_MSG(rec->type == VQ_VALUE_DOUBLE && fabs(rec->value.f64 - expected_value(f, raw)) < 1e-6,
          "%s: %s raw %#x = %g want %g", what, f->quantity, raw, rec->value.f64,
          expected_value(f, raw));
  else
    CHECK_MSG(rec->value.i64 == (int64_t)expected_value(f, raw), "%s: %s raw %#x = %lld", what,
          f->quantity, raw, (long long)rec->value.i64);
  /* Enums and bitmasks always have a text (label or fallback), never "". */
  if (f->kind == BLE_BITMASK || f->kind == BLE_ENUM)
    CHECK_MSG(rec->text != NULL && rec->text[0] != '\0', "%s: %s without text", what,
          f->quantity);
}

/* Build a payload with every field nominal, the selector of `test` (if any)
 * set for it, and `test` = raw; run it through a device. */
static void roundtrip_one(const struct ble_layout *l, uint16_t model, size_t ti, uint32_t raw,
                          const char *label) {
  uint8_t payload[BLE_ADV_MAX_PAYLOAD], adv[64];
  struct ble_adv_device dev;
  struct ble_adv_reading r;
  char what[160];
  size_t i;
  const struct ble_field *t = &l->fields[ti];
  int n;
  enum ble_adv_status st;
  /* Unused bits are set (doc/protocols/ble-adv.md §3). */
  memset(payload, 0xFF, sizeof payload);
  for (i = 0; i < l->nfields; i++) {
    if (l->fields[i].flags & BLE_F_COND) continue; /* shared bits: below */
    put_bits(payload, l->fields[i].bit, l->fields[i].width, nominal(&l->fields[i], i));
  }
  if (t->flags & BLE_F_COND) put_bits(payload, t->cond_bit, t->cond_width, t->cond_value);
  put_bits(payload, t->bit, t->width, raw);
  snprintf(what, sizeof what, "type 0x%02X model 0x%04X %s %s", l->record_type, model,
           t->quantity, label);
  n = ble_adv_encrypt(key, model, l->record_type, nonce++, payload, l->min_len, adv, sizeof adv);
  CHECK_MSG(n == (int)(8 + l->min_len), "%s: encrypt", what);
  if (n < 0) return;
  CHECK_MSG(ble_adv_device_init(&dev, key) == 0, "init");
  st = ble_adv_device_process(&dev, adv, (size_t)n, &r, NULL);
  CHECK_MSG(st == BLE_ADV_OK, "%s: status %s", what, ble_adv_status_name(st));
  if (st == BLE_ADV_OK) {
    check_record(what, &r, t, raw);
    for (i = 0; i < l->nfields; i++) {
      const struct ble_field *f = &l->fields[i];
      uint32_t v;
      if (i == ti) continue;
      if (!cond_active(f, payload, l->min_len)) {
        /* A conditional field whose selector says otherwise is absent,
         * unless a same-named field is active (aux temperature). */
        continue;
      }
      if (ble_adv_read_bits(payload, l->min_len, f->bit, f->width, &v) != 0) continue;
      /* Fields sharing the tested bits (aux alternatives) are skipped. */
      if ((t->flags & BLE_F_COND) && (f->flags & BLE_F_COND)) continue;
      check_record(what, &r, f, v);
    }
    CHECK_MSG(r.nrecords <= BLE_ADV_MAX_RECORDS, "%s: records", what);
  }
  ble_adv_device_fini(&dev);
}

static void roundtrip_layout(const struct ble_layout *l, uint16_t model) {
  size_t i;
  for (i = 0; i < l->nfields; i++) {
    const struct ble_field *f = &l->fields[i];
    uint32_t m = mask(f->width);
    if (f->flags & BLE_F_SIGNED) {
      uint32_t smax = m >> 1, smin = smax + 1;
      roundtrip_one(l, model, i, smin, "min");
      roundtrip_one(l, model, i, below_na(f, smax), "max");
      roundtrip_one(l, model, i, m, "-1");
      roundtrip_one(l, model, i, 0, "zero");
    } else {
      roundtrip_one(l, model, i, 0, "min");
      roundtrip_one(l, model, i, below_na(f, m), "max");
    }
    if (f->flags & BLE_F_NA) roundtrip_one(l, model, i, f->na, "NA");
    if (f->flags & BLE_F_NA2) roundtrip_one(l, model, i, f->na2, "NA2");
  }
}

/* Extremes in physical units as the notes state them. */
struct extreme {
  uint8_t type;
  uint16_t model;
  const char *quantity;
  uint32_t raw;
  int na;
  double value;
};
static const struct extreme extremes[] = {
  {0x02, 0xA389, "battery.current", 0x200000, 0, -2097.152},
  {0x02, 0xA389, "battery.current", 0x1FFFFE, 0, 2097.150},
  {0x02, 0xA389, "battery.current", 0x1FFFFF, 1, 0},        /* real NA */
  {0x02, 0xA389, "battery.current", 0x3FFFFF, 0, -0.001},   /* PDF's NA: -1 mA */
  {0x02, 0xA389, "battery.consumed_ah", 0xFFFFE, 0, -104857.4},
  {0x02, 0xA389, "battery.consumed_ah", 0, 0, 0},
  {0x02, 0xA389, "battery.soc", 1000, 0, 100.0},
  {0x02, 0xA389, "battery.time_to_go", 0xFFFE, 0, 65534},
  {0x02, 0xA389, "battery.voltage", 0x8000, 0, -327.68},
  /* Mid-point: 0xFFFF and 0xFFFE (out of range) are NA, 0xFFFD is not. */
  {0x02, 0xA389, "battery.midpoint_voltage", 0xFFFE, 1, 0},
  {0x02, 0xA389, "battery.midpoint_voltage", 0xFFFF, 1, 0},
  {0x02, 0xA389, "battery.midpoint_voltage", 0xFFFD, 0, 655.33},
  {0x05, 0xA3E0, "cell.1.voltage", 0, 0, 2.60},   /* below 2.61 V */
  {0x05, 0xA3E0, "cell.1.voltage", 1, 0, 2.61},
  {0x05, 0xA3E0, "cell.8.voltage", 125, 0, 3.85},
  {0x05, 0xA3E0, "cell.8.voltage", 126, 0, 3.86}, /* above 3.85 V */
  {0x05, 0xA3E0, "cell.8.voltage", 127, 1, 0},
  {0x05, 0xA3E0, "battery.temperature", 0, 0, -40},
  {0x05, 0xA3E0, "battery.temperature", 126, 0, 86},
  {0x05, 0xA3E0, "battery.temperature", 127, 1, 0},
  {0x05, 0xA3E0, "battery.voltage", 0xFFE, 0, 40.94},
  {0x07, 0xC00A, "battery.power", 0x100000, 0, -1048576},
  {0x07, 0xC00A, "battery.power", 0x0FFFFE, 0, 1048574},
  {0x07, 0xC00A, "pv.power", 0xFFFFE, 0, 1048574},
  {0x08, 0xA330, "battery.voltage", 0x1FFE, 0, 81.90},
  {0x08, 0xA330, "battery.current", 0x7FE, 0, 204.6},
  {0x0A, 0xA3E5, "battery.consumed_ah", 44, 0, -4.4},
  {0x0A, 0xA3E5, "battery.soc", 0x3FF, 1, 0},
  {0x0B, 0xA443, "battery.voltage", 0x3FFE, 0, 163.82},
  {0x0C, 0x2780, "ac_in.power", 0x40000, 0, -262144},
  {0x0C, 0x2780, "ac_in.power", 0x3FFFE, 0, 262142},
  {0x0C, 0x2780, "ac_out.power", 0x3FFFF, 1, 0},
  {0x0C, 0x2780, "battery.soc", 126, 0, 126},
  {0x0D, 0xA389, "monitor.mode", 0xFFF7, 0, -9},
  {0x0D, 0xA389, "monitor.mode", 8, 0, 8},
  {0x06, 0xA402, "ac_out.power", 0x8000, 0, -32768},
  {0x03, 0xA264, "ac_out.voltage", 0x7FFE, 0, 327.66},
  {0x00, 0x0000, "device.uptime", 0x3FFFFFFE, 0, 1073741822},
  {0x00, 0x0000, "device.uptime", 0x3FFFFFFF, 1, 0},
};

static void test_extremes(void) {
  size_t i, j;
  for (i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
    const struct extreme *x = &extremes[i];
    const struct ble_layout *l = ble_adv_layout(x->type, x->model);
    const struct ble_field *f = NULL;
    uint8_t payload[BLE_ADV_MAX_PAYLOAD], adv[64];
    struct ble_adv_device dev;
    struct ble_adv_reading r;
    const struct vq_record *rec;
    int n;
    CHECK_MSG(l != NULL, "layout %02x", x->type);
    if (l == NULL) continue;
    for (j = 0; j < l->nfields; j++)
      if (strcmp(l->fields[j].quantity, x->quantity) == 0) f = &l->fields[j];
    CHECK_MSG(f != NULL, "field %s", x->quantity);
    if (f == NULL) continue;
    memset(payload, 0, sizeof payload);
    if (f->flags & BLE_F_COND) put_bits(payload, f->cond_bit, f->cond_width, f->cond_value);
    put_bits(payload, f->bit, f->width, x->raw);
    n = ble_adv_encrypt(key, x->model, x->type, nonce++, payload, l->min_len, adv, sizeof adv);
    CHECK_MSG(ble_adv_device_init(&dev, key) == 0, "init");
    CHECK_MSG(n > 0 && ble_adv_device_process(&dev, adv, (size_t)n, &r, NULL) == BLE_ADV_OK,
          "extreme %zu: process", i);
    rec = tu_find(&r, x->quantity);
    CHECK_MSG(rec != NULL, "extreme %zu: %s", i, x->quantity);
    if (rec != NULL) {
      if (x->na) {
        CHECK_MSG(rec->flags & VQ_RECORD_NA, "extreme %zu: %s should be NA", i, x->quantity);
      } else {
        double v = rec->type == VQ_VALUE_DOUBLE ? rec->value.f64 : (double)rec->value.i64;
        CHECK_MSG(!(rec->flags & VQ_RECORD_NA) && fabs(v - x->value) < 1e-6,
              "extreme %zu: %s = %.6f want %.6f", i, x->quantity, v, x->value);
      }
    }
    ble_adv_device_fini(&dev);
  }
}

/* A longer record than the layout is accepted; the extra bytes are
 * ignored. */
static void test_longer(void) {
  uint8_t payload[BLE_ADV_MAX_PAYLOAD + 8], adv[80];
  struct ble_adv_device dev;
  struct ble_adv_reading r;
  const struct vq_record *rec;
  int n;
  memset(payload, 0xAB, sizeof payload);
  put_bits(payload, 16, 16, 1234); /* solar battery voltage 12.34 V */
  n = ble_adv_encrypt(key, 0xA042, 0x01, nonce++, payload, 20, adv, sizeof adv);
  CHECK_MSG(ble_adv_device_init(&dev, key) == 0, "init");
  CHECK_MSG(n == 28 && ble_adv_device_process(&dev, adv, (size_t)n, &r, NULL) == BLE_ADV_OK,
        "20-byte solar record");
  rec = tu_find(&r, "battery.voltage");
  CHECK_MSG(rec != NULL && fabs(rec->value.f64 - 12.34) < 1e-9, "long record voltage");
  /* Beyond BLE_ADV_MAX_PAYLOAD too (a future extended record). */
  n = ble_adv_encrypt(key, 0xA042, 0x01, nonce++, payload, BLE_ADV_MAX_PAYLOAD, adv, sizeof adv);
  CHECK_MSG(n > 0, "encrypt max");
  memset(adv + n, 0x55, 8); /* 8 more bytes the decoder must ignore */
  CHECK_MSG(ble_adv_device_process(&dev, adv, (size_t)n + 8, &r, NULL) == BLE_ADV_OK,
        "record longer than the decrypt buffer");
  rec = tu_find(&r, "battery.voltage");
  CHECK_MSG(rec != NULL && fabs(rec->value.f64 - 12.34) < 1e-9, "longest record voltage");
  ble_adv_device_fini(&dev);
}

/* Repeats: the same nonce and data is dropped, a new nonce is not; a replay
 * starting over (reset) emits again. */
static void test_repeats(void) {
  uint8_t payload[16] = {0}, a1[32], a2[32];
  struct ble_adv_device dev;
  struct ble_adv_reading r;
  int n1 = ble_adv_encrypt(key, 0xA042, 0x01, 100, payload, 12, a1, sizeof a1);
  int n2 = ble_adv_encrypt(key, 0xA042, 0x01, 101, payload, 12, a2, sizeof a2);
  CHECK_MSG(ble_adv_device_init(&dev, key) == 0, "init");
  CHECK_MSG(ble_adv_device_process(&dev, a1, (size_t)n1, &r, NULL) == BLE_ADV_OK, "first");
  CHECK_MSG(ble_adv_device_process(&dev, a1, (size_t)n1, &r, NULL) == BLE_ADV_REPEAT, "repeat");
  CHECK_MSG(ble_adv_device_process(&dev, a2, (size_t)n2, &r, NULL) == BLE_ADV_OK, "new nonce");
  CHECK_MSG(ble_adv_device_process(&dev, a1, (size_t)n1, &r, NULL) == BLE_ADV_OK, "old nonce again after another");
  ble_adv_device_reset(&dev);
  CHECK_MSG(ble_adv_device_process(&dev, a1, (size_t)n1, &r, NULL) == BLE_ADV_OK, "after reset");
  ble_adv_device_fini(&dev);
}

/* The reading's text arena holds every enum fallback and bitmask text a
 * record can have: with every bit set (bitmasks full, enums unknown 0xFE)
 * no text may be cut short. */
static void test_text_room(void) {
  unsigned t, i;
  for (t = 0; t < 16; t++) {
    const struct ble_layout *l = ble_adv_layout_by_type((uint8_t)t);
    uint8_t payload[BLE_ADV_MAX_PAYLOAD];
    struct ble_adv_reading r;
    if (l == NULL) continue;
    memset(payload, 0xFE, sizeof payload);
    CHECK_MSG(ble_adv_decode((uint8_t)t, 0xA042, payload, l->min_len, &r) == 0, "decode %02x", t);
    CHECK_MSG(r.text_used + VIC_CODE_TEXT_MAX <= sizeof r.text, "type %02x: %zu text bytes", t,
          r.text_used);
    for (i = 0; i < r.nrecords; i++)
      if (r.records[i].type == VQ_VALUE_ENUM || r.records[i].type == VQ_VALUE_BITMASK)
        CHECK_MSG((r.records[i].flags & VQ_RECORD_NA) ||
                  (r.records[i].text != NULL && r.records[i].text[0] != '\0'),
              "type %02x %s: no text", t, r.records[i].quantity);
  }
}

int main(void) {
  unsigned t;
  int layouts = 0;
  for (t = 0; t < 256; t++) {
    const struct ble_layout *l = ble_adv_layout_by_type((uint8_t)t);
    if (l == NULL) continue;
    layouts++;
    roundtrip_layout(l, t == 0x02 ? 0xA389 : 0xA042);
  }
  roundtrip_layout(ble_adv_layout(0x02, 0xA3A4), 0xA3A4); /* Battery Sense */
  CHECK_MSG(layouts == 15, "%d layouts (0x00-0x0D, 0x0F)", layouts);
  test_extremes();
  test_longer();
  test_repeats();
  test_text_room();
  printf("round trips: %u nonces used\n", (unsigned)nonce);
  VQTEST_END();
}

/* Is a decoded advertisement plausible?  The key check covers one byte of
 * the key (doc/protocols/ble-adv.md §1.3), so a key wrong after its first
 * byte decrypts to random bits that decode without complaint.  Random
 * bits give themselves away: enumeration codes and bitmask bits that have
 * no meaning, and numbers far outside what any Victron product measures.
 * The limits are loose on purpose (a real reading never comes near them);
 * together they reject nearly every garbage decode (tests/test_plausible.c
 * measures it on the real vectors with altered keys). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ble_adv.h"
#include "victron.h"

struct limit {
  const char *quantity;
  double min, max;
};

/* Physical bounds, in the units the decoder emits. */
static const struct limit limits[] = {
  {"battery.voltage", -1, 100},         /* 12..48 V systems; never negative */
  {"aux.voltage", -10, 100},            /* starter battery */
  {"battery.midpoint_voltage", -10, 100},
  {"dc_in.voltage", -10, 100},
  {"dc_out.voltage", -10, 100},
  {"battery.current", -2500, 2500},     /* largest SmartShunt: 2000 A */
  {"battery.soc", 0, 100},              /* percent */
  {"battery.temperature", -50, 100},    /* degrees Celsius */
  {"battery.consumed_ah", -20000, 0},   /* Ah, consumed is never positive */
  {"yield.today", 0, 200},              /* kWh in one day */
  {"pv.power", 0, 30000},               /* W, the largest MPPT RS */
  {"ac_out.voltage", 0, 300},
};

static const struct limit *limit_of(const char *quantity) {
  size_t i;
  for (i = 0; i < sizeof limits / sizeof limits[0]; i++)
    if (strcmp(limits[i].quantity, quantity) == 0) return &limits[i];
  return NULL;
}

static const struct ble_field *field_of(const struct ble_layout *layout,
                                        const char *quantity) {
  size_t i;
  for (i = 0; i < layout->nfields; i++)
    if (layout->fields[i].quantity == quantity ||
        strcmp(layout->fields[i].quantity, quantity) == 0)
      return &layout->fields[i];
  return NULL;
}

/* The lowest set bit of `bits` that has no label, or -1. */
static int reserved_bit(const struct vic_label_set *set, uint64_t bits, unsigned width) {
  unsigned b;
  for (b = 0; b < width && b < 64; b++)
    if ((bits >> b & 1u) && vic_label(set, b) == NULL) return (int)b;
  return -1;
}

int ble_adv_implausible(const struct ble_adv_reading *r, char *why, size_t why_size) {
  const struct ble_layout *layout = ble_adv_layout(r->record_type, r->model_id);
  uint32_t i;
  if (layout == NULL) return 0;
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = &r->records[i];
    const struct ble_field *f;
    const struct limit *l;
    int bit;
    if (rec->flags & VQ_RECORD_NA) continue;
    if (rec->type == VQ_VALUE_DOUBLE && (l = limit_of(rec->quantity)) != NULL &&
        (!(rec->value.f64 >= l->min) || !(rec->value.f64 <= l->max))) {
      snprintf(why, why_size, "%s = %g is outside %g..%g", rec->quantity, rec->value.f64,
               l->min, l->max);
      return 1;
    }
    f = field_of(layout, rec->quantity);
    if (f == NULL || f->labels == NULL) continue;
    if (rec->type == VQ_VALUE_ENUM && vic_label(f->labels, rec->value.i64) == NULL) {
      snprintf(why, why_size, "%s has no code %lld", rec->quantity,
               (long long)rec->value.i64);
      return 1;
    }
    if (rec->type == VQ_VALUE_BITMASK && f->labels->kind == VIC_BITMASK &&
        (bit = reserved_bit(f->labels, (uint64_t)rec->value.i64, f->width)) >= 0) {
      snprintf(why, why_size, "%s has reserved bit %d set", rec->quantity, bit);
      return 1;
    }
  }
  return 0;
}

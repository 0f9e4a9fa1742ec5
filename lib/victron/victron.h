/* The Victron vocabulary every Victron plugin shares: product names by id
 * and the label sets of Victron's enumerations and bitmasks, with one
 * spelling whatever the transport (doc/victron.md).
 *
 * Built as a libtool convenience library and linked into each plugin
 * module and the daemon.  It is constant data and pure functions, no
 * per-process state, so a copy per module costs only its size. */
#ifndef VQ_VICTRON_H
#define VQ_VICTRON_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"

/* ---- label sets -------------------------------------------------------- */

/* How a set's codes map onto a value. */
enum vic_set_kind {
  VIC_ENUM = 1,    /* code -> label */
  VIC_BITMASK = 2, /* bit number (0 = LSB) -> label of that bit */
  VIC_PAIRS = 3    /* 2-bit fields: code = field index -> field name; the
                      text is "field=state" per field whose state has a
                      name (doc/victron.md §Paired fields) */
};

/* One label set.  `labels` is sorted by code and static. */
struct vic_label_set {
  const char *name; /* "device_state": vq_quantity_info.label_set */
  uint32_t kind;    /* enum vic_set_kind */
  const struct vq_label *labels;
  uint32_t nlabels;
  /* VIC_PAIRS: the name of each 2-bit value (NULL: not shown). */
  const char *const *pair_states;
};

extern const struct vic_label_set
    vic_device_state; /* VE_REG_DEVICE_STATE, CS */
extern const struct vic_label_set
    vic_charger_error; /* VE_REG_CHR_ERROR_CODE, ERR */
extern const struct vic_label_set vic_vebus_error; /* VE.Bus error */
extern const struct vic_label_set vic_off_reason;  /* OR, DEVICE_OFF_REASON_2 */
extern const struct vic_label_set
    vic_alarm_reason; /* AR, WARN, alarm/warning reason */
extern const struct vic_label_set
    vic_alarm_level;                             /* VE.Bus alarm notification */
extern const struct vic_label_set vic_aux_input; /* BMV aux input */
extern const struct vic_label_set vic_ac_input;  /* active AC input */
extern const struct vic_label_set vic_balancer_status;
extern const struct vic_label_set vic_bms_flags;
extern const struct vic_label_set vic_output_state; /* DC output status */
extern const struct vic_label_set vic_bms_io;       /* Lynx BMS IO (pairs) */
extern const struct vic_label_set vic_bms_warnings_alarms; /* (pairs) */
extern const struct vic_label_set vic_monitor_mode;        /* MON */
extern const struct vic_label_set vic_tracker_mode;        /* MPPT */
extern const struct vic_label_set vic_device_mode;      /* MODE, VE.Bus mode */
extern const struct vic_label_set vic_ble_capabilities; /* CAP_BLE */

/* Every set, NULL-terminated (tests, documentation). */
extern const struct vic_label_set *const vic_label_sets[];

/* The set called `name`, or NULL. */
const struct vic_label_set *vic_label_set_find(const char *name);

/* The label of `code` in the set (bit number for bitmasks, field index for
 * pairs), or NULL when the set has none. */
const char *vic_label(const struct vic_label_set *set, int64_t code);

/* Longest text of one label or fallback ("unknown_-9223372036854775808"). */
#define VIC_CODE_TEXT_MAX 32

/* The text of an enum code: its label (static), or "unknown_<code>"
 * written to buf (VIC_CODE_TEXT_MAX bytes) and returned.  Never NULL or
 * empty. */
const char *vic_enum_text(const struct vic_label_set *set, int64_t code,
                          char *buf, size_t bufsz);

/* The text of a bitmask (`width` bits of `bits`) in `set`: the set bits'
 * labels in bit order joined by ',', "bit_<n>" for a bit without one,
 * "none" when no bit is set.  For VIC_PAIRS sets: "field=state" of every
 * field whose state has a name, "none" when none has.  Writes at most
 * outsz bytes, NUL-terminated.  0, or -ENOSPC when it did not fit (out
 * then holds whole labels only). */
int vic_bits_text(const struct vic_label_set *set, uint64_t bits,
                  unsigned width, char *out, size_t outsz);

/* ---- products ---------------------------------------------------------- */

struct vic_product {
  uint16_t id;
  const char *name;
};

/* Product name of a Victron product id (VE.Direct PID, BLE model id,
 * VE.Can product id), or NULL when unknown.  Generated from
 * lib/victron/products.csv. */
const char *vic_product_name(unsigned id);

/* The table, sorted by id. */
const struct vic_product *vic_product_all(size_t *count);

/* Bytes of the product_id tag's text with its NUL: "0xA389". */
#define VIC_PRODUCT_ID_TEXT_SIZE 7

/* The product_id tag of every transport: "0x" and four upper-case hex
 * digits of `id`, written to buf (VIC_PRODUCT_ID_TEXT_SIZE bytes) and
 * returned.  By hand: on the BLE path snprintf costs as much as decoding a
 * whole field. */
static inline char *vic_product_id_text(uint16_t id, char *buf) {
  static const char hex[] = "0123456789ABCDEF";
  buf[0] = '0';
  buf[1] = 'x';
  buf[2] = hex[id >> 12];
  buf[3] = hex[(id >> 8) & 15];
  buf[4] = hex[(id >> 4) & 15];
  buf[5] = hex[id & 15];
  buf[6] = '\0';
  return buf;
}

/* ---- BLE manufacturer data (doc/protocols/ble-adv.md §1.2) ------------- */

/* After the company id 0x02E1: record kind 0x10 (product advertisement),
 * one byte, the model id (little-endian), the record type, the nonce and
 * the key check, then the encrypted payload. */
#define VIC_BLE_PRODUCT_ADVERTISEMENT 0x10u
#define VIC_BLE_HEADER_LEN 8u

/* The model id of a product advertisement's manufacturer data, or -1 when
 * `data` is shorter than the header or another kind of record. */
static inline int32_t vic_ble_model_id(const uint8_t *data, size_t len) {
  if (len < VIC_BLE_HEADER_LEN || data[0] != VIC_BLE_PRODUCT_ADVERTISEMENT) return -1;
  return (int32_t)(data[2] | (uint16_t)data[3] << 8);
}

#endif

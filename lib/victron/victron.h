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

#endif

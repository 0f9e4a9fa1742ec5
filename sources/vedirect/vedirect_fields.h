/* VE.Direct text fields: label table (label -> quantity, scale, type,
 * enumeration) and the decoding of one valid block into vicacq records.
 * Pure code, no I/O. */
#ifndef VEDIRECT_FIELDS_H
#define VEDIRECT_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"
#include "vedirect_text.h"
#include "victron.h"

/* How a field's value is read. */
enum ved_kind {
  VED_K_NUMBER = 1, /* signed decimal x scale -> VQ_VALUE_DOUBLE */
  VED_K_INT,        /* signed decimal -> VQ_VALUE_INT */
  VED_K_ONOFF,      /* ON/OFF (any case) -> VQ_VALUE_BOOL */
  VED_K_ENUM,       /* signed decimal -> VQ_VALUE_ENUM */
  VED_K_BITS        /* decimal or 0x hex -> VQ_VALUE_BITMASK */
};

struct ved_label_def {
  const char *label;
  const char *quantity;
  uint8_t kind;
  double scale;             /* raw unit -> vocabulary unit */
  const struct vic_label_set *set; /* VED_K_ENUM / VED_K_BITS labels */
  int has_na_code;          /* a raw value that means "not available" */
  int64_t na_code;
};

/* The definition of a label (exact match), or NULL.  Identity labels
 * (PID, SER#, FW, FWE, BMV, HC#) are not in this table: see ved_block. */
const struct ved_label_def *ved_label_find(const char *label);
/* The whole table, for documentation and tests. */
const struct ved_label_def *ved_label_all(size_t *count);

/* Strict integer syntax of VE.Direct values: optional sign and decimal
 * digits, or 0x and hex digits.  0 or -EINVAL. */
int ved_parse_int(const char *s, int64_t *out);

/* "0308" -> "3.08", "C208" -> "2.08-rcC" (FW); "0342FF" -> "3.42",
 * "020801" -> "2.08-beta01" (FWE).  0, or -EINVAL when the text does not
 * follow the notes (out then gets the raw text). */
int ved_format_fw(const char *value, int extended, char *out, size_t outsz);

#define VED_BITS_TEXT_MAX 400

/* One decoded block. */
struct ved_block {
  struct vq_record records[VED_FIELDS_MAX];
  size_t nrecords;
  /* Enum fallback ("unknown_<code>") and bitmask label text. */
  char texts[VED_FIELDS_MAX][VED_BITS_TEXT_MAX];
  /* Identity fields (NULL / -1 when absent); point into the fields. */
  int32_t pid;               /* product id, -1 when no PID field */
  const char *serial;        /* SER# */
  const char *model;         /* BMV (model text) */
  const char *hc;            /* HC# (undocumented, Blue Smart) */
  char firmware[24];         /* "" when no FW/FWE */
  size_t unknown_labels;     /* fields with a label not in the table */
  size_t bad_values;         /* fields whose value does not parse */
  /* Label lookups of the previous block by field position: devices repeat
   * the same order, so one strcmp usually replaces the search.  Zero it
   * before the first use (it is only a hint). */
  const struct ved_label_def *hint[VED_FIELDS_MAX];
};

/* Decode a valid block.  The records point into `fields` and `out`. */
void ved_block_decode(const struct ved_field *fields, size_t n,
                      struct ved_block *out);

#endif

/* Victron "Instant Readout" BLE advertisements: the protocol as pure
 * functions (bytes in, records out, no I/O).  See doc/protocols/ble-adv.md;
 * section numbers below refer to it. */
#ifndef VQ_BLE_ADV_H
#define VQ_BLE_ADV_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"
#include "victron.h"

/* Bluetooth SIG company identifier of Victron Energy BV. */
#define BLE_ADV_COMPANY_ID 0x02E1u
/* Byte 0 of the manufacturer data: "Product Advertisement" (§1.2). */
#define BLE_ADV_PRODUCT_ADVERTISEMENT VIC_BLE_PRODUCT_ADVERTISEMENT
/* Header bytes before the encrypted payload (§1.2). */
#define BLE_ADV_HEADER_LEN VIC_BLE_HEADER_LEN
/* We decrypt and keep at most this many payload bytes.  Today's records are
 * at most 16 bytes; longer (extended) records are accepted and their tail
 * beyond this is never read, as no known field lies there. */
#define BLE_ADV_MAX_PAYLOAD 32u
/* Upper bound of records per reading (SmartLithium needs 13, +1 for rssi). */
#define BLE_ADV_MAX_RECORDS 24u

/* Outcome of processing one advertisement.  Every rejection has a reason
 * that the plugin counts under ble_adv_status_name(). */
enum ble_adv_status {
  BLE_ADV_OK = 0,
  BLE_ADV_WRONG_COMPANY,      /* AD manufacturer data not from 0x02E1 */
  BLE_ADV_SHORT_HEADER,       /* fewer than 8 bytes */
  BLE_ADV_NOT_PRODUCT_ADV,    /* byte 0 is not 0x10 (VE.Smart networking...) */
  BLE_ADV_UNKNOWN_RECORD,     /* record type without a known layout */
  BLE_ADV_SHORT_PAYLOAD,      /* payload shorter than the layout */
  BLE_ADV_KEY_MISMATCH,       /* key check byte differs from key[0] */
  BLE_ADV_REPEAT,             /* same nonce and data as the previous one */
  BLE_ADV_CRYPTO_ERROR,       /* OpenSSL refused (should not happen) */
  BLE_ADV_IMPLAUSIBLE,        /* decodes to nonsense: the key is wrong after
                                 its first byte (ble_adv_plausible.c) */
  BLE_ADV_STATUS_COUNT
};

/* Counter name for a status ("key_mismatch"). */
const char *ble_adv_status_name(enum ble_adv_status status);

/* The 8-byte header (§1.2). */
struct ble_adv_header {
  uint8_t record_kind;   /* byte 0, 0x10 */
  uint8_t byte1;         /* undocumented */
  uint16_t model_id;     /* bytes 2-3, little-endian */
  uint8_t record_type;   /* byte 4 */
  uint16_t nonce;        /* bytes 5-6, little-endian */
  uint8_t key_check;     /* byte 7 */
  const uint8_t *payload;
  size_t payload_len;
};

/* Strip the company id from an AD type 0xFF body ("E1 02 ..."). */
enum ble_adv_status ble_adv_strip_company(const uint8_t *ad, size_t len,
                                          const uint8_t **data,
                                          size_t *data_len);

/* Parse the header of manufacturer data given after the company id.  Checks
 * length and byte 0 only. */
enum ble_adv_status ble_adv_parse_header(const uint8_t *data, size_t len,
                                         struct ble_adv_header *hdr);

/* ---- tables ------------------------------------------------------------ */

enum ble_field_kind {
  BLE_NUMBER = 1, /* double: raw * scale + offset (after sign/negate) */
  BLE_INT,        /* integer code without labels */
  BLE_ENUM,       /* code with a label */
  BLE_BITMASK     /* bits with labels (or 2-bit fields: a VIC_PAIRS set) */
};

#define BLE_F_SIGNED 0x1u /* two's complement within the width */
#define BLE_F_NEGATE 0x2u /* value = -raw (consumed Ah, §5.2) */
#define BLE_F_NA 0x4u     /* `na` is the not-available raw value */
#define BLE_F_COND 0x8u   /* present only when the cond field == cond_value */
#define BLE_F_NA2 0x10u   /* `na2` is a second not-available raw value */

/* One field of a record layout: where it is and how it becomes a record. */
struct ble_field {
  const char *quantity;
  uint8_t bit, width, kind, flags;
  uint32_t na; /* raw value (width bits, unsigned view) meaning NA */
  double scale, offset;
  const struct vic_label_set *labels; /* BLE_ENUM, BLE_BITMASK */
  uint8_t cond_bit, cond_width, cond_value;
  uint32_t na2; /* with BLE_F_NA2 */
};

struct ble_layout {
  uint8_t record_type;
  const char *name;   /* "solar charger" */
  uint8_t min_len;    /* payload bytes the layout needs (ceil(bits/8)) */
  const struct ble_field *fields;
  size_t nfields;
};

/* The layout for a record type (model id selects the Smart Battery Sense
 * variant of 0x02), or NULL when unknown. */
const struct ble_layout *ble_adv_layout(uint8_t record_type, uint16_t model_id);
/* The plain layout of a record type (ignores model overrides), or NULL. */
const struct ble_layout *ble_adv_layout_by_type(uint8_t record_type);
/* Record type name for scan output ("battery monitor"), "unknown" if none. */
const char *ble_adv_record_name(uint8_t record_type);

/* ---- decoding ---------------------------------------------------------- */

/* A decoded advertisement.  Records point into `text` and into the static
 * tables, so a reading stays valid as long as this struct does. */
struct ble_adv_reading {
  uint16_t model_id;
  uint8_t record_type;
  uint16_t nonce;
  const char *product;        /* vic_product_name(), NULL when unknown */
  char product_id[8];         /* "0xA389" */
  uint32_t nrecords;
  struct vq_record records[BLE_ADV_MAX_RECORDS];
  size_t text_used;
  char text[1024];            /* enum fallback and bitmask label strings */
};

/* Read `width` (1..32) bits at payload bit `bit`, LSB-first (§3).  Returns
 * 0 and sets *raw, or -1 when the field is not fully inside the len bytes. */
int ble_adv_read_bits(const uint8_t *p, size_t len, unsigned bit,
                      unsigned width, uint32_t *raw);

/* Decode a decrypted payload with the layout for (record_type, model_id).
 * Never reads past len; a field that was not (fully) sent is NA.  Returns 0,
 * or -1 for an unknown record type. */
int ble_adv_decode(uint8_t record_type, uint16_t model_id,
                   const uint8_t *payload, size_t len,
                   struct ble_adv_reading *out);

/* Whether a decoded reading is nonsense (codes without meaning, reserved
 * bits set, numbers far outside any product's range): 1, with the first
 * reason found in why[why_size]; else 0. */
int ble_adv_implausible(const struct ble_adv_reading *r, char *why, size_t why_size);

/* ---- one device: key, decryption, repeats ------------------------------ */

struct ble_adv_crypto; /* opaque, wraps an EVP_CIPHER_CTX */

struct ble_adv_device {
  uint8_t key[16];
  struct ble_adv_crypto *crypto;
  int have_last;
  uint16_t last_nonce;
  uint8_t last_type;
  uint8_t last_len;
  uint8_t last_data[BLE_ADV_MAX_PAYLOAD];
};

/* Parse 32 hex digits into a key.  0 or -EINVAL. */
int ble_adv_parse_key(const char *hex, uint8_t key[16]);

/* Crypto: one reusable AES-128-CTR context per key.  create: NULL on
 * failure.  crypt: en-/decrypt n bytes (n <= BLE_ADV_MAX_PAYLOAD) with the
 * counter block (nonce_lo, nonce_hi, 0...) (§1.4); 0 or -1. */
struct ble_adv_crypto *ble_adv_crypto_new(const uint8_t key[16]);
void ble_adv_crypto_free(struct ble_adv_crypto *c);
int ble_adv_crypto_ctr(struct ble_adv_crypto *c, uint16_t nonce,
                       const uint8_t *in, size_t n, uint8_t *out);

int ble_adv_device_init(struct ble_adv_device *dev, const uint8_t key[16]);
void ble_adv_device_fini(struct ble_adv_device *dev);
/* Forget the last nonce (a replay starting over). */
void ble_adv_device_reset(struct ble_adv_device *dev);

/* Process manufacturer data (after the company id) of this device: header,
 * layout, key check, repeat check, decryption, decoding.  The caller judges
 * a decoded reading with ble_adv_implausible (the plugin does, before it
 * emits).  On
 * BLE_ADV_KEY_MISMATCH, *seen_key_byte (if not NULL) gets the byte the
 * device sent. */
enum ble_adv_status ble_adv_device_process(struct ble_adv_device *dev,
                                           const uint8_t *data, size_t len,
                                           struct ble_adv_reading *out,
                                           uint8_t *seen_key_byte);

/* Build an advertisement (tests, benchmark, demo capture): header with
 * byte1 = 0x00, then `payload` encrypted with `key`.  Returns the length
 * written to out (8 + n) or -1. */
int ble_adv_encrypt(const uint8_t key[16], uint16_t model_id,
                    uint8_t record_type, uint16_t nonce, const uint8_t *payload,
                    size_t n, uint8_t *out, size_t out_size);

/* ---- small helpers ----------------------------------------------------- */

/* "C0:3B:98:12:34:56" or "c03b98123456" -> 6 bytes.  0 or -EINVAL. */
int ble_addr_parse(const char *text, uint8_t addr[6]);
/* 6 bytes -> "C0:3B:98:12:34:56" (18 bytes with NUL). */
void ble_addr_format(const uint8_t addr[6], char out[18]);

#endif

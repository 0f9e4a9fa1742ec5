/* SmartShunt GATT values (doc/protocols/ble-gatt.md §2): the
 * characteristics of the 0x6597 service as data, and their decoding.  Pure
 * functions (bytes in, a record out, no I/O) for the ble-gatt source, its
 * tests and its fuzz target. */
#ifndef VQ_BLE_GATT_H
#define VQ_BLE_GATT_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"

/* The service, and the pattern of every characteristic in it:
 * 6597XXXX-4bda-4c1e-af4b-551c4cf74769, XXXX the VE register id (§2). */
#define BLE_GATT_SERVICE_UUID "65970000-4bda-4c1e-af4b-551c4cf74769"
#define BLE_GATT_UUID_TAIL "-4bda-4c1e-af4b-551c4cf74769"
/* The keep-alive characteristic: un16 LE milliseconds, written (§3). */
#define BLE_GATT_KEEPALIVE_ID 0xFFFFu

/* One data characteristic. */
struct ble_gatt_char {
  uint16_t id;          /* XXXX of its UUID (the VE register) */
  const char *quantity; /* vocabulary name (the quantities document) */
  uint8_t width;        /* bytes on the wire, little-endian: 2 or 4 */
  uint8_t is_signed;    /* two's complement */
  uint8_t notify;       /* offers notifications (doc/protocols/ble-gatt.md §2) */
  uint32_t na;          /* raw value (unsigned view) meaning not available */
  int32_t divisor;      /* value = (raw + offset_raw) / divisor */
  int32_t offset_raw;   /* in raw units (temperature: -27315, 0.01 K -> °C) */
};

/* The table (doc/protocols/ble-gatt.md §2), and its size. */
const struct ble_gatt_char *ble_gatt_chars(size_t *count);
/* The characteristic of register id, or NULL (the keep-alive is not a
 * data characteristic). */
const struct ble_gatt_char *ble_gatt_char_by_id(uint16_t id);
/* XXXX of a UUID of the service's pattern (either case): 0 and *id, or -1
 * for any other UUID. */
int ble_gatt_uuid_id(const char *uuid, uint16_t *id);
/* The UUID of register id, "6597xxxx-4bda-4c1e-af4b-551c4cf74769"
 * (37 bytes with NUL). */
void ble_gatt_uuid(uint16_t id, char out[37]);

/* Decode a value read or notified from c into *out (quantity, unit NULL,
 * type double, NA flag).  0, or -EINVAL for a value of the wrong length
 * (nothing is written then: the caller drops and counts it). */
int ble_gatt_decode(const struct ble_gatt_char *c, const uint8_t *value, size_t len,
                    struct vq_record *out);

/* The keep-alive value for `seconds` (1..65, doc/protocols/ble-gatt.md
 * §3): milliseconds, un16 LE.  0, or -EINVAL outside the range. */
int ble_gatt_keepalive(unsigned seconds, uint8_t out[2]);

#endif

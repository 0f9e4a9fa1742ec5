/* The SmartShunt's data characteristics as a table (doc/protocols/ble-gatt.md
 * §2).  The raw current and power are positive while charging, the
 * vocabulary's sign: no flip.  Time to go 0xFFFF cannot tell "infinite"
 * from "unknown" and is not available (§2 "Time to go"). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ble_gatt.h"
#include "vq_hex.h"

static const struct ble_gatt_char chars[] = {
  /* id     quantity                      w  sign notify na         div   offset */
  {0x0FFF, "battery.soc",                2, 0, 1, 0xFFFFu,      100,  0},
  {0xED8D, "battery.voltage",            2, 1, 1, 0x7FFFu,      100,  0},
  {0xED8E, "battery.power",              2, 1, 1, 0x7FFFu,      1,    0},
  {0xED8C, "battery.current",            4, 1, 1, 0x7FFFFFFFu,  1000, 0},
  {0xEEFF, "battery.consumed_ah",        4, 1, 1, 0x7FFFFFFFu,  10,   0},
  {0xED7D, "aux.voltage",                2, 1, 0, 0x7FFFu,      100,  0},
  {0x0FFE, "battery.time_to_go",         2, 0, 0, 0xFFFFu,      1,    0},
  {0xEDEC, "battery.temperature",        2, 0, 0, 0xFFFFu,      100,  -27315},
  {0x0382, "battery.midpoint_voltage",   2, 0, 0, 0xFFFFu,      100,  0},
  {0x0383, "battery.midpoint_deviation", 2, 1, 0, 0x7FFFu,      10,   0},
};

const struct ble_gatt_char *ble_gatt_chars(size_t *count) {
  *count = sizeof chars / sizeof chars[0];
  return chars;
}

const struct ble_gatt_char *ble_gatt_char_by_id(uint16_t id) {
  size_t i;
  for (i = 0; i < sizeof chars / sizeof chars[0]; i++)
    if (chars[i].id == id) return &chars[i];
  return NULL;
}

int ble_gatt_uuid_id(const char *uuid, uint16_t *id) {
  uint8_t b[2];
  if (uuid == NULL || strlen(uuid) != 36 || strncasecmp(uuid, "6597", 4) != 0 ||
      strcasecmp(uuid + 8, BLE_GATT_UUID_TAIL) != 0 || vq_hex_bytes(uuid + 4, 2, b) != 0)
    return -1;
  *id = (uint16_t)(b[0] << 8 | b[1]);
  return 0;
}

void ble_gatt_uuid(uint16_t id, char out[37]) {
  snprintf(out, 37, "6597%04x%s", (unsigned)id, BLE_GATT_UUID_TAIL);
}

int ble_gatt_decode(const struct ble_gatt_char *c, const uint8_t *value, size_t len,
                    struct vq_record *out) {
  uint32_t raw = 0;
  int64_t v;
  unsigned i;
  if (len != c->width) return -EINVAL;
  for (i = 0; i < c->width; i++) raw |= (uint32_t)value[i] << (8 * i);
  memset(out, 0, sizeof *out);
  out->quantity = c->quantity;
  out->type = VQ_VALUE_DOUBLE;
  if (raw == c->na) {
    out->flags = VQ_RECORD_NA;
    return 0;
  }
  if (c->is_signed && c->width == 2)
    v = (int16_t)(uint16_t)raw;
  else if (c->is_signed)
    v = (int32_t)raw;
  else
    v = raw;
  /* A division by a power of ten gives the double nearest the decimal
   * (5376 / 100 is 53.76, where 5376 * 0.01 is not). */
  out->value.f64 = (double)(v + c->offset_raw) / c->divisor;
  return 0;
}

int ble_gatt_keepalive(unsigned seconds, uint8_t out[2]) {
  unsigned ms;
  if (seconds < 1 || seconds > 65) return -EINVAL;
  ms = seconds * 1000u;
  out[0] = (uint8_t)(ms & 0xFF);
  out[1] = (uint8_t)(ms >> 8);
  return 0;
}

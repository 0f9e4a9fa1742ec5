/* Hexadecimal digits: the one decoder of the tree (VE.Direct HEX frames
 * and text fields, BLE keys and capture lines).  Header-only: each user
 * adds -I$(top_srcdir)/lib/util and nothing to link. */
#ifndef VQ_HEX_H
#define VQ_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1 for any other byte. */
static inline int vq_hex_digit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Decode the 2 * n digits at text into out[0..n).  0, or -1 when one of
 * them is not a hex digit (out is then partly written). */
static inline int vq_hex_bytes(const char *text, size_t n, uint8_t *out) {
  size_t i;
  for (i = 0; i < n; i++) {
    int hi = vq_hex_digit((unsigned char)text[2 * i]);
    int lo = hi < 0 ? -1 : vq_hex_digit((unsigned char)text[2 * i + 1]);
    if (lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

/* A Bluetooth address "AA:BB:CC:DD:EE:FF" (either case, hex digits only)
 * into addr, most significant byte first.  0, or -1 with addr untouched. */
static inline int vq_mac_parse(const char *text, uint8_t addr[6]) {
  uint8_t v[6];
  size_t i;
  for (i = 0; i < 6; i++) {
    if (vq_hex_bytes(text + 3 * i, 1, &v[i]) != 0) return -1;
    if (text[3 * i + 2] != (i < 5 ? ':' : '\0')) return -1;
  }
  for (i = 0; i < 6; i++) addr[i] = v[i];
  return 0;
}

/* The device id of a Bluetooth device, whatever the transport (ble-adv,
 * ble-gatt): its address as 12 lower-case hex digits, out[13]. */
static inline void vq_mac_device_id(const uint8_t addr[6], char out[13]) {
  static const char lower[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < 6; i++) {
    out[2 * i] = lower[addr[i] >> 4];
    out[2 * i + 1] = lower[addr[i] & 15];
  }
  out[12] = '\0';
}

#endif

/* The receive path of one device: header, layout, key check
 * (doc/protocols/ble-adv.md §1.3),
 * repeat suppression, decryption and decoding.  No I/O, no allocation per
 * advertisement. */
#include <errno.h>
#include <string.h>

#include "ble_adv.h"

int ble_adv_device_init(struct ble_adv_device *dev, const uint8_t key[16]) {
  memset(dev, 0, sizeof *dev);
  memcpy(dev->key, key, 16);
  dev->crypto = ble_adv_crypto_new(key);
  return dev->crypto != NULL ? 0 : -ENOMEM;
}

void ble_adv_device_fini(struct ble_adv_device *dev) {
  ble_adv_crypto_free(dev->crypto);
  dev->crypto = NULL;
}

void ble_adv_device_reset(struct ble_adv_device *dev) { dev->have_last = 0; }

enum ble_adv_status ble_adv_device_process(struct ble_adv_device *dev,
                                           const uint8_t *data, size_t len,
                                           struct ble_adv_reading *out,
                                           uint8_t *seen_key_byte) {
  struct ble_adv_header h;
  const struct ble_layout *layout;
  uint8_t plain[BLE_ADV_MAX_PAYLOAD];
  size_t n;
  enum ble_adv_status st = ble_adv_parse_header(data, len, &h);
  if (st != BLE_ADV_OK) return st;
  layout = ble_adv_layout(h.record_type, h.model_id);
  if (layout == NULL) return BLE_ADV_UNKNOWN_RECORD;
  if (h.payload_len < layout->min_len) return BLE_ADV_SHORT_PAYLOAD;
  if (h.key_check != dev->key[0]) {
    if (seen_key_byte != NULL) *seen_key_byte = h.key_check;
    return BLE_ADV_KEY_MISMATCH;
  }
  /* Bytes past BLE_ADV_MAX_PAYLOAD belong to no known field. */
  n = h.payload_len < BLE_ADV_MAX_PAYLOAD ? h.payload_len : BLE_ADV_MAX_PAYLOAD;
  /* Devices repeat an advertisement until their data changes, and a new
   * nonce comes with new data: the same nonce and bytes is a repeat. */
  if (dev->have_last && dev->last_nonce == h.nonce &&
      dev->last_type == h.record_type && dev->last_len == n &&
      memcmp(dev->last_data, h.payload, n) == 0)
    return BLE_ADV_REPEAT;
  if (ble_adv_crypto_ctr(dev->crypto, h.nonce, h.payload, n, plain) != 0)
    return BLE_ADV_CRYPTO_ERROR;
  dev->have_last = 1;
  dev->last_nonce = h.nonce;
  dev->last_type = h.record_type;
  dev->last_len = (uint8_t)n;
  memcpy(dev->last_data, h.payload, n);
  if (ble_adv_decode(h.record_type, h.model_id, plain, n, out) != 0)
    return BLE_ADV_UNKNOWN_RECORD;
  out->nonce = h.nonce;
  return BLE_ADV_OK;
}

int ble_adv_encrypt(const uint8_t key[16], uint16_t model_id,
                    uint8_t record_type, uint16_t nonce, const uint8_t *payload,
                    size_t n, uint8_t *out, size_t out_size) {
  struct ble_adv_crypto *c;
  int rc;
  if (n > BLE_ADV_MAX_PAYLOAD || out_size < BLE_ADV_HEADER_LEN + n) return -1;
  c = ble_adv_crypto_new(key);
  if (c == NULL) return -1;
  out[0] = BLE_ADV_PRODUCT_ADVERTISEMENT;
  out[1] = 0x00;
  out[2] = (uint8_t)(model_id & 0xff);
  out[3] = (uint8_t)(model_id >> 8);
  out[4] = record_type;
  out[5] = (uint8_t)(nonce & 0xff);
  out[6] = (uint8_t)(nonce >> 8);
  out[7] = key[0];
  rc = ble_adv_crypto_ctr(c, nonce, payload, n, out + BLE_ADV_HEADER_LEN);
  ble_adv_crypto_free(c);
  return rc == 0 ? (int)(BLE_ADV_HEADER_LEN + n) : -1;
}

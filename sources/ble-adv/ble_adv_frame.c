/* Framing of Victron manufacturer data
 * (doc/protocols/ble-adv.md §1): company id, header, key and
 * address text.  Pure functions. */
#include <errno.h>
#include <string.h>

#include "ble_adv.h"
#include "vq_hex.h"

static const char *const status_names[BLE_ADV_STATUS_COUNT] = {
  [BLE_ADV_OK] = "decoded",
  [BLE_ADV_WRONG_COMPANY] = "wrong_company",
  [BLE_ADV_SHORT_HEADER] = "short_header",
  [BLE_ADV_NOT_PRODUCT_ADV] = "not_product_advertisement",
  [BLE_ADV_UNKNOWN_RECORD] = "unknown_record_type",
  [BLE_ADV_SHORT_PAYLOAD] = "short_payload",
  [BLE_ADV_KEY_MISMATCH] = "key_mismatch",
  [BLE_ADV_REPEAT] = "repeat",
  [BLE_ADV_CRYPTO_ERROR] = "crypto_error",
  [BLE_ADV_IMPLAUSIBLE] = "implausible",
};

const char *ble_adv_status_name(enum ble_adv_status status) {
  if ((unsigned)status >= BLE_ADV_STATUS_COUNT) return "invalid_status";
  return status_names[status];
}

enum ble_adv_status ble_adv_strip_company(const uint8_t *ad, size_t len,
                                          const uint8_t **data,
                                          size_t *data_len) {
  /* The company id is little-endian on air: E1 02. */
  if (len < 2 || ad[0] != (BLE_ADV_COMPANY_ID & 0xff) ||
      ad[1] != (BLE_ADV_COMPANY_ID >> 8))
    return BLE_ADV_WRONG_COMPANY;
  *data = ad + 2;
  *data_len = len - 2;
  return BLE_ADV_OK;
}

enum ble_adv_status ble_adv_parse_header(const uint8_t *data, size_t len,
                                         struct ble_adv_header *hdr) {
  if (len < BLE_ADV_HEADER_LEN) return BLE_ADV_SHORT_HEADER;
  if (data[0] != BLE_ADV_PRODUCT_ADVERTISEMENT) return BLE_ADV_NOT_PRODUCT_ADV;
  hdr->record_kind = data[0];
  hdr->byte1 = data[1];
  hdr->model_id = (uint16_t)vic_ble_model_id(data, len);
  hdr->record_type = data[4];
  hdr->nonce = (uint16_t)(data[5] | (data[6] << 8));
  hdr->key_check = data[7];
  hdr->payload = data + BLE_ADV_HEADER_LEN;
  hdr->payload_len = len - BLE_ADV_HEADER_LEN;
  return BLE_ADV_OK;
}

int ble_adv_parse_key(const char *hex, uint8_t key[16]) {
  if (hex == NULL || strlen(hex) != 32) return -EINVAL;
  return vq_hex_bytes(hex, 16, key) == 0 ? 0 : -EINVAL;
}

int ble_addr_parse(const char *text, uint8_t addr[6]) {
  size_t len;
  if (text == NULL) return -EINVAL;
  len = strlen(text);
  if (len == 17) return vq_mac_parse(text, addr) == 0 ? 0 : -EINVAL;
  if (len == 12) {
    return vq_hex_bytes(text, 6, addr) == 0 ? 0 : -EINVAL;
  }
  return -EINVAL;
}

static const char upper_hex[] = "0123456789ABCDEF";

void ble_addr_format(const uint8_t addr[6], char out[18]) {
  size_t i;
  for (i = 0; i < 6; i++) {
    out[3 * i] = upper_hex[addr[i] >> 4];
    out[3 * i + 1] = upper_hex[addr[i] & 15];
    out[3 * i + 2] = i < 5 ? ':' : '\0';
  }
}

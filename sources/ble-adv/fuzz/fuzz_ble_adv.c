/* libFuzzer target for the framing, key check, decryption and decoder, and
 * the capture line parser:
 *   make -C sources/ble-adv fuzz && sources/ble-adv/fuzz/fuzz_ble_adv -max_total_time=60
 * The input is used three ways: as manufacturer data (with the key check
 * byte forced to match, so decryption and decoding are reached), as a
 * decrypted payload for every record layout, and as a capture line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ble_adv.h"
#include "ble_capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct ble_adv_device dev;
  static int ready;
  static struct ble_adv_reading r;
  uint8_t *copy;
  unsigned t;
  if (!ready) {
    static const uint8_t key[16] = {0x42};
    if (ble_adv_device_init(&dev, key) != 0) abort();
    ready = 1;
  }
  /* Exactly-sized copy so any over-read is caught by ASan. */
  copy = malloc(size ? size : 1);
  if (copy == NULL) return 0;
  memcpy(copy, data, size);
  if (size > 7) copy[7] = 0x42;
  ble_adv_device_reset(&dev);
  (void)ble_adv_device_process(&dev, copy, size, &r, NULL);
  {
    const uint8_t *body;
    size_t blen;
    if (ble_adv_strip_company(copy, size, &body, &blen) == BLE_ADV_OK)
      (void)ble_adv_device_process(&dev, body, blen, &r, NULL);
  }
  for (t = 0; t < 16; t++) (void)ble_adv_decode((uint8_t)t, 0xA3A4, copy, size, &r);
  (void)ble_adv_decode(0x02, 0xA389, copy, size, &r);
  free(copy);
  {
    struct ble_capture_line line;
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    (void)ble_capture_parse_line(text, &line);
    free(text);
  }
  return 0;
}

/* libFuzzer target for the characteristic decoder: byte 0 picks a
 * characteristic of the table, the rest is its value (any length); and the
 * whole input, as text, goes through the UUID parser.
 *   make -C sources/ble-gatt fuzz && sources/ble-gatt/fuzz/fuzz_ble_gatt \
 *     sources/ble-gatt/fuzz/corpus -max_total_time=60 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ble_gatt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t n;
  const struct ble_gatt_char *t = ble_gatt_chars(&n);
  struct vq_record r;
  char *text;
  uint16_t id;
  if (size == 0) return 0;
  {
    /* Exactly-sized copy so any over-read is caught by ASan. */
    uint8_t *v = malloc(size - 1 ? size - 1 : 1);
    if (v == NULL) return 0;
    memcpy(v, data + 1, size - 1);
    if (ble_gatt_decode(&t[data[0] % n], v, size - 1, &r) == 0 &&
        (r.quantity == NULL || (!(r.flags & VQ_RECORD_NA) && !isfinite(r.value.f64))))
      abort();
    free(v);
  }
  text = malloc(size + 1);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  if (ble_gatt_uuid_id(text, &id) == 0) {
    char back[37];
    ble_gatt_uuid(id, back);
    if (strncasecmp(back, text, 36) != 0) abort();
  }
  free(text);
  return 0;
}

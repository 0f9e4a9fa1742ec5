/* libFuzzer target for capture files as the replay reads them: the input
 * is a whole file, split into lines by ble_capture_read_line (long lines,
 * NULs, no final newline) and each line parsed; a parsed line is formatted
 * again and must parse to the same advertisement.
 *   make -C sources/ble-adv fuzz && sources/ble-adv/fuzz/fuzz_ble_capture \
 *     sources/ble-adv/fuzz/corpus_capture -max_total_time=60 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble_adv.h"
#include "ble_capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char line[BLE_CAPTURE_LINE_MAX], again[BLE_CAPTURE_LINE_MAX];
  struct ble_capture_line a, b;
  int too_long;
  FILE *f;
  if (size == 0) return 0;
  f = fmemopen((void *)(uintptr_t)data, size, "r");
  if (f == NULL) return 0;
  while (ble_capture_read_line(f, line, sizeof line, &too_long)) {
    int n;
    if (too_long || ble_capture_parse_line(line, &a) != 0) continue;
    n = ble_capture_format_line(again, sizeof again, a.time_ns, a.addr, a.has_rssi, a.rssi,
                                a.data, a.len);
    /* Microseconds are written: compare at that precision. */
    if (n < 0 || ble_capture_parse_line(again, &b) != 0 || b.len != a.len ||
        memcmp(b.data, a.data, a.len) != 0 || memcmp(b.addr, a.addr, 6) != 0 ||
        b.has_rssi != a.has_rssi || b.rssi != a.rssi ||
        b.time_ns / 1000 != a.time_ns / 1000)
      abort();
  }
  fclose(f);
  return 0;
}

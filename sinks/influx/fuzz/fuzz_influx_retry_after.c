/* libFuzzer target: a Retry-After header value (delta seconds or an HTTP
 * date) through influx_retry_after_ms, at a time taken from the input.
 * Input: eight bytes of "now" (seconds), then the value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "influx_response.h"

#define CAP_MS 600000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int64_t now = 0, ms;
  char *value;
  if (size < 8) return 0;
  memcpy(&now, data, 8);
  now %= (int64_t)1 << 40; /* what CLOCK_REALTIME can say, +-35000 years */
  value = malloc(size - 8 + 1);
  if (value == NULL) return 0;
  memcpy(value, data + 8, size - 8);
  value[size - 8] = '\0';
  ms = influx_retry_after_ms(value, now, CAP_MS);
  if (ms < -1 || ms > CAP_MS) __builtin_trap();
  free(value);
  return 0;
}

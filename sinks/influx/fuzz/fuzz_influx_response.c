/* libFuzzer target: an InfluxDB answer (status and body) through
 * influx_classify, which runs the error-text unescaper and the partial
 * write parser (dropped=N, the quoted line, the conflicting field).
 * Input: two bytes of status, then the body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "influx_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct influx_verdict v;
  char text[64];
  long status;
  if (size < 2) return 0;
  status = (long)(data[0] | (data[1] << 8)) % 700;
  influx_classify(status, (const char *)data + 2, size - 2, &v);
  /* The text is NUL-terminated inside its buffer, the offsets inside it. */
  if (strlen(v.message) >= sizeof v.message) __builtin_trap();
  if (v.bad_line_off + v.bad_line_len > strlen(v.message)) __builtin_trap();
  if (strlen(v.conflict_field) >= sizeof v.conflict_field) __builtin_trap();
  /* A small output buffer: truncation, never an overflow. */
  if (influx_error_text((const char *)data + 2, size - 2, text, sizeof text) >=
      sizeof text)
    __builtin_trap();
  return 0;
}

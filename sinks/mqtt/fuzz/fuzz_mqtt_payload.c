/* libFuzzer target: a command payload from a /set topic through
 * mqtt_command_parse_value; what it accepts is a finite number. */
#include <math.h>
#include <stdint.h>

#include "mqtt_commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  double v = 0;
  if (mqtt_command_parse_value((const char *)data, size, &v) == 0 &&
      !isfinite(v))
    __builtin_trap();
  return 0;
}

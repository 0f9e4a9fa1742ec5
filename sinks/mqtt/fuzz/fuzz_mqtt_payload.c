/* libFuzzer target: a command payload from a /set topic through
 * mqtt_command_parse (numbers, and labels of an enum's set); what it
 * accepts is a finite number, and a label only when the payload is one
 * byte for byte, giving that label's code. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "mqtt_commands.h"

static const struct vq_label labels[] = {
    {1, "ess_with_phase_compensation"}, {2, "off"}, {-3, "x"}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  double v = 0, n = 0;
  int number = mqtt_command_parse_value((const char *)data, size, &n) == 0;
  if (number && !isfinite(n)) __builtin_trap();
  if (mqtt_command_parse((const char *)data, size, labels, 3, &v) == 0) {
    size_t i;
    if (!isfinite(v)) __builtin_trap();
    if (number) {
      if (v != n) __builtin_trap(); /* a number is never a label */
      return 0;
    }
    for (i = 0; i < 3; i++)
      if (strlen(labels[i].label) == size &&
          memcmp(labels[i].label, data, size) == 0)
        break;
    if (i == 3 || v != labels[i].code) __builtin_trap();
  } else if (number) {
    __builtin_trap();
  }
  return 0;
}

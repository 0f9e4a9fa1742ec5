/* libFuzzer target: the spool's ack file ("SEGMENT OFFSET\n"), as a crash,
 * a full disk or a user may leave it.  A line is either refused or read
 * back to exactly the position that formatting it again gives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint64_t seg = 0, off = 0, seg2 = 0, off2 = 0;
  char line[64];
  size_t n;
  if (vq_ack_parse((const char *)data, size, &seg, &off) != 0) return 0;
  n = vq_ack_format(line, sizeof line, seg, off);
  if (n == 0 || n >= sizeof line || n > size) abort();
  if (vq_ack_parse(line, n, &seg2, &off2) != 0) abort();
  if (seg2 != seg || off2 != off) abort();
  /* Only a leading zero of the offset may differ from the input. */
  if (memcmp(line, data, 17) != 0) abort();
  return 0;
}

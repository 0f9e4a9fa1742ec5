/* libFuzzer target: decoding of spooled readings (vq_item_decode), the
 * bytes a spool file hands back after a crash or a bad disk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"
#include "item.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct vq_item *it = vq_item_decode(data, size, vq_intern);
  if (it != NULL) {
    /* Decoding normalizes (missing units get the vocabulary's); after
     * that, encoding and decoding must be a fixed point. */
    size_t n = vq_item_encode(it, NULL, 0);
    unsigned char *once = malloc(n ? n : 1), *twice = malloc(n ? n : 1);
    struct vq_item *again;
    if (once == NULL || twice == NULL) abort();
    vq_item_encode(it, once, n);
    again = vq_item_decode(once, n, vq_intern);
    if (again == NULL || vq_item_encode(again, NULL, 0) != n) abort();
    vq_item_encode(again, twice, n);
    if (memcmp(once, twice, n) != 0) abort();
    vq_item_unref(again);
    free(once);
    free(twice);
    vq_item_unref(it);
  }
  return 0;
}

/* fixture-abi2: a plugin built for a future ABI major (2), to test that
 * the loader refuses it and says which versions each side speaks. */
#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"

static const struct vq_option options[] = {{NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_MAGIC, 2, 3, sizeof(struct vq_plugin),
    "fixture-abi2", "2.0", "speaks only plugin ABI 2", VQ_KIND_SINK, options,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, {NULL}};

const struct vq_plugin *fixture_abi2_LTX_vq_plugin_entry(const uint16_t *majors,
                                                         size_t n);
const struct vq_plugin *fixture_abi2_LTX_vq_plugin_entry(const uint16_t *majors,
                                                         size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (majors[i] == 2) return &descriptor;
  return NULL;
}

/* What the vedirect unit tests share beyond tests/vqtest.h (the assertion
 * macros) and tests/lib (the test host): the capture files of
 * tests/data/vedirect and the plugin's descriptor. */
#ifndef VED_TEST_H
#define VED_TEST_H

#include <stdio.h>
#include <stdlib.h>

#include "vicacq/plugin.h"
#include "vqtest.h"

/* The path of a test data file (VED_TESTDATA, overridable by the
 * environment variable of that name); returns buf. */
static inline char *ved_test_path(const char *name, char *buf, size_t len) {
  const char *dir = getenv("VED_TESTDATA");
  snprintf(buf, len, "%s/%s", dir ? dir : VED_TESTDATA, name);
  return buf;
}

/* A whole test data file; exits 99 (hard error) when it is missing. */
static inline unsigned char *ved_test_read(const char *name, size_t *len) {
  char path[1024];
  return vqtest_read_file(ved_test_path(name, path, sizeof path), len);
}

/* The descriptor, straight from the module's entry point (the tests link
 * the plugin's code). */
const struct vq_plugin *vedirect_LTX_vq_plugin_entry(const uint16_t *majors,
                                                     size_t nmajors);
static inline const struct vq_plugin *ved_test_plugin(void) {
  static const uint16_t majors[] = {VQ_ABI_MAJOR};
  return vedirect_LTX_vq_plugin_entry(majors, 1);
}

#endif

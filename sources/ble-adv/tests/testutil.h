/* Small helpers shared by the ble-adv unit tests; the checks are
 * tests/vqtest.h's, as in every test of the tree. */
#ifndef BLE_ADV_TESTUTIL_H
#define BLE_ADV_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../tests/vqtest.h"
#include "ble_adv.h"
#include "vq_hex.h"

/* Hex text into bytes: the tree's one decoder (lib/util/vq_hex.h). */
static inline int tu_hex(const char *hex, uint8_t *out, size_t size) {
  size_t n = strlen(hex);
  if (n % 2 || n / 2 > size || vq_hex_bytes(hex, n / 2, out) != 0) return -1;
  return (int)(n / 2);
}

static inline const struct vq_record *tu_find(const struct ble_adv_reading *r,
                                              const char *quantity) {
  uint32_t i;
  for (i = 0; i < r->nrecords; i++)
    if (strcmp(r->records[i].quantity, quantity) == 0) return &r->records[i];
  return NULL;
}

/* A whole file, NUL-terminated (caller frees): vqtest_read_file. */
static inline char *tu_slurp(const char *path, size_t *len) {
  size_t n;
  return (char *)vqtest_read_file(path, len != NULL ? len : &n);
}

#endif

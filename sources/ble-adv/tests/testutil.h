/* Small helpers shared by the ble-adv unit tests. */
#ifndef BLE_ADV_TESTUTIL_H
#define BLE_ADV_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble_adv.h"

static int tu_failures;

#define CHECK(cond, ...)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      tu_failures++;                                                   \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, \
              #cond);                                                  \
      fprintf(stderr, __VA_ARGS__);                                    \
      fputc('\n', stderr);                                             \
    }                                                                  \
  } while (0)

static inline int tu_hex(const char *hex, uint8_t *out, size_t size) {
  size_t n = strlen(hex), i;
  if (n % 2 || n / 2 > size) return -1;
  for (i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return (int)(n / 2);
}

static inline const struct vq_record *tu_find(const struct ble_adv_reading *r,
                                              const char *quantity) {
  uint32_t i;
  for (i = 0; i < r->nrecords; i++)
    if (strcmp(r->records[i].quantity, quantity) == 0) return &r->records[i];
  return NULL;
}

/* Read a whole file into a NUL-terminated buffer (caller frees). */
static inline char *tu_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (f == NULL) return NULL;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  buf = malloc((size_t)n + 1);
  if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    fclose(f);
    return NULL;
  }
  buf[n] = '\0';
  fclose(f);
  if (len != NULL) *len = (size_t)n;
  return buf;
}

#endif

/* A key wrong only after its first byte passes the key check
 * (doc/protocols/ble-adv.md §1.3) and decrypts to random bits.  Every real
 * vector of tests/data/ble-adv/vectors.json that has a key: with its own
 * key it decodes plausibly; with the key altered after its first byte
 * (three alterations each) the decode is refused as implausible, except
 * the few listed below.  Before the plausibility check every one of them
 * was BLE_ADV_OK. */
#include <stdint.h>

#include "ble_adv.h"
#include "vq_hex.h"
#include "vqtest.h"

/* 2 * n hex digits, exactly: n, else -1. */
static int hex_bytes(const char *hex, uint8_t *out, size_t size) {
  size_t n = strlen(hex);
  if (n % 2 || n / 2 > size || vq_hex_bytes(hex, n / 2, out) != 0) return -1;
  return (int)(n / 2);
}

/* The string value of top-level field `name` of the vector at obj..end
 * (the file is pretty-printed, top-level fields indented two spaces). */
static int field(const char *obj, const char *end, const char *name, char *out, size_t size) {
  char pat[64];
  const char *p, *q;
  snprintf(pat, sizeof pat, "\n  \"%s\": \"", name);
  p = strstr(obj, pat);
  if (p == NULL || p >= end) return -1;
  p += strlen(pat);
  q = strchr(p, '"');
  if (q == NULL || q > end || (size_t)(q - p) >= size) return -1;
  memcpy(out, p, (size_t)(q - p));
  out[q - p] = '\0';
  return 0;
}

/* Decodes a wrong key cannot be told from real data: the test record
 * (0x00: an uptime and a 7-bit temperature, every value possible) and
 * Smart Battery Sense records (one 16-bit voltage; 15 % of random values
 * are a plausible battery voltage), and one battery monitor decode whose
 * random fields all happened to fall inside their ranges.  Listed so the
 * test is exact: any other miss, or one of these refused, fails it. */
static const char *const expected_misses[] = {
  "kdv-bs-e2e/1", "kdv-old-bm-mid/1", "kdv-old-bs-new/0", "fw-record/0",
  "fw-record/1", "fw-record/2", "rl-battery_sense/1",
};

static int expected_miss(const char *id, int k) {
  char key[160];
  size_t i;
  snprintf(key, sizeof key, "%s/%d", id, k);
  for (i = 0; i < sizeof expected_misses / sizeof expected_misses[0]; i++)
    if (strcmp(expected_misses[i], key) == 0) return 1;
  return 0;
}

static char why[96];

static enum ble_adv_status process(const uint8_t key[16], const uint8_t *d, size_t n,
                                   struct ble_adv_reading *r) {
  struct ble_adv_device dev;
  enum ble_adv_status st;
  if (ble_adv_device_init(&dev, key) != 0) return BLE_ADV_CRYPTO_ERROR;
  st = ble_adv_device_process(&dev, d, n, r, NULL);
  ble_adv_device_fini(&dev);
  if (st == BLE_ADV_OK && ble_adv_implausible(r, why, sizeof why)) st = BLE_ADV_IMPLAUSIBLE;
  return st;
}

int main(void) {
  static struct ble_adv_reading r;
  char *json;
  const char *obj;
  size_t len = 0;
  int vectors = 0, altered = 0, refused = 0, missed_as_expected = 0;
  FILE *f = fopen(BLE_ADV_TESTDATA "/vectors.json", "rb");
  if (f == NULL) {
    perror(BLE_ADV_TESTDATA "/vectors.json");
    return 99;
  }
  json = malloc(1 << 20);
  if (json == NULL) return 99;
  len = fread(json, 1, (1 << 20) - 1, f);
  fclose(f);
  json[len] = '\0';
  for (obj = strstr(json, "\n  \"id\": \""); obj != NULL;
       obj = strstr(obj + 1, "\n  \"id\": \"")) {
    const char *next = strstr(obj + 1, "\n  \"id\": \"");
    const char *end = next != NULL ? next : json + len;
    char id[128], keyhex[64], datahex[160];
    uint8_t key[16], data[80];
    int n, k;
    enum ble_adv_status st;
    if (field(obj, end, "id", id, sizeof id) != 0 ||
        field(obj, end, "key", keyhex, sizeof keyhex) != 0 ||
        field(obj, end, "data", datahex, sizeof datahex) != 0)
      continue;
    if (hex_bytes(keyhex, key, sizeof key) != 16) continue;
    if ((n = hex_bytes(datahex, data, sizeof data)) < 0) continue;
    st = process(key, data, (size_t)n, &r);
    if (st != BLE_ADV_OK && st != BLE_ADV_IMPLAUSIBLE) continue; /* not decodable */
    vectors++;
    if (st != BLE_ADV_OK) fprintf(stderr, "%s: real data judged implausible: %s\n", id, why);
    CHECK_INT(st, BLE_ADV_OK);
    for (k = 0; k < 3; k++) {
      uint8_t bad[16];
      memcpy(bad, key, 16);
      /* First byte kept: the key check passes. */
      if (k == 0) bad[15] ^= 0x01;
      if (k == 1) bad[1] ^= 0xFF;
      if (k == 2) bad[8] = (uint8_t)(bad[8] + 0x35);
      st = process(bad, data, (size_t)n, &r);
      altered++;
      if (st == BLE_ADV_IMPLAUSIBLE) refused++;
      if (expected_miss(id, k)) {
        missed_as_expected++;
        CHECK_INT(st, BLE_ADV_OK);
      } else if (st != BLE_ADV_IMPLAUSIBLE) {
        CHECK_INT(st, BLE_ADV_IMPLAUSIBLE);
        uint32_t j;
        fprintf(stderr, "%s: altered key %d decodes as %s:", id, k, ble_adv_status_name(st));
        for (j = 0; j < r.nrecords; j++)
          fprintf(stderr, " %s=%g/%lld", r.records[j].quantity, r.records[j].value.f64,
                  (long long)r.records[j].value.i64);
        fprintf(stderr, "\n");
      }
    }
  }
  printf("%d real vectors plausible; %d of %d altered-key decodes refused\n", vectors,
         refused, altered);
  CHECK(vectors >= 30);
  CHECK_INT(missed_as_expected, sizeof expected_misses / sizeof expected_misses[0]);
  CHECK_INT(refused + missed_as_expected, altered);
  free(json);
  VQTEST_END();
}

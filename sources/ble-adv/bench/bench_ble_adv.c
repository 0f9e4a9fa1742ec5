/* Benchmark: decrypt + decode of real advertisements on one core.
 *   sources/ble-adv/bench/bench_ble_adv [seconds]
 * Each device gets a ring of advertisements with distinct nonces (built
 * from real payloads), so every one is decrypted and decoded, none is a
 * repeat.  Prints advertisements per second; exits 1 below 3,000,000/s
 * when BENCH_ENFORCE is set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ble_adv.h"

#define RING 256

struct bench_dev {
  const char *key;
  uint16_t model;
  uint8_t type;
  const char *plain; /* decrypted payload from the vectors */
};

static const struct bench_dev devs[] = {
  {"aff4d0995b7d1e176c0c33ecb9e70dcd", 0xA389, 0x02, "ffffe50400000000030000f40140df"},
  {"adeccb947395801a4dd45a2eaa44bf17", 0xA042, 0x01, "04006c050e000300130000fe"},
  {"da3f5fa2860cb1cf86ba7a6d1d16b9dd", 0x2780, 0x0C, "0500e800a505b305b02000c8ff"},
  {"c129cf8f75c3fe5a1655b481e205fb7d", 0xA330, 0x08, "0600458500ffffffffffffbdff"},
  {"fac570d66380b797a5b7543758be00e4", 0xA3B0, 0x09, "f90100000000001b051b0500000000"},
  {"0102030405060708090a0b0c0d0e0f10", 0xA3E0, 0x05, "000000060000c7e3f1f8ffffff2c35b5"},
};
#define NDEV (sizeof devs / sizeof devs[0])

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int hex(const char *h, uint8_t *out) {
  size_t n = strlen(h) / 2, i;
  for (i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(h + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return (int)n;
}

int main(int argc, char **argv) {
  static uint8_t adv[NDEV][RING][48];
  static int len[NDEV][RING];
  static struct ble_adv_device dev[NDEV];
  static struct ble_adv_reading r;
  double seconds = argc > 1 ? atof(argv[1]) : 2.0, t0, t;
  unsigned long long n = 0, records = 0;
  size_t d, i;
  for (d = 0; d < NDEV; d++) {
    uint8_t key[16], plain[32];
    int pn = hex(devs[d].plain, plain);
    if (ble_adv_parse_key(devs[d].key, key) != 0 || pn <= 0 || ble_adv_device_init(&dev[d], key) != 0)
      return 2;
    for (i = 0; i < RING; i++) {
      len[d][i] = ble_adv_encrypt(key, devs[d].model, devs[d].type, (uint16_t)(i * 7 + 1), plain,
                                  (size_t)pn, adv[d][i], sizeof adv[d][i]);
      if (len[d][i] < 0) return 2;
    }
  }
  t0 = now();
  do {
    for (i = 0; i < RING; i++)
      for (d = 0; d < NDEV; d++) {
        if (ble_adv_device_process(&dev[d], adv[d][i], (size_t)len[d][i], &r, NULL) != BLE_ADV_OK)
          return 3;
        records += r.nrecords;
        n++;
      }
    t = now() - t0;
  } while (t < seconds);
  printf("ble-adv decrypt+decode: %.0f advertisements/s (%llu in %.2f s, %.1f records each)\n",
         (double)n / t, n, t, (double)records / (double)n);
  for (d = 0; d < NDEV; d++) ble_adv_device_fini(&dev[d]);
  if (getenv("BENCH_ENFORCE") != NULL && (double)n / t < 3e6) return 1;
  return 0;
}

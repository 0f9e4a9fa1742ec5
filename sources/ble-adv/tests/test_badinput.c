/* Bad input: every truncation of every real vector, wrong company id, wrong
 * record prefix, wrong key, unknown record types and random garbage.  Each
 * must end without a crash, without a record, and with a named reason.
 * Run under ASan/valgrind to catch out-of-bounds reads: the truncated
 * copies are put in exactly-sized heap buffers. */
#include "testutil.h"

static const char *const real[][2] = {
  {"c129cf8f75c3fe5a1655b481e205fb7d", "100030a308f926c1b5170a0d2280335bf12d5ed083"},
  {"aff4d0995b7d1e176c0c33ecb9e70dcd", "100289a302b040af925d09a4d89aa0128bdef48c6298a9"},
  {"0da694539597f9cf6c613cde60d7bf05", "1000a4a3025f150d8dcbff517f30eb65e76b22a04ac4e1"},
  {"aff4d0995b7d1e176c0c33ecb9e70dcd", "100289a30d787fafde83ccec982199fd815286"},
  {"64ba49f1a8562e45197a8e1fe50d7658", "1000c0a304121d64ca8d442b90bbdf6a8cba"},
  {"346c410e8c824dd723c0f5b13b9eabc8", "100043a40bf4e434af0e46c3b8eb68e08e616993f70c"},
  {"fac570d66380b797a5b7543758be00e4", "1080b0a3093523fadedea38b1af8bcbde91ca8b6dbb60e"},
  {"adeccb947395801a4dd45a2eaa44bf17", "100242a0016207adceb37b605d7e0ee21b24df5c"},
  {"da3f5fa2860cb1cf86ba7a6d1d16b9dd", "100380270c1252dad26f0b8eb39162074d140df410"},
  {"aabbccdd11223344aabbccdd11223344", "100064a2033412aa4d1c7c1e0100570c5f4d938199990f1d"},
  {"ffeeddcc99887766ffeeddcc99887766", "1000f0a30f3412ff4633ad59199dc8614355ac6cb10d009c"},
};

static int counts[BLE_ADV_STATUS_COUNT];

static enum ble_adv_status run(const uint8_t *key, const uint8_t *data, size_t n) {
  struct ble_adv_device dev;
  struct ble_adv_reading r;
  enum ble_adv_status st;
  uint8_t *copy = malloc(n ? n : 1);
  CHECK_MSG(copy != NULL, "malloc");
  if (copy == NULL) return BLE_ADV_CRYPTO_ERROR;
  memcpy(copy, data, n);
  CHECK_MSG(ble_adv_device_init(&dev, key) == 0, "init");
  r.nrecords = 12345;
  st = ble_adv_device_process(&dev, copy, n, &r, NULL);
  if (st != BLE_ADV_OK) CHECK_MSG(r.nrecords == 12345, "records written on rejection");
  CHECK_MSG((unsigned)st < BLE_ADV_STATUS_COUNT && strcmp(ble_adv_status_name(st), "invalid_status") != 0,
        "status has a name");
  counts[st]++;
  ble_adv_device_fini(&dev);
  free(copy);
  return st;
}

static void test_truncation(void) {
  size_t i, len;
  for (i = 0; i < sizeof real / sizeof real[0]; i++) {
    uint8_t key[16], d[64];
    int n = tu_hex(real[i][1], d, sizeof d);
    const struct ble_layout *l = ble_adv_layout(d[4], (uint16_t)(d[2] | d[3] << 8));
    CHECK_MSG(ble_adv_parse_key(real[i][0], key) == 0 && n > 8 && l != NULL, "vector %zu", i);
    CHECK_MSG(run(key, d, (size_t)n) == BLE_ADV_OK, "vector %zu whole", i);
    for (len = 0; len < (size_t)n; len++) {
      enum ble_adv_status st = run(key, d, len);
      if (len < 8)
        CHECK_MSG(st == BLE_ADV_SHORT_HEADER, "vector %zu len %zu: %s", i, len, ble_adv_status_name(st));
      else if (len < 8u + l->min_len)
        CHECK_MSG(st == BLE_ADV_SHORT_PAYLOAD, "vector %zu len %zu: %s", i, len, ble_adv_status_name(st));
      else
        CHECK_MSG(st == BLE_ADV_OK, "vector %zu len %zu (padded synthetic): %s", i, len,
              ble_adv_status_name(st));
    }
  }
}

static void test_framing(void) {
  uint8_t key[16], d[64], ad[66];
  const uint8_t *body;
  size_t body_len;
  int n = tu_hex(real[7][1], d, sizeof d);
  CHECK_MSG(ble_adv_parse_key(real[7][0], key) == 0, "key");
  /* Company id. */
  ad[0] = 0xE1;
  ad[1] = 0x02;
  memcpy(ad + 2, d, (size_t)n);
  CHECK_MSG(ble_adv_strip_company(ad, (size_t)n + 2, &body, &body_len) == BLE_ADV_OK &&
            body_len == (size_t)n && run(key, body, body_len) == BLE_ADV_OK, "E1 02 accepted");
  ad[0] = 0x4C; /* Apple */
  ad[1] = 0x00;
  CHECK_MSG(ble_adv_strip_company(ad, (size_t)n + 2, &body, &body_len) == BLE_ADV_WRONG_COMPANY, "wrong company");
  ad[0] = 0x02; /* byte-swapped */
  ad[1] = 0xE1;
  CHECK_MSG(ble_adv_strip_company(ad, (size_t)n + 2, &body, &body_len) == BLE_ADV_WRONG_COMPANY, "swapped company");
  CHECK_MSG(ble_adv_strip_company(ad, 1, &body, &body_len) == BLE_ADV_WRONG_COMPANY, "1 byte");
  CHECK_MSG(ble_adv_strip_company(ad, 0, &body, &body_len) == BLE_ADV_WRONG_COMPANY, "0 bytes");
  /* Record prefix: anything but 0x10 (VE.Smart networking etc.). */
  {
    unsigned b;
    for (b = 0; b < 256; b++) {
      if (b == 0x10) continue;
      d[0] = (uint8_t)b;
      CHECK_MSG(run(key, d, (size_t)n) == BLE_ADV_NOT_PRODUCT_ADV, "prefix %02x", b);
    }
    d[0] = 0x10;
  }
  /* Wrong key: key check byte differs. */
  {
    uint8_t wrong[16];
    memcpy(wrong, key, 16);
    wrong[0] ^= 1;
    CHECK_MSG(run(wrong, d, (size_t)n) == BLE_ADV_KEY_MISMATCH, "wrong key");
  }
  /* Right key byte, rest of the key wrong: decodes to garbage values, which
   * is indistinguishable on the wire and must still not crash. */
  {
    uint8_t wrong[16];
    memcpy(wrong, key, 16);
    wrong[5] ^= 0xFF;
    CHECK_MSG(run(wrong, d, (size_t)n) == BLE_ADV_OK, "same first byte");
  }
  /* Unknown record types: 0x0E and 0x10..0xFF. */
  {
    unsigned t;
    uint8_t save = d[4];
    for (t = 0x0E; t < 256; t++) {
      if (t == 0x0F) continue;
      d[4] = (uint8_t)t;
      CHECK_MSG(run(key, d, (size_t)n) == BLE_ADV_UNKNOWN_RECORD, "type %02x", t);
    }
    d[4] = save;
  }
}

/* xorshift: reproducible garbage. */
static uint32_t rng_state = 0x12345678u;
static uint32_t rnd(void) {
  uint32_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return rng_state = x;
}

static void test_garbage(void) {
  uint8_t key[16] = {0};
  unsigned i;
  int ok = 0;
  for (i = 0; i < 200000; i++) {
    uint8_t buf[48];
    size_t n = rnd() % sizeof buf, j;
    enum ble_adv_status st;
    for (j = 0; j < n; j++) buf[j] = (uint8_t)rnd();
    /* Half of them look like Victron headers so the decoder is reached. */
    if (i & 1 && n > 8) {
      buf[0] = 0x10;
      buf[4] = (uint8_t)(rnd() % 0x11);
      buf[7] = key[0];
    }
    st = run(key, buf, n);
    if (st == BLE_ADV_OK) ok++;
  }
  CHECK_MSG(ok > 1000, "garbage reached the decoder %d times", ok);
}

int main(void) {
  int i;
  test_truncation();
  test_framing();
  test_garbage();
  for (i = 0; i < BLE_ADV_STATUS_COUNT; i++)
    printf("%-28s %d\n", ble_adv_status_name((enum ble_adv_status)i), counts[i]);
  VQTEST_END();
}

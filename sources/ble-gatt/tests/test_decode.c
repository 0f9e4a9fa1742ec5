/* The characteristic decoder against the values recorded on a real
 * SmartShunt (doc/protocols/ble-gatt.md §2, "Values HVO recorded"), and the
 * minimum, maximum, a negative value and not-available of every field;
 * values of the wrong length are refused; UUIDs map to the table. */
#include <errno.h>
#include <stdint.h>

#include "ble_gatt.h"
#include "vqtest.h"

static struct vq_record rec;

/* Decode hex bytes with the characteristic of `id`; 0 or the error. */
static int decode(uint16_t id, const char *hex) {
  const struct ble_gatt_char *c = ble_gatt_char_by_id(id);
  uint8_t b[8];
  size_t n = strlen(hex) / 2, i;
  if (c == NULL) return -ENOENT;
  for (i = 0; i < n && i < sizeof b; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -EIO;
    b[i] = (uint8_t)v;
  }
  return ble_gatt_decode(c, b, n, &rec);
}

#define VALUE(id, hex, want)                                                 \
  do {                                                                       \
    CHECK_INT(decode(id, hex), 0);                                           \
    CHECK_INT(rec.flags, 0);                                                 \
    CHECK_INT(rec.type, VQ_VALUE_DOUBLE);                                    \
    CHECK_DBL(rec.value.f64, want);                                          \
  } while (0)
#define NA(id, hex)                                                          \
  do {                                                                       \
    CHECK_INT(decode(id, hex), 0);                                           \
    CHECK_INT(rec.flags, VQ_RECORD_NA);                                      \
  } while (0)

static void test_real_device(void) {
  VALUE(0xED8D, "0015", 53.76);    /* voltage */
  CHECK_STR(rec.quantity, "battery.voltage");
  VALUE(0xED8C, "9d5a0000", 23.197); /* current, charging: positive */
  CHECK_STR(rec.quantity, "battery.current");
  VALUE(0xED8E, "db04", 1243);     /* power */
  VALUE(0xEEFF, "70f9ffff", -168.0); /* consumed Ah */
  VALUE(0x0FFF, "dc23", 91.80);    /* state of charge */
  CHECK(rec.value.f64 == 91.8);    /* exactly the decimal's double */
}

static void test_ranges(void) {
  /* state of charge: un16 0.01 % */
  VALUE(0x0FFF, "0000", 0);
  VALUE(0x0FFF, "1027", 100.00);
  VALUE(0x0FFF, "feff", 655.34);
  NA(0x0FFF, "ffff");
  /* voltage: sn16 0.01 V */
  VALUE(0xED8D, "0080", -327.68);
  VALUE(0xED8D, "feff", -0.02);
  VALUE(0xED8D, "fe7f", 327.66);
  NA(0xED8D, "ff7f");
  /* power: sn16 1 W, negative while discharging */
  VALUE(0xED8E, "0080", -32768);
  VALUE(0xED8E, "85ff", -123);
  VALUE(0xED8E, "fe7f", 32766);
  NA(0xED8E, "ff7f");
  /* current: sn32 0.001 A */
  VALUE(0xED8C, "00000080", -2147483.648);
  VALUE(0xED8C, "18fcffff", -1.0);
  VALUE(0xED8C, "feffff7f", 2147483.646);
  NA(0xED8C, "ffffff7f");
  /* consumed Ah: sn32 0.1 Ah */
  VALUE(0xEEFF, "00000080", -214748364.8);
  VALUE(0xEEFF, "00000000", 0);
  VALUE(0xEEFF, "feffff7f", 214748364.6);
  NA(0xEEFF, "ffffff7f");
  /* starter voltage: sn16 0.01 V */
  VALUE(0xED7D, "0080", -327.68);
  VALUE(0xED7D, "e304", 12.51);
  VALUE(0xED7D, "fe7f", 327.66);
  NA(0xED7D, "ff7f");
  /* time to go: un16 minutes; 0xFFFF (also while charging) is NA */
  VALUE(0x0FFE, "0000", 0);
  VALUE(0x0FFE, "feff", 65534);
  NA(0x0FFE, "ffff");
  /* temperature: un16 0.01 K -> °C */
  VALUE(0xEDEC, "0000", -273.15);
  VALUE(0xEDEC, "b572", 20.50); /* 29365 = 293.65 K */
  VALUE(0xEDEC, "feff", 382.19);
  NA(0xEDEC, "ffff");
  /* mid-point voltage: un16 0.01 V */
  VALUE(0x0382, "0000", 0);
  VALUE(0x0382, "7209", 24.18);
  VALUE(0x0382, "feff", 655.34);
  NA(0x0382, "ffff");
  /* mid-point deviation: sn16 0.1 % */
  VALUE(0x0383, "0080", -3276.8);
  VALUE(0x0383, "fbff", -0.5);
  VALUE(0x0383, "fe7f", 3276.6);
  NA(0x0383, "ff7f");
}

static void test_wrong_length(void) {
  rec.quantity = "untouched";
  CHECK_INT(decode(0xED8D, "00"), -EINVAL);
  CHECK_INT(decode(0xED8D, "001500"), -EINVAL);
  CHECK_INT(decode(0xED8C, "9d5a"), -EINVAL);
  CHECK_INT(decode(0xED8C, "9d5a000000"), -EINVAL);
  CHECK_INT(decode(0x0FFF, ""), -EINVAL);
  CHECK_STR(rec.quantity, "untouched"); /* nothing written */
}

static void test_uuids(void) {
  size_t n, i;
  const struct ble_gatt_char *t = ble_gatt_chars(&n);
  uint16_t id = 0;
  char uuid[37];
  CHECK_INT(n, 10);
  for (i = 0; i < n; i++) {
    ble_gatt_uuid(t[i].id, uuid);
    CHECK_INT(ble_gatt_uuid_id(uuid, &id), 0);
    CHECK_INT(id, t[i].id);
    CHECK(ble_gatt_char_by_id(id) == &t[i]);
    CHECK(t[i].width == 2 || t[i].width == 4);
  }
  ble_gatt_uuid(0xED8D, uuid);
  CHECK_STR(uuid, "6597ed8d-4bda-4c1e-af4b-551c4cf74769");
  CHECK_INT(ble_gatt_uuid_id("6597ED8C-4BDA-4C1E-AF4B-551C4CF74769", &id), 0);
  CHECK_INT(id, 0xED8C);
  CHECK_INT(ble_gatt_uuid_id(BLE_GATT_SERVICE_UUID, &id), 0);
  CHECK_INT(id, 0x0000);
  CHECK(ble_gatt_char_by_id(0x0000) == NULL);
  CHECK(ble_gatt_char_by_id(BLE_GATT_KEEPALIVE_ID) == NULL);
  CHECK_INT(ble_gatt_uuid_id("97580001-ddf1-48be-b73e-182664615d8e", &id), -1);
  CHECK_INT(ble_gatt_uuid_id("6597ed8d-4bda-4c1e-af4b-551c4cf7476", &id), -1);
  CHECK_INT(ble_gatt_uuid_id("6597ezzz-4bda-4c1e-af4b-551c4cf74769", &id), -1);
  CHECK_INT(ble_gatt_uuid_id(NULL, &id), -1);
}

static void test_keepalive(void) {
  uint8_t b[2] = {0, 0};
  CHECK_INT(ble_gatt_keepalive(20, b), 0); /* the value HVO wrote: 20 4e */
  CHECK_INT(b[0], 0x20);
  CHECK_INT(b[1], 0x4e);
  CHECK_INT(ble_gatt_keepalive(65, b), 0);
  CHECK_INT(b[0] | b[1] << 8, 65000);
  CHECK_INT(ble_gatt_keepalive(1, b), 0);
  CHECK_INT(b[0] | b[1] << 8, 1000);
  CHECK_INT(ble_gatt_keepalive(0, b), -EINVAL);
  CHECK_INT(ble_gatt_keepalive(66, b), -EINVAL);
}

int main(void) {
  test_real_device();
  test_ranges();
  test_wrong_length();
  test_uuids();
  test_keepalive();
  VQTEST_END();
}

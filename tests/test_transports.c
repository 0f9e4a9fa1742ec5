/* The same device type read over Bluetooth (ble-adv) and over VE.Direct
 * gives the same quantities, units, labels and product names
 * (doc/victron.md).  BLE readings come from tests/data/ble-adv/vectors.json,
 * VE.Direct ones from the captures in tests/data/vedirect.  One test per
 * enum or bitmask both transports carry. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble_adv.h"
#include "ble_capture.h"
#include "vedirect_fields.h"
#include "vedirect_text.h"
#include "victron.h"
#include "vocabulary.h"
#include "vqtest.h"

static char *slurp(const char *dir, const char *name, size_t *len) {
  char path[4096];
  FILE *f;
  char *buf = NULL;
  long n;
  snprintf(path, sizeof path, "%s/tests/data/%s/%s",
           getenv("top_srcdir") ? getenv("top_srcdir") : "..", dir, name);
  f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
    } else {
      buf[n] = '\0';
      if (len) *len = (size_t)n;
    }
  }
  fclose(f);
  return buf;
}

/* The string value of `"field": "..."` after `from`, into out.  0 or -1. */
static int json_string(const char *from, const char *field, char *out,
                       size_t outsz) {
  char key[64];
  const char *p;
  size_t n;
  snprintf(key, sizeof key, "\"%s\": \"", field);
  p = strstr(from, key);
  if (p == NULL) return -1;
  p += strlen(key);
  n = strcspn(p, "\"");
  if (n >= outsz) return -1;
  memcpy(out, p, n);
  out[n] = '\0';
  return 0;
}

/* Decrypt and decode BLE vector `id`.  0 or -1. */
static int ble_reading(const char *id, struct ble_adv_reading *out) {
  static char *json;
  char want[96], hex[160], line[256];
  const char *at;
  uint8_t key[16];
  struct ble_capture_line adv;
  struct ble_adv_device dev;
  enum ble_adv_status st;
  if (json == NULL) json = slurp("ble-adv", "vectors.json", NULL);
  if (json == NULL) return -1;
  snprintf(want, sizeof want, "\"id\": \"%s\"", id);
  at = strstr(json, want);
  if (at == NULL || json_string(at, "key", hex, sizeof hex) != 0 ||
      ble_adv_parse_key(hex, key) != 0 ||
      json_string(at, "data", hex, sizeof hex) != 0)
    return -1;
  /* The vector's data is manufacturer data after the company id, as a
   * capture line holds it: let the capture parser read the hex. */
  snprintf(line, sizeof line, "0 00:00:00:00:00:00 - %s", hex);
  if (ble_capture_parse_line(line, &adv) != 0 ||
      ble_adv_device_init(&dev, key) != 0)
    return -1;
  st = ble_adv_device_process(&dev, adv.data, adv.len, out, NULL);
  ble_adv_device_fini(&dev);
  return st == BLE_ADV_OK ? 0 : -1;
}

/* The first valid VE.Direct block of `file` that has a PID (the main
 * block), decoded.  The decoded records point into `fields`. */
struct ved_capture {
  struct ved_field fields[VED_FIELDS_MAX];
  size_t nfields;
  int found;
};

static void on_block(void *arg, const struct ved_field *fields, size_t n) {
  struct ved_capture *c = arg;
  size_t i;
  if (c->found) return;
  for (i = 0; i < n; i++)
    if (strcmp(fields[i].label, "PID") == 0) break;
  if (i == n) return;
  memcpy(c->fields, fields, n * sizeof *fields);
  c->nfields = n;
  c->found = 1;
}

static void on_hex(void *arg, const char *line, size_t len) {
  (void)arg, (void)line, (void)len;
}

static int ved_reading(const char *file, struct ved_capture *c,
                       struct ved_block *out) {
  size_t len;
  char *buf = slurp("vedirect", file, &len);
  struct ved_text p;
  if (buf == NULL) return -1;
  memset(c, 0, sizeof *c);
  ved_text_init(&p, on_block, on_hex, c);
  /* Twice: a capture that starts mid-block has its first block whole the
   * second time round. */
  ved_text_feed(&p, (const uint8_t *)buf, len);
  ved_text_feed(&p, (const uint8_t *)buf, len);
  free(buf);
  if (!c->found) return -1;
  memset(out, 0, sizeof *out);
  ved_block_decode(c->fields, c->nfields, out);
  return 0;
}

static const struct vq_record *ble_find(const struct ble_adv_reading *r,
                                        const char *q) {
  uint32_t i;
  for (i = 0; i < r->nrecords; i++)
    if (strcmp(r->records[i].quantity, q) == 0) return &r->records[i];
  return NULL;
}

static const struct vq_record *ved_find(const struct ved_block *b,
                                        const char *q) {
  size_t i;
  for (i = 0; i < b->nrecords; i++)
    if (strcmp(b->records[i].quantity, q) == 0) return &b->records[i];
  return NULL;
}

/* The text the vocabulary's label set gives `code` of quantity q: what
 * every transport must send. */
static void expected_text(const struct vq_quantity_info *info, int64_t code,
                          char *out, size_t outsz) {
  const struct vic_label_set *set = vic_label_set_find(info->label_set);
  char buf[VIC_CODE_TEXT_MAX];
  if (set == NULL) {
    snprintf(out, outsz, "(no label set %s)", info->label_set);
  } else if (info->type == VQ_VALUE_ENUM) {
    snprintf(out, outsz, "%s", vic_enum_text(set, code, buf, sizeof buf));
  } else {
    vic_bits_text(set, (uint64_t)code, 64, out, outsz);
  }
}

/* Quantity q over both transports: one type, the vocabulary's unit (the
 * producers leave it to the host), the vocabulary's labels, and the same
 * text for the same code. */
static void same_meaning(const char *what, const char *q,
                         const struct vq_record *ble,
                         const struct vq_record *ved) {
  const struct vq_quantity_info *info = vq_vocabulary_find(q);
  char want[512];
  CHECK(info != NULL);
  if (ble == NULL || ved == NULL || info == NULL) {
    fprintf(stderr, "%s: %s missing (ble %p, vedirect %p)\n", what, q,
            (const void *)ble, (const void *)ved);
    CHECK(0);
    return;
  }
  CHECK_INT(ble->type, info->type);
  CHECK_INT(ved->type, info->type);
  CHECK(ble->unit == NULL && ved->unit == NULL);
  CHECK(!(ble->flags & VQ_RECORD_NA) && !(ved->flags & VQ_RECORD_NA));
  if (info->type != VQ_VALUE_ENUM && info->type != VQ_VALUE_BITMASK) return;
  expected_text(info, ble->value.i64, want, sizeof want);
  CHECK_STR(ble->text, want);
  expected_text(info, ved->value.i64, want, sizeof want);
  CHECK_STR(ved->text, want);
  if (ble->value.i64 == ved->value.i64) CHECK_STR(ble->text, ved->text);
  fprintf(stderr, "%s: %s ble %lld '%s', vedirect %lld '%s'\n", what, q,
          (long long)ble->value.i64, ble->text ? ble->text : "(null)",
          (long long)ved->value.i64, ved->text ? ved->text : "(null)");
}

static void same_product(const struct ble_adv_reading *ble,
                         const struct ved_block *ved) {
  CHECK_INT(ble->model_id, ved->pid);
  CHECK(ble->product != NULL);
  CHECK_STR(ble->product, vic_product_name((unsigned)ved->pid));
}

/* device.state and device.error: a BlueSolar MPPT 75|15 in bulk. */
static void test_mppt_state(void) {
  static struct ble_adv_reading ble;
  static struct ved_capture cap;
  static struct ved_block ved;
  CHECK_INT(ble_reading("kdv-old-solar-bulk", &ble), 0);
  CHECK_INT(ved_reading("bluesolar-mppt-75-15_fw1.23.dump", &cap, &ved), 0);
  same_product(&ble, &ved);
  CHECK_STR(ble.product, "BlueSolar MPPT 75|15");
  same_meaning("mppt", "device.state", ble_find(&ble, "device.state"),
               ved_find(&ved, "device.state"));
  CHECK_STR(ved_find(&ved, "device.state")->text, "bulk");
  same_meaning("mppt", "device.error", ble_find(&ble, "device.error"),
               ved_find(&ved, "device.error"));
  CHECK_STR(ved_find(&ved, "device.error")->text, "no_error");
  same_meaning("mppt", "battery.voltage", ble_find(&ble, "battery.voltage"),
               ved_find(&ved, "battery.voltage"));
}

/* device.state and device.error of Blue Smart IP22 chargers (a 12/30 on
 * BLE, a 24/8 on VE.Direct). */
static void test_charger_state(void) {
  static struct ble_adv_reading ble;
  static struct ved_capture cap;
  static struct ved_block ved;
  CHECK_INT(ble_reading("kdv-ac-e2e", &ble), 0);
  CHECK_INT(ved_reading("blue-smart-ip22-24-8_fw3.42.dump", &cap, &ved), 0);
  CHECK_STR(ble.product, "Blue Smart IP22 Charger 12/30 (1)");
  CHECK_STR(vic_product_name((unsigned)ved.pid),
            "Blue Smart IP22 Charger 24/8 (1)");
  same_meaning("charger", "device.state", ble_find(&ble, "device.state"),
               ved_find(&ved, "device.state"));
  same_meaning("charger", "device.error", ble_find(&ble, "device.error"),
               ved_find(&ved, "device.error"));
  same_meaning("charger", "battery.current", ble_find(&ble, "battery.current"),
               ved_find(&ved, "battery.current"));
}

/* device.alarm_reason of a SmartShunt with no alarm: "none" on both (it
 * was "" before). */
static void test_shunt_alarm_reason(void) {
  static struct ble_adv_reading ble;
  static struct ved_capture cap;
  static struct ved_block ved;
  CHECK_INT(ble_reading("kdv-bm-e2e", &ble), 0);
  CHECK_INT(ved_reading("smartshunt-500a-50mv_fw4.05_read1.dump", &cap, &ved),
            0);
  same_product(&ble, &ved);
  CHECK_STR(ble.product, "SmartShunt 500A/50mV");
  same_meaning("shunt", "device.alarm_reason",
               ble_find(&ble, "device.alarm_reason"),
               ved_find(&ved, "device.alarm_reason"));
  CHECK_STR(ved_find(&ved, "device.alarm_reason")->text, "none");
  same_meaning("shunt", "battery.soc", ble_find(&ble, "battery.soc"),
               ved_find(&ved, "battery.soc"));
  same_meaning("shunt", "battery.consumed_ah",
               ble_find(&ble, "battery.consumed_ah"),
               ved_find(&ved, "battery.consumed_ah"));
}

/* monitor.mode of a SmartShunt (DC energy meter record; MON field). */
static void test_shunt_monitor_mode(void) {
  static struct ble_adv_reading ble;
  static struct ved_capture cap;
  static struct ved_block ved;
  CHECK_INT(ble_reading("kdv-dcem-e2e", &ble), 0);
  CHECK_INT(ved_reading("smartshunt-500a-50mv_fw4.14_read4.dump", &cap, &ved),
            0);
  same_product(&ble, &ved);
  same_meaning("shunt", "monitor.mode", ble_find(&ble, "monitor.mode"),
               ved_find(&ved, "monitor.mode"));
  CHECK_STR(ved_find(&ved, "monitor.mode")->text, "battery_monitor");
}

/* device.off_reason: an Orion Smart over BLE, a SmartSolar over VE.Direct
 * (the captures that carry one). */
static void test_off_reason(void) {
  static struct ble_adv_reading ble;
  static struct ved_capture cap;
  static struct ved_block ved;
  CHECK_INT(ble_reading("kdv-dcdc-e2e", &ble), 0);
  CHECK_INT(ved_reading("smartsolar-mppt-75-15_fw1.56.dump", &cap, &ved), 0);
  same_meaning("off reason", "device.off_reason",
               ble_find(&ble, "device.off_reason"),
               ved_find(&ved, "device.off_reason"));
  CHECK_STR(ved_find(&ved, "device.off_reason")->text, "no_input_power");
  same_meaning("off reason", "device.state", ble_find(&ble, "device.state"),
               ved_find(&ved, "device.state"));
}

int main(void) {
  test_mppt_state();
  test_charger_state();
  test_shunt_alarm_reason();
  test_shunt_monitor_mode();
  test_off_reason();
  VQTEST_END();
}

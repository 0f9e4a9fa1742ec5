/* lib/victron: every label set is well formed and complete (each code the
 * protocol documents list has a label), the fallbacks are the documented
 * ones and never empty, and the product table is products.csv. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "victron.h"
#include "vqtest.h"

/* The codes doc/protocols/ble-adv.md §6 and doc/protocols/vedirect.md §2.6 list
 * (bit numbers for bitmasks, field indexes for pairs).  A code missing from a
 * set fails the test. */
struct expected {
  const struct vic_label_set *set;
  const int64_t *codes;
  size_t n;
};

#define E(set, ...)                                              \
  {                                                              \
    &set, (const int64_t[]){__VA_ARGS__},                        \
        sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t) \
  }

static const struct expected expected[] = {
    E(vic_device_state, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 244, 245, 246,
      247, 248, 249, 250, 251, 252),
    E(vic_charger_error, 0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 14, 17, 18, 19, 20, 21,
      22, 23, 24, 26, 27, 28, 29, 33, 34, 35, 38, 39, 40, 41, 42, 43, 50, 51,
      52, 53, 54, 55, 56, 57, 58, 65, 66, 67, 68, 69, 70, 71, 80, 81, 82, 83,
      84, 85, 86, 87, 114, 116, 117, 119, 121, 200, 201, 202, 203, 205, 212,
      215),
    E(vic_vebus_error, 0, 1, 2, 3, 4, 5, 6, 7, 10, 14, 16, 17, 18, 22, 24, 25,
      26),
    E(vic_off_reason, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    E(vic_alarm_reason, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14),
    E(vic_alarm_level, 0, 1, 2),
    E(vic_aux_input, 0, 1, 2),
    E(vic_ac_input, 0, 1, 2),
    E(vic_balancer_status, 0, 1, 2, 3),
    E(vic_bms_flags, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
      17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29),
    E(vic_output_state, 0, 1, 2, 3),
    E(vic_bms_io, 0, 1, 2, 3, 4, 5, 6),
    E(vic_bms_warnings_alarms, 0, 1, 2, 3, 4, 5, 6, 7, 8),
    E(vic_monitor_mode, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6,
      7, 8),
    E(vic_tracker_mode, 0, 1, 2),
    E(vic_device_mode, 1, 2, 3, 4, 5, 253),
    E(vic_ble_capabilities, 0, 1),
};

static int snake_case(const char *s) {
  if (*s < 'a' || *s > 'z') return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
      return 0;
  return 1;
}

static void check_sets(void) {
  size_t i, j, nsets = 0;
  for (i = 0; vic_label_sets[i] != NULL; i++) {
    const struct vic_label_set *s = vic_label_sets[i];
    nsets++;
    CHECK(snake_case(s->name));
    CHECK(vic_label_set_find(s->name) == s);
    CHECK(s->nlabels > 0);
    CHECK((s->kind == VIC_PAIRS) == (s->pair_states != NULL));
    for (j = 0; j < s->nlabels; j++) {
      if (!snake_case(s->labels[j].label)) {
        fprintf(stderr, "%s: label '%s' is not snake_case\n", s->name,
                s->labels[j].label);
        CHECK(0);
      }
      CHECK(strlen(s->labels[j].label) <= 48);
      if (j > 0) CHECK(s->labels[j - 1].code < s->labels[j].code);
      if (s->kind != VIC_ENUM)
        CHECK(s->labels[j].code >= 0 && s->labels[j].code < 32);
      /* A label never looks like a fallback. */
      CHECK(strncmp(s->labels[j].label, "unknown_", 8) != 0);
      CHECK(strncmp(s->labels[j].label, "bit_", 4) != 0);
      CHECK(strcmp(s->labels[j].label, "none") != 0);
    }
  }
  CHECK_INT(nsets, sizeof expected / sizeof expected[0]);
  CHECK(vic_label_set_find("no_such_set") == NULL);
  for (i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    const struct expected *e = &expected[i];
    CHECK_INT(e->set->nlabels, e->n); /* nothing beyond the documents */
    for (j = 0; j < e->n; j++) {
      if (vic_label(e->set, e->codes[j]) == NULL) {
        fprintf(stderr, "%s: code %lld has no label\n", e->set->name,
                (long long)e->codes[j]);
        CHECK(0);
      }
    }
  }
}

static void check_text(void) {
  char buf[VIC_CODE_TEXT_MAX], out[256];
  /* Enums: the label, else unknown_<code>. */
  CHECK_STR(vic_enum_text(&vic_device_state, 5, buf, sizeof buf), "float");
  CHECK_STR(vic_enum_text(&vic_device_state, 249, buf, sizeof buf), "active");
  CHECK_STR(vic_enum_text(&vic_device_state, 13, buf, sizeof buf),
            "unknown_13");
  CHECK_STR(vic_enum_text(&vic_monitor_mode, -10, buf, sizeof buf),
            "unknown_-10");
  CHECK_STR(vic_enum_text(&vic_monitor_mode, -9, buf, sizeof buf),
            "solar_charger");
  CHECK_STR(vic_enum_text(&vic_charger_error, 0, buf, sizeof buf), "no_error");
  CHECK_STR(vic_enum_text(&vic_vebus_error, 0, buf, sizeof buf), "no_error");
  CHECK_STR(vic_enum_text(&vic_vebus_error, 1, buf, sizeof buf),
            "other_phase_switched_off");
  CHECK_STR(vic_enum_text(&vic_vebus_error, INT64_MIN, buf, sizeof buf),
            "unknown_-9223372036854775808");
  /* Bitmasks: set bits in order, bit_<n> for unnamed ones, none. */
  CHECK_INT(vic_bits_text(&vic_alarm_reason, 0, 16, out, sizeof out), 0);
  CHECK_STR(out, "none");
  CHECK_INT(vic_bits_text(&vic_alarm_reason, 0x8003, 16, out, sizeof out), 0);
  CHECK_STR(out, "low_voltage,high_voltage,bit_15");
  CHECK_INT(vic_bits_text(&vic_off_reason, 0x80000081u, 32, out, sizeof out),
            0);
  CHECK_STR(out, "no_input_power,engine_shutdown,bit_31");
  /* Bits beyond the field's width are not the field's. */
  CHECK_INT(vic_bits_text(&vic_alarm_reason, 0x10000, 16, out, sizeof out), 0);
  CHECK_STR(out, "none");
  /* Pairs: field=state for named states; all not-available: none. */
  CHECK_INT(vic_bits_text(&vic_bms_io, 0x1595, 16, out, sizeof out), 0);
  CHECK_STR(out,
            "contactor_closed=yes,allowed_to_charge=yes,"
            "allowed_to_discharge=yes,user_relay=no,aux_output=yes,"
            "remote_enabled=yes,alternator_allowed_to_charge=yes");
  CHECK_INT(vic_bits_text(&vic_bms_io, 0, 16, out, sizeof out), 0);
  CHECK_STR(out, "none");
  CHECK_INT(
      vic_bits_text(&vic_bms_warnings_alarms, 0x3u << 16, 18, out, sizeof out),
      0);
  CHECK_STR(out, "field_9=alarm");
  /* Too small: whole labels only, still terminated. */
  CHECK_INT(vic_bits_text(&vic_alarm_reason, 0x3, 16, out, 14), -ENOSPC);
  CHECK_STR(out, "low_voltage");
  CHECK_INT(vic_bits_text(&vic_alarm_reason, 0, 16, out, 3), -ENOSPC);
  CHECK_STR(out, "");
}

/* One CSV field (RFC 4180 quoting) from *p into out; advances *p past the
 * separator.  Returns the separator seen (',' '\n' or '\0'). */
static int csv_field(const char **p, char *out, size_t outsz) {
  const char *s = *p;
  size_t n = 0;
  int quoted = *s == '"';
  if (quoted) s++;
  for (;;) {
    char c = *s;
    if (c == '\0') break;
    if (quoted && c == '"') {
      if (s[1] == '"') {
        s++;
      } else {
        quoted = 0;
        s++;
        continue;
      }
    } else if (!quoted && (c == ',' || c == '\n')) {
      break;
    }
    if (n + 1 < outsz) out[n++] = c;
    s++;
  }
  out[n] = '\0';
  *p = *s ? s + 1 : s;
  return *s;
}

static void check_products(void) {
  char path[4096], *csv;
  const char *p;
  long len;
  size_t n, rows = 0, i;
  const struct vic_product *all = vic_product_all(&n);
  FILE *f;
  snprintf(path, sizeof path, "%s/lib/victron/products.csv",
           getenv("top_srcdir") ? getenv("top_srcdir") : "../..");
  f = fopen(path, "rb");
  CHECK(f != NULL);
  if (f == NULL) return;
  fseek(f, 0, SEEK_END);
  len = ftell(f);
  rewind(f);
  csv = malloc((size_t)len + 1);
  CHECK(csv != NULL && fread(csv, 1, (size_t)len, f) == (size_t)len);
  fclose(f);
  if (csv == NULL) return;
  csv[len] = '\0';
  p = strchr(csv, '\n');
  CHECK(strncmp(csv, "id,name,source,note\n", 20) == 0);
  p = p ? p + 1 : csv + len;
  while (*p) {
    char id[16], name[128], source[64], note[512];
    unsigned pid;
    csv_field(&p, id, sizeof id);
    csv_field(&p, name, sizeof name);
    csv_field(&p, source, sizeof source);
    csv_field(&p, note, sizeof note);
    CHECK(sscanf(id, "0x%x", &pid) == 1);
    CHECK(source[0] != '\0');
    if (rows < n) {
      CHECK_INT(all[rows].id, pid);
      CHECK_STR(all[rows].name, name);
    }
    CHECK_STR(vic_product_name(pid), name);
    rows++;
  }
  CHECK_INT(rows, n);
  for (i = 1; i < n; i++) CHECK(all[i - 1].id < all[i].id);
  /* The merged table: 767 ids from vecan-dbus, 177 from the VE.Direct
   * documents, 174 in both. */
  CHECK_INT(n, 770);
  /* Conflicts resolved once (products.csv notes say why). */
  CHECK_STR(vic_product_name(0xA05E), "SmartSolar MPPT 250|45");
  CHECK_STR(vic_product_name(0xA281), "Phoenix Inverter 12V 1600VA 230V");
  CHECK_STR(vic_product_name(0xA291), "Phoenix Inverter 12V 2000VA 230V");
  CHECK_STR(vic_product_name(0xA389), "SmartShunt 500A/50mV");
  CHECK_STR(vic_product_name(0xC000), "VGR, VGR2 or VER");
  CHECK(vic_product_name(0xFFFF) == NULL);
  free(csv);
}

/* The rule of doc/victron.md "Products": every id the VE.Direct
 * documents list (tests/data/vedirect/pid-table.csv, a copy of their PID
 * tables with the source of each row) has the documents' name. */
static void check_documented_names(void) {
  char path[4096], line[1024];
  size_t rows = 0;
  FILE *f;
  snprintf(path, sizeof path, "%s/tests/data/vedirect/pid-table.csv",
           getenv("top_srcdir") ? getenv("top_srcdir") : "../..");
  f = fopen(path, "rb");
  CHECK(f != NULL);
  if (f == NULL) return;
  CHECK(fgets(line, sizeof line, f) != NULL); /* header */
  while (fgets(line, sizeof line, f) != NULL) {
    char id[16], name[128], source[256];
    const char *p = line;
    unsigned pid;
    csv_field(&p, id, sizeof id);
    csv_field(&p, name, sizeof name);
    csv_field(&p, source, sizeof source);
    if (sscanf(id, "0x%x", &pid) != 1) continue;
    if (strstr(source, "VE.Direct") == NULL && strstr(source, "VEDirect") == NULL)
      continue; /* a third-party row: not the rule's */
    CHECK_STR(vic_product_name(pid), name);
    rows++;
  }
  fclose(f);
  CHECK_INT(rows, 171);
}

/* The product_id text every transport tags, and the model id of BLE
 * manufacturer data (a real SmartShunt header, tests of ble-adv and
 * ble-gatt use the same bytes). */
static void check_ids(void) {
  static const uint8_t shunt[] = {0x10, 0x02, 0x89, 0xa3, 0x02, 0xb0, 0x40, 0xaf, 0x92};
  static const uint8_t other_kind[] = {0x11, 0x02, 0x89, 0xa3, 0x02, 0xb0, 0x40, 0xaf};
  char buf[VIC_PRODUCT_ID_TEXT_SIZE];
  CHECK_STR(vic_product_id_text(0xA389, buf), "0xA389");
  CHECK_STR(vic_product_id_text(0x0000, buf), "0x0000");
  CHECK_STR(vic_product_id_text(0xFFFF, buf), "0xFFFF");
  CHECK_STR(vic_product_id_text(0x0203, buf), "0x0203");
  CHECK_INT(vic_ble_model_id(shunt, sizeof shunt), 0xA389);
  CHECK_INT(vic_ble_model_id(shunt, VIC_BLE_HEADER_LEN), 0xA389);
  CHECK_INT(vic_ble_model_id(shunt, VIC_BLE_HEADER_LEN - 1), -1);
  CHECK_INT(vic_ble_model_id(other_kind, sizeof other_kind), -1);
  CHECK_STR(vic_product_name((unsigned)vic_ble_model_id(shunt, sizeof shunt)),
            "SmartShunt 500A/50mV");
}

int main(void) {
  check_ids();
  check_sets();
  check_text();
  check_products();
  check_documented_names();
  VQTEST_END();
}

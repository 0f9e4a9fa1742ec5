/* The vocabulary table is sorted and unique, every unit is one Home
 * Assistant accepts for the row's device class (doc/protocols/sinks.md §1.5; HA rejects
 * the entity otherwise), state classes fit, and doc/quantities.md is the
 * table's current rendering. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "vocabulary.h"
#include "vqtest.h"

struct accepted {
  const char *device_class;
  const char *units; /* '|'-separated; "" means no unit */
  int measurement_only;
};

static const struct accepted classes[] = {
    {"voltage", "V|mV|kV", 1},
    {"current", "A|mA", 1},
    {"power", "W|kW|mW", 1},
    {"apparent_power", "VA", 1},
    {"energy", "Wh|kWh|MWh", 0},
    {"battery", "%", 1},
    {"temperature", "°C|°F|K", 1},
    {"duration", "d|h|min|s|ms", 0},
    {"signal_strength", "dB|dBm", 1},
    {"enum", "", 0},
    {"connectivity", "", 0}, /* binary sensor class */
    {"power", "", 0},        /* binary sensor class for on/off */
    {"problem", "", 0},      /* binary sensor class for an alarm */
};

static int unit_ok(const struct vq_quantity_info *q) {
  size_t i;
  for (i = 0; i < sizeof classes / sizeof classes[0]; i++) {
    const char *u = classes[i].units, *bar;
    if (strcmp(classes[i].device_class, q->ha_device_class) != 0) continue;
    for (;;) {
      size_t n;
      bar = strchr(u, '|');
      n = bar ? (size_t)(bar - u) : strlen(u);
      if (strlen(q->unit) == n && strncmp(u, q->unit, n) == 0) {
        if (strcmp(q->ha_device_class, "energy") == 0)
          return q->ha_state_class && strncmp(q->ha_state_class, "total", 5) == 0;
        if (classes[i].measurement_only)
          return q->ha_state_class && strcmp(q->ha_state_class, "measurement") == 0;
        if (strcmp(q->ha_device_class, "enum") == 0) return q->ha_state_class == NULL;
        return 1;
      }
      if (bar == NULL) break;
      u = bar + 1;
    }
  }
  return 0;
}

/* The layout of a 1.1 vq_quantity_info: no short name, no labels. */
struct info_v11 {
  uint32_t size, type;
  const char *name, *unit, *description, *ha_device_class, *ha_state_class;
  int diagnostic;
};

/* ABI 1.2 plugin-declared quantities: merged, refused on a clash with the
 * core or another plugin (naming both), all or nothing, any entry size. */
static void test_declared(void) {
  static const struct vq_label labels[] = {{0, "idle"}, {2, "busy"}};
  static const struct vq_quantity_info a[] = {
      {.size = sizeof(struct vq_quantity_info), .type = VQ_VALUE_DOUBLE,
       .name = "a.one", .unit = "Hz", .description = "one",
       .short_name = "One"},
      {.size = sizeof(struct vq_quantity_info), .type = VQ_VALUE_ENUM,
       .name = "a.mode", .unit = NULL, .description = "mode",
       .label_set = "a_mode", .labels = labels, .nlabels = 2},
      {.name = NULL}};
  static const struct vq_quantity_info b[] = {
      {.size = sizeof(struct vq_quantity_info), .type = VQ_VALUE_INT,
       .name = "b.ok", .unit = "", .description = "fine"},
      {.size = sizeof(struct vq_quantity_info), .type = VQ_VALUE_INT,
       .name = "a.one", .unit = "", .description = "clash"},
      {.name = NULL}};
  static const struct vq_quantity_info core[] = {
      {.size = sizeof(struct vq_quantity_info), .type = VQ_VALUE_DOUBLE,
       .name = "battery.voltage", .unit = "V", .description = "clash"},
      {.name = NULL}};
  static const struct vq_quantity_info twice[] = {
      {.size = sizeof(struct vq_quantity_info), .type = VQ_VALUE_INT,
       .name = "d.x", .unit = "", .description = "x"},
      {.size = sizeof(struct vq_quantity_info), .type = VQ_VALUE_INT,
       .name = "d.x", .unit = "", .description = "x again"},
      {.name = NULL}};
  static const struct vq_quantity_info bad[] = {
      {.size = sizeof(struct vq_quantity_info), .type = VQ_VALUE_INT,
       .name = "Bad Name", .unit = "", .description = "x"},
      {.name = NULL}};
  static const struct vq_quantity_info badtype[] = {
      {.size = sizeof(struct vq_quantity_info), .type = 99,
       .name = "e.x", .unit = "", .description = "x"},
      {.name = NULL}};
  static const struct info_v11 old[] = {
      {sizeof(struct info_v11), VQ_VALUE_DOUBLE, "old.power", "W", "power",
       "power", "measurement", 0},
      {sizeof(struct info_v11), VQ_VALUE_BOOL, "old.on", "", "on", NULL,
       NULL, 1},
      {0, 0, NULL, NULL, NULL, NULL, NULL, 0}};
  char err[512], *md = NULL;
  size_t mdlen = 0;
  const struct vq_quantity_info *q;
  const char *owner = NULL;
  FILE *f;

  CHECK_INT(vq_vocabulary_declare("a", a, err, sizeof err), 0);
  q = vq_vocabulary_find("a.one");
  CHECK(q != NULL && strcmp(q->unit, "Hz") == 0);
  q = vq_vocabulary_find("a.mode");
  CHECK(q != NULL && q->nlabels == 2 && strcmp(q->labels[1].label, "busy") == 0);
  CHECK(q != NULL && strcmp(q->unit, "") == 0); /* NULL unit: unitless */
  CHECK(vq_vocabulary_declared(0, &owner) == vq_vocabulary_find("a.one"));
  CHECK_STR(owner, "a");
  CHECK(vq_vocabulary_declared(2, NULL) == NULL);

  CHECK_INT(vq_vocabulary_declare("b", b, err, sizeof err), -EEXIST);
  CHECK_STR(err, "plugin 'b' declares quantity 'a.one', which plugin 'a' "
                 "already declares: rename one of them");
  CHECK(vq_vocabulary_find("b.ok") == NULL); /* all or nothing */
  CHECK_INT(vq_vocabulary_declare("c", core, err, sizeof err), -EEXIST);
  CHECK(strstr(err, "plugin 'c' declares quantity 'battery.voltage', which "
                    "the core vocabulary already has") != NULL);
  CHECK_STR(vq_vocabulary_find("battery.voltage")->description, "Battery voltage");
  CHECK_INT(vq_vocabulary_declare("d", twice, err, sizeof err), -EEXIST);
  CHECK_STR(err, "plugin 'd' declares quantity 'd.x' twice");
  CHECK(vq_vocabulary_find("d.x") == NULL);
  CHECK_INT(vq_vocabulary_declare("e", bad, err, sizeof err), -EINVAL);
  CHECK(strstr(err, "'Bad Name'") != NULL);
  CHECK_INT(vq_vocabulary_declare("e", badtype, err, sizeof err), -EINVAL);
  CHECK_INT(vq_vocabulary_declare("e", NULL, err, sizeof err), 0);

  /* A 1.1-sized table: read with its own stride, the 1.2 fields zero. */
  CHECK_INT(vq_vocabulary_declare("old", (const struct vq_quantity_info *)(const void *)old,
                                  err, sizeof err), 0);
  q = vq_vocabulary_find("old.on");
  CHECK(q != NULL && q->type == VQ_VALUE_BOOL && q->diagnostic == 1 &&
        q->size == sizeof(struct vq_quantity_info) && q->short_name == NULL &&
        q->labels == NULL);
  CHECK_STR(vq_vocabulary_find("old.power")->ha_state_class, "measurement");

  f = open_memstream(&md, &mdlen);
  vq_vocabulary_markdown(f);
  fclose(f);
  CHECK(strstr(md, "\n## Declared by plugin a\n") != NULL);
  CHECK(strstr(md, "| a.one | Hz | number |  |  |  | One | one |\n") != NULL);
  CHECK(strstr(md, "| a_mode | enum | 0 idle, 2 busy |\n") != NULL);
  CHECK(strstr(md, "\n## Declared by plugin old\n") != NULL);
  free(md);

  vq_vocabulary_forget_declared();
  CHECK(vq_vocabulary_find("a.one") == NULL);
  CHECK(vq_vocabulary_find("old.on") == NULL);
  CHECK(vq_vocabulary_find("battery.voltage") != NULL);
}

int main(void) {
  size_t n, i;
  const struct vq_quantity_info *all = vq_vocabulary_all(&n);
  char path[4096], *expected = NULL, *actual = NULL;
  size_t elen = 0, alen = 0;
  FILE *f;

  CHECK(n > 40);
  for (i = 0; i < n; i++) {
    CHECK_INT(all[i].size, sizeof(struct vq_quantity_info));
    if (i > 0 && strcmp(all[i - 1].name, all[i].name) >= 0) {
      fprintf(stderr, "not sorted/unique: %s then %s\n", all[i - 1].name,
              all[i].name);
      CHECK(0);
    }
    CHECK(vq_vocabulary_find(all[i].name) == &all[i]);
    CHECK(all[i].unit != NULL && all[i].description != NULL);
    if (all[i].ha_device_class != NULL && !unit_ok(&all[i])) {
      fprintf(stderr, "%s: unit '%s' / state class %s not accepted for "
                      "device class %s\n", all[i].name, all[i].unit,
              all[i].ha_state_class ? all[i].ha_state_class : "(none)",
              all[i].ha_device_class);
      CHECK(0);
    }
    if (all[i].type == VQ_VALUE_ENUM || all[i].type == VQ_VALUE_BITMASK ||
        all[i].type == VQ_VALUE_BOOL)
      CHECK_STR(all[i].unit, "");
    /* ABI 1.2: a short name for every quantity, a label set for every
     * enum and bitmask (and only for them), resolved to its labels. */
    CHECK(all[i].short_name != NULL && all[i].short_name[0] != '\0' &&
          strlen(all[i].short_name) <= 40);
    if (all[i].type == VQ_VALUE_ENUM || all[i].type == VQ_VALUE_BITMASK) {
      if (all[i].label_set == NULL || all[i].labels == NULL ||
          all[i].nlabels == 0) {
        fprintf(stderr, "%s: no label set\n", all[i].name);
        CHECK(0);
      }
    } else {
      CHECK(all[i].label_set == NULL && all[i].labels == NULL &&
            all[i].nlabels == 0);
    }
  }
  /* Names that two devices use for different code lists are different
   * quantities (doc/victron.md). */
  CHECK_STR(vq_vocabulary_find("device.error")->label_set, "charger_error");
  CHECK_STR(vq_vocabulary_find("vebus.error")->label_set, "vebus_error");
  CHECK_STR(vq_vocabulary_find("device.alarm")->label_set, "alarm_level");
  CHECK_INT(vq_vocabulary_find("monitor.alarm")->type, VQ_VALUE_BOOL);
  CHECK_STR(vq_vocabulary_find("device.state")->labels[0].label, "off");
  CHECK(vq_vocabulary_find("battery.voltage") != NULL);
  CHECK_STR(vq_vocabulary_find("battery.voltage")->unit, "V");
  CHECK(vq_vocabulary_find("no.such.quantity") == NULL);
  CHECK(vq_vocabulary_find(NULL) == NULL);

  /* doc/quantities.md must be exactly what the table renders. */
  f = open_memstream(&actual, &alen);
  vq_vocabulary_markdown(f);
  fclose(f);
  snprintf(path, sizeof path, "%s/doc/quantities.md",
           getenv("top_srcdir") ? getenv("top_srcdir") : "..");
  f = fopen(path, "r");
  CHECK(f != NULL);
  if (f != NULL) {
    char buf[4096];
    size_t got;
    FILE *m = open_memstream(&expected, &elen);
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, got, m);
    fclose(m);
    fclose(f);
    if (alen != elen || memcmp(actual, expected, alen) != 0) {
      fprintf(stderr, "%s is out of date: regenerate it with "
                      "`vicacq --list-quantities > doc/quantities.md`\n", path);
      CHECK(0);
    }
  }
  free(expected);
  free(actual);
  test_declared();
  VQTEST_END();
}

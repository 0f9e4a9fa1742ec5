/* The vocabulary table is sorted and unique, every unit is one Home
 * Assistant accepts for the row's device class (doc/protocols/sinks.md §1.5; HA rejects
 * the entity otherwise), state classes fit, and doc/quantities.md is the
 * table's current rendering. */
#include "config.h"

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
  }
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
  VQTEST_END();
}

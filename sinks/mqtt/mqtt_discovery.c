/* Home Assistant discovery payloads; see mqtt_discovery.h. */
#include "config.h"

#include <string.h>

#include "mqtt_discovery.h"
#include "mqtt_topics.h"

/* Sensor device classes and the unit strings HA accepts for each
 * (doc/protocols/sinks.md §1.5; "μ" is U+03BC, "°" U+00B0).  `measurement_only`
 * lists classes whose state class must be measurement; energy must be
 * total or total_increasing; duration allows any. */
struct ha_class {
  const char *name;
  const char *units[16];
  const char *state_classes[4]; /* allowed; empty: none at all */
};

static const struct ha_class sensor_classes[] = {
    {"voltage", {"\xce\xbcV", "mV", "V", "kV", "MV"}, {"measurement"}},
    {"current", {"mA", "A"}, {"measurement"}},
    {"power", {"mW", "W", "kW", "MW", "GW", "TW"}, {"measurement"}},
    {"apparent_power", {"VA"}, {"measurement"}},
    {"reactive_power", {"var", "kvar"}, {"measurement"}},
    {"energy",
     {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal",
      "kcal", "Mcal", "Gcal"},
     {"total", "total_increasing"}},
    {"energy_storage",
     {"J", "kJ", "MJ", "GJ", "mWh", "Wh", "kWh", "MWh", "GWh", "TWh", "cal",
      "kcal", "Mcal", "Gcal"},
     {"measurement"}},
    {"battery", {"%"}, {"measurement"}},
    {"temperature", {"\xc2\xb0" "C", "\xc2\xb0" "F", "K"}, {"measurement"}},
    {"duration",
     {"d", "h", "min", "s", "ms", "\xce\xbcs"},
     {"measurement", "total", "total_increasing"}},
    {"frequency", {"Hz", "kHz", "MHz", "GHz"}, {"measurement"}},
    {"signal_strength", {"dB", "dBm"}, {"measurement"}},
};

static const char *const binary_classes[] = {
    "battery", "battery_charging", "connectivity", "power",  "problem",
    "running", "plug",             "safety",       "heat",   "cold",
    "moving",  "opening",          "update",       NULL};

static const struct ha_class *find_class(const char *dc) {
  size_t i;
  for (i = 0; i < sizeof sensor_classes / sizeof sensor_classes[0]; i++)
    if (strcmp(sensor_classes[i].name, dc) == 0) return &sensor_classes[i];
  return NULL;
}

int mqtt_ha_unit_ok(const char *device_class, const char *unit) {
  const struct ha_class *c;
  size_t i;
  if (device_class == NULL) return 1; /* no class: any unit */
  if (strcmp(device_class, "enum") == 0 ||
      strcmp(device_class, "timestamp") == 0 ||
      strcmp(device_class, "date") == 0)
    return unit == NULL || *unit == '\0';
  if ((c = find_class(device_class)) == NULL) return 0;
  if (unit == NULL) return 0;
  for (i = 0; i < 16 && c->units[i] != NULL; i++)
    if (strcmp(c->units[i], unit) == 0) return 1;
  return 0;
}

int mqtt_ha_state_class_ok(const char *device_class, const char *state_class) {
  const struct ha_class *c;
  size_t i;
  if (state_class == NULL) return 1;
  if (strcmp(state_class, "measurement") != 0 &&
      strcmp(state_class, "total") != 0 &&
      strcmp(state_class, "total_increasing") != 0)
    return 0;
  if (device_class == NULL) return 1;
  if ((c = find_class(device_class)) == NULL) return 0; /* enum & co: none */
  for (i = 0; i < 4 && c->state_classes[i] != NULL; i++)
    if (strcmp(c->state_classes[i], state_class) == 0) return 1;
  return 0;
}

int mqtt_ha_binary_class_ok(const char *device_class) {
  size_t i;
  if (device_class == NULL) return 0;
  for (i = 0; binary_classes[i] != NULL; i++)
    if (strcmp(binary_classes[i], device_class) == 0) return 1;
  return 0;
}

int mqtt_disc_label_granted(const struct mqtt_disc_entity *e,
                            const struct vq_label *l) {
  return l->label != NULL && l->label[0] != '\0' && (double)l->code >= e->min &&
         (double)l->code <= e->max;
}

/* How many labels of a writable enum's set lie inside its grant. */
static uint32_t granted_labels(const struct mqtt_disc_entity *e) {
  uint32_t i, n, k = 0;
  const struct vq_label *labels = mqtt_disc_labels(e->info, &n);
  for (i = 0; i < n; i++) k += (uint32_t)mqtt_disc_label_granted(e, &labels[i]);
  return k;
}

const char *mqtt_disc_number_mode(const struct mqtt_disc_entity *e) {
  double step = e->step >= 0.001 ? e->step : 0.001;
  return (e->max - e->min) / step > MQTT_DISC_SLIDER_MAX ? "box" : "slider";
}

const char *mqtt_disc_component(const struct mqtt_disc_entity *e) {
  if (e->writable && (e->type == VQ_VALUE_DOUBLE || e->type == VQ_VALUE_INT))
    return "number";
  if (e->writable && e->type == VQ_VALUE_ENUM && granted_labels(e) > 0)
    return "select";
  if (e->type == VQ_VALUE_BOOL) return "binary_sensor";
  return "sensor";
}

/* <source>_<device>_<quantity>: the per-node object id. */
static void add_object(struct vq_text *t, const struct mqtt_disc_device *d,
                       const char *quantity) {
  mqtt_topic_add_id(t, d->source);
  vq_text_addc(t, '_');
  mqtt_topic_add_id(t, d->device);
  vq_text_addc(t, '_');
  mqtt_topic_add_id(t, quantity);
}

void mqtt_disc_unique_id(struct vq_text *t, const struct mqtt_disc_options *o,
                         const struct mqtt_disc_device *d,
                         const char *quantity) {
  vq_text_adds(t, "vicacq_");
  mqtt_topic_add_id(t, o->node);
  vq_text_addc(t, '_');
  add_object(t, d, quantity);
}

void mqtt_disc_topic(struct vq_text *t, const struct mqtt_disc_options *o,
                     const struct mqtt_disc_device *d,
                     const struct mqtt_disc_entity *e) {
  vq_text_adds(t, o->prefix);
  vq_text_addc(t, '/');
  vq_text_adds(t, mqtt_disc_component(e));
  vq_text_adds(t, "/vicacq_");
  mqtt_topic_add_id(t, o->node);
  vq_text_addc(t, '/');
  add_object(t, d, e->quantity);
  vq_text_adds(t, "/config");
}

/* Lowercase letters and digits; every other run becomes one '_', none at
 * either end ("Shunt.Main-1" -> "shunt_main_1"). */
static void add_slug(struct vq_text *t, const char *s, int *pending) {
  for (; *s; s++) {
    char c = *s;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      if (*pending) vq_text_addc(t, '_');
      *pending = 0;
      vq_text_addc(t, c);
    } else {
      *pending = 1;
    }
  }
}

void mqtt_disc_entity_id(struct vq_text *t, const char *component,
                         const struct mqtt_disc_device *d,
                         const char *quantity) {
  int pending = 0;
  vq_text_adds(t, component);
  vq_text_adds(t, ".vicacq");
  pending = 1;
  add_slug(t, d->source, &pending);
  pending = 1;
  add_slug(t, quantity, &pending);
}

/* Cut t back to at most max bytes without splitting a UTF-8 sequence,
 * at the last space when there is one in the second half. */
static void cut_name(struct vq_text *t, size_t start, size_t max) {
  size_t n = t->len - start, i;
  if (n <= max || t->failed) return;
  n = max;
  while (n > 0 && ((unsigned char)t->data[start + n] & 0xc0) == 0x80) n--;
  for (i = n; i > max / 2; i--)
    if (t->data[start + i] == ' ') {
      n = i;
      break;
    }
  t->len = start + n;
  t->data[t->len] = '\0';
}

void mqtt_disc_name(struct vq_text *t, const struct vq_quantity_info *info,
                    const char *quantity) {
  size_t start = t->len;
  const char *q;
  if (info != NULL && VQ_HAS_FIELD(info, struct vq_quantity_info, short_name) &&
      info->short_name != NULL && info->short_name[0] != '\0') {
    vq_text_adds(t, info->short_name);
  } else {
    /* "battery.voltage" -> "Battery voltage", "pv.power" -> "Pv power":
     * words from the dotted, snake_case name, the first capitalised. */
    for (q = quantity; *q; q++) {
      char c = (*q == '.' || *q == '_') ? ' ' : *q;
      if (t->len == start && c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
      if (c == ' ' && (t->len == start || t->data[t->len - 1] == ' ')) continue;
      vq_text_addc(t, c);
    }
    if (t->len == start) vq_text_adds(t, "Value");
  }
  cut_name(t, start, MQTT_DISC_NAME_MAX);
  while (t->len > start && t->data[t->len - 1] == ' ') t->data[--t->len] = '\0';
}

const struct vq_label *mqtt_disc_labels(const struct vq_quantity_info *info,
                                        uint32_t *n) {
  *n = 0;
  if (info == NULL || !VQ_HAS_FIELD(info, struct vq_quantity_info, nlabels) ||
      info->labels == NULL || info->nlabels == 0)
    return NULL;
  *n = info->nlabels;
  return info->labels;
}

/* ,"key":"value" */
static void kv(struct vq_text *t, const char *key, const char *value) {
  vq_text_addc(t, ',');
  vq_text_add_json_string(t, key);
  vq_text_addc(t, ':');
  vq_text_add_json_string(t, value);
}

static void kv_text(struct vq_text *t, const char *key, struct vq_text *v) {
  kv(t, key, v->len ? v->data : "");
}

static int has_text(const char *s) { return s != NULL && *s != '\0'; }

/* HA wants the Greek mu (U+03BC) for micro; map the micro sign U+00B5. */
static void normalized_unit(struct vq_text *t, const char *unit) {
  if ((unsigned char)unit[0] == 0xc2 && (unsigned char)unit[1] == 0xb5) {
    vq_text_adds(t, "\xce\xbc");
    vq_text_adds(t, unit + 2);
  } else {
    vq_text_adds(t, unit);
  }
}

static void device_block(struct vq_text *t, const struct mqtt_disc_options *o,
                         const struct mqtt_disc_device *d) {
  struct vq_text id;
  vq_text_init(&id);
  vq_text_adds(&id, "vicacq_");
  mqtt_topic_add_id(&id, o->node);
  vq_text_addc(&id, '_');
  mqtt_topic_add_id(&id, d->source);
  vq_text_addc(&id, '_');
  mqtt_topic_add_id(&id, d->device);
  vq_text_adds(t, ",\"device\":{\"identifiers\":[");
  vq_text_add_json_string(t, id.data);
  vq_text_addc(t, ']');
  vq_text_clear(&id);
  if (has_text(d->product)) vq_text_addf(&id, "%s (%s)", d->product, d->source);
  else vq_text_addf(&id, "%s %s", d->source, d->device);
  kv_text(t, "name", &id);
  kv(t, "manufacturer", "Victron Energy");
  if (has_text(d->product)) kv(t, "model", d->product);
  if (has_text(d->product_id)) kv(t, "model_id", d->product_id);
  if (has_text(d->firmware)) kv(t, "sw_version", d->firmware);
  if (has_text(d->serial)) kv(t, "serial_number", d->serial);
  vq_text_clear(&id);
  vq_text_adds(&id, "vicacq_");
  mqtt_topic_add_id(&id, o->node);
  kv_text(t, "via_device", &id);
  vq_text_addc(t, '}');
  vq_text_free(&id);
}

/* A Jinja string literal's contents for a quantity: quantities are plain
 * names, but a quote or backslash must not end the literal. */
static void add_jinja_name(struct vq_text *t, const char *q) {
  for (; *q; q++) vq_text_addc(t, (*q == '\'' || *q == '\\') ? '_' : *q);
}

/* value_template for `payload = json`: the reading object carries
 * "values":{"<quantity>":v}; a reading without the quantity renders ""
 * (ignored by HA), null renders None (unknown). */
static void json_template(struct vq_text *t, const struct mqtt_disc_entity *e) {
  uint32_t i, nlabels;
  const struct vq_label *labels = mqtt_disc_labels(e->info, &nlabels);
  vq_text_adds(t, "{% set v = value_json['values'].get('");
  add_jinja_name(t, e->quantity);
  vq_text_adds(t, "', '') %}");
  if (e->type == VQ_VALUE_ENUM && nlabels > 0) {
    vq_text_adds(t, "{% set m = {");
    for (i = 0; i < nlabels; i++) {
      const char *c;
      if (i) vq_text_addc(t, ',');
      vq_text_add_int(t, labels[i].code);
      vq_text_adds(t, ":'");
      for (c = labels[i].label; *c; c++)
        vq_text_addc(t, (*c == '\'' || *c == '\\') ? '_' : *c);
      vq_text_addc(t, '\'');
    }
    vq_text_adds(t, "} %}");
  }
  vq_text_adds(t, "{% if v is none %}None{% elif v == '' %}{% else %}");
  if (e->type == VQ_VALUE_BOOL) vq_text_adds(t, "{{ 'ON' if v else 'OFF' }}");
  else if (e->type == VQ_VALUE_ENUM && nlabels > 0)
    /* A code the label set lacks (a newer firmware) is not among the
     * options, which HA refuses: unknown there, unknown_<code> on the
     * state topic for anyone else. */
    vq_text_adds(t, "{{ m.get(v, 'None') }}");
  else vq_text_adds(t, "{{ v }}");
  vq_text_adds(t, "{% endif %}");
}

void mqtt_disc_payload(struct vq_text *t, const struct mqtt_disc_options *o,
                       const struct mqtt_disc_device *d,
                       const struct mqtt_disc_entity *e) {
  const struct vq_quantity_info *info = e->info;
  const char *component = mqtt_disc_component(e);
  const char *dc = info ? info->ha_device_class : NULL;
  const char *sc = info ? info->ha_state_class : NULL;
  const char *unit = has_text(e->unit) ? e->unit : NULL;
  int numeric = e->type == VQ_VALUE_DOUBLE || e->type == VQ_VALUE_INT;
  int select = strcmp(component, "select") == 0;
  int control = select || strcmp(component, "number") == 0;
  const struct vq_label *labels = NULL;
  uint32_t nlabels = 0, i;
  struct vq_text s;

  vq_text_init(&s);
  /* Decide class, state class and unit the way HA will accept them. */
  if (e->type == VQ_VALUE_BOOL) {
    if (!mqtt_ha_binary_class_ok(dc)) dc = NULL;
    sc = NULL;
    unit = NULL;
  } else if (e->type == VQ_VALUE_ENUM) {
    /* HA's enum sensor needs every option up front; a quantity without
     * a label set stays a plain text sensor (options are never learned
     * from values: the config would change under HA's feet). */
    labels = mqtt_disc_labels(info, &nlabels);
    /* A select has options but no device class (HA's select schema). */
    dc = nlabels > 0 && !select ? "enum" : NULL;
    sc = NULL;
    unit = NULL;
  } else if (!numeric) { /* bitmask labels, strings: text */
    dc = NULL;
    sc = NULL;
    unit = NULL;
  } else {
    if (dc != NULL && (strcmp(dc, "enum") == 0 || !mqtt_ha_unit_ok(dc, unit)))
      dc = NULL;
    /* The Energy dashboard takes energy sensors with total or
     * total_increasing only: a counter is the latter unless told. */
    if (dc != NULL && strcmp(dc, "energy") == 0 &&
        (sc == NULL || !mqtt_ha_state_class_ok(dc, sc)))
      sc = "total_increasing";
    if (!mqtt_ha_state_class_ok(dc, sc)) sc = NULL;
    if (info == NULL && sc == NULL) sc = "measurement"; /* unknown to us */
  }

  vq_text_adds(t, "{\"name\":");
  mqtt_disc_name(&s, info, e->quantity);
  vq_text_add_json_string(t, s.len ? s.data : "");
  vq_text_clear(&s);
  mqtt_disc_unique_id(&s, o, d, e->quantity);
  kv_text(t, "unique_id", &s);
  /* HA 2026.4 ignores object_id; default_entity_id suggests the entity id
   * (a user's rename in HA wins). */
  vq_text_clear(&s);
  mqtt_disc_entity_id(&s, component, d, e->quantity);
  kv_text(t, "default_entity_id", &s);

  vq_text_clear(&s);
  if (o->json_payload) mqtt_topic_device(&s, o->base, d->source, d->device);
  else mqtt_topic_state(&s, o->base, d->source, d->device, e->quantity, "");
  kv_text(t, "state_topic", &s);
  if (o->json_payload) {
    vq_text_clear(&s);
    json_template(&s, e);
    kv_text(t, "value_template", &s);
  } else if (nlabels > 0) {
    /* The plain state of a code without a label is unknown_<code>, which
     * is not among the options: HA shows it as unknown instead of
     * refusing the state (doc/protocols/sinks.md §1.4). */
    kv(t, "value_template",
       "{{ 'None' if value.startswith('unknown_') else value }}");
  }
  if (control) {
    /* HA's select sends the option's label as it is; the command parser
     * maps it back to the code (mqtt_commands.h). */
    vq_text_clear(&s);
    mqtt_topic_state(&s, o->base, d->source, d->device, e->quantity, "/set");
    kv_text(t, "command_topic", &s);
    if (!select) {
      vq_text_adds(t, ",\"min\":");
      vq_text_add_double(t, e->min);
      vq_text_adds(t, ",\"max\":");
      vq_text_add_double(t, e->max);
      vq_text_adds(t, ",\"step\":");
      vq_text_add_double(t, e->step >= 0.001 ? e->step : 0.001);
      kv(t, "mode", mqtt_disc_number_mode(e));
    }
    vq_text_addf(t, ",\"qos\":%d,\"retain\":false", o->qos);
    sc = NULL; /* controls have no state class */
  }
  if (strcmp(component, "binary_sensor") == 0) {
    kv(t, "payload_on", "ON");
    kv(t, "payload_off", "OFF");
  }
  if (dc != NULL) kv(t, "device_class", dc);
  if (sc != NULL) kv(t, "state_class", sc);
  if (unit != NULL) {
    vq_text_clear(&s);
    normalized_unit(&s, unit);
    kv_text(t, "unit_of_measurement", &s);
  }
  if (nlabels > 0) {
    int first = 1;
    vq_text_adds(t, ",\"options\":[");
    for (i = 0; i < nlabels; i++) {
      uint32_t k;
      int seen = 0;
      if (select && !mqtt_disc_label_granted(e, &labels[i])) continue;
      /* Some Victron lists give one meaning several codes (the charger
       * errors): an option is listed once. */
      for (k = 0; k < i && !seen; k++)
        seen = (!select || mqtt_disc_label_granted(e, &labels[k])) &&
               strcmp(labels[k].label ? labels[k].label : "",
                      labels[i].label ? labels[i].label : "") == 0;
      if (seen) continue;
      if (!first) vq_text_addc(t, ',');
      first = 0;
      vq_text_add_json_string(t, labels[i].label ? labels[i].label : "");
    }
    vq_text_addc(t, ']');
  }
  /* Diagnostics (rssi, firmware, error codes).  Never "config": sensors
   * refuse it, and a writable setting is the device's main control. */
  if (info != NULL && info->diagnostic && !control)
    kv(t, "entity_category", "diagnostic");
  if (o->expire_after_s > 0 && !control) /* sensors only */
    vq_text_addf(t, ",\"expire_after\":%lld", (long long)o->expire_after_s);

  vq_text_adds(t, ",\"availability\":[{\"topic\":");
  vq_text_clear(&s);
  vq_text_adds(&s, o->base);
  vq_text_adds(&s, "/status");
  vq_text_add_json_string(t, s.data);
  vq_text_adds(t, "},{\"topic\":");
  vq_text_clear(&s);
  mqtt_topic_device(&s, o->base, d->source, d->device);
  vq_text_adds(&s, "/availability");
  vq_text_add_json_string(t, s.data);
  vq_text_adds(t, "}],\"availability_mode\":\"all\"");
  device_block(t, o, d);
  vq_text_adds(t, ",\"origin\":{\"name\":\"vicacq\"");
  kv(t, "sw_version", o->origin_sw);
  vq_text_adds(t, "}}");
  if (s.failed) t->failed = 1;
  vq_text_free(&s);
}

void mqtt_disc_daemon_topic(struct vq_text *t,
                            const struct mqtt_disc_options *o) {
  vq_text_adds(t, o->prefix);
  vq_text_adds(t, "/binary_sensor/vicacq_");
  mqtt_topic_add_id(t, o->node);
  vq_text_adds(t, "/status/config");
}

void mqtt_disc_daemon_payload(struct vq_text *t,
                              const struct mqtt_disc_options *o) {
  struct vq_text s;
  vq_text_init(&s);
  vq_text_adds(t, "{\"name\":\"Status\"");
  vq_text_adds(&s, "vicacq_");
  mqtt_topic_add_id(&s, o->node);
  vq_text_adds(&s, "_status");
  kv_text(t, "unique_id", &s);
  vq_text_clear(&s);
  vq_text_adds(&s, "binary_sensor.");
  {
    int pending = 0;
    add_slug(&s, "vicacq", &pending);
    pending = 1;
    add_slug(&s, o->node, &pending);
    pending = 1;
    add_slug(&s, "status", &pending);
  }
  kv_text(t, "default_entity_id", &s);
  vq_text_clear(&s);
  vq_text_adds(&s, o->base);
  vq_text_adds(&s, "/status");
  kv_text(t, "state_topic", &s);
  kv(t, "payload_on", "online");
  kv(t, "payload_off", "offline");
  kv(t, "device_class", "connectivity");
  kv(t, "entity_category", "diagnostic");
  vq_text_clear(&s);
  vq_text_adds(&s, "vicacq_");
  mqtt_topic_add_id(&s, o->node);
  vq_text_adds(t, ",\"device\":{\"identifiers\":[");
  vq_text_add_json_string(t, s.data);
  vq_text_adds(t, "],\"name\":");
  vq_text_clear(&s);
  vq_text_adds(&s, "vicacq ");
  vq_text_adds(&s, o->node);
  vq_text_add_json_string(t, s.data);
  vq_text_adds(t, ",\"manufacturer\":\"vicacq\"");
  kv(t, "model", "vicacq daemon");
  kv(t, "sw_version", o->origin_sw);
  vq_text_adds(t, "},\"origin\":{\"name\":\"vicacq\"");
  kv(t, "sw_version", o->origin_sw);
  vq_text_adds(t, "}}");
  if (s.failed) t->failed = 1;
  vq_text_free(&s);
}

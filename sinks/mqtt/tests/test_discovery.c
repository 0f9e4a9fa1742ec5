/* Home Assistant discovery payloads (mqtt_discovery.c): HA's validation
 * rules (doc/protocols/sinks.md §1.5, HA 2026.4) applied to what the
 * vocabulary says, and the naming scheme of unique ids, topics and
 * default entity ids. */
#include "config.h"

#include "vqtest.h"
#include <stddef.h>

#include "../mqtt_discovery.h"

#define INFO(name, unit, type, dc, sc, diag)                                   \
  { sizeof(struct vq_quantity_info), VQ_VALUE_##type, name, unit, name, dc, sc, \
    diag, NULL, NULL, NULL, 0 }

static struct vq_text t, topic;
static const struct mqtt_disc_options opts = {
    "homeassistant", "vicacq", "test", "9.9", 0, 0, 1};
static const struct mqtt_disc_device shunt = {
    "shunt", "c03b98000001", "SmartShunt 500A/50mV", "0xA389", "4.16", NULL};

static const char *build(const struct mqtt_disc_options *o,
                         const struct mqtt_disc_entity *e) {
  vq_text_clear(&t);
  vq_text_clear(&topic);
  mqtt_disc_payload(&t, o, &shunt, e);
  mqtt_disc_topic(&topic, o, &shunt, e);
  return t.data;
}

#define HAS(s) CHECK(strstr(t.data, s) != NULL)
#define HASNT(s) CHECK(strstr(t.data, s) == NULL)

int main(void) {
  struct mqtt_disc_entity e;
  struct mqtt_disc_options json = opts;
  static const struct vq_label labels[] = {{0, "off"}, {3, "bulk"}};
  static const struct vq_label twice[] = {
      {1, "overheated"}, {2, "short_circuit"}, {3, "overheated"}};
  static const struct vq_label mode_labels[] = {
      {1, "with"}, {2, "without"}, {3, "external"}};
  struct vq_quantity_info modes = {sizeof(struct vq_quantity_info),
                                   VQ_VALUE_ENUM, "ess.mode", "", "ESS mode",
                                   "enum", NULL, 1, "ESS mode", "t",
                                   mode_labels, 3};
  struct vq_quantity_info voltage = INFO("battery.voltage", "V", DOUBLE,
                                         "voltage", "measurement", 0);
  struct vq_quantity_info energy_bad = INFO("yield.today", "kWh", DOUBLE,
                                            "energy", "measurement", 0);
  struct vq_quantity_info state = INFO("device.state", "", ENUM, "enum", NULL, 0);
  struct vq_quantity_info state_nolabels = state;
  struct vq_quantity_info old_size = voltage; /* from a 1.1 host */
  struct vq_quantity_info long_name = voltage;
  struct vq_quantity_info rssi = INFO("link.rssi", "dBm", INT,
                                      "signal_strength", "measurement", 1);
  struct vq_quantity_info online = INFO("link.online", "", BOOL,
                                        "connectivity", NULL, 1);
  struct vq_quantity_info limit = INFO("charger.current_limit", "A", DOUBLE,
                                       "current", "measurement", 0);
  struct vq_quantity_info alarm = INFO("device.alarm_reason", "", BITMASK, NULL,
                                       NULL, 1);
  struct vq_quantity_info ah = INFO("battery.consumed_ah", "Ah", DOUBLE, NULL,
                                    "measurement", 0);

  vq_text_init(&t);
  vq_text_init(&topic);
  state.short_name = "Charger state";
  state.label_set = "charger_state";
  state.labels = labels;
  state.nlabels = 2;
  voltage.short_name = "Battery voltage";
  voltage.description = "Battery voltage, at the shunt's terminals, as measured";
  old_size.size = (uint32_t)offsetof(struct vq_quantity_info, short_name);
  old_size.short_name = "must not be read";
  long_name.short_name =
      "A short name that is far longer than forty characters allow";

  /* The table itself. */
  CHECK(mqtt_ha_unit_ok("voltage", "V"));
  CHECK(mqtt_ha_unit_ok("voltage", "\xce\xbcV"));
  CHECK(!mqtt_ha_unit_ok("voltage", "\xc2\xb5V")); /* micro sign: no */
  CHECK(!mqtt_ha_unit_ok("power", "A"));
  CHECK(!mqtt_ha_unit_ok("reactive_power", "VAr"));
  CHECK(mqtt_ha_unit_ok("temperature", "\xc2\xb0" "C"));
  CHECK(!mqtt_ha_unit_ok("battery", "Ah"));
  CHECK(!mqtt_ha_unit_ok("no_such_class", "V"));
  CHECK(mqtt_ha_unit_ok(NULL, "Ah"));
  CHECK(mqtt_ha_unit_ok("enum", ""));
  CHECK(!mqtt_ha_unit_ok("enum", "V"));
  CHECK(mqtt_ha_state_class_ok("energy", "total_increasing"));
  CHECK(!mqtt_ha_state_class_ok("energy", "measurement"));
  CHECK(mqtt_ha_state_class_ok("duration", "total"));
  CHECK(!mqtt_ha_state_class_ok("enum", "measurement"));
  CHECK(!mqtt_ha_state_class_ok(NULL, "bogus"));
  CHECK(mqtt_ha_binary_class_ok("connectivity"));
  CHECK(!mqtt_ha_binary_class_ok("voltage"));

  /* A plain measurement. */
  memset(&e, 0, sizeof e);
  e.quantity = "battery.voltage";
  e.type = VQ_VALUE_DOUBLE;
  e.unit = "V";
  e.info = &voltage;
  build(&opts, &e);
  CHECK_STR(topic.data, "homeassistant/sensor/vicacq_test/"
                        "shunt_c03b98000001_battery_voltage/config");
  HAS("\"name\":\"Battery voltage\",");
  HAS("\"unique_id\":\"vicacq_test_shunt_c03b98000001_battery_voltage\"");
  HAS("\"default_entity_id\":\"sensor.vicacq_shunt_battery_voltage\"");
  HASNT("object_id");
  HAS("\"state_topic\":\"vicacq/shunt/c03b98000001/battery/voltage\"");
  HAS("\"device_class\":\"voltage\"");
  HAS("\"state_class\":\"measurement\"");
  HAS("\"unit_of_measurement\":\"V\"");
  HAS("\"identifiers\":[\"vicacq_test_shunt_c03b98000001\"]");
  HAS("\"manufacturer\":\"Victron Energy\"");
  HAS("\"model\":\"SmartShunt 500A/50mV\"");
  HAS("\"sw_version\":\"4.16\"");
  HAS("\"via_device\":\"vicacq_test\"");
  HAS("{\"topic\":\"vicacq/status\"}");
  HAS("{\"topic\":\"vicacq/shunt/c03b98000001/availability\"}");
  HAS("\"availability_mode\":\"all\"");
  HASNT("entity_category");
  HASNT("expire_after");
  HASNT("serial_number"); /* not known */
  CHECK(t.data[0] == '{' && t.data[t.len - 1] == '}');

  /* A unit HA does not accept for the class: no class rather than a
   * rejected entity. */
  e.unit = "A";
  build(&opts, &e);
  HASNT("device_class");
  HAS("\"unit_of_measurement\":\"A\"");
  /* Micro sign becomes the Greek mu. */
  e.unit = "\xc2\xb5V";
  build(&opts, &e);
  HAS("\"unit_of_measurement\":\"\xce\xbcV\"");

  /* Names: never the long description; a 1.1-sized entry is not read past
   * its size; at most 40 bytes, cut at a word. */
  e.unit = "V";
  e.info = &old_size;
  build(&opts, &e);
  HAS("\"name\":\"Battery voltage\",");
  e.info = &long_name;
  build(&opts, &e);
  HAS("\"name\":\"A short name that is far longer than\",");
  e.info = NULL;
  e.quantity = "history.day_sequence";
  build(&opts, &e);
  HAS("\"name\":\"History day sequence\",");
  HAS("\"default_entity_id\":\"sensor.vicacq_shunt_history_day_sequence\"");
  vq_text_clear(&t);
  mqtt_disc_name(&t, NULL, "x.\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
  CHECK(t.len <= MQTT_DISC_NAME_MAX);
  CHECK(vq_utf8_valid(t.data)); /* not cut inside a character */

  /* Entity ids are slugs HA accepts: lowercase, single '_'. */
  {
    struct mqtt_disc_device odd = shunt;
    odd.source = "Shunt--Main.2";
    vq_text_clear(&t);
    mqtt_disc_entity_id(&t, "sensor", &odd, "battery.voltage");
    CHECK_STR(t.data, "sensor.vicacq_shunt_main_2_battery_voltage");
  }

  /* Energy for the Energy dashboard: a counter with a state class HA does
   * not allow for energy becomes total_increasing, a valid one stays. */
  e.quantity = "yield.today";
  e.unit = "kWh";
  e.info = &energy_bad;
  build(&opts, &e);
  HAS("\"device_class\":\"energy\"");
  HAS("\"state_class\":\"total_increasing\"");
  HAS("\"unit_of_measurement\":\"kWh\"");
  energy_bad.ha_state_class = "total";
  build(&opts, &e);
  HAS("\"state_class\":\"total\"");

  /* Ah: no device class, a state class. */
  e.quantity = "battery.consumed_ah";
  e.unit = "Ah";
  e.info = &ah;
  build(&opts, &e);
  HASNT("device_class");
  HAS("\"state_class\":\"measurement\"");

  /* An enum with labels: device_class enum, options, no unit/state. */
  memset(&e, 0, sizeof e);
  e.quantity = "device.state";
  e.type = VQ_VALUE_ENUM;
  e.unit = "";
  e.info = &state;
  build(&opts, &e);
  HAS("\"name\":\"Charger state\",");
  HAS("\"device_class\":\"enum\"");
  HAS("\"options\":[\"off\",\"bulk\"]");
  HASNT("unit_of_measurement");
  HASNT("state_class");
  /* A code without a label (unknown_<code> on the state topic) is not an
   * option: HA gets None (unknown) instead of refusing the state. */
  HAS("\"value_template\":\"{{ 'None' if value.startswith('unknown_') else value }}\"");
  {
    struct mqtt_disc_options as_json = opts;
    as_json.json_payload = 1;
    build(&as_json, &e);
    HAS("m.get(v, 'None')");
    HASNT("unknown_");
  }
  /* One meaning under two codes (the charger errors): listed once. */
  {
    struct vq_quantity_info errs = state;
    errs.labels = twice;
    errs.nlabels = 3;
    e.info = &errs;
    build(&opts, &e);
    HAS("\"options\":[\"overheated\",\"short_circuit\"]");
    e.info = &state;
  }
  /* ... a quantity without a label set: plain text, never learned. */
  e.info = &state_nolabels;
  build(&opts, &e);
  HASNT("device_class");
  HASNT("options");

  /* Diagnostics. */
  memset(&e, 0, sizeof e);
  e.quantity = "link.rssi";
  e.type = VQ_VALUE_INT;
  e.unit = "dBm";
  e.info = &rssi;
  build(&opts, &e);
  HAS("\"entity_category\":\"diagnostic\"");
  HAS("\"device_class\":\"signal_strength\"");
  HASNT("\"config\"");

  /* Bool: binary_sensor. */
  e.quantity = "link.online";
  e.type = VQ_VALUE_BOOL;
  e.unit = "";
  e.info = &online;
  build(&opts, &e);
  CHECK_STR(topic.data, "homeassistant/binary_sensor/vicacq_test/"
                        "shunt_c03b98000001_link_online/config");
  HAS("\"default_entity_id\":\"binary_sensor.vicacq_shunt_link_online\"");
  HAS("\"payload_on\":\"ON\"");
  HAS("\"device_class\":\"connectivity\"");
  HASNT("state_class");

  /* Bitmask: text. */
  e.quantity = "device.alarm_reason";
  e.type = VQ_VALUE_BITMASK;
  e.info = &alarm;
  build(&opts, &e);
  CHECK(strstr(topic.data, "/sensor/") != NULL);
  HASNT("device_class");
  HAS("\"entity_category\":\"diagnostic\"");

  /* Writable: a number with the granted range and a command topic. */
  memset(&e, 0, sizeof e);
  e.quantity = "charger.current_limit";
  e.type = VQ_VALUE_DOUBLE;
  e.unit = "A";
  e.info = &limit;
  e.writable = 1;
  e.min = 3;
  e.max = 25;
  e.step = 0.1;
  build(&opts, &e);
  CHECK_STR(topic.data, "homeassistant/number/vicacq_test/"
                        "shunt_c03b98000001_charger_current_limit/config");
  HAS("\"default_entity_id\":\"number.vicacq_shunt_charger_current_limit\"");
  HAS("\"command_topic\":\"vicacq/shunt/c03b98000001/charger/current_limit/set\"");
  HAS("\"min\":3,\"max\":25,\"step\":0.1");
  HAS("\"retain\":false");
  HAS("\"device_class\":\"current\"");
  HASNT("state_class");

  /* A range of more than 1000 steps is a box, a short one a slider. */
  CHECK_STR(mqtt_disc_number_mode(&e), "slider"); /* 220 steps */
  HAS("\"mode\":\"slider\"");
  e.quantity = "ess.grid_setpoint";
  e.unit = "W";
  e.info = NULL;
  e.min = -5000;
  e.max = 5000;
  e.step = 1;
  build(&opts, &e);
  HAS("\"min\":-5000,\"max\":5000,\"step\":1");
  HAS("\"mode\":\"box\"");
  e.max = -4000; /* exactly 1000 steps */
  CHECK_STR(mqtt_disc_number_mode(&e), "slider");

  /* A writable enum is a select offering the labels inside the grant. */
  memset(&e, 0, sizeof e);
  e.quantity = "ess.mode";
  e.type = VQ_VALUE_ENUM;
  e.info = &modes;
  e.writable = 1;
  e.min = 2;
  e.max = 3;
  e.step = 1;
  build(&opts, &e);
  CHECK_STR(mqtt_disc_component(&e), "select");
  CHECK_STR(topic.data, "homeassistant/select/vicacq_test/"
                        "shunt_c03b98000001_ess_mode/config");
  HAS("\"default_entity_id\":\"select.vicacq_shunt_ess_mode\"");
  HAS("\"command_topic\":\"vicacq/shunt/c03b98000001/ess/mode/set\"");
  HAS("\"state_topic\":\"vicacq/shunt/c03b98000001/ess/mode\"");
  HAS("\"options\":[\"without\",\"external\"]");
  HAS("\"retain\":false");
  HASNT("device_class");
  HASNT("state_class");
  HASNT("\"min\"");
  HASNT("entity_category"); /* diagnostic in the vocabulary: a control wins */
  /* No label inside the grant: nothing to select, a sensor as before. */
  e.min = 5;
  e.max = 9;
  build(&opts, &e);
  CHECK_STR(mqtt_disc_component(&e), "sensor");
  HAS("\"device_class\":\"enum\"");
  HAS("\"options\":[\"with\",\"without\",\"external\"]");
  HASNT("command_topic");
  /* Read-only: the enum sensor with the whole set. */
  e.writable = 0;
  e.min = 1;
  e.max = 3;
  build(&opts, &e);
  CHECK_STR(mqtt_disc_component(&e), "sensor");
  HAS("\"options\":[\"with\",\"without\",\"external\"]");

  /* A plugin's own quantity: no class, measurement. */
  memset(&e, 0, sizeof e);
  e.quantity = "fixture.value.0";
  e.type = VQ_VALUE_DOUBLE;
  e.unit = "V";
  build(&opts, &e);
  HAS("\"name\":\"Fixture value 0\"");
  HAS("\"state_class\":\"measurement\"");
  HASNT("device_class");

  /* payload = json: the device topic and a template; expire_after. */
  json.json_payload = 1;
  json.expire_after_s = 120;
  memset(&e, 0, sizeof e);
  e.quantity = "device.state";
  e.type = VQ_VALUE_ENUM;
  e.info = &state;
  build(&json, &e);
  HAS("\"state_topic\":\"vicacq/shunt/c03b98000001\"");
  HAS("value_json['values'].get('device.state', '')");
  HAS("{0:'off',3:'bulk'}");
  HAS("\"expire_after\":120");

  /* The daemon's own device. */
  vq_text_clear(&t);
  vq_text_clear(&topic);
  mqtt_disc_daemon_topic(&topic, &opts);
  mqtt_disc_daemon_payload(&t, &opts);
  CHECK_STR(topic.data, "homeassistant/binary_sensor/vicacq_test/status/config");
  HAS("\"identifiers\":[\"vicacq_test\"]");
  HAS("\"default_entity_id\":\"binary_sensor.vicacq_test_status\"");
  HASNT("object_id");

  /* Two sources that see the same device id: two entities. */
  {
    struct mqtt_disc_device a = shunt, b = shunt;
    struct vq_text ua, ub;
    a.source = "bmv1";
    b.source = "bmv2";
    a.device = b.device = "pid-0203";
    vq_text_init(&ua);
    vq_text_init(&ub);
    mqtt_disc_unique_id(&ua, &opts, &a, "battery.voltage");
    mqtt_disc_unique_id(&ub, &opts, &b, "battery.voltage");
    CHECK(strcmp(ua.data, ub.data) != 0);
    vq_text_free(&ua);
    vq_text_free(&ub);
  }
  HAS("\"state_topic\":\"vicacq/status\"");
  CHECK(!t.failed && !topic.failed);

  vq_text_free(&t);
  vq_text_free(&topic);
  VQTEST_END();
}

/* The quantity vocabulary: the core table and the quantities plugins
 * declare (ABI 1.2), merged at load.  Core rows are sorted by name
 * (vq_vocabulary_find uses binary search and test_vocabulary checks the
 * order).  Units are the strings Home Assistant accepts for the device
 * class (doc/protocols/sinks.md §1.5); a device class is given only where
 * HA has one that fits, and state classes follow HA's rules (energy totals
 * are total_increasing, enums have none).  Enum and bitmask rows name
 * their label set in lib/victron, so every label is known before the
 * first value. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "victron.h"
#include "vocabulary.h"

#define ROW(name, unit, type, short_name, desc, dc, sc, diag)                  \
  { sizeof(struct vq_quantity_info), VQ_VALUE_##type, name, unit, desc, dc, sc, \
    diag, short_name, NULL, NULL, 0 }
/* An enum or bitmask row: unitless, no state class, labels from `set`. */
#define LROW(name, type, set, short_name, desc, dc, diag)                      \
  { sizeof(struct vq_quantity_info), VQ_VALUE_##type, name, "", desc, dc, NULL, \
    diag, short_name, #set, NULL, 0 }
#define M "measurement"
#define TI "total_increasing"

/* Not const: the label arrays live in lib/victron and are filled in once
 * (C cannot take an extern array's size in a constant initialiser). */
static struct vq_quantity_info table[] = {
  LROW("ac_in.active", ENUM, ac_input, "Active AC input", "Active AC input", "enum", 0),
  ROW("ac_in.current", "A", DOUBLE, "AC input current", "AC input current", "current", M, 0),
  ROW("ac_in.power", "W", DOUBLE, "AC input power", "AC input power", "power", M, 0),
  ROW("ac_in.voltage", "V", DOUBLE, "AC input voltage", "AC input voltage", "voltage", M, 0),
  ROW("ac_out.apparent_power", "VA", DOUBLE, "AC output apparent power", "AC output apparent power", "apparent_power", M, 0),
  ROW("ac_out.current", "A", DOUBLE, "AC output current", "AC output current", "current", M, 0),
  ROW("ac_out.power", "W", DOUBLE, "AC output power", "AC output power", "power", M, 0),
  ROW("ac_out.voltage", "V", DOUBLE, "AC output voltage", "AC output voltage", "voltage", M, 0),
  ROW("aux.voltage", "V", DOUBLE, "Starter battery voltage", "Auxiliary (starter) battery voltage", "voltage", M, 0),
  LROW("battery.balancer_status", ENUM, balancer_status, "Balancer status", "Cell balancer status", "enum", 1),
  ROW("battery.consumed_ah", "Ah", DOUBLE, "Consumed Ah", "Consumed charge (0 or negative)", NULL, M, 0),
  ROW("battery.current", "A", DOUBLE, "Battery current", "Battery current, positive into the battery", "current", M, 0),
  ROW("battery.cycles", "", DOUBLE, "Battery cycles", "Charge cycles from the state of charge: its changes added up, over 200 (energy processor)", NULL, TI, 0),
  ROW("battery.energy_in", "kWh", DOUBLE, "Energy into battery", "Energy charged into the battery (energy processor)", "energy", TI, 0),
  ROW("battery.energy_net", "kWh", DOUBLE, "Battery net energy", "Energy into the battery less energy out of it (energy processor)", "energy", "total", 0),
  ROW("battery.energy_out", "kWh", DOUBLE, "Energy out of battery", "Energy discharged from the battery (energy processor)", "energy", TI, 0),
  ROW("battery.midpoint_deviation", "%", DOUBLE, "Midpoint deviation", "Midpoint deviation", NULL, M, 0),
  ROW("battery.midpoint_voltage", "V", DOUBLE, "Midpoint voltage", "Midpoint voltage of the bank", "voltage", M, 0),
  ROW("battery.power", "W", DOUBLE, "Battery power", "Battery power, positive into the battery", "power", M, 0),
  ROW("battery.soc", "%", DOUBLE, "State of charge", "State of charge", "battery", M, 0),
  ROW("battery.temperature", "°C", DOUBLE, "Battery temperature", "Battery temperature", "temperature", M, 0),
  ROW("battery.time_to_go", "min", DOUBLE, "Time to go", "Time to go at the present discharge", "duration", M, 0),
  ROW("battery.voltage", "V", DOUBLE, "Battery voltage", "Battery voltage", "voltage", M, 0),
  ROW("battery2.current", "A", DOUBLE, "Output 2 current", "Charger output 2 current", "current", M, 0),
  ROW("battery2.voltage", "V", DOUBLE, "Output 2 voltage", "Charger output 2 voltage", "voltage", M, 0),
  ROW("battery3.current", "A", DOUBLE, "Output 3 current", "Charger output 3 current", "current", M, 0),
  ROW("battery3.voltage", "V", DOUBLE, "Output 3 voltage", "Charger output 3 voltage", "voltage", M, 0),
  ROW("bms.error", "", INT, "BMS error", "BMS error code", NULL, NULL, 1),
  LROW("bms.flags", BITMASK, bms_flags, "BMS flags", "BMS flags", NULL, 1),
  LROW("bms.io_status", BITMASK, bms_io, "BMS IO status", "BMS input/output status", NULL, 1),
  LROW("bms.warnings_alarms", BITMASK, bms_warnings_alarms, "BMS warnings and alarms", "BMS warnings and alarms", NULL, 1),
  ROW("cell.1.voltage", "V", DOUBLE, "Cell 1 voltage", "Cell 1 voltage", "voltage", M, 0),
  ROW("cell.2.voltage", "V", DOUBLE, "Cell 2 voltage", "Cell 2 voltage", "voltage", M, 0),
  ROW("cell.3.voltage", "V", DOUBLE, "Cell 3 voltage", "Cell 3 voltage", "voltage", M, 0),
  ROW("cell.4.voltage", "V", DOUBLE, "Cell 4 voltage", "Cell 4 voltage", "voltage", M, 0),
  ROW("cell.5.voltage", "V", DOUBLE, "Cell 5 voltage", "Cell 5 voltage", "voltage", M, 0),
  ROW("cell.6.voltage", "V", DOUBLE, "Cell 6 voltage", "Cell 6 voltage", "voltage", M, 0),
  ROW("cell.7.voltage", "V", DOUBLE, "Cell 7 voltage", "Cell 7 voltage", "voltage", M, 0),
  ROW("cell.8.voltage", "V", DOUBLE, "Cell 8 voltage", "Cell 8 voltage", "voltage", M, 0),
  ROW("charger.current_limit", "A", DOUBLE, "Charge current limit", "Charge current limit (writable)", "current", M, 0),
  ROW("dc_in.current", "A", DOUBLE, "DC input current", "DC input current", "current", M, 0),
  ROW("dc_in.power", "W", DOUBLE, "DC input power", "DC input power", "power", M, 0),
  ROW("dc_in.voltage", "V", DOUBLE, "DC input voltage", "DC input voltage", "voltage", M, 0),
  ROW("dc_out.current", "A", DOUBLE, "DC output current", "DC output current", "current", M, 0),
  ROW("dc_out.voltage", "V", DOUBLE, "DC output voltage", "DC output voltage", "voltage", M, 0),
  ROW("dc_system.power", "W", DOUBLE, "DC system power", "DC system power (GX)", "power", M, 0),
  LROW("device.alarm", ENUM, alarm_level, "Alarm level", "Alarm notification (VE.Bus: no alarm, warning, alarm)", "enum", 1),
  LROW("device.alarm_reason", BITMASK, alarm_reason, "Alarm reason", "Active alarms", NULL, 1),
  LROW("device.ble_capabilities", BITMASK, ble_capabilities, "Bluetooth capabilities", "Bluetooth capabilities", NULL, 1),
  LROW("device.error", ENUM, charger_error, "Charger error", "Charger (solar, AC, DC/DC, inverter RS) error code", "enum", 1),
  LROW("device.mode", ENUM, device_mode, "Device mode", "Device mode (charger, inverter, off, eco)", "enum", 0),
  LROW("device.off_reason", BITMASK, off_reason, "Off reason", "Reasons the device is off", NULL, 1),
  LROW("device.output_state", ENUM, output_state, "Output state", "Output state", "enum", 0),
  LROW("device.state", ENUM, device_state, "Device state", "Operation mode (charger, inverter or converter state)", "enum", 0),
  ROW("device.temperature", "°C", DOUBLE, "Device temperature", "Device internal temperature", "temperature", M, 1),
  ROW("device.uptime", "s", DOUBLE, "Uptime", "Time since the device started", "duration", M, 1),
  LROW("device.warning_reason", BITMASK, alarm_reason, "Warning reason", "Active warnings", NULL, 1),
  ROW("history.auto_syncs", "", INT, "Automatic synchronisations", "Automatic synchronisations", NULL, TI, 1),
  ROW("history.average_discharge", "Ah", DOUBLE, "Average discharge", "Depth of the average discharge", NULL, M, 1),
  ROW("history.charge_cycles", "", INT, "Charge cycles", "Charge cycles", NULL, TI, 1),
  ROW("history.charged_energy", "kWh", DOUBLE, "Charged energy", "Charged energy (consumed energy in DC-monitor mode)", "energy", TI, 1),
  ROW("history.cumulative_ah", "Ah", DOUBLE, "Cumulative Ah drawn", "Cumulative Ah drawn", NULL, M, 1),
  ROW("history.day_sequence", "", INT, "Day sequence number", "Day sequence number of the daily history (0..364)", NULL, NULL, 1),
  ROW("history.deepest_discharge", "Ah", DOUBLE, "Deepest discharge", "Depth of the deepest discharge", NULL, M, 1),
  ROW("history.discharged_energy", "kWh", DOUBLE, "Discharged energy", "Discharged energy (produced energy in DC-monitor mode)", "energy", TI, 1),
  ROW("history.full_discharges", "", INT, "Full discharges", "Full discharges", NULL, TI, 1),
  ROW("history.high_aux_voltage_alarms", "", INT, "High starter voltage alarms", "High auxiliary voltage alarms", NULL, TI, 1),
  ROW("history.high_voltage_alarms", "", INT, "High voltage alarms", "High voltage alarms", NULL, TI, 1),
  ROW("history.last_discharge", "Ah", DOUBLE, "Last discharge", "Depth of the last discharge", NULL, M, 1),
  ROW("history.low_aux_voltage_alarms", "", INT, "Low starter voltage alarms", "Low auxiliary voltage alarms", NULL, TI, 1),
  ROW("history.low_voltage_alarms", "", INT, "Low voltage alarms", "Low voltage alarms", NULL, TI, 1),
  ROW("history.max_aux_voltage", "V", DOUBLE, "Highest starter voltage", "Highest auxiliary voltage", "voltage", M, 1),
  ROW("history.max_voltage", "V", DOUBLE, "Highest battery voltage", "Highest battery voltage", "voltage", M, 1),
  ROW("history.min_aux_voltage", "V", DOUBLE, "Lowest starter voltage", "Lowest auxiliary voltage", "voltage", M, 1),
  ROW("history.min_voltage", "V", DOUBLE, "Lowest battery voltage", "Lowest battery voltage", "voltage", M, 1),
  ROW("history.time_since_full_charge", "s", DOUBLE, "Time since full charge", "Time since the last full charge", "duration", M, 1),
  ROW("link.online", "", BOOL, "Link online", "The device link delivers data", "connectivity", NULL, 1),
  ROW("link.rssi", "dBm", INT, "Signal strength", "Bluetooth signal strength", "signal_strength", M, 1),
  ROW("load.current", "A", DOUBLE, "Load current", "Load output current", "current", M, 0),
  ROW("load.state", "", BOOL, "Load output", "Load output on", "power", NULL, 0),
  ROW("monitor.alarm", "", BOOL, "Alarm", "Battery monitor alarm condition active (not the buzzer)", "problem", NULL, 0),
  LROW("monitor.aux_input", ENUM, aux_input, "Aux input", "Battery monitor auxiliary input use", "enum", 1),
  LROW("monitor.mode", ENUM, monitor_mode, "Monitor mode", "DC energy meter type", "enum", 1),
  ROW("pv.current", "A", DOUBLE, "PV current", "PV current", "current", M, 0),
  ROW("pv.energy_in", "kWh", DOUBLE, "PV energy", "Energy from the PV array (energy processor)", "energy", TI, 0),
  ROW("pv.energy_net", "kWh", DOUBLE, "PV net energy", "PV energy in less energy out (energy processor)", "energy", "total", 0),
  ROW("pv.energy_out", "kWh", DOUBLE, "PV energy out", "Energy into the PV input, counted positive (energy processor)", "energy", TI, 0),
  ROW("pv.max_power_today", "W", DOUBLE, "Max PV power today", "Maximum PV power today", "power", M, 0),
  ROW("pv.max_power_yesterday", "W", DOUBLE, "Max PV power yesterday", "Maximum PV power yesterday", "power", M, 0),
  ROW("pv.power", "W", DOUBLE, "PV power", "PV power", "power", M, 0),
  LROW("pv.tracker_mode", ENUM, tracker_mode, "Tracker mode", "MPP tracker mode", "enum", 1),
  ROW("pv.voltage", "V", DOUBLE, "PV voltage", "PV voltage", "voltage", M, 0),
  ROW("relay.state", "", BOOL, "Relay", "Relay closed", NULL, NULL, 0),
  LROW("vebus.error", ENUM, vebus_error, "VE.Bus error", "VE.Bus system error code", "enum", 1),
  ROW("yield.today", "kWh", DOUBLE, "Yield today", "Energy yield today", "energy", TI, 0),
  ROW("yield.total", "kWh", DOUBLE, "Total yield", "Energy yield since installation/reset", "energy", TI, 0),
  ROW("yield.yesterday", "kWh", DOUBLE, "Yield yesterday", "Energy yield yesterday", "energy", "total", 0),
};

#define NTABLE (sizeof table / sizeof table[0])

/* Quantities plugins declared, in load order, each a copy with the host's
 * struct size (the plugin's pointers inside stay the plugin's: static for
 * as long as it is loaded). */
struct declared {
  struct vq_quantity_info info;
  char *plugin;
};
static struct declared *declared;
static size_t ndeclared;

/* Plugins pass the same (static) name strings over and over: remember
 * where each pointer led.  A hit is confirmed with one strcmp, so a buffer
 * reused for another name is never mistaken. */
enum { CACHE = 256 };
static const char *cache_keys[CACHE];
static const struct vq_quantity_info *cache_found[CACHE];

static void attach_labels(void) {
  static int done;
  size_t i;
  if (done) return;
  for (i = 0; i < NTABLE; i++) {
    const struct vic_label_set *set;
    if (table[i].label_set == NULL) continue;
    set = vic_label_set_find(table[i].label_set);
    if (set == NULL) continue; /* test_vocabulary reports it */
    table[i].labels = set->labels;
    table[i].nlabels = set->nlabels;
  }
  done = 1;
}

static int compare_name(const void *key, const void *row) {
  return strcmp(key, ((const struct vq_quantity_info *)row)->name);
}

static const struct vq_quantity_info *find_uncached(const char *name) {
  const struct vq_quantity_info *q;
  size_t i;
  attach_labels();
  q = bsearch(name, table, NTABLE, sizeof table[0], compare_name);
  if (q != NULL) return q;
  for (i = 0; i < ndeclared; i++)
    if (strcmp(declared[i].info.name, name) == 0) return &declared[i].info;
  return NULL;
}

const struct vq_quantity_info *vq_vocabulary_find(const char *name) {
  size_t slot;
  const struct vq_quantity_info *q;
  if (name == NULL) return NULL;
  slot = ((uintptr_t)name >> 3) % CACHE;
  if (cache_keys[slot] == name && cache_found[slot] != NULL &&
      strcmp(cache_found[slot]->name, name) == 0)
    return cache_found[slot];
  q = find_uncached(name);
  cache_keys[slot] = name;
  cache_found[slot] = q;
  return q;
}

const struct vq_quantity_info *vq_vocabulary_all(size_t *count) {
  attach_labels();
  *count = NTABLE;
  return table;
}

const struct vq_quantity_info *vq_vocabulary_declared(size_t i,
                                                      const char **plugin) {
  if (i >= ndeclared) return NULL;
  if (plugin != NULL) *plugin = declared[i].plugin;
  return &declared[i].info;
}

static int valid_quantity_name(const char *s) {
  int dot = 0;
  if (*s < 'a' || *s > 'z') return 0;
  for (; *s; s++) {
    if (*s == '.') {
      if (s[1] == '\0' || s[1] == '.') return 0;
      dot = 1;
    } else if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
                 *s == '_')) {
      return 0;
    }
  }
  return dot;
}

/* The fields of a 1.0/1.1 vq_quantity_info (everything before short_name). */
#define INFO_MIN_SIZE offsetof(struct vq_quantity_info, short_name)

/* Check one declared entry; 0 or -EINVAL with a message. */
static int check_entry(const char *plugin, const struct vq_quantity_info *q,
                       const struct vq_quantity_info *copy, char *err,
                       size_t errlen) {
  uint32_t i;
  if (!valid_quantity_name(q->name)) {
    snprintf(err, errlen,
             "plugin '%s' declares a quantity named '%s': names are "
             "lowercase words joined by '.' (\"gx.vebus.ac_frequency\")",
             plugin, q->name);
    return -EINVAL;
  }
  if (copy->type < VQ_VALUE_DOUBLE || copy->type > VQ_VALUE_BITMASK) {
    snprintf(err, errlen, "plugin '%s' declares quantity '%s' with value "
             "type %u, which is none of enum vq_value_type", plugin, q->name,
             (unsigned)copy->type);
    return -EINVAL;
  }
  if (copy->short_name != NULL && strlen(copy->short_name) > 40) {
    snprintf(err, errlen, "plugin '%s' declares quantity '%s' with a short "
             "name of %zu characters (at most 40)", plugin, q->name,
             strlen(copy->short_name));
    return -EINVAL;
  }
  if (copy->nlabels > 0 && copy->labels == NULL) {
    snprintf(err, errlen, "plugin '%s' declares quantity '%s' with %u labels "
             "but no label array", plugin, q->name, (unsigned)copy->nlabels);
    return -EINVAL;
  }
  for (i = 0; i < copy->nlabels; i++) {
    if (copy->labels[i].label == NULL || copy->labels[i].label[0] == '\0' ||
        (i > 0 && copy->labels[i - 1].code >= copy->labels[i].code)) {
      snprintf(err, errlen, "plugin '%s' declares quantity '%s' whose labels "
               "are not sorted by code, unique and non-empty (entry %u)",
               plugin, q->name, (unsigned)i);
      return -EINVAL;
    }
  }
  return 0;
}

int vq_vocabulary_declare(const char *plugin,
                          const struct vq_quantity_info *list, char *err,
                          size_t errlen) {
  const char *p = (const char *)list;
  size_t n = 0, i, j, stride;
  struct declared *grown;
  if (list == NULL) return 0;
  /* The plugin's struct size is the stride of its array. */
  stride = list->size;
  if (stride < INFO_MIN_SIZE) {
    snprintf(err, errlen, "plugin '%s' declares quantities with an entry "
             "size of %u bytes, smaller than ABI 1.0's %zu", plugin,
             (unsigned)list->size, (size_t)INFO_MIN_SIZE);
    return -EPROTO;
  }
  while (((const struct vq_quantity_info *)(const void *)(p + n * stride))->name != NULL)
    n++;
  if (n == 0) return 0;
  grown = realloc(declared, (ndeclared + n) * sizeof *declared);
  if (grown == NULL) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  declared = grown;
  for (i = 0; i < n; i++) {
    const struct vq_quantity_info *q =
        (const struct vq_quantity_info *)(const void *)(p + i * stride);
    struct declared *d = &declared[ndeclared + i];
    int rc;
    memset(&d->info, 0, sizeof d->info);
    memcpy(&d->info, q, stride < sizeof d->info ? stride : sizeof d->info);
    d->info.size = sizeof d->info;
    if (d->info.unit == NULL) d->info.unit = "";
    if (d->info.description == NULL) d->info.description = "";
    if (d->info.type != VQ_VALUE_ENUM && d->info.type != VQ_VALUE_BITMASK) {
      d->info.label_set = NULL;
      d->info.labels = NULL;
      d->info.nlabels = 0;
    }
    rc = check_entry(plugin, q, &d->info, err, errlen);
    if (rc == 0 && bsearch(q->name, table, NTABLE, sizeof table[0],
                           compare_name) != NULL) {
      snprintf(err, errlen, "plugin '%s' declares quantity '%s', which the "
               "core vocabulary already has (doc/quantities.md): use the "
               "core quantity or rename the plugin's", plugin, q->name);
      rc = -EEXIST;
    }
    for (j = 0; rc == 0 && j < ndeclared; j++)
      if (strcmp(declared[j].info.name, q->name) == 0) {
        snprintf(err, errlen, "plugin '%s' declares quantity '%s', which "
                 "plugin '%s' already declares: rename one of them", plugin,
                 q->name, declared[j].plugin);
        rc = -EEXIST;
      }
    for (j = 0; rc == 0 && j < i; j++)
      if (strcmp(declared[ndeclared + j].info.name, q->name) == 0) {
        snprintf(err, errlen, "plugin '%s' declares quantity '%s' twice",
                 plugin, q->name);
        rc = -EEXIST;
      }
    if (rc == 0 && (d->plugin = strdup(plugin)) == NULL) {
      snprintf(err, errlen, "out of memory");
      rc = -ENOMEM;
    }
    if (rc != 0) {
      while (i-- > 0) free(declared[ndeclared + i].plugin);
      return rc; /* nothing of this plugin was added */
    }
  }
  ndeclared += n;
  return 0;
}

void vq_vocabulary_forget_declared(void) {
  size_t i;
  for (i = 0; i < ndeclared; i++) free(declared[i].plugin);
  free(declared);
  declared = NULL;
  ndeclared = 0;
  /* The cache may point into the array just freed. */
  memset(cache_keys, 0, sizeof cache_keys);
  memset(cache_found, 0, sizeof cache_found);
}

static const char *type_name(uint32_t type) {
  switch (type) {
  case VQ_VALUE_DOUBLE: return "number";
  case VQ_VALUE_INT: return "integer";
  case VQ_VALUE_BOOL: return "bool";
  case VQ_VALUE_STRING: return "string";
  case VQ_VALUE_ENUM: return "enum";
  default: return "bitmask";
  }
}

static void quantity_rows(FILE *out, const struct vq_quantity_info *q,
                          size_t n, size_t stride) {
  size_t i;
  for (i = 0; i < n; i++, q = (const void *)((const char *)q + stride)) {
    fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %s%s |\n", q->name,
            *q->unit ? q->unit : "", type_name(q->type),
            q->label_set ? q->label_set : "",
            q->ha_device_class ? q->ha_device_class : "",
            q->ha_state_class ? q->ha_state_class : "",
            q->short_name ? q->short_name : "", q->description,
            q->diagnostic ? " (diagnostic)" : "");
  }
}

static const char *const table_head =
    "| quantity | unit | type | labels | Home Assistant device_class | "
    "state_class | short name | description |\n"
    "|---|---|---|---|---|---|---|---|\n";

static void label_rows(FILE *out, const char *name,
                       const struct vq_label *labels, uint32_t n,
                       const char *kind) {
  uint32_t i;
  fprintf(out, "| %s | %s | ", name, kind);
  for (i = 0; i < n; i++)
    fprintf(out, "%s%lld %s", i ? ", " : "", (long long)labels[i].code,
            labels[i].label);
  fprintf(out, " |\n");
}

void vq_vocabulary_markdown(FILE *out) {
  size_t i;
  attach_labels();
  fprintf(out,
          "# Quantities\n\n"
          "The normative list of quantity names vicacq uses, whatever the "
          "transport.\nGenerated from the table in `daemon/vocabulary.c` "
          "and the label sets in\n`lib/victron/victron_labels.c` by "
          "`vicacq --list-quantities`; `make check` fails\nwhen this file "
          "and the tables disagree.\n\n"
          "Signs: current and power are positive into the battery; consumed "
          "Ah is 0 or negative.\nA value the device "
          "reports as not available is null (JSON), unknown (Home "
          "Assistant),\nor left out (InfluxDB), never a sentinel number.\n\n"
          "Enums carry a code and its label, bitmasks the bits and the "
          "labels of the set bits,\ncomma-separated in bit order. A code "
          "without a label is `unknown_<code>`, a bit\nwithout one "
          "`bit_<n>`, a bitmask with no bit set `none`; the text is never "
          "empty.\nThe label sets and the choices behind them: "
          "doc/victron.md.\n\n");
  fputs(table_head, out);
  quantity_rows(out, table, NTABLE, sizeof table[0]);
  fprintf(out,
          "\n## Label sets\n\n"
          "Enum sets map a code to its label; bitmask sets a bit number "
          "(0 = least significant)\nto the label of that bit; pairs sets "
          "name 2-bit fields (field 0 = bits 1:0), whose\ntext is "
          "`field=state` for each field with a state, `none` when none "
          "has one.\n\n"
          "| label set | kind | code label |\n|---|---|---|\n");
  for (i = 0; vic_label_sets[i] != NULL; i++) {
    const struct vic_label_set *s = vic_label_sets[i];
    char kind[64];
    if (s->kind == VIC_PAIRS)
      snprintf(kind, sizeof kind, "pairs (states: 1 %s, 2 %s, 3 %s)",
               s->pair_states[1], s->pair_states[2], s->pair_states[3]);
    else
      snprintf(kind, sizeof kind, "%s", s->kind == VIC_ENUM ? "enum" : "bitmask");
    label_rows(out, s->name, s->labels, s->nlabels, kind);
  }
  for (i = 0; i < ndeclared;) {
    /* One section per plugin: its quantities, then its label sets. */
    const char *plugin = declared[i].plugin;
    size_t first = i, j;
    int any_labels = 0;
    fprintf(out, "\n## Declared by plugin %s\n\n", plugin);
    fputs(table_head, out);
    for (; i < ndeclared && strcmp(declared[i].plugin, plugin) == 0; i++) {
      quantity_rows(out, &declared[i].info, 1, sizeof declared[i].info);
      any_labels |= declared[i].info.nlabels > 0;
    }
    if (!any_labels) continue;
    fprintf(out, "\n| label set | kind | code label |\n|---|---|---|\n");
    for (j = first; j < i; j++) {
      const struct vq_quantity_info *q = &declared[j].info;
      if (q->nlabels > 0)
        label_rows(out, q->label_set ? q->label_set : q->name, q->labels,
                   q->nlabels, q->type == VQ_VALUE_ENUM ? "enum" : "bitmask");
    }
  }
}

/* The quantity vocabulary table.  One row per quantity; keep rows sorted by
 * name (vq_vocabulary_find uses binary search and test_vocabulary checks the
 * order).  Units are the strings Home Assistant accepts for the device
 * class (doc/protocols/sinks.md §1.5); a device class is given only where HA
 * has one that fits, and state classes follow HA's rules (energy totals are
 * total_increasing, enums have none). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vocabulary.h"

#define ROW(name, unit, type, desc, dc, sc, diag)                              \
  { sizeof(struct vq_quantity_info), VQ_VALUE_##type, name, unit, desc, dc, sc, \
    diag, NULL, NULL, NULL, 0 }
#define M "measurement"
#define TI "total_increasing"

static const struct vq_quantity_info table[] = {
  ROW("ac_in.active", "", ENUM, "Active AC input", "enum", NULL, 0),
  ROW("ac_in.current", "A", DOUBLE, "AC input current", "current", M, 0),
  ROW("ac_in.power", "W", DOUBLE, "AC input power", "power", M, 0),
  ROW("ac_in.voltage", "V", DOUBLE, "AC input voltage", "voltage", M, 0),
  ROW("ac_out.apparent_power", "VA", DOUBLE, "AC output apparent power", "apparent_power", M, 0),
  ROW("ac_out.current", "A", DOUBLE, "AC output current", "current", M, 0),
  ROW("ac_out.power", "W", DOUBLE, "AC output power", "power", M, 0),
  ROW("ac_out.voltage", "V", DOUBLE, "AC output voltage", "voltage", M, 0),
  ROW("aux.voltage", "V", DOUBLE, "Auxiliary (starter) battery voltage", "voltage", M, 0),
  ROW("battery.balancer_status", "", ENUM, "Cell balancer status", "enum", NULL, 1),
  ROW("battery.consumed_ah", "Ah", DOUBLE, "Consumed charge (0 or negative)", NULL, M, 0),
  ROW("battery.current", "A", DOUBLE, "Battery current, positive into the battery", "current", M, 0),
  ROW("battery.midpoint_deviation", "%", DOUBLE, "Midpoint deviation", NULL, M, 0),
  ROW("battery.midpoint_voltage", "V", DOUBLE, "Midpoint voltage of the bank", "voltage", M, 0),
  ROW("battery.power", "W", DOUBLE, "Battery power, positive into the battery", "power", M, 0),
  ROW("battery.soc", "%", DOUBLE, "State of charge", "battery", M, 0),
  ROW("battery.temperature", "°C", DOUBLE, "Battery temperature", "temperature", M, 0),
  ROW("battery.time_to_go", "min", DOUBLE, "Time to go at the present discharge", "duration", M, 0),
  ROW("battery.voltage", "V", DOUBLE, "Battery voltage", "voltage", M, 0),
  ROW("battery2.current", "A", DOUBLE, "Charger output 2 current", "current", M, 0),
  ROW("battery2.voltage", "V", DOUBLE, "Charger output 2 voltage", "voltage", M, 0),
  ROW("battery3.current", "A", DOUBLE, "Charger output 3 current", "current", M, 0),
  ROW("battery3.voltage", "V", DOUBLE, "Charger output 3 voltage", "voltage", M, 0),
  ROW("bms.error", "", INT, "BMS error code", NULL, NULL, 1),
  ROW("bms.flags", "", BITMASK, "BMS flags", NULL, NULL, 1),
  ROW("bms.io_status", "", BITMASK, "BMS input/output status", NULL, NULL, 1),
  ROW("bms.warnings_alarms", "", BITMASK, "BMS warnings and alarms", NULL, NULL, 1),
  ROW("cell.1.voltage", "V", DOUBLE, "Cell 1 voltage", "voltage", M, 0),
  ROW("cell.2.voltage", "V", DOUBLE, "Cell 2 voltage", "voltage", M, 0),
  ROW("cell.3.voltage", "V", DOUBLE, "Cell 3 voltage", "voltage", M, 0),
  ROW("cell.4.voltage", "V", DOUBLE, "Cell 4 voltage", "voltage", M, 0),
  ROW("cell.5.voltage", "V", DOUBLE, "Cell 5 voltage", "voltage", M, 0),
  ROW("cell.6.voltage", "V", DOUBLE, "Cell 6 voltage", "voltage", M, 0),
  ROW("cell.7.voltage", "V", DOUBLE, "Cell 7 voltage", "voltage", M, 0),
  ROW("cell.8.voltage", "V", DOUBLE, "Cell 8 voltage", "voltage", M, 0),
  ROW("charger.current_limit", "A", DOUBLE, "Charge current limit (writable)", "current", M, 0),
  ROW("dc_in.current", "A", DOUBLE, "DC input current", "current", M, 0),
  ROW("dc_in.power", "W", DOUBLE, "DC input power", "power", M, 0),
  ROW("dc_in.voltage", "V", DOUBLE, "DC input voltage", "voltage", M, 0),
  ROW("dc_out.current", "A", DOUBLE, "DC output current", "current", M, 0),
  ROW("dc_out.voltage", "V", DOUBLE, "DC output voltage", "voltage", M, 0),
  ROW("dc_system.power", "W", DOUBLE, "DC system power (GX)", "power", M, 0),
  ROW("device.alarm", "", ENUM, "Alarm notification", "enum", NULL, 1),
  ROW("device.alarm_reason", "", BITMASK, "Active alarms", NULL, NULL, 1),
  ROW("device.ble_capabilities", "", BITMASK, "Bluetooth capabilities", NULL, NULL, 1),
  ROW("device.error", "", ENUM, "Error code", "enum", NULL, 1),
  ROW("device.mode", "", ENUM, "Device mode (charger, inverter, off, eco)", "enum", NULL, 0),
  ROW("device.off_reason", "", BITMASK, "Reasons the device is off", NULL, NULL, 1),
  ROW("device.output_state", "", ENUM, "Output state", "enum", NULL, 0),
  ROW("device.state", "", ENUM, "Operation mode", "enum", NULL, 0),
  ROW("device.temperature", "°C", DOUBLE, "Device internal temperature", "temperature", M, 1),
  ROW("device.uptime", "s", DOUBLE, "Time since the device started", "duration", M, 1),
  ROW("device.warning_reason", "", BITMASK, "Active warnings", NULL, NULL, 1),
  ROW("history.auto_syncs", "", INT, "Automatic synchronisations", NULL, TI, 1),
  ROW("history.average_discharge", "Ah", DOUBLE, "Depth of the average discharge", NULL, M, 1),
  ROW("history.charge_cycles", "", INT, "Charge cycles", NULL, TI, 1),
  ROW("history.charged_energy", "kWh", DOUBLE, "Charged energy (consumed energy in DC-monitor mode)", "energy", TI, 1),
  ROW("history.cumulative_ah", "Ah", DOUBLE, "Cumulative Ah drawn", NULL, M, 1),
  ROW("history.day_sequence", "", INT, "Day sequence number of the daily history (0..364)", NULL, NULL, 1),
  ROW("history.deepest_discharge", "Ah", DOUBLE, "Depth of the deepest discharge", NULL, M, 1),
  ROW("history.discharged_energy", "kWh", DOUBLE, "Discharged energy (produced energy in DC-monitor mode)", "energy", TI, 1),
  ROW("history.full_discharges", "", INT, "Full discharges", NULL, TI, 1),
  ROW("history.high_aux_voltage_alarms", "", INT, "High auxiliary voltage alarms", NULL, TI, 1),
  ROW("history.high_voltage_alarms", "", INT, "High voltage alarms", NULL, TI, 1),
  ROW("history.last_discharge", "Ah", DOUBLE, "Depth of the last discharge", NULL, M, 1),
  ROW("history.low_aux_voltage_alarms", "", INT, "Low auxiliary voltage alarms", NULL, TI, 1),
  ROW("history.low_voltage_alarms", "", INT, "Low voltage alarms", NULL, TI, 1),
  ROW("history.max_aux_voltage", "V", DOUBLE, "Highest auxiliary voltage", "voltage", M, 1),
  ROW("history.max_voltage", "V", DOUBLE, "Highest battery voltage", "voltage", M, 1),
  ROW("history.min_aux_voltage", "V", DOUBLE, "Lowest auxiliary voltage", "voltage", M, 1),
  ROW("history.min_voltage", "V", DOUBLE, "Lowest battery voltage", "voltage", M, 1),
  ROW("history.time_since_full_charge", "s", DOUBLE, "Time since the last full charge", "duration", M, 1),
  ROW("link.online", "", BOOL, "The device link delivers data", "connectivity", NULL, 1),
  ROW("link.rssi", "dBm", INT, "Bluetooth signal strength", "signal_strength", M, 1),
  ROW("load.current", "A", DOUBLE, "Load output current", "current", M, 0),
  ROW("load.state", "", BOOL, "Load output on", "power", NULL, 0),
  ROW("monitor.aux_input", "", ENUM, "Battery monitor auxiliary input use", "enum", NULL, 1),
  ROW("monitor.mode", "", ENUM, "DC energy meter type", "enum", NULL, 1),
  ROW("pv.current", "A", DOUBLE, "PV current", "current", M, 0),
  ROW("pv.max_power_today", "W", DOUBLE, "Maximum PV power today", "power", M, 0),
  ROW("pv.max_power_yesterday", "W", DOUBLE, "Maximum PV power yesterday", "power", M, 0),
  ROW("pv.power", "W", DOUBLE, "PV power", "power", M, 0),
  ROW("pv.tracker_mode", "", ENUM, "MPP tracker mode", "enum", NULL, 1),
  ROW("pv.voltage", "V", DOUBLE, "PV voltage", "voltage", M, 0),
  ROW("relay.state", "", BOOL, "Relay closed", NULL, NULL, 0),
  ROW("yield.today", "kWh", DOUBLE, "Energy yield today", "energy", TI, 0),
  ROW("yield.total", "kWh", DOUBLE, "Energy yield since installation/reset", "energy", TI, 0),
  ROW("yield.yesterday", "kWh", DOUBLE, "Energy yield yesterday", "energy", "total", 0),
};

static int compare_name(const void *key, const void *row) {
  return strcmp(key, ((const struct vq_quantity_info *)row)->name);
}

const struct vq_quantity_info *vq_vocabulary_find(const char *name) {
  /* Plugins pass the same (static) name strings over and over: remember
   * where each pointer led.  A hit is confirmed with one strcmp, so a
   * buffer reused for another name is never mistaken. */
  enum { CACHE = 256 };
  static const char *keys[CACHE];
  static const struct vq_quantity_info *found[CACHE];
  size_t slot;
  const struct vq_quantity_info *q;
  if (name == NULL) return NULL;
  slot = ((uintptr_t)name >> 3) % CACHE;
  if (keys[slot] == name && found[slot] != NULL &&
      strcmp(found[slot]->name, name) == 0)
    return found[slot];
  q = bsearch(name, table, sizeof table / sizeof table[0], sizeof table[0],
              compare_name);
  keys[slot] = name;
  found[slot] = q;
  return q;
}

const struct vq_quantity_info *vq_vocabulary_all(size_t *count) {
  *count = sizeof table / sizeof table[0];
  return table;
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

void vq_vocabulary_markdown(FILE *out) {
  size_t i;
  fprintf(out,
          "# Quantities\n\n"
          "The normative list of quantity names vicacq uses, whatever the "
          "transport.\nGenerated from the table in `daemon/vocabulary.c` by "
          "`vicacq --list-quantities`;\n`make check` fails when this file "
          "and the table disagree.\n\n"
          "Signs: current and power are positive into the battery; consumed "
          "Ah is 0 or negative.\nEnums carry a code and its label, bitmasks "
          "the bits and the labels of the set bits.\nA value the device "
          "reports as not available is null (JSON), unknown (Home "
          "Assistant),\nor left out (InfluxDB), never a sentinel number.\n\n"
          "| quantity | unit | type | Home Assistant device_class | "
          "state_class | description |\n"
          "|---|---|---|---|---|---|\n");
  for (i = 0; i < sizeof table / sizeof table[0]; i++) {
    const struct vq_quantity_info *q = &table[i];
    fprintf(out, "| %s | %s | %s | %s | %s | %s%s |\n", q->name,
            *q->unit ? q->unit : "", type_name(q->type),
            q->ha_device_class ? q->ha_device_class : "",
            q->ha_state_class ? q->ha_state_class : "", q->description,
            q->diagnostic ? " (diagnostic)" : "");
  }
}

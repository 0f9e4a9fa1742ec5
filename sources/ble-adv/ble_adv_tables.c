/* Record layouts (doc/protocols/ble-adv.md §5) and enumerations (§6) as
 * data.  Bit offsets are payload bits (doc start bit - 32).  Where the
 * sources disagree, the comments give the verdict of the protocol notes
 * (§7). */
#include "ble_adv.h"

#define N_(a) (sizeof(a) / sizeof((a)[0]))

/* ---- enumerations ------------------------------------------------------ */

/* §6.1 device state / operation mode. */
static const struct ble_label state_codes[] = {
  {0, "off"}, {1, "low_power"}, {2, "fault"}, {3, "bulk"},
  {4, "absorption"}, {5, "float"}, {6, "storage"}, {7, "equalize"},
  {8, "passthru"}, {9, "inverting"}, {10, "assisting"}, {11, "power_supply"},
  {244, "sustain"}, {245, "starting_up"}, {246, "repeated_absorption"},
  {247, "auto_equalize"}, {248, "battery_safe"},
  /* 0xF9: "active" (keshavdv, theengs) vs "load_detect" (ESPHome).  Seen
   * from Smart BatteryProtect with its output on, where "active" fits. */
  {249, "active"},
  {250, "blocked"}, {251, "test"}, {252, "external_control"},
};
static const struct ble_labels device_state = {state_codes, N_(state_codes), NULL, 0, NULL};

/* §6.2 charger error (VE_REG_CHR_ERROR_CODE). */
static const struct ble_label error_codes[] = {
  {0, "no_error"}, {1, "battery_temperature_high"}, {2, "battery_voltage_high"},
  {3, "remote_temperature_sensor_failure"}, {4, "remote_temperature_sensor_failure"},
  {5, "remote_temperature_sensor_failure_latched"},
  {6, "remote_voltage_sense_failure"}, {7, "remote_voltage_sense_failure"},
  {8, "remote_voltage_sense_failure"}, {11, "battery_high_ripple"},
  {14, "battery_temperature_low"}, {17, "charger_temperature_high"},
  {18, "charger_over_current"}, {19, "charger_current_reversed"},
  {20, "bulk_time_limit_exceeded"}, {21, "current_sensor_issue"},
  {22, "internal_temperature_sensor_failure"}, {23, "internal_temperature_sensor_failure"},
  {24, "fan_failure"}, {26, "terminals_overheated"}, {27, "charger_short_circuit"},
  {28, "power_stage_issue"}, {29, "over_charge_protection"},
  {33, "pv_input_voltage_high"}, {34, "pv_input_current_high"}, {35, "pv_over_power"},
  {38, "input_shutdown_battery_voltage"}, {39, "input_shutdown_current_flow"},
  {40, "pv_input_failed_to_shutdown"}, {41, "inverter_shutdown_pv_isolation"},
  {42, "inverter_shutdown_pv_isolation"}, {43, "inverter_shutdown_ground_fault"},
  {50, "inverter_overload"}, {51, "inverter_temperature_high"},
  {52, "inverter_peak_current"}, {53, "inverter_output_voltage"},
  {54, "inverter_output_voltage"}, {55, "inverter_self_test_failed"},
  {56, "inverter_self_test_failed"}, {57, "inverter_ac_voltage_on_output"},
  {58, "inverter_self_test_failed"}, {65, "communication_warning"},
  {66, "incompatible_device"}, {67, "bms_connection_lost"},
  {68, "network_misconfigured"}, {69, "network_misconfigured"},
  {70, "network_misconfigured"}, {71, "network_misconfigured"},
  {80, "pv_input_shutdown"}, {81, "pv_input_shutdown"}, {82, "pv_input_shutdown"},
  {83, "pv_input_shutdown"}, {84, "pv_input_shutdown"}, {85, "pv_input_shutdown"},
  {86, "pv_input_shutdown"}, {87, "pv_input_shutdown"},
  {114, "cpu_temperature_high"}, {116, "calibration_data_lost"},
  {117, "invalid_firmware"}, {119, "settings_invalid"}, {121, "tester_fail"},
  {200, "internal_dc_voltage_error"}, {201, "internal_dc_voltage_error"},
  {202, "pv_residual_current_sensor_failure"}, {203, "internal_supply_voltage_error"},
  {205, "internal_supply_voltage_error"}, {212, "internal_supply_voltage_error"},
  {215, "internal_supply_voltage_error"},
};
static const struct ble_labels charger_error = {error_codes, N_(error_codes), NULL, 0, NULL};

/* VE.Bus error codes are in no public source (§6.14): codes only. */
static const struct ble_labels no_labels = {NULL, 0, NULL, 0, NULL};

/* §6.3 off reason (32 bits; 16-31 reserved). */
static const char *const off_reason_bits[] = {
  "no_input_power", "power_switch", "device_mode", "remote_input",
  "protection_active", "paygo_out_of_credit", "bms", "engine_shutdown",
  "analysing_input_voltage", "low_battery_temperature", "no_pv_power",
  "battery_voltage_low", "ac_input_voltage_low", "slave_out_of_sync",
  "not_enough_inverters", "alarm_prevents_start",
};
static const struct ble_labels off_reason = {NULL, 0, off_reason_bits, N_(off_reason_bits), NULL};

/* §6.4 alarm / warning reason. */
static const char *const alarm_bits[] = {
  "low_voltage", "high_voltage", "low_soc", "low_starter_voltage",
  "high_starter_voltage", "low_temperature", "high_temperature",
  "mid_voltage", "overload", "dc_ripple", "low_ac_out_voltage",
  "high_ac_out_voltage", "short_circuit", "bms_lockout", "bms_cable_failure",
};
static const struct ble_labels alarm_reason = {NULL, 0, alarm_bits, N_(alarm_bits), NULL};

/* §6.5 aux input; 3 = none is the NA value. */
static const struct ble_label aux_codes[] = {
  {0, "starter_voltage"}, {1, "midpoint_voltage"}, {2, "temperature"},
};
static const struct ble_labels aux_input = {aux_codes, N_(aux_codes), NULL, 0, NULL};

/* §6.6 active AC input (record encoding). */
static const struct ble_label ac_in_codes[] = {
  {0, "ac_in_1"}, {1, "ac_in_2"}, {2, "not_connected"},
};
static const struct ble_labels ac_in_active = {ac_in_codes, N_(ac_in_codes), NULL, 0, NULL};

/* §6.7 alarm notification. */
static const struct ble_label alarm_codes[] = {
  {0, "no_alarm"}, {1, "warning"}, {2, "alarm"},
};
static const struct ble_labels alarm_notification = {alarm_codes, N_(alarm_codes), NULL, 0, NULL};

/* §6.8 balancer status. */
static const struct ble_label balancer_codes[] = {
  {0, "unknown"}, {1, "balanced"}, {2, "balancing"}, {3, "imbalance"},
};
static const struct ble_labels balancer = {balancer_codes, N_(balancer_codes), NULL, 0, NULL};

/* §6.9 BMS flags (velib order). */
static const char *const bms_flag_bits[] = {
  "charged", "almost_charged", "discharged", "almost_discharged", "charging",
  "discharging", "balancing", "relay_discharge", "relay_charge",
  "alarm_over_voltage", "warning_over_voltage", "alarm_under_voltage",
  "warning_under_voltage", "warning_charge_current",
  "warning_discharge_current", "alarm_over_temperature",
  "warning_over_temperature", "warning_under_temperature_charge",
  "alarm_under_temperature_charge", "warning_under_temperature_discharge",
  "alarm_under_temperature_discharge", "low_soc", "under_temperature",
  "short_circuit", "hardware_failure", "allowed_to_charge",
  "allowed_to_discharge", "pre_alarm", "bad_contactor", "high_current_alarm",
};
static const struct ble_labels bms_flags = {NULL, 0, bms_flag_bits, N_(bms_flag_bits), NULL};

/* §6.10 BatteryProtect output state: velib's VE_REG_DC_OUTPUT_STATUS. */
static const struct ble_label output_codes[] = {
  {0, "off"}, {1, "on"}, {2, "scheduled"}, {3, "activating"},
};
static const struct ble_labels output_state = {output_codes, N_(output_codes), NULL, 0, NULL};

/* §6.11 Lynx BMS IO status: 2-bit fields, LSB-first. */
static const char *const io_fields[] = {
  "contactor_closed", "allowed_to_charge", "allowed_to_discharge",
  "user_relay", "aux_output", "remote_enabled", "alternator_allowed_to_charge",
};
static const char *const io_states[] = {NULL, "yes", "no", "invalid"};
static const struct ble_labels bms_io = {NULL, 0, io_fields, N_(io_fields), io_states};

/* §6.12 Lynx BMS warnings/alarms: nine 2-bit fields, 0 = unsupported. */
static const char *const wa_fields[] = {
  "low_cell_voltage", "high_current", "high_bms_temperature",
  "high_contactor_resistance", "bms_cable_fault", "load_disconnect",
  "field7", "field8", "field9",
};
static const char *const wa_states[] = {NULL, "ok", "warning", "alarm"};
static const struct ble_labels bms_wa = {NULL, 0, wa_fields, N_(wa_fields), wa_states};

/* §6.13 DC monitor mode (signed). */
static const struct ble_label monitor_codes[] = {
  {-9, "solar_charger"}, {-8, "wind_charger"}, {-7, "shaft_generator"},
  {-6, "alternator"}, {-5, "fuel_cell"}, {-4, "water_generator"},
  {-3, "dc_dc_charger"}, {-2, "ac_charger"}, {-1, "generic_source"},
  {0, "battery_monitor"}, {1, "generic_load"}, {2, "electric_drive"},
  {3, "fridge"}, {4, "water_pump"}, {5, "bilge_pump"}, {6, "dc_system"},
  {7, "inverter"}, {8, "water_heater"},
};
static const struct ble_labels monitor_mode = {monitor_codes, N_(monitor_codes), NULL, 0, NULL};

/* ---- field helpers ----------------------------------------------------- */

/* Number with NA. */
#define NUM(q, b, w, fl, na, sc, off) \
  {q, b, w, BLE_NUMBER, (fl) | BLE_F_NA, na, sc, off, NULL, 0, 0, 0}
/* Number without NA. */
#define NUMX(q, b, w, fl, sc, off) {q, b, w, BLE_NUMBER, fl, 0, sc, off, NULL, 0, 0, 0}
#define ENUMF(q, b, w, fl, na, lab) \
  {q, b, w, BLE_ENUM, (fl) | BLE_F_NA, na, 1, 0, &lab, 0, 0, 0}
#define ENUMX(q, b, w, fl, lab) {q, b, w, BLE_ENUM, fl, 0, 1, 0, &lab, 0, 0, 0}
#define BITS(q, b, w, lab) {q, b, w, BLE_BITMASK, 0, 0, 1, 0, &lab, 0, 0, 0}
#define PAIRS(q, b, w, lab) {q, b, w, BLE_PAIRS, 0, 0, 1, 0, &lab, 0, 0, 0}
#define INTX(q, b, w) {q, b, w, BLE_INT, 0, 0, 1, 0, NULL, 0, 0, 0}
/* Number present only when the field at (cb, cw) equals cv. */
#define CNUM(q, b, w, fl, na, sc, off, cb, cw, cv) \
  {q, b, w, BLE_NUMBER, (fl) | BLE_F_NA | BLE_F_COND, na, sc, off, NULL, cb, cw, cv}

#define KELVIN (-273.15)

/* Common fields. */
#define STATE(b) ENUMF("device.state", b, 8, 0, 0xFF, device_state)
#define CHR_ERROR(b) ENUMF("device.error", b, 8, 0, 0xFF, charger_error)
#define OFF_REASON(b) BITS("device.off_reason", b, 32, off_reason)
#define ALARM_REASON(b) BITS("device.alarm_reason", b, 16, alarm_reason)
#define BATT_V_S16(b) NUM("battery.voltage", b, 16, BLE_F_SIGNED, 0x7FFF, 0.01, 0)
#define BATT_I_S16(b) NUM("battery.current", b, 16, BLE_F_SIGNED, 0x7FFF, 0.1, 0)
#define TEMP7(q, b) NUM(q, b, 7, 0, 0x7F, 1, -40)

/* ---- layouts (§5) ------------------------------------------------------- */

/* 0x00 test record (§5.15); temperature NA 0x7F (the PDF's 0xFF cannot
 * occur in 7 bits). */
static const struct ble_field f_test[] = {
  NUM("device.uptime", 0, 30, 0, 0x3FFFFFFF, 1, 0),
  TEMP7("device.temperature", 30),
};

/* 0x01 solar charger (§5.1). */
static const struct ble_field f_solar[] = {
  STATE(0),
  CHR_ERROR(8),
  BATT_V_S16(16),
  BATT_I_S16(32),
  NUM("yield.today", 48, 16, 0, 0xFFFF, 0.01, 0),
  NUM("pv.power", 64, 16, 0, 0xFFFF, 1, 0),
  NUM("load.current", 80, 9, 0, 0x1FF, 0.1, 0),
};

/* Aux value of 0x02/0x0D, selected by the aux input at bit 64 (§5.2). */
#define AUX_VOLTAGE CNUM("aux.voltage", 48, 16, BLE_F_SIGNED, 0x7FFF, 0.01, 0, 64, 2, 0)
/* Mid-point: unsigned; all ones is NA by the PDF's convention (0xFFFE is a
 * real reading, 655.34 V). */
#define AUX_MIDPOINT CNUM("battery.midpoint_voltage", 48, 16, 0, 0xFFFF, 0.01, 0, 64, 2, 1)
/* Temperature in 0.01 K; 0xFFFF = no sensor (§7.8). */
#define AUX_TEMP CNUM("battery.temperature", 48, 16, 0, 0xFFFF, 0.01, KELVIN, 64, 2, 2)
#define AUX_INPUT ENUMF("monitor.aux_input", 64, 2, 0, 3, aux_input)
/* 22-bit current: NA is 0x1FFFFF (signed max, what real devices send); the
 * PDF's 0x3FFFFF cannot be a signed maximum (§5.2). */
#define CURRENT22 NUM("battery.current", 66, 22, BLE_F_SIGNED, 0x1FFFFF, 0.001, 0)

/* 0x02 battery monitor (§5.2). */
static const struct ble_field f_battery_monitor[] = {
  NUM("battery.time_to_go", 0, 16, 0, 0xFFFF, 1, 0),
  BATT_V_S16(16),
  ALARM_REASON(32),
  AUX_VOLTAGE,
  AUX_MIDPOINT,
  AUX_TEMP,
  AUX_INPUT,
  CURRENT22,
  /* Consumed Ah = -record value (PDF). */
  NUM("battery.consumed_ah", 88, 20, BLE_F_NEGATE, 0xFFFFF, 0.1, 0),
  NUM("battery.soc", 108, 10, 0, 0x3FF, 0.1, 0),
};

/* 0x02 from a Smart Battery Sense (0xA3A4/0xA3A5): only voltage and the
 * temperature carry data; the rest is always NA (§5.2, §1.5). */
static const struct ble_field f_battery_sense[] = {
  BATT_V_S16(16),
  AUX_TEMP,
};

/* 0x03 inverter (§5.3). */
static const struct ble_field f_inverter[] = {
  STATE(0),
  ALARM_REASON(8),
  BATT_V_S16(24),
  NUM("ac_out.apparent_power", 40, 16, 0, 0xFFFF, 1, 0),
  NUM("ac_out.voltage", 56, 15, 0, 0x7FFF, 0.01, 0),
  NUM("ac_out.current", 71, 11, 0, 0x7FF, 0.1, 0),
};

/* 0x04 DC/DC converter (§5.4). */
static const struct ble_field f_dcdc[] = {
  STATE(0),
  CHR_ERROR(8),
  NUM("dc_in.voltage", 16, 16, 0, 0xFFFF, 0.01, 0),
  NUM("dc_out.voltage", 32, 16, BLE_F_SIGNED, 0x7FFF, 0.01, 0),
  OFF_REASON(48),
};

/* 0x05 SmartLithium (§5.5).  Cells: 2.60 V + raw x 0.01 V, so raw 0
 * ("below 2.61 V") reads 2.60 V and 126 ("above 3.85 V") 3.86 V; NA 0x7F
 * (the PDF column's 0xFF cannot occur in 7 bits). */
#define CELL(n, b) NUM("cell." #n ".voltage", b, 7, 0, 0x7F, 0.01, 2.60)
static const struct ble_field f_smart_lithium[] = {
  BITS("bms.flags", 0, 32, bms_flags),
  INTX("bms.error", 32, 16),
  CELL(1, 48), CELL(2, 55), CELL(3, 62), CELL(4, 69),
  CELL(5, 76), CELL(6, 83), CELL(7, 90), CELL(8, 97),
  NUM("battery.voltage", 104, 12, 0, 0xFFF, 0.01, 0),
  ENUMF("battery.balancer_status", 116, 4, 0, 0xF, balancer),
  TEMP7("battery.temperature", 120),
};

/* 0x06 Inverter RS (§5.6). */
static const struct ble_field f_inverter_rs[] = {
  STATE(0),
  CHR_ERROR(8),
  BATT_V_S16(16),
  BATT_I_S16(32),
  NUM("pv.power", 48, 16, 0, 0xFFFF, 1, 0),
  NUM("yield.today", 64, 16, 0, 0xFFFF, 0.01, 0),
  NUM("ac_out.power", 80, 16, BLE_F_SIGNED, 0x7FFF, 1, 0),
};

/* 0x07 GX device (§5.7, "might change"). */
static const struct ble_field f_gx[] = {
  NUM("battery.voltage", 0, 16, 0, 0xFFFF, 0.01, 0),
  NUM("pv.power", 16, 20, 0, 0xFFFFF, 1, 0),
  NUM("battery.soc", 36, 7, 0, 0x7F, 1, 0),
  NUM("battery.power", 43, 21, BLE_F_SIGNED, 0x0FFFFF, 1, 0),
  NUM("dc_system.power", 64, 21, BLE_F_SIGNED, 0x0FFFFF, 1, 0),
};

/* 0x08 AC charger (§5.8): output 1 is battery.*, 2 and 3 battery2/3. */
static const struct ble_field f_ac_charger[] = {
  STATE(0),
  CHR_ERROR(8),
  NUM("battery.voltage", 16, 13, 0, 0x1FFF, 0.01, 0),
  NUM("battery.current", 29, 11, 0, 0x7FF, 0.1, 0),
  NUM("battery2.voltage", 40, 13, 0, 0x1FFF, 0.01, 0),
  NUM("battery2.current", 53, 11, 0, 0x7FF, 0.1, 0),
  NUM("battery3.voltage", 64, 13, 0, 0x1FFF, 0.01, 0),
  NUM("battery3.current", 77, 11, 0, 0x7FF, 0.1, 0),
  TEMP7("battery.temperature", 88),
  NUM("ac_in.current", 95, 9, 0, 0x1FF, 0.1, 0),
};

/* 0x09 Smart BatteryProtect (§5.9): the payload offsets, not the PDF's
 * start-bit column (which is 24 bits off). */
static const struct ble_field f_battery_protect[] = {
  STATE(0),
  ENUMF("device.output_state", 8, 8, 0, 0xFF, output_state),
  CHR_ERROR(16),
  ALARM_REASON(24),
  BITS("device.warning_reason", 40, 16, alarm_reason),
  NUM("dc_in.voltage", 56, 16, BLE_F_SIGNED, 0x7FFF, 0.01, 0),
  NUM("dc_out.voltage", 72, 16, 0, 0xFFFF, 0.01, 0),
  OFF_REASON(88),
};

/* 0x0A (Lynx Smart) BMS (§5.10): SOC NA 0x3FF and consumed Ah negative, as
 * the PDF says (keshavdv's 0x3FFF and +raw are bugs). */
static const struct ble_field f_lynx_bms[] = {
  INTX("bms.error", 0, 8),
  NUM("battery.time_to_go", 8, 16, 0, 0xFFFF, 1, 0),
  BATT_V_S16(24),
  BATT_I_S16(40),
  PAIRS("bms.io_status", 56, 16, bms_io),
  PAIRS("bms.warnings_alarms", 72, 18, bms_wa),
  NUM("battery.soc", 90, 10, 0, 0x3FF, 0.1, 0),
  NUM("battery.consumed_ah", 100, 20, BLE_F_NEGATE, 0xFFFFF, 0.1, 0),
  TEMP7("battery.temperature", 120),
};

/* 0x0B Multi RS (§5.11): state/error unsigned (0xFF = NA). */
static const struct ble_field f_multi_rs[] = {
  STATE(0),
  CHR_ERROR(8),
  BATT_I_S16(16),
  NUM("battery.voltage", 32, 14, 0, 0x3FFF, 0.01, 0),
  ENUMF("ac_in.active", 46, 2, 0, 3, ac_in_active),
  NUM("ac_in.power", 48, 16, BLE_F_SIGNED, 0x7FFF, 1, 0),
  NUM("ac_out.power", 64, 16, BLE_F_SIGNED, 0x7FFF, 1, 0),
  NUM("pv.power", 80, 16, 0, 0xFFFF, 1, 0),
  NUM("yield.today", 96, 16, 0, 0xFFFF, 0.01, 0),
};

/* 0x0C VE.Bus (§5.12). */
static const struct ble_field f_vebus[] = {
  STATE(0),
  ENUMF("device.error", 8, 8, 0, 0xFF, no_labels),
  BATT_I_S16(16),
  NUM("battery.voltage", 32, 14, 0, 0x3FFF, 0.01, 0),
  ENUMF("ac_in.active", 46, 2, 0, 3, ac_in_active),
  NUM("ac_in.power", 48, 19, BLE_F_SIGNED, 0x3FFFF, 1, 0),
  NUM("ac_out.power", 67, 19, BLE_F_SIGNED, 0x3FFFF, 1, 0),
  ENUMF("device.alarm", 86, 2, 0, 3, alarm_notification),
  TEMP7("battery.temperature", 88),
  NUM("battery.soc", 95, 7, 0, 0x7F, 1, 0),
};

/* 0x0D DC energy meter (§5.13): no mid-point in this record. */
static const struct ble_field f_dc_meter[] = {
  ENUMX("monitor.mode", 0, 16, BLE_F_SIGNED, monitor_mode),
  BATT_V_S16(16),
  ALARM_REASON(32),
  AUX_VOLTAGE,
  AUX_TEMP,
  AUX_INPUT,
  CURRENT22,
};

/* 0x0F Orion XS (§5.14): output fields read unsigned with NA 0xFFFF (the
 * majority reading; both agree for real positive values). */
static const struct ble_field f_orion_xs[] = {
  STATE(0),
  CHR_ERROR(8),
  NUM("dc_out.voltage", 16, 16, 0, 0xFFFF, 0.01, 0),
  NUM("dc_out.current", 32, 16, 0, 0xFFFF, 0.1, 0),
  NUM("dc_in.voltage", 48, 16, 0, 0xFFFF, 0.01, 0),
  NUM("dc_in.current", 64, 16, 0, 0xFFFF, 0.1, 0),
  OFF_REASON(80),
};

#define LAYOUT(t, name, len, f) {t, name, len, f, N_(f)}

/* min_len = ceil(bits used / 8) (§4). */
static const struct ble_layout layouts[16] = {
  [0x00] = LAYOUT(0x00, "test record", 5, f_test),
  [0x01] = LAYOUT(0x01, "solar charger", 12, f_solar),
  [0x02] = LAYOUT(0x02, "battery monitor", 15, f_battery_monitor),
  [0x03] = LAYOUT(0x03, "inverter", 11, f_inverter),
  [0x04] = LAYOUT(0x04, "dc/dc converter", 10, f_dcdc),
  [0x05] = LAYOUT(0x05, "smartlithium", 16, f_smart_lithium),
  [0x06] = LAYOUT(0x06, "inverter rs", 12, f_inverter_rs),
  [0x07] = LAYOUT(0x07, "gx device", 11, f_gx),
  [0x08] = LAYOUT(0x08, "ac charger", 13, f_ac_charger),
  [0x09] = LAYOUT(0x09, "smart battery protect", 15, f_battery_protect),
  [0x0A] = LAYOUT(0x0A, "lynx smart bms", 16, f_lynx_bms),
  [0x0B] = LAYOUT(0x0B, "multi rs", 14, f_multi_rs),
  [0x0C] = LAYOUT(0x0C, "ve.bus", 13, f_vebus),
  [0x0D] = LAYOUT(0x0D, "dc energy meter", 11, f_dc_meter),
  /* 0x0E: seen from Smart BMS 12/200, layout unknown: not decoded. */
  [0x0F] = LAYOUT(0x0F, "orion xs", 14, f_orion_xs),
};

static const struct ble_layout battery_sense_layout =
    LAYOUT(0x02, "battery monitor", 15, f_battery_sense);

const struct ble_layout *ble_adv_layout_by_type(uint8_t record_type) {
  if (record_type >= N_(layouts) || layouts[record_type].fields == NULL)
    return NULL;
  return &layouts[record_type];
}

const struct ble_layout *ble_adv_layout(uint8_t record_type, uint16_t model_id) {
  if (record_type == 0x02 && (model_id == 0xA3A4 || model_id == 0xA3A5))
    return &battery_sense_layout;
  return ble_adv_layout_by_type(record_type);
}

const char *ble_adv_record_name(uint8_t record_type) {
  const struct ble_layout *l = ble_adv_layout_by_type(record_type);
  return l != NULL ? l->name : "unknown";
}

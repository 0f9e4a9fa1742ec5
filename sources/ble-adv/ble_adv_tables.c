/* Record layouts (doc/protocols/ble-adv.md §5) and enumerations (§6) as
 * data.  Bit offsets are payload bits (doc start bit - 32).  Where the
 * sources disagree, the comments give the verdict of the protocol notes
 * (§7). */
#include "ble_adv.h"

#define N_(a) (sizeof(a) / sizeof((a)[0]))

/* Labels: lib/victron (one set per enumeration, whatever the transport). */

/* ---- field helpers ----------------------------------------------------- */

/* Number with NA. */
#define NUM(q, b, w, fl, na, sc, off) \
  {q, b, w, BLE_NUMBER, (fl) | BLE_F_NA, na, sc, off, NULL, 0, 0, 0, 0}
/* Number without NA. */
#define NUMX(q, b, w, fl, sc, off) {q, b, w, BLE_NUMBER, fl, 0, sc, off, NULL, 0, 0, 0, 0}
#define ENUMF(q, b, w, fl, na, lab) \
  {q, b, w, BLE_ENUM, (fl) | BLE_F_NA, na, 1, 0, &vic_##lab, 0, 0, 0, 0}
#define ENUMX(q, b, w, fl, lab) {q, b, w, BLE_ENUM, fl, 0, 1, 0, &vic_##lab, 0, 0, 0, 0}
#define BITS(q, b, w, lab) {q, b, w, BLE_BITMASK, 0, 0, 1, 0, &vic_##lab, 0, 0, 0, 0}
#define INTX(q, b, w) {q, b, w, BLE_INT, 0, 0, 1, 0, NULL, 0, 0, 0, 0}
/* Number present only when the field at (cb, cw) equals cv. */
#define CNUM(q, b, w, fl, na, sc, off, cb, cw, cv) \
  {q, b, w, BLE_NUMBER, (fl) | BLE_F_NA | BLE_F_COND, na, sc, off, NULL, cb, cw, cv, 0}

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
/* Mid-point: unsigned, no NA in the PDF.  0xFFFF (not available) and
 * 0xFFFE (out of range), the VE.Can convention, are both NA: a real 12 V
 * bank sent 0xFFFE, which would read 655.34 V (§5.2). */
#define AUX_MIDPOINT                                                         \
  {"battery.midpoint_voltage", 48, 16, BLE_NUMBER,                          \
   BLE_F_NA | BLE_F_NA2 | BLE_F_COND, 0xFFFF, 0.01, 0, NULL, 64, 2, 1, 0xFFFE}
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
  ENUMF("battery.balancer_status", 116, 4, 0, 0xF, balancer_status),
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
  BITS("bms.io_status", 56, 16, bms_io),
  BITS("bms.warnings_alarms", 72, 18, bms_warnings_alarms),
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
  ENUMF("ac_in.active", 46, 2, 0, 3, ac_input),
  NUM("ac_in.power", 48, 16, BLE_F_SIGNED, 0x7FFF, 1, 0),
  NUM("ac_out.power", 64, 16, BLE_F_SIGNED, 0x7FFF, 1, 0),
  NUM("pv.power", 80, 16, 0, 0xFFFF, 1, 0),
  NUM("yield.today", 96, 16, 0, 0xFFFF, 0.01, 0),
};

/* 0x0C VE.Bus (§5.12). */
static const struct ble_field f_vebus[] = {
  STATE(0),
  /* VE.Bus errors are not charger errors: a quantity of their own. */
  ENUMF("vebus.error", 8, 8, 0, 0xFF, vebus_error),
  BATT_I_S16(16),
  NUM("battery.voltage", 32, 14, 0, 0x3FFF, 0.01, 0),
  ENUMF("ac_in.active", 46, 2, 0, 3, ac_input),
  NUM("ac_in.power", 48, 19, BLE_F_SIGNED, 0x3FFFF, 1, 0),
  NUM("ac_out.power", 67, 19, BLE_F_SIGNED, 0x3FFFF, 1, 0),
  ENUMF("device.alarm", 86, 2, 0, 3, alarm_level),
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

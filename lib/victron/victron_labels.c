/* Victron's enumerations and bitmasks as label sets.  The codes and their
 * meanings are those of doc/protocols/ble-adv.md §6 and
 * doc/protocols/vedirect.md §2.6; where the two transports' documents
 * spell a meaning differently, the label is chosen once here and the
 * choice is explained in doc/victron.md.  Labels are snake_case ASCII, the
 * form Home Assistant expects for enum options.  Keep every array sorted
 * by code (test_victron checks it). */
#include "victron.h"

#define N_(a) (uint32_t)(sizeof(a) / sizeof((a)[0]))
#define SET(var, name, kind, labels) \
  const struct vic_label_set var = {name, kind, labels, N_(labels), NULL}

/* Device state / operation mode (doc/protocols/ble-adv.md §6.1,
 * doc/protocols/vedirect.md §2.6 CS). 249: see doc/victron.md "Device state
 * 249". */
static const struct vq_label device_state[] = {
    {0, "off"},
    {1, "low_power"},
    {2, "fault"},
    {3, "bulk"},
    {4, "absorption"},
    {5, "float"},
    {6, "storage"},
    {7, "equalize"},
    {8, "passthru"},
    {9, "inverting"},
    {10, "assisting"},
    {11, "power_supply"},
    {244, "sustain"},
    {245, "starting_up"},
    {246, "repeated_absorption"},
    {247, "auto_equalize"},
    {248, "battery_safe"},
    {249, "active"},
    {250, "blocked"},
    {251, "test"},
    {252, "external_control"},
};
SET(vic_device_state, "device_state", VIC_ENUM, device_state);

/* Charger error (doc/protocols/ble-adv.md §6.2, doc/protocols/vedirect.md §2.6
 * ERR).  Codes that the documents give one meaning share a label. */
static const struct vq_label charger_error[] = {
    {0, "no_error"},
    {1, "battery_temperature_high"},
    {2, "battery_voltage_high"},
    {3, "remote_temperature_sensor_failure"},
    {4, "remote_temperature_sensor_failure"},
    {5, "remote_temperature_sensor_failure_latched"},
    {6, "remote_voltage_sense_failure"},
    {7, "remote_voltage_sense_failure"},
    {8, "remote_voltage_sense_failure"},
    {11, "battery_high_ripple"},
    {14, "battery_temperature_low"},
    {17, "charger_temperature_high"},
    {18, "charger_over_current"},
    {19, "charger_current_reversed"},
    {20, "bulk_time_limit_exceeded"},
    {21, "current_sensor_issue"},
    {22, "internal_temperature_sensor_failure"},
    {23, "internal_temperature_sensor_failure"},
    {24, "fan_failure"},
    {26, "terminals_overheated"},
    {27, "charger_short_circuit"},
    {28, "power_stage_issue"},
    {29, "over_charge_protection"},
    {33, "pv_input_voltage_high"},
    {34, "pv_input_current_high"},
    {35, "pv_over_power"},
    {38, "input_shutdown_battery_voltage"},
    {39, "input_shutdown_current_flow"},
    {40, "pv_input_failed_to_shutdown"},
    {41, "inverter_shutdown_pv_isolation"},
    {42, "inverter_shutdown_pv_isolation"},
    {43, "inverter_shutdown_ground_fault"},
    {50, "inverter_overload"},
    {51, "inverter_temperature_high"},
    {52, "inverter_peak_current"},
    {53, "inverter_output_voltage"},
    {54, "inverter_output_voltage"},
    {55, "inverter_self_test_failed"},
    {56, "inverter_self_test_failed"},
    {57, "inverter_ac_voltage_on_output"},
    {58, "inverter_self_test_failed"},
    {65, "communication_warning"},
    {66, "incompatible_device"},
    {67, "bms_connection_lost"},
    {68, "network_misconfigured"},
    {69, "network_misconfigured"},
    {70, "network_misconfigured"},
    {71, "network_misconfigured"},
    {80, "pv_input_shutdown"},
    {81, "pv_input_shutdown"},
    {82, "pv_input_shutdown"},
    {83, "pv_input_shutdown"},
    {84, "pv_input_shutdown"},
    {85, "pv_input_shutdown"},
    {86, "pv_input_shutdown"},
    {87, "pv_input_shutdown"},
    {114, "cpu_temperature_high"},
    {116, "calibration_data_lost"},
    {117, "invalid_firmware"},
    {119, "settings_invalid"},
    {121, "tester_fail"},
    {200, "internal_dc_voltage_error"},
    {201, "internal_dc_voltage_error"},
    {202, "pv_residual_current_sensor_failure"},
    {203, "internal_supply_voltage_error"},
    {205, "internal_supply_voltage_error"},
    {212, "internal_supply_voltage_error"},
    {215, "internal_supply_voltage_error"},
};
SET(vic_charger_error, "charger_error", VIC_ENUM, charger_error);

/* VE.Bus errors: a code list of its own, not the charger's
 * (doc/victron.md "VE.Bus error"). */
static const struct vq_label vebus_error[] = {
    {0, "no_error"},
    {1, "other_phase_switched_off"},
    {2, "mk2_types_mixed"},
    {3, "device_count_mismatch"},
    {4, "no_other_device"},
    {5, "ac_out_overvoltage"},
    {6, "ddc_program_error"},
    {7, "bms_without_assistant"},
    {10, "time_sync_problem"},
    {14, "cannot_transmit"},
    {16, "dongle_missing"},
    {17, "master_failed"},
    {18, "slave_ac_out_overvoltage"},
    {22, "cannot_be_slave"},
    {24, "switch_over_protection"},
    {25, "firmware_incompatible"},
    {26, "internal_error"},
};
SET(vic_vebus_error, "vebus_error", VIC_ENUM, vebus_error);

/* Off reason, by bit (doc/protocols/ble-adv.md §6.3, doc/protocols/vedirect.md
 * §2.6 OR). */
static const struct vq_label off_reason[] = {
    {0, "no_input_power"},
    {1, "power_switch"},
    {2, "device_mode"},
    {3, "remote_input"},
    {4, "protection_active"},
    {5, "paygo_out_of_credit"},
    {6, "bms"},
    {7, "engine_shutdown"},
    {8, "analysing_input_voltage"},
    {9, "low_battery_temperature"},
    {10, "no_pv_power"},
    {11, "battery_voltage_low"},
    {12, "ac_input_voltage_low"},
    {13, "slave_out_of_sync"},
    {14, "not_enough_inverters"},
    {15, "alarm_prevents_start"},
};
SET(vic_off_reason, "off_reason", VIC_BITMASK, off_reason);

/* Alarm and warning reason, by bit (doc/protocols/ble-adv.md §6.4,
 * doc/protocols/vedirect.md §2.6 AR). */
static const struct vq_label alarm_reason[] = {
    {0, "low_voltage"},
    {1, "high_voltage"},
    {2, "low_soc"},
    {3, "low_starter_voltage"},
    {4, "high_starter_voltage"},
    {5, "low_temperature"},
    {6, "high_temperature"},
    {7, "mid_voltage"},
    {8, "overload"},
    {9, "dc_ripple"},
    {10, "low_ac_out_voltage"},
    {11, "high_ac_out_voltage"},
    {12, "short_circuit"},
    {13, "bms_lockout"},
    {14, "bms_cable_failure"},
};
SET(vic_alarm_reason, "alarm_reason", VIC_BITMASK, alarm_reason);

/* VE.Bus alarm notification (doc/protocols/ble-adv.md §6.7); 3 is not
 * available. */
static const struct vq_label alarm_level[] = {
    {0, "no_alarm"},
    {1, "warning"},
    {2, "alarm"},
};
SET(vic_alarm_level, "alarm_level", VIC_ENUM, alarm_level);

/* Battery monitor aux input (doc/protocols/ble-adv.md §6.5); 3 (none) is not
 * available. */
static const struct vq_label aux_input[] = {
    {0, "starter_voltage"},
    {1, "midpoint_voltage"},
    {2, "temperature"},
};
SET(vic_aux_input, "aux_input", VIC_ENUM, aux_input);

/* Active AC input as records encode it (doc/protocols/ble-adv.md §6.6). */
static const struct vq_label ac_input[] = {
    {0, "ac_in_1"},
    {1, "ac_in_2"},
    {2, "not_connected"},
};
SET(vic_ac_input, "ac_input", VIC_ENUM, ac_input);

/* Cell balancer status (doc/protocols/ble-adv.md §6.8); 0xF is not available.
 */
static const struct vq_label balancer_status[] = {
    {0, "unknown"},
    {1, "balanced"},
    {2, "balancing"},
    {3, "imbalance"},
};
SET(vic_balancer_status, "balancer_status", VIC_ENUM, balancer_status);

/* SmartLithium BMS flags, by bit (doc/protocols/ble-adv.md §6.9, velib order).
 */
static const struct vq_label bms_flags[] = {
    {0, "charged"},
    {1, "almost_charged"},
    {2, "discharged"},
    {3, "almost_discharged"},
    {4, "charging"},
    {5, "discharging"},
    {6, "balancing"},
    {7, "relay_discharge"},
    {8, "relay_charge"},
    {9, "alarm_over_voltage"},
    {10, "warning_over_voltage"},
    {11, "alarm_under_voltage"},
    {12, "warning_under_voltage"},
    {13, "warning_charge_current"},
    {14, "warning_discharge_current"},
    {15, "alarm_over_temperature"},
    {16, "warning_over_temperature"},
    {17, "warning_under_temperature_charge"},
    {18, "alarm_under_temperature_charge"},
    {19, "warning_under_temperature_discharge"},
    {20, "alarm_under_temperature_discharge"},
    {21, "low_soc"},
    {22, "under_temperature"},
    {23, "short_circuit"},
    {24, "hardware_failure"},
    {25, "allowed_to_charge"},
    {26, "allowed_to_discharge"},
    {27, "pre_alarm"},
    {28, "bad_contactor"},
    {29, "high_current_alarm"},
};
SET(vic_bms_flags, "bms_flags", VIC_BITMASK, bms_flags);

/* DC output status of a Smart BatteryProtect (doc/protocols/ble-adv.md §6.10,
 * velib). */
static const struct vq_label output_state[] = {
    {0, "off"},
    {1, "on"},
    {2, "scheduled"},
    {3, "activating"},
};
SET(vic_output_state, "output_state", VIC_ENUM, output_state);

/* Lynx BMS IO status: 2-bit fields, LSB first (doc/protocols/ble-adv.md §6.11).
 */
static const struct vq_label bms_io[] = {
    {0, "contactor_closed"},
    {1, "allowed_to_charge"},
    {2, "allowed_to_discharge"},
    {3, "user_relay"},
    {4, "aux_output"},
    {5, "remote_enabled"},
    {6, "alternator_allowed_to_charge"},
};
static const char *const io_states[4] = {NULL, "yes", "no", "invalid"};
const struct vic_label_set vic_bms_io = {"bms_io", VIC_PAIRS, bms_io,
                                         N_(bms_io), io_states};

/* Lynx BMS warnings and alarms: nine 2-bit fields (doc/protocols/ble-adv.md
 * §6.12); the last three are unnamed in the sources, so they get their number.
 */
static const struct vq_label bms_wa[] = {
    {0, "low_cell_voltage"},
    {1, "high_current"},
    {2, "high_bms_temperature"},
    {3, "high_contactor_resistance"},
    {4, "bms_cable_fault"},
    {5, "load_disconnect"},
    {6, "field_7"},
    {7, "field_8"},
    {8, "field_9"},
};
static const char *const wa_states[4] = {NULL, "ok", "warning", "alarm"};
const struct vic_label_set vic_bms_warnings_alarms = {
    "bms_warnings_alarms", VIC_PAIRS, bms_wa, N_(bms_wa), wa_states};

/* DC monitor mode, signed (doc/protocols/ble-adv.md §6.13,
 * doc/protocols/vedirect.md §2.6 MON). */
static const struct vq_label monitor_mode[] = {
    {-9, "solar_charger"},  {-8, "wind_turbine"}, {-7, "shaft_generator"},
    {-6, "alternator"},     {-5, "fuel_cell"},    {-4, "water_generator"},
    {-3, "dc_dc_charger"},  {-2, "ac_charger"},   {-1, "generic_source"},
    {0, "battery_monitor"}, {1, "generic_load"},  {2, "electric_drive"},
    {3, "fridge"},          {4, "water_pump"},    {5, "bilge_pump"},
    {6, "dc_system"},       {7, "inverter"},      {8, "water_heater"},
};
SET(vic_monitor_mode, "monitor_mode", VIC_ENUM, monitor_mode);

/* MPP tracker mode (doc/protocols/vedirect.md §2.6 MPPT). */
static const struct vq_label tracker_mode[] = {
    {0, "off"},
    {1, "voltage_or_current_limited"},
    {2, "mppt_active"},
};
SET(vic_tracker_mode, "tracker_mode", VIC_ENUM, tracker_mode);

/* Device mode (doc/protocols/vedirect.md §2.6 MODE; 3 = on is the VE.Bus switch
 * position, doc/victron.md "Device mode"). */
static const struct vq_label device_mode[] = {
    {1, "charger"}, {2, "inverter"}, {3, "on"},
    {4, "off"},     {5, "eco"},      {253, "hibernate"},
};
SET(vic_device_mode, "device_mode", VIC_ENUM, device_mode);

/* BLE capabilities, by bit (doc/protocols/vedirect.md §2.5 CAP_BLE). */
static const struct vq_label ble_capabilities[] = {
    {0, "ble_can_be_switched_off"},
    {1, "ble_off_is_permanent"},
};
SET(vic_ble_capabilities, "ble_capabilities", VIC_BITMASK, ble_capabilities);

const struct vic_label_set *const vic_label_sets[] = {
    &vic_device_state,        &vic_charger_error,    &vic_vebus_error,
    &vic_off_reason,          &vic_alarm_reason,     &vic_alarm_level,
    &vic_aux_input,           &vic_ac_input,         &vic_balancer_status,
    &vic_bms_flags,           &vic_output_state,     &vic_bms_io,
    &vic_bms_warnings_alarms, &vic_monitor_mode,     &vic_tracker_mode,
    &vic_device_mode,         &vic_ble_capabilities, NULL,
};

/* VE.Direct text field table and block decoding.  Facts (units, scales,
 * enumeration values) are from doc/protocols/vedirect.md §2.5-2.6, which cites
 * Victron's "VE.Direct Protocol" 3.33 and the HEX documents. */
#include "vedirect_fields.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vq_hex.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Labels: lib/victron (one set per enumeration, whatever the transport). */

#define NUM(l, q, s) {l, q, VED_K_NUMBER, s, NULL, 0, 0}
#define INT(l, q) {l, q, VED_K_INT, 1, NULL, 0, 0}
#define ONOFF(l, q) {l, q, VED_K_ONOFF, 1, NULL, 0, 0}
#define ENUMF(l, q, set) {l, q, VED_K_ENUM, 1, &vic_##set, 0, 0}
#define BITS(l, q, set) {l, q, VED_K_BITS, 1, &vic_##set, 0, 0}

/* Sorted by label (strcmp order) for bsearch. */
static const struct ved_label_def labels[] = {
  NUM("AC_OUT_I", "ac_out.current", 0.1),
  NUM("AC_OUT_S", "ac_out.apparent_power", 1),
  NUM("AC_OUT_V", "ac_out.voltage", 0.01),
  BITS("AR", "device.alarm_reason", alarm_reason),
  /* The BMV's alarm condition, ON/OFF: not the VE.Bus alarm level that
   * device.alarm carries (doc/victron.md). */
  ONOFF("Alarm", "monitor.alarm"),
  BITS("CAP_BLE", "device.ble_capabilities", ble_capabilities),
  NUM("CE", "battery.consumed_ah", 0.001),
  /* 255 = unavailable in the state registers [HEX-MPPT]. */
  {"CS", "device.state", VED_K_ENUM, 1, &vic_device_state, 1, 255},
  NUM("DC_IN_I", "dc_in.current", 0.1),
  NUM("DC_IN_P", "dc_in.power", 1),
  NUM("DC_IN_V", "dc_in.voltage", 0.01),
  NUM("DM", "battery.midpoint_deviation", 0.1),
  ENUMF("ERR", "device.error", charger_error),
  NUM("H1", "history.deepest_discharge", 0.001),
  INT("H10", "history.auto_syncs"),
  INT("H11", "history.low_voltage_alarms"),
  INT("H12", "history.high_voltage_alarms"),
  INT("H13", "history.low_aux_voltage_alarms"),
  INT("H14", "history.high_aux_voltage_alarms"),
  NUM("H15", "history.min_aux_voltage", 0.001),
  NUM("H16", "history.max_aux_voltage", 0.001),
  NUM("H17", "history.discharged_energy", 0.01),
  NUM("H18", "history.charged_energy", 0.01),
  NUM("H19", "yield.total", 0.01),
  NUM("H2", "history.last_discharge", 0.001),
  NUM("H20", "yield.today", 0.01),
  NUM("H21", "pv.max_power_today", 1),
  NUM("H22", "yield.yesterday", 0.01),
  NUM("H23", "pv.max_power_yesterday", 1),
  NUM("H3", "history.average_discharge", 0.001),
  INT("H4", "history.charge_cycles"),
  INT("H5", "history.full_discharges"),
  NUM("H6", "history.cumulative_ah", 0.001),
  NUM("H7", "history.min_voltage", 0.001),
  NUM("H8", "history.max_voltage", 0.001),
  NUM("H9", "history.time_since_full_charge", 1),
  INT("HSDS", "history.day_sequence"),
  NUM("I", "battery.current", 0.001),
  NUM("I2", "battery2.current", 0.001),
  NUM("I3", "battery3.current", 0.001),
  NUM("IL", "load.current", 0.001),
  ONOFF("LOAD", "load.state"),
  ENUMF("MODE", "device.mode", device_mode),
  ENUMF("MON", "monitor.mode", monitor_mode),
  ENUMF("MPPT", "pv.tracker_mode", tracker_mode),
  BITS("OR", "device.off_reason", off_reason),
  NUM("P", "battery.power", 1),
  NUM("PPV", "pv.power", 1),
  ONOFF("Relay", "relay.state"),
  NUM("SOC", "battery.soc", 0.1),
  NUM("T", "battery.temperature", 1),
  /* TTG -1 = infinite (not discharging): no finite value to show. */
  {"TTG", "battery.time_to_go", VED_K_NUMBER, 1, NULL, 1, -1},
  NUM("V", "battery.voltage", 0.001),
  NUM("V2", "battery2.voltage", 0.001),
  NUM("V3", "battery3.voltage", 0.001),
  NUM("VM", "battery.midpoint_voltage", 0.001),
  NUM("VPV", "pv.voltage", 0.001),
  NUM("VS", "aux.voltage", 0.001),
  BITS("WARN", "device.warning_reason", alarm_reason),
};

static int cmp_label(const void *key, const void *row) {
  return strcmp(key, ((const struct ved_label_def *)row)->label);
}

const struct ved_label_def *ved_label_find(const char *label) {
  return bsearch(label, labels, N(labels), sizeof labels[0], cmp_label);
}

const struct ved_label_def *ved_label_all(size_t *count) {
  *count = N(labels);
  return labels;
}

int ved_parse_int(const char *s, int64_t *out) {
  int neg = 0;
  uint64_t v = 0;
  size_t digits = 0;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2;
    for (; *s; s++, digits++) {
      int h = vq_hex_digit(*s);
      if (h < 0 || digits >= 16) return -EINVAL;
      v = v << 4 | (uint64_t)h;
    }
    if (digits == 0) return -EINVAL;
    *out = (int64_t)v;
    return 0;
  }
  if (*s == '-' || *s == '+') neg = *s++ == '-';
  for (; *s; s++, digits++) {
    if (*s < '0' || *s > '9' || digits >= 18) return -EINVAL;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  if (digits == 0) return -EINVAL;
  *out = neg ? -(int64_t)v : (int64_t)v;
  return 0;
}

/* "0342" -> "3.42": all digits, at least 3; major = all but the last two
 * with leading zeros dropped. */
static int version_digits(const char *d, size_t len, char *out, size_t outsz) {
  size_t i, start = 0;
  for (i = 0; i < len; i++)
    if (d[i] < '0' || d[i] > '9') return -EINVAL;
  if (len < 3) return -EINVAL;
  while (start < len - 3 && d[start] == '0') start++;
  snprintf(out, outsz, "%.*s.%.2s", (int)(len - 2 - start), d + start,
           d + len - 2);
  return 0;
}

int ved_format_fw(const char *value, int extended, char *out, size_t outsz) {
  size_t len = strlen(value);
  char ver[16];
  if (!extended) {
    /* FW: 3-4 digits, optionally a leading release-candidate letter. */
    char rc = 0;
    if (len > 0 && ((value[0] >= 'A' && value[0] <= 'Z') ||
                    (value[0] >= 'a' && value[0] <= 'z'))) {
      rc = value[0];
      value++;
      len--;
    }
    if (len > 4 || version_digits(value, len, ver, sizeof ver) < 0) goto raw;
    if (rc)
      snprintf(out, outsz, "%s-rc%c", ver, rc);
    else
      snprintf(out, outsz, "%s", ver);
    return 0;
  }
  /* FWE: version digits then two hex digits, FF = release. */
  if (len < 5 || len > 6 || vq_hex_digit(value[len - 1]) < 0 ||
      vq_hex_digit(value[len - 2]) < 0 ||
      version_digits(value, len - 2, ver, sizeof ver) < 0)
    goto raw;
  if (strcasecmp(value + len - 2, "FF") == 0)
    snprintf(out, outsz, "%s", ver);
  else
    snprintf(out, outsz, "%s-beta-%.2s", ver, value + len - 2);
  return 0;
raw:
  snprintf(out, outsz, "%s", value);
  return -EINVAL;
}

static int parse_onoff(const char *v, int64_t *out) {
  /* BMV-600 up to v2.09 sends On/Off: compare without case [TXT]. */
  if (strcasecmp(v, "ON") == 0) *out = 1;
  else if (strcasecmp(v, "OFF") == 0) *out = 0;
  else return -EINVAL;
  return 0;
}

/* One field into one record.  1 = record written, 0 = bad value. */
static int decode_field(const struct ved_label_def *d, const char *v,
                        struct vq_record *r, char *text) {
  int64_t raw = 0;
  memset(r, 0, sizeof *r);
  r->quantity = d->quantity;
  r->unit = NULL;
  switch (d->kind) {
    case VED_K_NUMBER: r->type = VQ_VALUE_DOUBLE; break;
    case VED_K_INT: r->type = VQ_VALUE_INT; break;
    case VED_K_ONOFF: r->type = VQ_VALUE_BOOL; break;
    case VED_K_ENUM: r->type = VQ_VALUE_ENUM; break;
    case VED_K_BITS: r->type = VQ_VALUE_BITMASK; break;
    default: return 0;
  }
  if (strcmp(v, "---") == 0) {
    /* "not available" (no sensor, not synchronised) [TXT fn8, fn10-11] */
    r->flags = VQ_RECORD_NA;
    return 1;
  }
  if (d->kind == VED_K_ONOFF) {
    if (parse_onoff(v, &raw) < 0) return 0;
  } else if (ved_parse_int(v, &raw) < 0) {
    return 0;
  }
  if (d->has_na_code && raw == d->na_code) {
    r->flags = VQ_RECORD_NA;
    return 1;
  }
  switch (d->kind) {
    case VED_K_NUMBER:
      /* divide by 1000 rather than multiply by 0.001: 12530 mV gives the
       * double nearest 12.53, which prints as 12.53 */
      r->value.f64 = d->scale < 1 ? (double)raw / round(1.0 / d->scale)
                                  : (double)raw * d->scale;
      break;
    case VED_K_INT:
    case VED_K_ONOFF: r->value.i64 = raw; break;
    case VED_K_ENUM:
      r->value.i64 = raw;
      r->text = vic_enum_text(d->set, raw, text, VED_BITS_TEXT_MAX);
      break;
    case VED_K_BITS:
      /* All 64 bits: a bit the device sets beyond the documented ones
       * shows as bit_<n> rather than vanishing. */
      r->value.i64 = raw;
      vic_bits_text(d->set, (uint64_t)raw, 64, text, VED_BITS_TEXT_MAX);
      r->text = text;
      break;
  }
  return 1;
}

void ved_block_decode(const struct ved_field *fields, size_t n,
                      struct ved_block *out) {
  size_t i;
  out->nrecords = 0;
  out->pid = -1;
  out->serial = out->model = out->hc = NULL;
  out->firmware[0] = '\0';
  out->unknown_labels = out->bad_values = 0;
  for (i = 0; i < n; i++) {
    const char *l = fields[i].label, *v = fields[i].value;
    const struct ved_label_def *d = out->hint[i];
    if (d == NULL || strcmp(d->label, l) != 0) d = ved_label_find(l);
    out->hint[i] = d;
    if (d != NULL) {
      if (decode_field(d, v, &out->records[out->nrecords],
                       out->texts[out->nrecords]))
        out->nrecords++;
      else
        out->bad_values++;
    } else if (strcmp(l, "PID") == 0) {
      int64_t pid;
      if (ved_parse_int(v, &pid) == 0 && pid >= 0 && pid <= 0xFFFF)
        out->pid = (int32_t)pid;
      else
        out->bad_values++;
    } else if (strcmp(l, "SER#") == 0) {
      if (v[0]) out->serial = v;
      else out->bad_values++;
    } else if (strcmp(l, "FW") == 0 || strcmp(l, "FWE") == 0) {
      /* FWE is the longer form; keep it when a block has both. */
      if (l[2] == 'E' || out->firmware[0] == '\0')
        ved_format_fw(v, l[2] == 'E', out->firmware, sizeof out->firmware);
    } else if (strcmp(l, "BMV") == 0) {
      out->model = v;
    } else if (strcmp(l, "HC#") == 0) {
      out->hc = v;
    } else {
      out->unknown_labels++;
    }
  }
}

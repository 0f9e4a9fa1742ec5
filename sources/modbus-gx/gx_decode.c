/* Register words <-> values for the GX register map.
 * Encodings: doc/protocols/modbus-gx.md §3. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gx_registers.h"

int gx_service_index(const char *name) {
  size_t i;
  for (i = 0; i < gx_nservices; i++)
    if (strcmp(gx_services[i], name) == 0) return (int)i;
  return -1;
}

void gx_service_registers(int service, size_t *first, size_t *count) {
  size_t i = 0, n = 0;
  while (i < gx_nregisters && gx_registers[i].service != service) i++;
  *first = i;
  while (i + n < gx_nregisters && gx_registers[i + n].service == service) n++;
  *count = n;
}

const struct gx_register *gx_register_at(int service, uint16_t address) {
  size_t first, count, lo, hi;
  gx_service_registers(service, &first, &count);
  lo = first;
  hi = first + count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (gx_registers[mid].address == address) return &gx_registers[mid];
    if (gx_registers[mid].address < address) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

int gx_decode_raw(const struct gx_register *reg, const uint16_t *r,
                  int64_t *raw) {
  switch (reg->kind) {
  case GX_U16: *raw = r[0]; return 0;
  case GX_S16: *raw = (int16_t)r[0]; return 0;
  case GX_U32: *raw = ((uint32_t)r[0] << 16) | r[1]; return 0;
  case GX_S32: *raw = (int32_t)(((uint32_t)r[0] << 16) | r[1]); return 0;
  case GX_U64: {
    uint64_t v = ((uint64_t)r[0] << 48) | ((uint64_t)r[1] << 32) |
                 ((uint64_t)r[2] << 16) | r[3];
    if (v > INT64_MAX) return -ERANGE;
    *raw = (int64_t)v;
    return 0;
  }
  default: return -ERANGE;
  }
}

int gx_decode_value(const struct gx_register *reg, const uint16_t *r,
                    double *value) {
  int64_t raw;
  int rc = gx_decode_raw(reg, r, &raw);
  if (rc != 0) return rc;
  *value = (double)raw / reg->scale;
  if (reg->point >= 0) *value *= gx_points[reg->point].unit_factor;
  return 0;
}

void gx_decode_string(const struct gx_register *reg, const uint16_t *r,
                      char *out) {
  size_t i, n = 0;
  for (i = 0; i < reg->count; i++) {
    out[n++] = (char)(r[i] >> 8);
    out[n++] = (char)(r[i] & 0xff);
  }
  out[n] = '\0';
  /* Zero padding; an empty or invalid string reads as zeros. */
  n = strlen(out);
  while (n > 0 && out[n - 1] == ' ') out[--n] = '\0';
}

double gx_resolution(const struct gx_register *reg) {
  double factor = reg->point >= 0 ? gx_points[reg->point].unit_factor : 1.0;
  return fabs(factor / reg->scale);
}

int gx_encode_value(const struct gx_register *reg, double value,
                    uint16_t *words) {
  double factor = reg->point >= 0 ? gx_points[reg->point].unit_factor : 1.0;
  double raw;
  int64_t lo, hi, v;
  if (!isfinite(value)) return -ERANGE;
  raw = round(value / factor * reg->scale);
  switch (reg->kind) {
  case GX_U16: lo = 0; hi = UINT16_MAX; break;
  case GX_S16: lo = INT16_MIN; hi = INT16_MAX; break;
  case GX_U32: lo = 0; hi = UINT32_MAX; break;
  case GX_S32: lo = INT32_MIN; hi = INT32_MAX; break;
  default: return -ERANGE;
  }
  if (raw < (double)lo || raw > (double)hi) return -ERANGE;
  v = (int64_t)raw;
  if (reg->count == 1) {
    words[0] = (uint16_t)(v & 0xffff);
  } else {
    uint32_t u = (uint32_t)(v & 0xffffffff);
    words[0] = (uint16_t)(u >> 16);
    words[1] = (uint16_t)(u & 0xffff);
  }
  return 0;
}

void gx_firmware_text(const uint16_t w[2], char *out, size_t size) {
  /* 834 holds major/minor as hex digits (0x0367 = v3.67); 835 a beta
   * number, 0 for a release (doc/protocols/modbus-gx.md §3). */
  if (w[1] != 0)
    snprintf(out, size, "%x.%02x~%u", w[0] >> 8, w[0] & 0xff, w[1]);
  else
    snprintf(out, size, "%x.%02x", w[0] >> 8, w[0] & 0xff);
}

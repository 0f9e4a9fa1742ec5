/* Capture file lines: parse and format.  Pure functions; the plugin does
 * the file I/O. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ble_adv.h"
#include "ble_capture.h"
#include "vq_hex.h"

static const char *skip_space(const char *p) {
  while (*p == ' ' || *p == '\t') p++;
  return p;
}

/* Seconds with an optional fraction, parsed exactly into nanoseconds. */
static const char *parse_time(const char *p, int64_t *ns) {
  int64_t sec = 0, frac = 0;
  int digits = 0, fd = 0;
  while (*p >= '0' && *p <= '9') {
    if (sec > (INT64_MAX / 1000000000 - 9) / 10) return NULL;
    sec = sec * 10 + (*p++ - '0');
    digits++;
  }
  if (digits == 0) return NULL;
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') {
      if (fd < 9) {
        frac = frac * 10 + (*p - '0');
        fd++;
      }
      p++;
    }
  }
  for (; fd < 9; fd++) frac *= 10;
  *ns = sec * 1000000000 + frac;
  return p;
}

int ble_capture_parse_line(const char *line, struct ble_capture_line *out) {
  const char *p = skip_space(line);
  char addr[18];
  size_t i;
  if (*p == '#' || *p == '\0' || *p == '\n' || *p == '\r') return 1;
  p = parse_time(p, &out->time_ns);
  if (p == NULL || (*p != ' ' && *p != '\t')) return -EINVAL;
  p = skip_space(p);
  for (i = 0; i < 17 && p[i] != '\0'; i++) addr[i] = p[i];
  addr[i] = '\0';
  if (i != 17 || ble_addr_parse(addr, out->addr) != 0) return -EINVAL;
  p += 17;
  if (*p != ' ' && *p != '\t') return -EINVAL;
  p = skip_space(p);
  if (*p == '-' && (p[1] == ' ' || p[1] == '\t')) {
    out->has_rssi = 0;
    out->rssi = 0;
    p++;
  } else {
    int neg = 0, v = 0, nd = 0;
    if (*p == '-') {
      neg = 1;
      p++;
    }
    while (*p >= '0' && *p <= '9' && nd < 4) {
      v = v * 10 + (*p++ - '0');
      nd++;
    }
    if (nd == 0 || (*p != ' ' && *p != '\t')) return -EINVAL;
    out->has_rssi = 1;
    out->rssi = neg ? -v : v;
  }
  p = skip_space(p);
  out->len = 0;
  while (vq_hex_digit((unsigned char)p[0]) >= 0) {
    if (out->len >= BLE_CAPTURE_MAX_DATA || vq_hex_bytes(p, 1, &out->data[out->len]) != 0)
      return -EINVAL;
    out->len++;
    p += 2;
  }
  p = skip_space(p);
  if (*p != '\0' && *p != '\n' && *p != '\r') return -EINVAL;
  if (out->len == 0) return -EINVAL;
  return 0;
}

int ble_capture_read_line(FILE *f, char *buf, size_t size, int *too_long) {
  size_t n;
  *too_long = 0;
  if (fgets(buf, (int)size, f) == NULL) return 0;
  n = strlen(buf);
  if (n == size - 1 && buf[n - 1] != '\n') {
    int c;
    while ((c = getc(f)) != EOF && c != '\n') {}
    *too_long = 1;
  }
  return 1;
}

int ble_capture_format_line(char *buf, size_t size, int64_t time_ns,
                            const uint8_t addr[6], int has_rssi, int rssi,
                            const uint8_t *data, size_t len) {
  char a[18], rs[8];
  size_t i, used;
  int n;
  static const char hex[] = "0123456789abcdef";
  ble_addr_format(addr, a);
  if (has_rssi)
    snprintf(rs, sizeof rs, "%d", rssi);
  else
    strcpy(rs, "-");
  n = snprintf(buf, size, "%lld.%06lld %s %s ", (long long)(time_ns / 1000000000),
               (long long)(time_ns % 1000000000 / 1000), a, rs);
  if (n < 0 || (size_t)n >= size) return -ENOSPC;
  used = (size_t)n;
  if (used + 2 * len + 2 > size) return -ENOSPC;
  for (i = 0; i < len; i++) {
    buf[used++] = hex[data[i] >> 4];
    buf[used++] = hex[data[i] & 15];
  }
  buf[used++] = '\n';
  buf[used] = '\0';
  return (int)used;
}

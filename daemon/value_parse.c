#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "value_parse.h"

int vq_parse_bool(const char *text, int *out) {
  static const char *const yes[] = {"yes", "true", "on", "1"};
  static const char *const no[] = {"no", "false", "off", "0"};
  size_t i;
  for (i = 0; i < 4; i++) {
    if (strcasecmp(text, yes[i]) == 0) { *out = 1; return 0; }
    if (strcasecmp(text, no[i]) == 0) { *out = 0; return 0; }
  }
  return -EINVAL;
}

int vq_parse_int(const char *text, int64_t *out) {
  char *end;
  long long v;
  if (*text == '\0' || isspace((unsigned char)*text)) return -EINVAL;
  errno = 0;
  v = strtoll(text, &end, 0);
  if (errno == ERANGE) return -ERANGE;
  if (end == text || *end != '\0') return -EINVAL;
  *out = v;
  return 0;
}

int vq_parse_double(const char *text, double *out) {
  char *end;
  double v;
  if (*text == '\0' || isspace((unsigned char)*text)) return -EINVAL;
  errno = 0;
  v = strtod(text, &end);
  if (end == text || *end != '\0') return -EINVAL;
  if (errno == ERANGE || !isfinite(v)) return -ERANGE;
  *out = v;
  return 0;
}

int vq_parse_duration_ms(const char *text, uint64_t *out) {
  static const struct { const char *suffix; double ms; } units[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
  char *end;
  double v;
  size_t i;
  if (*text == '\0' || isspace((unsigned char)*text) || *text == '-')
    return -EINVAL;
  errno = 0;
  v = strtod(text, &end);
  if (end == text || errno == ERANGE || !isfinite(v) || v < 0) return -EINVAL;
  for (i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(end, units[i].suffix) == 0) {
      double ms = v * units[i].ms;
      if (ms > 1e15) return -ERANGE;
      *out = (uint64_t)llround(ms);
      return 0;
    }
  }
  return -EINVAL;
}

int vq_parse_range(const char *text, double *min, double *max) {
  const char *dots = strstr(text, "..");
  char low[64];
  double a, b;
  size_t n;
  if (dots == NULL) return -EINVAL;
  n = (size_t)(dots - text);
  if (n == 0 || n >= sizeof low) return -EINVAL;
  memcpy(low, text, n);
  low[n] = '\0';
  if (vq_parse_double(low, &a) != 0 || vq_parse_double(dots + 2, &b) != 0)
    return -EINVAL;
  if (a > b) return -ERANGE;
  *min = a;
  *max = b;
  return 0;
}

int vq_parse_size(const char *text, uint64_t *out) {
  char *end;
  unsigned long long v;
  uint64_t mult = 1;
  if (!isdigit((unsigned char)*text)) return -EINVAL;
  errno = 0;
  v = strtoull(text, &end, 10);
  if (errno == ERANGE) return -ERANGE;
  if (strcmp(end, "k") == 0 || strcmp(end, "K") == 0) mult = 1024;
  else if (strcmp(end, "M") == 0) mult = 1024 * 1024;
  else if (strcmp(end, "G") == 0) mult = 1024ull * 1024 * 1024;
  else if (*end != '\0') return -EINVAL;
  if (v > UINT64_MAX / mult) return -ERANGE;
  *out = v * mult;
  return 0;
}

#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vq_text.h"

void vq_text_init(struct vq_text *t) { memset(t, 0, sizeof *t); }

void vq_text_free(struct vq_text *t) {
  free(t->data);
  memset(t, 0, sizeof *t);
}

static int reserve(struct vq_text *t, size_t extra) {
  size_t need = t->len + extra + 1, cap;
  char *grown;
  if (need <= t->cap) return 1;
  cap = t->cap ? t->cap : 256;
  while (cap < need) cap *= 2;
  grown = realloc(t->data, cap);
  if (grown == NULL) {
    t->failed = 1;
    return 0;
  }
  t->data = grown;
  t->cap = cap;
  return 1;
}

void vq_text_add(struct vq_text *t, const char *s, size_t n) {
  if (!reserve(t, n)) return;
  memcpy(t->data + t->len, s, n);
  t->len += n;
  t->data[t->len] = '\0';
}

void vq_text_adds(struct vq_text *t, const char *s) {
  vq_text_add(t, s, strlen(s));
}

void vq_text_addc(struct vq_text *t, char c) {
  if (!reserve(t, 1)) return;
  t->data[t->len++] = c;
  t->data[t->len] = '\0';
}

void vq_text_addf(struct vq_text *t, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !reserve(t, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(t->data + t->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  t->len += (size_t)n;
}

void vq_text_add_double(struct vq_text *t, double v) {
  char buf[32];
  int precision;
  /* Most readings are short decimals (12.87): try few digits first. */
  for (precision = 6; precision <= 17; precision++) {
    snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (strtod(buf, NULL) == v) break;
  }
  vq_text_adds(t, buf);
}

void vq_text_add_int(struct vq_text *t, int64_t v) {
  char buf[24], *p = buf + sizeof buf;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  *--p = '\0';
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *--p = '-';
  vq_text_adds(t, p);
}

void vq_text_add_json_string(struct vq_text *t, const char *s) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *c = (const unsigned char *)s;
  const unsigned char *run = c;
  vq_text_addc(t, '"');
  for (; *c; c++) {
    if (*c >= 0x20 && *c != '"' && *c != '\\') continue;
    vq_text_add(t, (const char *)run, (size_t)(c - run));
    run = c + 1;
    switch (*c) {
    case '"': vq_text_add(t, "\\\"", 2); break;
    case '\\': vq_text_add(t, "\\\\", 2); break;
    case '\n': vq_text_add(t, "\\n", 2); break;
    case '\r': vq_text_add(t, "\\r", 2); break;
    case '\t': vq_text_add(t, "\\t", 2); break;
    default: {
      char esc[6] = {'\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15]};
      vq_text_add(t, esc, 6);
    }
    }
  }
  vq_text_add(t, (const char *)run, (size_t)(c - run));
  vq_text_addc(t, '"');
}

void vq_text_add_time(struct vq_text *t, int64_t time_ns) {
  /* Readings of one second share the formatted seconds: cache them. */
  static __thread int64_t cached_sec = INT64_MIN;
  static __thread char cached[24];
  int64_t sec = time_ns >= 0 ? time_ns / 1000000000 : (time_ns - 999999999) / 1000000000;
  int64_t usec = (time_ns - sec * 1000000000) / 1000;
  char frac[16];
  if (sec != cached_sec) {
    time_t tt = (time_t)sec;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_sec = sec;
  }
  vq_text_adds(t, cached);
  snprintf(frac, sizeof frac, ".%06" PRId64 "Z", usec);
  vq_text_adds(t, frac);
}

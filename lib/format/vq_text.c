#include "config.h"

#include <inttypes.h>
#include <math.h>
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

char *vq_text_extend(struct vq_text *t, size_t n) {
  char *at;
  if (!reserve(t, n)) return NULL;
  at = t->data + t->len;
  t->len += n;
  t->data[t->len] = '\0';
  return at;
}

void vq_text_adds(struct vq_text *t, const char *s) {
  vq_text_add(t, s, strlen(s));
}

void vq_text_addc_slow(struct vq_text *t, char c) {
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

/* Put m (|m| < 1e15) with `decimals` digits after the point. */
static void add_scaled(struct vq_text *t, int64_t m, int decimals) {
  char buf[40], *p = buf + sizeof buf;
  uint64_t u = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
  int i;
  for (i = 0; i < decimals; i++) {
    *--p = (char)('0' + u % 10);
    u /= 10;
  }
  if (decimals > 0) *--p = '.';
  do {
    *--p = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (m < 0) *--p = '-';
  vq_text_add(t, p, (size_t)(buf + sizeof buf - p));
}

void vq_text_add_double(struct vq_text *t, double v) {
  static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  char buf[32];
  int k, precision;
  /* Readings are mostly short decimals (12.53): find the fewest decimals
   * k with round(v * 10^k) / 10^k == v.  Both are exact doubles, so the
   * division rounds like strtod of the printed text: it reads back to v. */
  /* Only where %g would not switch to an exponent, so the output does not
   * depend on which path produced it. */
  if (v == 0 || (fabs(v) >= 1e-4 && fabs(v) < 1e6)) {
    for (k = 0; k < 10; k++) {
      double scaled = v * pow10[k];
      int64_t m;
      if (scaled <= -1e15 || scaled >= 1e15) break;
      m = (int64_t)(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
      if ((double)m / pow10[k] == v) {
        if (m == 0 && (1 / v) < 0) vq_text_add(t, "-0", 2);
        else add_scaled(t, m, k);
        return;
      }
    }
  }
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
  /* Bytes JSON needs escaped; glibc's strcspn skips the rest fast. */
  static const char special[] = "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09"
      "\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"
      "\x1b\x1c\x1d\x1e\x1f";
  for (;;) {
    c += strcspn((const char *)c, special);
    if (*c == '\0') break;
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
    c++;
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
  char frac[8] = {'.', '0', '0', '0', '0', '0', '0', 'Z'};
  int i;
  if (sec != cached_sec) {
    time_t tt = (time_t)sec;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_sec = sec;
  }
  vq_text_adds(t, cached);
  for (i = 6; i >= 1; i--, usec /= 10) frac[i] = (char)('0' + usec % 10);
  vq_text_add(t, frac, sizeof frac);
}

int vq_utf8_valid(const char *s) {
  const unsigned char *c = (const unsigned char *)s;
  while (*c) {
    unsigned b = *c, cp, n, i;
    if (b < 0x80) {
      c++;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf) { n = 1; cp = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) { n = 2; cp = b & 0x0f; }
    else if (b >= 0xf0 && b <= 0xf4) { n = 3; cp = b & 0x07; }
    else return 0; /* continuation byte first, or 0xc0/0xc1/0xf5.. */
    for (i = 1; i <= n; i++) {
      if ((c[i] & 0xc0) != 0x80) return 0; /* also stops at the NUL */
      cp = (cp << 6) | (c[i] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    c += n + 1;
  }
  return 1;
}

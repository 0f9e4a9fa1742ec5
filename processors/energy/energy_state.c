/* The energy state file (energy_state.h).
 *
 *   vicacq-energy 1
 *   m SOURCE DEVICE QUANTITY IN_KWH OUT_KWH HAVE LAST_NS LAST_W GAPS
 *   c SOURCE DEVICE CYCLES HAVE LAST_NS LAST_SOC GAPS
 *   crc XXXXXXXX
 *
 * Names are percent-encoded (space, '%', control bytes), numbers are
 * printed with 17 significant digits so a counter read back is the same
 * double: counters are never rounded. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "energy_state.h"

#define MAGIC "vicacq-energy 1\n"

struct out {
  FILE *f;
};

static void put_name(FILE *f, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c <= ' ' || c == '%' || c == 0x7f) fprintf(f, "%%%02X", c);
    else fputc(c, f);
  }
}

static int put_meter(void *arg, const char *a, const char *b, const char *c,
                     void *value) {
  struct out *o = arg;
  const struct energy_meter *m = &((struct energy_series *)value)->meter;
  fputs("m ", o->f);
  put_name(o->f, a);
  fputc(' ', o->f);
  put_name(o->f, b);
  fputc(' ', o->f);
  put_name(o->f, c);
  fprintf(o->f, " %.17g %.17g %d %" PRId64 " %.17g %" PRIu64 "\n", m->in_kwh,
          m->out_kwh, m->have_last, m->last_ns, m->last_w, m->gaps);
  return 0;
}

static int put_cycles(void *arg, const char *a, const char *b, const char *c,
                      void *value) {
  struct out *o = arg;
  const struct cycle_counter *k = &((struct cycle_series *)value)->counter;
  (void)c;
  fputs("c ", o->f);
  put_name(o->f, a);
  fputc(' ', o->f);
  put_name(o->f, b);
  fprintf(o->f, " %.17g %d %" PRId64 " %.17g %" PRIu64 "\n", k->cycles,
          k->have_last, k->last_ns, k->last_soc, k->gaps);
  return 0;
}

int energy_state_format(struct vq_series_map *meters,
                        struct vq_series_map *cycles, char **out,
                        size_t *len) {
  struct out o;
  char *text = NULL;
  size_t n = 0;
  uLong crc;
  o.f = open_memstream(&text, &n);
  if (o.f == NULL) return -ENOMEM;
  fputs(MAGIC, o.f);
  vq_series_each(meters, put_meter, &o);
  vq_series_each(cycles, put_cycles, &o);
  fflush(o.f);
  crc = crc32(0L, (const Bytef *)text, (uInt)n);
  fprintf(o.f, "crc %08lx\n", crc & 0xffffffffUL);
  if (fclose(o.f) != 0 || text == NULL) {
    free(text);
    return -ENOMEM;
  }
  *out = text;
  *len = n;
  return 0;
}

/* Decode a percent-encoded name in place. */
static int get_name(char *s) {
  char *w = s;
  for (; *s; s++) {
    if (*s == '%') {
      unsigned v;
      if (sscanf(s + 1, "%2x", &v) != 1 || v == 0) return -1;
      *w++ = (char)v;
      s += 2;
    } else {
      *w++ = *s;
    }
  }
  *w = '\0';
  return 0;
}

static int fail(char *err, size_t errlen, unsigned line, const char *why) {
  snprintf(err, errlen, "line %u: %s", line, why);
  return -EINVAL;
}

int energy_state_parse(const char *text, size_t len,
                       struct vq_series_map *meters,
                       struct vq_series_map *cycles, char *err, size_t errlen) {
  const char *crc_line, *p, *end = text + len;
  unsigned long want;
  unsigned line = 1;
  char buf[1024], hex[9], *hex_end;
  if (len < sizeof MAGIC - 1 || memcmp(text, MAGIC, sizeof MAGIC - 1) != 0)
    return fail(err, errlen, 1, "not a vicacq energy state file");
  /* The CRC line is the last line; everything before it is checked. */
  if (len < 14 || text[len - 1] != '\n')
    return fail(err, errlen, 0, "the file ends in the middle of a line");
  crc_line = text + len - 13;
  if (memcmp(crc_line, "crc ", 4) != 0 ||
      (crc_line > text && crc_line[-1] != '\n'))
    return fail(err, errlen, 0, "no checksum line at the end");
  /* The text need not end in a NUL: the 8 digits are copied out first. */
  memcpy(hex, crc_line + 4, 8);
  hex[8] = '\0';
  want = strtoul(hex, &hex_end, 16);
  if (hex_end != hex + 8 || !isxdigit((unsigned char)hex[0]) ||
      (crc32(0L, (const Bytef *)text, (uInt)(crc_line - text)) & 0xffffffffUL) != want)
    return fail(err, errlen, 0, "checksum mismatch (torn or edited file)");
  for (p = text + sizeof MAGIC - 1; p < crc_line; line++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)(nl - p);
    char a[512], b[512], c[512];
    if (nl == NULL || n >= sizeof buf) return fail(err, errlen, line + 1, "line too long");
    memcpy(buf, p, n);
    buf[n] = '\0';
    p = nl + 1;
    if (buf[0] == 'm') {
      struct energy_series *s;
      struct energy_meter m = {0};
      int have;
      if (sscanf(buf, "m %511s %511s %511s %lf %lf %d %" SCNd64 " %lf %" SCNu64,
                 a, b, c, &m.in_kwh, &m.out_kwh, &have, &m.last_ns, &m.last_w,
                 &m.gaps) != 9 || get_name(a) || get_name(b) || get_name(c) ||
          !(m.in_kwh >= 0) || !(m.out_kwh >= 0) || !isfinite(m.in_kwh) ||
          !isfinite(m.out_kwh) || !isfinite(m.last_w))
        return fail(err, errlen, line + 1, "bad meter line");
      m.have_last = have != 0;
      s = vq_series_get(meters, a, b, c, NULL);
      if (s == NULL) return -ENOMEM;
      s->meter = m;
    } else if (buf[0] == 'c') {
      struct cycle_series *s;
      struct cycle_counter k = {0};
      int have;
      if (sscanf(buf, "c %511s %511s %lf %d %" SCNd64 " %lf %" SCNu64, a, b,
                 &k.cycles, &have, &k.last_ns, &k.last_soc, &k.gaps) != 7 ||
          get_name(a) || get_name(b) || !(k.cycles >= 0) ||
          !isfinite(k.cycles) || !isfinite(k.last_soc))
        return fail(err, errlen, line + 1, "bad cycles line");
      k.have_last = have != 0;
      s = vq_series_get(cycles, a, b, NULL, NULL);
      if (s == NULL) return -ENOMEM;
      s->counter = k;
    } else {
      return fail(err, errlen, line + 1, "unknown line");
    }
  }
  return 0;
}

/* Topic building and parsing; see mqtt_topics.h for the layout. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "mqtt_topics.h"

static int level_char_ok(unsigned char c) {
  return c != '/' && c != '+' && c != '#' && c >= 0x20 && c != 0x7f;
}

void mqtt_topic_add_level(struct vq_text *t, const char *s) {
  const char *run = s, *c;
  if (*s == '\0') { /* an empty level would make "a//b": keep it visible */
    vq_text_addc(t, '_');
    return;
  }
  for (c = s; *c; c++) {
    if (level_char_ok((unsigned char)*c)) continue;
    vq_text_add(t, run, (size_t)(c - run));
    vq_text_addc(t, '_');
    run = c + 1;
  }
  vq_text_add(t, run, (size_t)(c - run));
}

void mqtt_topic_add_quantity(struct vq_text *t, const char *quantity) {
  const char *c;
  for (c = quantity; *c; c++) {
    unsigned char u = (unsigned char)*c;
    if (*c == '.') vq_text_addc(t, '/');
    else vq_text_addc(t, level_char_ok(u) ? *c : '_');
  }
}

void mqtt_topic_device(struct vq_text *t, const char *base, const char *source,
                       const char *device) {
  vq_text_adds(t, base);
  vq_text_addc(t, '/');
  mqtt_topic_add_level(t, source);
  vq_text_addc(t, '/');
  mqtt_topic_add_level(t, device);
}

void mqtt_topic_state(struct vq_text *t, const char *base, const char *source,
                      const char *device, const char *quantity,
                      const char *suffix) {
  mqtt_topic_device(t, base, source, device);
  vq_text_addc(t, '/');
  mqtt_topic_add_quantity(t, quantity);
  vq_text_adds(t, suffix);
}

void mqtt_topic_add_id(struct vq_text *t, const char *s) {
  const char *c;
  for (c = s; *c; c++) {
    char ch = *c;
    int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
             (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    vq_text_addc(t, ok ? ch : '_');
  }
}

static int copy_part(char *out, size_t cap, const char *s, size_t n) {
  if (n == 0 || n >= cap) return -EINVAL;
  memcpy(out, s, n);
  out[n] = '\0';
  return 0;
}

int mqtt_topic_parse_set(const char *topic, const char *base, char *source,
                         char *device, char *quantity, size_t cap) {
  size_t blen = strlen(base), tlen = strlen(topic), qlen, i;
  const char *p, *slash, *qstart;

  if (tlen <= blen + 1 || strncmp(topic, base, blen) != 0 || topic[blen] != '/')
    return -EINVAL;
  if (tlen < 4 || strcmp(topic + tlen - 4, "/set") != 0) return -EINVAL;
  p = topic + blen + 1;
  if ((slash = strchr(p, '/')) == NULL ||
      copy_part(source, cap, p, (size_t)(slash - p)) < 0)
    return -EINVAL;
  p = slash + 1;
  if ((slash = strchr(p, '/')) == NULL ||
      copy_part(device, cap, p, (size_t)(slash - p)) < 0)
    return -EINVAL;
  qstart = slash + 1;
  if (qstart >= topic + tlen - 4) return -EINVAL;
  qlen = (size_t)(topic + tlen - 4 - qstart);
  if (copy_part(quantity, cap, qstart, qlen) < 0) return -EINVAL;
  for (i = 0; i < qlen; i++) {
    if (quantity[i] == '/') {
      /* "a//b" or a trailing slash is no quantity */
      if (i == 0 || i + 1 == qlen || quantity[i + 1] == '/') return -EINVAL;
      quantity[i] = '.';
    }
  }
  return 0;
}

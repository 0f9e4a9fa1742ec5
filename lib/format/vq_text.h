/* A growable text buffer and the escaping helpers the sinks share. */
#ifndef VQ_TEXT_H
#define VQ_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct vq_text {
  char *data; /* NUL-terminated when len > 0 */
  size_t len, cap;
  int failed; /* an allocation failed: the text is incomplete */
};

void vq_text_init(struct vq_text *t);
void vq_text_free(struct vq_text *t);
/* Forget the contents, keep the memory. */
static inline void vq_text_clear(struct vq_text *t) {
  t->len = 0;
  t->failed = 0;
  if (t->data) t->data[0] = '\0';
}
void vq_text_add(struct vq_text *t, const char *s, size_t n);
/* Grow by n bytes and return where they start (NULL when out of memory). */
char *vq_text_extend(struct vq_text *t, size_t n);
void vq_text_adds(struct vq_text *t, const char *s);
void vq_text_addc_slow(struct vq_text *t, char c);
static inline void vq_text_addc(struct vq_text *t, char c) {
  if (t->len + 2 <= t->cap) {
    t->data[t->len++] = c;
    t->data[t->len] = '\0';
    return;
  }
  vq_text_addc_slow(t, c);
}
void vq_text_addf(struct vq_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A double in the shortest form that reads back to the same value. */
void vq_text_add_double(struct vq_text *t, double v);
void vq_text_add_int(struct vq_text *t, int64_t v);
/* A JSON string literal, quotes included. */
void vq_text_add_json_string(struct vq_text *t, const char *s);
/* 1 when s holds well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 otherwise.  MQTT topics must be
 * (libmosquitto refuses the publish), and JSON text should be. */
int vq_utf8_valid(const char *s);
/* RFC 3339 UTC time with microseconds: 2026-11-20T21:05:03.123456Z. */
void vq_text_add_time(struct vq_text *t, int64_t time_ns);

#endif

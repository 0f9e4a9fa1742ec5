/* Readings for tests (see vqt_reading.h). */
#include "vqt_reading.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "item.h"

void vqt_build(struct vqt_builder *b, const char *device, int64_t time_ns) {
  static const struct vq_reading init = VQ_READING_INIT;
  memset(b, 0, sizeof *b);
  b->reading = init;
  b->reading.device = device;
  b->reading.time_ns = time_ns;
  b->reading.records = b->records;
  b->reading.tags = b->tags;
}

void vqt_build_tag(struct vqt_builder *b, const char *key, const char *value) {
  if (b->reading.ntags >= VQT_MAX_TAGS) {
    fprintf(stderr, "vqt_build_tag: more than %d tags\n", VQT_MAX_TAGS);
    abort();
  }
  b->tags[b->reading.ntags].key = key;
  b->tags[b->reading.ntags].value = value;
  b->reading.ntags++;
}

static struct vq_record *add(struct vqt_builder *b, const char *quantity,
                             uint32_t type) {
  struct vq_record *r;
  if (b->reading.nrecords >= VQT_MAX_RECORDS) {
    fprintf(stderr, "vqt_build: more than %d records\n", VQT_MAX_RECORDS);
    abort();
  }
  r = &b->records[b->reading.nrecords++];
  memset(r, 0, sizeof *r);
  r->quantity = quantity;
  r->type = type;
  return r;
}

struct vq_record *vqt_build_double(struct vqt_builder *b, const char *quantity,
                                   double value) {
  struct vq_record *r = add(b, quantity, VQ_VALUE_DOUBLE);
  r->value.f64 = value;
  return r;
}

struct vq_record *vqt_build_int(struct vqt_builder *b, const char *quantity,
                                int64_t value) {
  struct vq_record *r = add(b, quantity, VQ_VALUE_INT);
  r->value.i64 = value;
  return r;
}

struct vq_record *vqt_build_bool(struct vqt_builder *b, const char *quantity,
                                 int value) {
  struct vq_record *r = add(b, quantity, VQ_VALUE_BOOL);
  r->value.i64 = value != 0;
  return r;
}

struct vq_record *vqt_build_string(struct vqt_builder *b, const char *quantity,
                                   const char *value) {
  struct vq_record *r = add(b, quantity, VQ_VALUE_STRING);
  r->value.str = value;
  return r;
}

struct vq_record *vqt_build_enum(struct vqt_builder *b, const char *quantity,
                                 int64_t code, const char *label) {
  struct vq_record *r = add(b, quantity, VQ_VALUE_ENUM);
  r->value.i64 = code;
  r->text = label;
  return r;
}

struct vq_record *vqt_build_bitmask(struct vqt_builder *b,
                                    const char *quantity, int64_t bits,
                                    const char *labels) {
  struct vq_record *r = add(b, quantity, VQ_VALUE_BITMASK);
  r->value.i64 = bits;
  r->text = labels;
  return r;
}

struct vq_record *vqt_build_na(struct vqt_builder *b, const char *quantity,
                               uint32_t type) {
  struct vq_record *r = add(b, quantity, type);
  r->flags |= VQ_RECORD_NA;
  return r;
}

int vqt_list_add(struct vqt_list *l, const struct vq_reading *r,
                 const char *source, int64_t time_ns, uint64_t seq) {
  struct vq_item *it;
  int err = 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    struct vq_reading **grown = realloc(l->items, cap * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    l->items = grown;
    l->cap = cap;
  }
  if (time_ns == 0) time_ns = r && r->time_ns ? r->time_ns : vq_realtime_ns();
  it = vq_item_copy(r, source, time_ns, seq, NULL, NULL, &err);
  if (it == NULL) return err ? err : -EINVAL;
  l->items[l->n++] = &it->reading;
  return 0;
}

void vqt_list_clear(struct vqt_list *l) {
  size_t i;
  for (i = 0; i < l->n; i++) vq_item_unref(vq_item_of(l->items[i]));
  free(l->items);
  l->items = NULL;
  l->n = l->cap = 0;
}

int vqt_feed(const struct vq_reading *const *readings, size_t n,
             size_t per_call, vqt_feed_fn fn, void *arg) {
  size_t i = 0;
  if (per_call == 0) per_call = n ? n : 1;
  while (i < n) {
    size_t k = n - i < per_call ? n - i : per_call;
    int rc = fn(arg, readings + i, k);
    if (rc != 0) return rc;
    i += k;
  }
  return 0;
}

const struct vq_record *vqt_record(const struct vq_reading *r,
                                   const char *quantity) {
  uint32_t i;
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, i);
    if (strcmp(rec->quantity, quantity) == 0) return rec;
  }
  return NULL;
}

const char *vqt_tag(const struct vq_reading *r, const char *key) {
  uint32_t i;
  for (i = 0; i < r->ntags; i++)
    if (strcmp(r->tags[i].key, key) == 0) return r->tags[i].value;
  return NULL;
}

char *vqt_record_text(const struct vq_record *rec, char *buf, size_t len) {
  int n = snprintf(buf, len, "%s=", rec->quantity);
  size_t off = n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
  if (rec->flags & VQ_RECORD_NA) {
    snprintf(buf + off, len - off, "NA");
    return buf;
  }
  switch (rec->type) {
  case VQ_VALUE_DOUBLE:
    snprintf(buf + off, len - off, "%.6g", rec->value.f64);
    break;
  case VQ_VALUE_STRING:
    snprintf(buf + off, len - off, "%s", rec->value.str);
    break;
  case VQ_VALUE_ENUM:
  case VQ_VALUE_BITMASK:
    if (rec->text != NULL) {
      snprintf(buf + off, len - off, "%lld [%s]", (long long)rec->value.i64,
               rec->text);
      break;
    }
    /* fall through */
  default:
    snprintf(buf + off, len - off, "%lld", (long long)rec->value.i64);
  }
  return buf;
}

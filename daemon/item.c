#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "item.h"
#include "vocabulary.h"

static size_t str_size(const char *s) { return s ? strlen(s) + 1 : 0; }

/* Copy s to *pool and advance it; NULL stays NULL. */
static const char *pool_put(char **pool, const char *s) {
  size_t n;
  char *out;
  if (s == NULL) return NULL;
  n = strlen(s) + 1;
  out = *pool;
  memcpy(out, s, n);
  *pool += n;
  return out;
}

/* `text` is the last field of struct vq_record; a producer built with an
 * older, shorter record has none. */
static const char *record_text(const struct vq_reading *in,
                               const struct vq_record *r) {
  return in->record_size >= sizeof(struct vq_record) ? r->text : NULL;
}

static int valid_type(uint32_t t) {
  return t >= VQ_VALUE_DOUBLE && t <= VQ_VALUE_BITMASK;
}

struct vq_item *vq_item_copy(const struct vq_reading *in, const char *source,
                             int64_t time_ns, uint64_t seq,
                             vq_item_filter filter, void *arg, int *err) {
  /* Small fixed scratch for per-record decisions; readings are small
   * (a BLE advertisement or a VE.Direct block), so a bound is fine. */
  enum { MAX_RECORDS = 512 };
  int flags[MAX_RECORDS];
  const struct vq_quantity_info *info[MAX_RECORDS];
  size_t bytes, strings = 0, kept = 0, i;
  struct vq_item *it;
  struct vq_tag *tags;
  struct vq_record *recs;
  char *pool;

  if (in == NULL || in->size < offsetof(struct vq_reading, records) +
                                   sizeof in->records ||
      in->record_size < sizeof(struct vq_record) - sizeof(const char *) ||
      in->device == NULL || *in->device == '\0' ||
      in->nrecords > MAX_RECORDS || (in->nrecords && in->records == NULL) ||
      (in->ntags && in->tags == NULL)) {
    *err = -EINVAL;
    return NULL;
  }
  strings += str_size(in->device);
  for (i = 0; i < in->ntags; i++) {
    if (in->tags[i].key == NULL || in->tags[i].value == NULL) {
      *err = -EINVAL;
      return NULL;
    }
    strings += str_size(in->tags[i].key) + str_size(in->tags[i].value);
  }
  for (i = 0; i < in->nrecords; i++) {
    const struct vq_record *r = VQ_READING_RECORD(in, i);
    if (r->quantity == NULL || !valid_type(r->type) ||
        (r->type == VQ_VALUE_STRING && !(r->flags & VQ_RECORD_NA) &&
         r->value.str == NULL)) {
      *err = -EINVAL;
      return NULL;
    }
    flags[i] = filter ? filter(arg, r) : (int)r->flags;
    if (flags[i] < 0) continue;
    kept++;
    info[i] = vq_vocabulary_find(r->quantity);
    if (info[i] == NULL) strings += str_size(r->quantity);
    if (r->unit != NULL && (info[i] == NULL || strcmp(r->unit, info[i]->unit)))
      strings += str_size(r->unit);
    if (r->type == VQ_VALUE_STRING) strings += str_size(r->value.str);
    strings += str_size(record_text(in, r));
  }
  if (kept == 0 && in->nrecords > 0) {
    *err = -ENODATA;
    return NULL;
  }
  bytes = sizeof *it + in->ntags * sizeof *tags + kept * sizeof *recs + strings;
  it = malloc(bytes);
  if (it == NULL) {
    *err = -ENOMEM;
    return NULL;
  }
  tags = (struct vq_tag *)(it + 1);
  recs = (struct vq_record *)(tags + in->ntags);
  pool = (char *)(recs + kept);

  it->refs = 1;
  it->bytes = (uint32_t)bytes;
  it->reading.size = sizeof(struct vq_reading);
  it->reading.record_size = sizeof(struct vq_record);
  it->reading.source = source;
  it->reading.device = pool_put(&pool, in->device);
  it->reading.time_ns = time_ns;
  it->reading.seq = seq;
  it->reading.tags = tags;
  it->reading.ntags = in->ntags;
  it->reading.records = recs;
  it->reading.nrecords = (uint32_t)kept;
  for (i = 0; i < in->ntags; i++) {
    tags[i].key = pool_put(&pool, in->tags[i].key);
    tags[i].value = pool_put(&pool, in->tags[i].value);
  }
  kept = 0;
  for (i = 0; i < in->nrecords; i++) {
    const struct vq_record *r = VQ_READING_RECORD(in, i);
    struct vq_record *out;
    if (flags[i] < 0) continue;
    out = &recs[kept++];
    out->quantity = info[i] ? info[i]->name : pool_put(&pool, r->quantity);
    if (r->unit == NULL)
      out->unit = info[i] ? info[i]->unit : "";
    else if (info[i] != NULL && strcmp(r->unit, info[i]->unit) == 0)
      out->unit = info[i]->unit;
    else
      out->unit = pool_put(&pool, r->unit);
    out->type = r->type;
    out->flags = (uint32_t)flags[i];
    if (r->type == VQ_VALUE_STRING)
      out->value.str = pool_put(&pool, r->value.str);
    else
      out->value = r->value;
    out->text = pool_put(&pool, record_text(in, r));
  }
  return it;
}

void vq_item_unref(struct vq_item *it) {
  if (it != NULL && --it->refs == 0) free(it);
}

/* ------------------------------------------------------------------ */
/* Spool encoding                                                      */
/* ------------------------------------------------------------------ */

#define NULL_STR 0xFFFFu

struct writer {
  unsigned char *buf;
  size_t len, cap;
};

static void put(struct writer *w, const void *p, size_t n) {
  if (w->buf != NULL && w->len + n <= w->cap) memcpy(w->buf + w->len, p, n);
  w->len += n;
}

static void put_u64(struct writer *w, uint64_t v) {
  unsigned char b[8];
  int i;
  for (i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
  put(w, b, 8);
}

static void put_u32(struct writer *w, uint32_t v) {
  unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                        (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
  put(w, b, 4);
}

static void put_str(struct writer *w, const char *s) {
  size_t n = s ? strlen(s) : NULL_STR;
  unsigned char b[2];
  if (n >= NULL_STR && s != NULL) n = NULL_STR - 1; /* truncate, never NULL */
  b[0] = (unsigned char)n;
  b[1] = (unsigned char)(n >> 8);
  put(w, b, 2);
  if (s != NULL) put(w, s, n);
}

size_t vq_item_encode(const struct vq_item *it, unsigned char *buf,
                      size_t buflen) {
  struct writer w = {buf, 0, buflen};
  const struct vq_reading *r = &it->reading;
  uint32_t i;
  put_u64(&w, (uint64_t)r->time_ns);
  put_u64(&w, r->seq);
  put_u32(&w, r->ntags);
  put_u32(&w, r->nrecords);
  put_str(&w, r->source);
  put_str(&w, r->device);
  for (i = 0; i < r->ntags; i++) {
    put_str(&w, r->tags[i].key);
    put_str(&w, r->tags[i].value);
  }
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = &r->records[i];
    unsigned char type = (unsigned char)rec->type;
    put_str(&w, rec->quantity);
    put_str(&w, rec->unit);
    put(&w, &type, 1);
    put_u32(&w, rec->flags);
    if (rec->type == VQ_VALUE_STRING) {
      put_str(&w, rec->value.str);
    } else if (rec->type == VQ_VALUE_DOUBLE) {
      uint64_t bits;
      memcpy(&bits, &rec->value.f64, 8);
      put_u64(&w, bits);
    } else {
      put_u64(&w, (uint64_t)rec->value.i64);
    }
    put_str(&w, rec->text);
  }
  return w.len;
}

struct reader {
  const unsigned char *p, *end;
  char *strings; /* NUL-terminated copies */
  int bad;
};

static uint64_t get_u64(struct reader *r) {
  uint64_t v = 0;
  int i;
  if (r->end - r->p < 8) { r->bad = 1; return 0; }
  for (i = 0; i < 8; i++) v |= (uint64_t)r->p[i] << (8 * i);
  r->p += 8;
  return v;
}

static uint32_t get_u32(struct reader *r) {
  uint32_t v;
  if (r->end - r->p < 4) { r->bad = 1; return 0; }
  v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
      (uint32_t)r->p[3] << 24;
  r->p += 4;
  return v;
}

static const char *get_str(struct reader *r) {
  size_t n;
  char *s;
  if (r->end - r->p < 2) { r->bad = 1; return NULL; }
  n = (size_t)r->p[0] | (size_t)r->p[1] << 8;
  r->p += 2;
  if (n == NULL_STR) return NULL;
  if ((size_t)(r->end - r->p) < n) { r->bad = 1; return NULL; }
  s = r->strings;
  memcpy(s, r->p, n);
  s[n] = '\0';
  if (memchr(s, '\0', n) != NULL) r->bad = 1;
  r->strings += n + 1;
  r->p += n;
  return s;
}

struct vq_item *vq_item_decode(const unsigned char *buf, size_t len,
                               vq_intern_fn intern) {
  struct reader rd;
  struct vq_reading in = VQ_READING_INIT;
  struct vq_tag *tags = NULL;
  struct vq_record *recs = NULL;
  struct vq_item *it = NULL;
  const char *source;
  char *strings;
  uint64_t seq;
  int64_t time_ns;
  uint32_t i;
  int err;

  /* Every string is at most as long as the input: one scratch buffer of
   * twice the input holds them all with their terminators. */
  strings = malloc(len * 2 + 1);
  if (strings == NULL) return NULL;
  rd.p = buf;
  rd.end = buf + len;
  rd.strings = strings;
  rd.bad = 0;
  time_ns = (int64_t)get_u64(&rd);
  seq = get_u64(&rd);
  in.ntags = get_u32(&rd);
  in.nrecords = get_u32(&rd);
  source = get_str(&rd);
  in.device = get_str(&rd);
  /* Each tag needs 4 bytes and each record 15 at least: bound the counts
   * by the input before allocating. */
  if (rd.bad || source == NULL || in.ntags > len / 4 || in.nrecords > len / 15)
    goto out;
  tags = calloc(in.ntags ? in.ntags : 1, sizeof *tags);
  recs = calloc(in.nrecords ? in.nrecords : 1, sizeof *recs);
  if (tags == NULL || recs == NULL) goto out;
  for (i = 0; i < in.ntags && !rd.bad; i++) {
    tags[i].key = get_str(&rd);
    tags[i].value = get_str(&rd);
  }
  for (i = 0; i < in.nrecords && !rd.bad; i++) {
    recs[i].quantity = get_str(&rd);
    recs[i].unit = get_str(&rd);
    if (rd.p >= rd.end) { rd.bad = 1; break; }
    recs[i].type = *rd.p++;
    recs[i].flags = get_u32(&rd);
    if (recs[i].type == VQ_VALUE_STRING) {
      recs[i].value.str = get_str(&rd);
    } else if (recs[i].type == VQ_VALUE_DOUBLE) {
      uint64_t bits = get_u64(&rd);
      memcpy(&recs[i].value.f64, &bits, 8);
    } else {
      recs[i].value.i64 = (int64_t)get_u64(&rd);
    }
    recs[i].text = get_str(&rd);
  }
  if (rd.bad || rd.p != rd.end) goto out;
  in.tags = tags;
  in.records = recs;
  it = vq_item_copy(&in, intern(source), time_ns, seq, NULL, NULL, &err);
out:
  free(tags);
  free(recs);
  free(strings);
  return it;
}

/* Series map (vq_series.h): open addressing on an FNV-1a hash of the key,
 * entries in an insertion-ordered array so that iteration (state files,
 * flushes) is deterministic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vq_series.h"

struct entry {
  char *a, *b, *c;   /* one allocation: a, then b, then c */
  uint64_t hash;
  void *value;
};

struct vq_series_map {
  size_t value_size;
  struct entry *entries;  /* insertion order */
  size_t n, cap;
  uint32_t *slots;        /* index + 1 into entries, 0 = empty */
  size_t nslots;
  size_t bytes;
};

static uint64_t fnv(uint64_t h, const char *s) {
  for (; s && *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return (h ^ 0xff) * 1099511628211ull; /* separator: ("ab","c") != ("a","bc") */
}

static uint64_t key_hash(const char *a, const char *b, const char *c) {
  return fnv(fnv(fnv(14695981039346656037ull, a), b), c);
}

static int same(const struct entry *e, const char *a, const char *b,
                const char *c) {
  return strcmp(e->a, a) == 0 && strcmp(e->b, b) == 0 &&
         strcmp(e->c, c ? c : "") == 0;
}

struct vq_series_map *vq_series_new(size_t value_size) {
  struct vq_series_map *m = calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  m->value_size = value_size;
  m->nslots = 64;
  m->slots = calloc(m->nslots, sizeof *m->slots);
  if (m->slots == NULL) {
    free(m);
    return NULL;
  }
  m->bytes = sizeof *m + m->nslots * sizeof *m->slots;
  return m;
}

void vq_series_free(struct vq_series_map *m) {
  size_t i;
  if (m == NULL) return;
  for (i = 0; i < m->n; i++) {
    free(m->entries[i].a);
    free(m->entries[i].value);
  }
  free(m->entries);
  free(m->slots);
  free(m);
}

static size_t slot_of(const struct vq_series_map *m, uint64_t hash,
                      const char *a, const char *b, const char *c) {
  size_t i = (size_t)hash & (m->nslots - 1);
  while (m->slots[i] != 0) {
    const struct entry *e = &m->entries[m->slots[i] - 1];
    if (e->hash == hash && same(e, a, b, c)) return i;
    i = (i + 1) & (m->nslots - 1);
  }
  return i;
}

static int grow_slots(struct vq_series_map *m) {
  size_t n = m->nslots * 2, i;
  uint32_t *slots = calloc(n, sizeof *slots);
  if (slots == NULL) return -1;
  free(m->slots);
  m->bytes += (n - m->nslots) * sizeof *slots;
  m->slots = slots;
  m->nslots = n;
  for (i = 0; i < m->n; i++) {
    size_t s = (size_t)m->entries[i].hash & (n - 1);
    while (slots[s] != 0) s = (s + 1) & (n - 1);
    slots[s] = (uint32_t)(i + 1);
  }
  return 0;
}

void *vq_series_find(const struct vq_series_map *m, const char *a,
                     const char *b, const char *c) {
  uint64_t h = key_hash(a, b, c);
  size_t s = slot_of(m, h, a, b, c);
  return m->slots[s] ? m->entries[m->slots[s] - 1].value : NULL;
}

void *vq_series_get(struct vq_series_map *m, const char *a, const char *b,
                    const char *c, int *created) {
  uint64_t h = key_hash(a, b, c);
  size_t s = slot_of(m, h, a, b, c), la, lb, lc;
  struct entry *e;
  if (created) *created = 0;
  if (m->slots[s]) return m->entries[m->slots[s] - 1].value;
  if ((m->n + 1) * 4 > m->nslots * 3) {
    if (grow_slots(m) != 0) return NULL;
    s = slot_of(m, h, a, b, c);
  }
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    struct entry *grown = realloc(m->entries, cap * sizeof *grown);
    if (grown == NULL) return NULL;
    m->bytes += (cap - m->cap) * sizeof *grown;
    m->entries = grown;
    m->cap = cap;
  }
  e = &m->entries[m->n];
  la = strlen(a);
  lb = strlen(b);
  lc = c ? strlen(c) : 0;
  e->a = malloc(la + lb + lc + 3);
  e->value = calloc(1, m->value_size ? m->value_size : 1);
  if (e->a == NULL || e->value == NULL) {
    free(e->a);
    free(e->value);
    return NULL;
  }
  memcpy(e->a, a, la + 1);
  e->b = e->a + la + 1;
  memcpy(e->b, b, lb + 1);
  e->c = e->b + lb + 1;
  memcpy(e->c, c ? c : "", lc + 1);
  e->hash = h;
  m->bytes += la + lb + lc + 3 + m->value_size;
  m->slots[s] = (uint32_t)(++m->n);
  if (created) *created = 1;
  return e->value;
}

size_t vq_series_count(const struct vq_series_map *m) { return m->n; }

int vq_series_each(struct vq_series_map *m,
                   int (*fn)(void *arg, const char *a, const char *b,
                             const char *c, void *value),
                   void *arg) {
  size_t i;
  for (i = 0; i < m->n; i++) {
    int rc = fn(arg, m->entries[i].a, m->entries[i].b, m->entries[i].c,
                m->entries[i].value);
    if (rc != 0) return rc;
  }
  return 0;
}

size_t vq_series_bytes(const struct vq_series_map *m) { return m->bytes; }

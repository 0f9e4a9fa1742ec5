/* The live copy of the energy meters (energy_live.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "energy_live.h"

#define SLOT_MAGIC 0x4c455156u /* "VQEL" */
#define KEY_BYTES 168
#define GROW 64                /* slots added at a time */

struct slot {
  uint32_t magic;
  uint32_t crc;       /* of everything after this field */
  uint32_t kind;      /* 0 meter, 1 cycle counter */
  uint32_t have_last;
  double a, b;        /* in, out kWh  |  cycles, - */
  double last_value;  /* last W       |  last SoC */
  int64_t last_ns;
  uint64_t gaps;
  uint64_t backwards;
  char key[KEY_BYTES]; /* source \0 device \0 input \0 */
};

struct energy_live {
  int fd;
  struct slot *map;
  size_t nslots;  /* mapped */
  size_t used;
};

static uint32_t slot_crc(const struct slot *s) {
  return (uint32_t)crc32(0L, (const Bytef *)&s->kind,
                         (uInt)(sizeof *s - offsetof(struct slot, kind)));
}

static int map_slots(struct energy_live *l, size_t n) {
  void *m;
  if (ftruncate(l->fd, (off_t)(n * sizeof(struct slot))) != 0) return -errno;
  m = mmap(NULL, n * sizeof(struct slot), PROT_READ | PROT_WRITE, MAP_SHARED,
           l->fd, 0);
  if (m == MAP_FAILED) return -errno;
  if (l->map != NULL) munmap(l->map, l->nslots * sizeof(struct slot));
  l->map = m;
  l->nslots = n;
  return 0;
}

struct energy_live *energy_live_open(const char *path, int *err) {
  struct energy_live *l = calloc(1, sizeof *l);
  struct stat st;
  size_t n;
  if (l == NULL) {
    *err = -ENOMEM;
    return NULL;
  }
  l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (l->fd < 0 || fstat(l->fd, &st) != 0) {
    *err = -errno;
    if (l->fd >= 0) close(l->fd);
    free(l);
    return NULL;
  }
  n = (size_t)st.st_size / sizeof(struct slot);
  *err = map_slots(l, n > 0 ? n : GROW);
  if (*err != 0) {
    close(l->fd);
    free(l);
    return NULL;
  }
  /* Slots in use: up to the last one with our magic. */
  for (l->used = l->nslots; l->used > 0; l->used--)
    if (l->map[l->used - 1].magic == SLOT_MAGIC) break;
  return l;
}

void energy_live_close(struct energy_live *l) {
  if (l == NULL) return;
  if (l->map) munmap(l->map, l->nslots * sizeof(struct slot));
  close(l->fd);
  free(l);
}

int energy_live_fd(const struct energy_live *l) { return l->fd; }

static size_t make_key(char *key, const char *source, const char *device,
                       const char *input) {
  size_t a = strlen(source) + 1, b = strlen(device) + 1, c = strlen(input) + 1;
  if (a + b + c > KEY_BYTES) return 0;
  memset(key, 0, KEY_BYTES);
  memcpy(key, source, a);
  memcpy(key + a, device, b);
  memcpy(key + a + b, input, c);
  return a + b + c;
}

int energy_live_slot(struct energy_live *l, const char *source,
                     const char *device, const char *input) {
  char key[KEY_BYTES];
  size_t i;
  if (make_key(key, source, device, input) == 0) return -ENOSPC;
  for (i = 0; i < l->used; i++)
    if (l->map[i].magic == SLOT_MAGIC && memcmp(l->map[i].key, key, KEY_BYTES) == 0)
      return (int)i;
  if (l->used == l->nslots) {
    int rc = map_slots(l, l->nslots + GROW);
    if (rc != 0) return rc;
  }
  memset(&l->map[l->used], 0, sizeof l->map[l->used]);
  memcpy(l->map[l->used].key, key, KEY_BYTES);
  l->map[l->used].magic = SLOT_MAGIC;
  l->map[l->used].crc = slot_crc(&l->map[l->used]);
  return (int)l->used++;
}

void energy_live_put_meter(struct energy_live *l, int slot,
                           const struct energy_meter *m) {
  struct slot *s = &l->map[slot];
  s->kind = 0;
  s->have_last = (uint32_t)m->have_last;
  s->a = m->in_kwh;
  s->b = m->out_kwh;
  s->last_value = m->last_w;
  s->last_ns = m->last_ns;
  s->gaps = m->gaps;
  s->backwards = m->backwards;
  s->crc = slot_crc(s);
}

void energy_live_put_cycles(struct energy_live *l, int slot,
                            const struct cycle_counter *c) {
  struct slot *s = &l->map[slot];
  s->kind = 1;
  s->have_last = (uint32_t)c->have_last;
  s->a = c->cycles;
  s->b = 0;
  s->last_value = c->last_soc;
  s->last_ns = c->last_ns;
  s->gaps = c->gaps;
  s->backwards = 0;
  s->crc = slot_crc(s);
}

void energy_live_each(struct energy_live *l,
                      void (*fn)(void *arg, int slot, const char *source,
                                 const char *device, const char *input,
                                 const struct energy_meter *m,
                                 const struct cycle_counter *c),
                      void *arg) {
  size_t i;
  for (i = 0; i < l->used; i++) {
    const struct slot *s = &l->map[i];
    const char *src = s->key, *dev, *in;
    struct energy_meter m;
    struct cycle_counter c;
    if (s->magic != SLOT_MAGIC || s->crc != slot_crc(s) ||
        memchr(s->key, '\0', KEY_BYTES) == NULL)
      continue; /* torn or never written: the state file's value counts */
    dev = src + strlen(src) + 1;
    if (dev >= s->key + KEY_BYTES) continue;
    in = dev + strnlen(dev, (size_t)(s->key + KEY_BYTES - dev)) + 1;
    if (in >= s->key + KEY_BYTES || memchr(in, '\0', (size_t)(s->key + KEY_BYTES - in)) == NULL)
      continue;
    memset(&m, 0, sizeof m);
    memset(&c, 0, sizeof c);
    if (s->kind == 0) {
      m.in_kwh = s->a;
      m.out_kwh = s->b;
      m.last_w = s->last_value;
      m.last_ns = s->last_ns;
      m.have_last = (int)s->have_last;
      m.gaps = s->gaps;
      m.backwards = s->backwards;
      fn(arg, (int)i, src, dev, in, &m, NULL);
    } else {
      c.cycles = s->a;
      c.last_soc = s->last_value;
      c.last_ns = s->last_ns;
      c.have_last = (int)s->have_last;
      c.gaps = s->gaps;
      fn(arg, (int)i, src, dev, in, NULL, &c);
    }
  }
}

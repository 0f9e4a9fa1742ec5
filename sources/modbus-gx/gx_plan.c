/* Block planning and register choice for the GX poller.
 * doc/protocols/modbus-gx.md §3 (encodings, wrapping), §4 (0x02 on gaps). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gx_plan.h"

int gx_image_init(struct gx_image *img, int service) {
  size_t first, count, i;
  unsigned lo = 0xFFFF, hi = 0;
  memset(img, 0, sizeof *img);
  img->service = service;
  gx_service_registers(service, &first, &count);
  for (i = first; i < first + count; i++) {
    const struct gx_register *r = &gx_registers[i];
    if (r->address < lo) lo = r->address;
    if ((unsigned)r->address + r->count > hi) hi = r->address + r->count;
  }
  if (count == 0) return -EINVAL;
  img->base = (uint16_t)lo;
  img->span = (uint16_t)(hi - lo);
  img->words = calloc(img->span, sizeof *img->words);
  img->valid = calloc(img->span, 1);
  img->missing = calloc(img->span, 1);
  if (!img->words || !img->valid || !img->missing) {
    gx_image_free(img);
    return -ENOMEM;
  }
  return 0;
}

void gx_image_free(struct gx_image *img) {
  free(img->words);
  free(img->valid);
  free(img->missing);
  img->words = NULL;
  img->valid = img->missing = NULL;
}

void gx_image_reset(struct gx_image *img) { memset(img->valid, 0, img->span); }

static int row_missing(const struct gx_image *img, const struct gx_register *r) {
  return img->missing[r->address - img->base];
}

size_t gx_plan_blocks(const struct gx_image *img, struct gx_block *out,
                      size_t max) {
  size_t first, count, i, n = 0;
  struct gx_block cur = {0, 0};
  gx_service_registers(img->service, &first, &count);
  for (i = first; i < first + count; i++) {
    const struct gx_register *r = &gx_registers[i];
    int contiguous = cur.count > 0 && r->address == cur.address + cur.count;
    if (row_missing(img, r)) {
      contiguous = 0;
    } else if (contiguous && cur.count + r->count <= GX_MAX_BLOCK) {
      cur.count = (uint16_t)(cur.count + r->count);
      continue;
    }
    /* Trailing padding is not worth a read of its own. */
    if (cur.count > 0 && n < max) out[n++] = cur;
    cur.count = 0;
    if (!row_missing(img, r) && r->kind != GX_RESERVED) {
      cur.address = r->address;
      cur.count = r->count;
    }
  }
  if (cur.count > 0 && n < max) out[n++] = cur;
  return n;
}

int gx_block_split(int service, const struct gx_block *b,
                   struct gx_block *left, struct gx_block *right) {
  size_t first, count, i;
  unsigned mid = b->address + b->count / 2, best = 0, best_d = 0xFFFF;
  gx_service_registers(service, &first, &count);
  for (i = first; i < first + count; i++) {
    unsigned a = gx_registers[i].address, d;
    if (a <= b->address || a >= (unsigned)b->address + b->count) continue;
    d = a > mid ? a - mid : mid - a;
    if (d < best_d) {
      best_d = d;
      best = a;
    }
  }
  if (best == 0) return -1;
  left->address = b->address;
  left->count = (uint16_t)(best - b->address);
  right->address = (uint16_t)best;
  right->count = (uint16_t)(b->address + b->count - best);
  return 0;
}

void gx_image_store(struct gx_image *img, const struct gx_block *b,
                    const uint16_t *words) {
  size_t off = b->address - img->base;
  memcpy(img->words + off, words, b->count * sizeof *words);
  memset(img->valid + off, 1, b->count);
}

void gx_image_mark_missing(struct gx_image *img, const struct gx_block *b) {
  memset(img->missing + (b->address - img->base), 1, b->count);
}

static int row_read(const struct gx_image *img, const struct gx_register *r) {
  size_t off = r->address - img->base, k;
  for (k = 0; k < r->count; k++)
    if (!img->valid[off + k]) return 0;
  return 1;
}

const uint16_t *gx_image_words(const struct gx_image *img,
                               const struct gx_register *row) {
  return img->words + (row->address - img->base);
}

const struct gx_register *gx_point_row(const struct gx_image *img, int point) {
  size_t first, count, i;
  gx_service_registers(img->service, &first, &count);
  for (i = first; i < first + count; i++)
    if (gx_registers[i].point == point && row_read(img, &gx_registers[i]))
      return &gx_registers[i];
  return NULL;
}

int gx_point_value(const struct gx_image *img, int point, double *value,
                   const struct gx_register **row) {
  const struct gx_register *rows[8], *widest = NULL, *best = NULL;
  double values[8], wv = 0;
  size_t first, count, i, n = 0;
  gx_service_registers(img->service, &first, &count);
  for (i = first; i < first + count && n < 8; i++) {
    const struct gx_register *r = &gx_registers[i];
    if (r->point != point || !row_read(img, r)) continue;
    if (gx_decode_value(r, gx_image_words(img, r), &values[n]) != 0) continue;
    rows[n] = r;
    if (widest == NULL || r->count > widest->count) {
      widest = r;
      wv = values[n];
    }
    n++;
  }
  if (widest == NULL) return -ENOENT;
  for (i = 0; i < n; i++) {
    double tol = fmax(gx_resolution(rows[i]), gx_resolution(widest));
    if (rows[i] != widest && fabs(values[i] - wv) > tol) continue;
    if (best == NULL || gx_resolution(rows[i]) < gx_resolution(best)) {
      best = rows[i];
      *value = values[i];
    }
  }
  *row = best;
  return 0;
}

const struct gx_register *gx_write_row(int service, int point, double value,
                                       uint16_t words[2], int *err) {
  const struct gx_register *best = NULL;
  size_t first, count, i;
  int any = 0;
  gx_service_registers(service, &first, &count);
  for (i = first; i < first + count; i++) {
    const struct gx_register *r = &gx_registers[i];
    uint16_t w[2];
    if (r->point != point || !r->writable || r->kind == GX_STRING) continue;
    any = 1;
    if (gx_encode_value(r, value, w) != 0) continue;
    if (best == NULL || gx_resolution(r) < gx_resolution(best) ||
        (gx_resolution(r) == gx_resolution(best) && r->count < best->count)) {
      best = r;
      words[0] = w[0];
      words[1] = w[1];
    }
  }
  if (best == NULL) *err = any ? -ERANGE : -EPERM;
  return best;
}

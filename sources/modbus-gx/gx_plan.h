/* What to read from a (unit, service) and how to turn the words into
 * values: block planning, block splitting on 0x02, and the choice between
 * registers that carry the same D-Bus path.  Pure functions, no I/O.
 * doc/protocols/modbus-gx.md §3, §4. */
#ifndef VQ_GX_PLAN_H
#define VQ_GX_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "gx_registers.h"

/** Most registers one request may cover (0x03 beyond). */
#define GX_MAX_BLOCK 125

/** A contiguous run of rows read in one request. */
struct gx_block {
  uint16_t address;
  uint16_t count;
};

/** The words of one (unit, service) as last read, by address. */
struct gx_image {
  int service;
  uint16_t base;       /* address of words[0] */
  uint16_t span;       /* words in the image */
  uint16_t *words;
  uint8_t *valid;      /* 1 where the word was read in this cycle */
  uint8_t *missing;    /* 1 for rows the GX does not have (0x02 alone) */
};

/** Allocate the image of a service (every word invalid).  0 or -ENOMEM. */
int gx_image_init(struct gx_image *img, int service);
void gx_image_free(struct gx_image *img);
/** Forget this cycle's words (keep what is known missing). */
void gx_image_reset(struct gx_image *img);

/** Plan the blocks covering every row of the service that is not known
 *  missing: contiguous rows only (a gap ends a block, as the GX answers a
 *  gap with 0x02), at most GX_MAX_BLOCK registers, never splitting a row.
 *  Returns the number of blocks written to out (at most max). */
size_t gx_plan_blocks(const struct gx_image *img, struct gx_block *out,
                      size_t max);

/** Split a block the GX refused with 0x02 at the row boundary nearest its
 *  middle.  0, or -1 when it holds one row (that row is then missing). */
int gx_block_split(int service, const struct gx_block *b,
                   struct gx_block *left, struct gx_block *right);

/** Store the words of a block read from the GX. */
void gx_image_store(struct gx_image *img, const struct gx_block *b,
                    const uint16_t *words);

/** Mark the rows of a one-row block missing (0x02 on its own). */
void gx_image_mark_missing(struct gx_image *img, const struct gx_block *b);

/** The value of a numeric point from this cycle's words: of the registers
 *  read, the finest-resolution one whose value agrees with the widest one
 *  within the coarser of the two resolutions (a 16-bit register of a double
 *  wraps beyond its range; the widest register decides).  Returns 0 and
 *  sets *value and *row, or -ENOENT when none of its registers was read. */
int gx_point_value(const struct gx_image *img, int point, double *value,
                   const struct gx_register **row);

/** The first row of a point that was read (strings, enums), or NULL. */
const struct gx_register *gx_point_row(const struct gx_image *img, int point);

/** The words of a row (valid only when gx_point_row returned it). */
const uint16_t *gx_image_words(const struct gx_image *img,
                               const struct gx_register *row);

/** The writable row to set `value` through: of the point's W rows, the
 *  finest resolution that can hold the value (fewest registers on a tie).
 *  Returns the row and fills words, or NULL with *err -ERANGE (no row can
 *  hold it) or -EPERM (the point has no W row). */
const struct gx_register *gx_write_row(int service, int point, double value,
                                       uint16_t words[2], int *err);

#endif

/* The GX register map, generated from Victron's attributes.csv
 * (gx_registers.c, by gen-registers.py), and the pure functions that turn
 * register words into values and values into words.  No I/O here.
 * Encodings: doc/protocols/modbus-gx.md §3. */
#ifndef VQ_GX_REGISTERS_H
#define VQ_GX_REGISTERS_H

#include <stddef.h>
#include <stdint.h>

#include <vicacq/plugin.h>

/** Modbus encodings of a register row. */
enum gx_kind {
  GX_U16 = 1,  /* 1 register */
  GX_S16,      /* 1 register, two's complement */
  GX_U32,      /* 2 registers, high word first */
  GX_S32,      /* 2 registers, high word first, two's complement */
  GX_U64,      /* 4 registers, most significant word first */
  GX_STRING,   /* count registers, 2 characters each, high byte first */
  GX_RESERVED, /* padding, reads 0xFFFF, never emitted */
  GX_FIRMWARE  /* 834/835: version as hex digits, beta number */
};

/** One row of attributes.csv. */
struct gx_register {
  uint16_t address;
  uint16_t count;    /* registers it covers */
  uint8_t kind;      /* enum gx_kind */
  uint8_t service;   /* index into gx_services */
  double scale;      /* raw = value * scale; never 0 */
  uint8_t writable;  /* 'W' in the CSV */
  int16_t point;     /* index into gx_points, -1 for reserved rows */
};

/** One (service, D-Bus path): what the plugin emits as one record, however
 *  many registers carry it. */
struct gx_point {
  uint8_t service;
  const char *path;
  const char *quantity;       /* vocabulary name or gx.<service>.<path> */
  uint32_t type;              /* enum vq_value_type */
  const char *unit;           /* SI symbol, "" when unitless */
  double unit_factor;         /* applied after the scale (s -> min) */
  const struct vq_label *labels; /* the CSV's enum words, snake_case */
  uint32_t nlabels;
  uint8_t named;              /* quantity is a core vocabulary name */
};

extern const char *const gx_services[];
extern const size_t gx_nservices;
extern const struct gx_point gx_points[];
extern const size_t gx_npoints;
/** Sorted by service, then address. */
extern const struct gx_register gx_registers[];
extern const size_t gx_nregisters;
/** The quantities the plugin declares (ABI 1.2), ended by a zeroed entry. */
extern const struct vq_quantity_info gx_quantities[];
/** Every writable point's quantity (ABI writables), ended by quantity NULL. */
extern const struct vq_writable gx_writables[];

/** Index of a service type name ("vebus"), or -1. */
int gx_service_index(const char *name);

/** The rows of one service: *first and *count in gx_registers. */
void gx_service_registers(int service, size_t *first, size_t *count);

/** The row at `address` of `service`, or NULL. */
const struct gx_register *gx_register_at(int service, uint16_t address);

/** The raw integer of a numeric row from its words (r has reg->count
 *  words).  Returns 0, or -ERANGE for a kind that is not numeric. */
int gx_decode_raw(const struct gx_register *reg, const uint16_t *r,
                  int64_t *raw);

/** The value of a numeric row: raw / scale, then the point's unit factor.
 *  Returns 0 or -ERANGE. */
int gx_decode_value(const struct gx_register *reg, const uint16_t *r,
                    double *value);

/** A string row as text (Latin-1 bytes, trailing NULs and spaces cut).
 *  out must hold 2 * reg->count + 1 bytes. */
void gx_decode_string(const struct gx_register *reg, const uint16_t *r,
                      char *out);

/** The words to write `value` (in the point's unit) to a numeric row:
 *  raw = round(value / unit_factor * scale), refused with -ERANGE when the
 *  row's type cannot hold it (never wrapped).  words gets reg->count. */
int gx_encode_value(const struct gx_register *reg, double value,
                    uint16_t *words);

/** The GX firmware from registers 834/835: "3.67", "3.70~47" (beta). */
void gx_firmware_text(const uint16_t w[2], char *out, size_t size);

/** The resolution of a row in the point's unit (1 / scale). */
double gx_resolution(const struct gx_register *reg);

#endif

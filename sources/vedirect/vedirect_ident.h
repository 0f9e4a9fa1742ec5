/* Who is on a VE.Direct port: the device id and the tags of its readings,
 * from the identity fields of text blocks and the serial number read over
 * HEX.
 *
 * Device id: `device = NAME` if given; else the SER# field; for devices
 * without one (BMV, SmartShunt) the serial number read over HEX (register
 * 0x010A) when `hex_probe = yes`, else "pid-" and the product id as four
 * lowercase hex digits ("pid-a389").  A VE.Direct port has exactly one
 * device, so the fallback is stable. */
#ifndef VEDIRECT_IDENT_H
#define VEDIRECT_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"
#include "vedirect_text.h"

/* product, product_id, firmware, serial, hc */
#define VED_IDENT_TAGS 5

struct ved_ident {
  const char *device_opt; /* `device` option or NULL; not owned */
  char serial[VED_VALUE_MAX + 1], hex_serial[VED_VALUE_MAX + 1];
  char model[VED_VALUE_MAX + 1], hc[VED_VALUE_MAX + 1];
  char firmware[24], device[48], pid_text[8];
  const char *product; /* the product table's name, or product_buf */
  char product_buf[48];
  int32_t pid;         /* -1 until a PID field came */
};

void ved_ident_init(struct ved_ident *id, const char *device_opt);
/* Take the identity fields of a valid block.  Returns 1 when the block
 * had a PID field (it starts a device cycle), else 0. */
int ved_ident_update(struct ved_ident *id, const struct ved_field *fields,
                     size_t n);
/* The serial number from a HEX Get of 0x010A (vlen bytes, may be NUL
 * padded).  1 when it became the device id, 0 when not needed or not a
 * plausible serial. */
int ved_ident_hex_serial(struct ved_ident *id, const uint8_t *value,
                         size_t vlen);
/* Whether readings can be attributed yet (id->device is set). */
int ved_ident_known(const struct ved_ident *id);
/* The tags for readings; pointers into id.  Returns how many (at most
 * VED_IDENT_TAGS). */
uint32_t ved_ident_tags(const struct ved_ident *id, struct vq_tag *tags);

#endif

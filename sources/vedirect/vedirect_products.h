/* VE.Direct product ids (PID field, HEX command 4) -> product names. */
#ifndef VEDIRECT_PRODUCTS_H
#define VEDIRECT_PRODUCTS_H

#include <stddef.h>

struct ved_product {
  unsigned pid;
  const char *name;
};

/* Name of a product id, or NULL when unknown. */
const char *ved_product_name(unsigned pid);
/* The table, sorted by id. */
const struct ved_product *ved_product_all(size_t *count);

#endif

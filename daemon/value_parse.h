/* Parsing of option values as written in the pipeline file.  Every parser
 * returns 0, or -EINVAL / -ERANGE and leaves *out untouched. */
#ifndef VQ_VALUE_PARSE_H
#define VQ_VALUE_PARSE_H

#include <stdint.h>

int vq_parse_bool(const char *text, int *out);
/* Decimal or 0x-prefixed hexadecimal. */
int vq_parse_int(const char *text, int64_t *out);
int vq_parse_double(const char *text, double *out);
/* "250ms", "2s", "5m", "1h", or a bare number of seconds (may be
 * fractional); result in milliseconds. */
int vq_parse_duration_ms(const char *text, uint64_t *out);
/* "MIN..MAX" with MIN <= MAX. */
int vq_parse_range(const char *text, double *min, double *max);
/* A size: bytes with optional k, M, G suffix (powers of 1024). */
int vq_parse_size(const char *text, uint64_t *out);

#endif

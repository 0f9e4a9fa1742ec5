/* Clearing secrets (passwords, tokens, PINs) before their memory goes back
 * to the allocator, so a later heap dump or a use of freed memory cannot
 * show them.  explicit_bzero, unlike memset, is not removed by the compiler
 * as a dead store before free().  Copies that libraries keep (libcurl,
 * libmosquitto) are theirs to clear.  Header-only: add -I$(top_srcdir)/lib/util. */
#ifndef VQ_SECRET_H
#define VQ_SECRET_H

#include <stdlib.h>
#include <string.h>

/* Zero n bytes at p (NULL: nothing). */
static inline void vq_secret_clear(void *p, size_t n) {
  if (p != NULL) explicit_bzero(p, n);
}

/* Zero the NUL-terminated secret s, then free it (NULL: nothing). */
static inline void vq_secret_free(char *s) {
  if (s == NULL) return;
  explicit_bzero(s, strlen(s));
  free(s);
}

#endif

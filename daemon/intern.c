#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "intern.h"

/* Few distinct strings are interned (source and sink ids), so a list is
 * enough. */
struct interned {
  struct interned *next;
  char text[];
};

static struct interned *all;

const char *vq_intern(const char *s) {
  struct interned *i;
  size_t n;
  for (i = all; i != NULL; i = i->next)
    if (strcmp(i->text, s) == 0) return i->text;
  n = strlen(s) + 1;
  i = malloc(sizeof *i + n);
  if (i == NULL) return NULL;
  memcpy(i->text, s, n);
  i->next = all;
  all = i;
  return i->text;
}

void vq_intern_free_all(void) {
  while (all != NULL) {
    struct interned *next = all->next;
    free(all);
    all = next;
  }
}

/* The quantity vocabulary: the one normative list of quantity names, their
 * units, value types and Home Assistant classes (doc/quantities.md is
 * checked against it by tests/test_vocabulary). */
#ifndef VQ_VOCABULARY_H
#define VQ_VOCABULARY_H

#include <stddef.h>
#include <stdio.h>
#include "vicacq/plugin.h"

/* The entry for `name`, or NULL when the vocabulary does not have it. */
const struct vq_quantity_info *vq_vocabulary_find(const char *name);

/* All entries, in table order; *count is set to their number. */
const struct vq_quantity_info *vq_vocabulary_all(size_t *count);

/* doc/quantities.md: the table as Markdown. */
void vq_vocabulary_markdown(FILE *out);

#endif

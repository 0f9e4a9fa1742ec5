/* The quantity vocabulary: the one normative list of quantity names, their
 * units, value types, label sets and Home Assistant classes
 * (doc/quantities.md is checked against it by tests/test_vocabulary), plus
 * the quantities plugins declare (ABI 1.2), merged when they load. */
#ifndef VQ_VOCABULARY_H
#define VQ_VOCABULARY_H

#include <stddef.h>
#include <stdio.h>
#include "vicacq/plugin.h"

/* The entry for `name` (core or declared by a loaded plugin), or NULL when
 * the vocabulary does not have it. */
const struct vq_quantity_info *vq_vocabulary_find(const char *name);

/* The core entries, in table order; *count is set to their number. */
const struct vq_quantity_info *vq_vocabulary_all(size_t *count);

/* Merge the quantities plugin `plugin` declares (vq_plugin.quantities,
 * ended by a NULL name; may be NULL).  A name the core or an earlier
 * plugin has, a malformed entry, or a name twice in the list refuses the
 * whole list: returns -EEXIST / -EINVAL / -EPROTO with a message naming
 * both owners in err, and nothing is added.  0 on success.  The entries'
 * pointers must stay valid until vq_vocabulary_forget_declared(). */
int vq_vocabulary_declare(const char *plugin,
                          const struct vq_quantity_info *list, char *err,
                          size_t errlen);

/* The i-th declared quantity (load order) and its plugin, or NULL past
 * the end. */
const struct vq_quantity_info *vq_vocabulary_declared(size_t i,
                                                      const char **plugin);

/* Drop every declared quantity (before the plugins are unloaded). */
void vq_vocabulary_forget_declared(void);

/* doc/quantities.md: the core table and the label sets as Markdown, then
 * a section per plugin that declared quantities. */
void vq_vocabulary_markdown(FILE *out);

#endif

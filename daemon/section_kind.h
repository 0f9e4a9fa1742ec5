/* The kinds of section a pipeline file has, in one table: what each is
 * called, which plugin kind runs it, which options the core adds to it,
 * and in which order instances start.  A new kind (processors) is one row
 * in section_kind.c. */
#ifndef VQ_SECTION_KIND_H
#define VQ_SECTION_KIND_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"

struct vq_kind_row {
  int section;          /* VQ_SECTION_* (pipeline.h) */
  const char *prefix;  /* "source": the sections are [source.ID] */
  uint32_t plugin_kind; /* VQ_KIND_* a plugin must have; 0: no plugin */
  const struct vq_option *core_options; /* keys the core handles in it */
  /* Instances start in increasing order (a sink before the sources that
   * feed it) and stop in decreasing order; -1: not an instance. */
  int start_order;
  int required;   /* a file without one is refused */
  int has_grants; /* write.QUANTITY = MIN..MAX keys */
  int has_queue;  /* the core keeps a queue (and maybe a spool) for it */
  int has_id;     /* written [PREFIX.ID]; else just [PREFIX] */
  const char *reserved_id; /* an ID the core uses itself, or NULL */
};

/* Every kind, ended by an entry with prefix NULL. */
extern const struct vq_kind_row vq_kind_rows[];

/* The row of a VQ_SECTION_* value (NULL if none). */
const struct vq_kind_row *vq_kind_row_of(int section);
/* The row of "[PREFIX.ID]": prefix of length len (NULL if none). */
const struct vq_kind_row *vq_kind_row_by_prefix(const char *prefix,
                                                        size_t len);
/* The row run by plugins of VQ_KIND_* `plugin_kind` (NULL if none). */
const struct vq_kind_row *vq_kind_row_by_plugin(uint32_t plugin_kind);

/* The highest start_order of any row. */
int vq_kind_max_order(void);

/* "[vicacq], [sink.ID], [source.ID] or [route.ID]" into out. */
void vq_kind_list(char *out, size_t outlen);

#endif

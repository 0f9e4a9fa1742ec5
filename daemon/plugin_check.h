/* The plugins' own checks of their sections (ABI 1.2 check()), run after
 * the schema pass wherever a pipeline file is read: --check, start,
 * reload and the tools. */
#ifndef VQ_PLUGIN_CHECK_H
#define VQ_PLUGIN_CHECK_H

#include "pipeline.h"

/* Run check() of every source and sink section whose plugin has one;
 * problems are logged "FILE:LINE: [kind.id] key 'k': why".  Returns the
 * number of problems (0: the file passed). */
int vq_pipeline_check_plugins(struct vq_pipeline *p);

/* vq_pipeline_load, then the plugins' checks: NULL (everything logged)
 * unless both pass. */
struct vq_pipeline *vq_pipeline_open(const char *path);

/* The same for a pipeline given as text (the tools). */
struct vq_pipeline *vq_pipeline_open_text(const char *name, const char *text);

#endif

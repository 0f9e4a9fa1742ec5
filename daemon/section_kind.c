#include "config.h"

#include <string.h>

#include "pipeline.h"
#include "section_kind.h"

const struct vq_section_kind vq_section_kinds[] = {
    {.section = VQ_SECTION_DAEMON, .prefix = "vicacq",
     .core_options = vq_daemon_options, .start_order = -1},
    {.section = VQ_SECTION_SINK, .prefix = "sink", .plugin_kind = VQ_KIND_SINK,
     .core_options = vq_core_sink_options, .start_order = 0, .required = 1,
     .has_queue = 1},
    {.section = VQ_SECTION_SOURCE, .prefix = "source",
     .plugin_kind = VQ_KIND_SOURCE, .core_options = vq_core_source_options,
     .start_order = 1, .required = 1, .has_grants = 1},
    {.section = VQ_SECTION_ROUTE, .prefix = "route",
     .core_options = vq_route_options, .start_order = -1},
    {.prefix = NULL}};

const struct vq_section_kind *vq_section_kind(int section) {
  const struct vq_section_kind *k;
  for (k = vq_section_kinds; k->prefix != NULL; k++)
    if (k->section == section) return k;
  return NULL;
}

const struct vq_section_kind *vq_section_kind_by_prefix(const char *prefix,
                                                        size_t len) {
  const struct vq_section_kind *k;
  for (k = vq_section_kinds; k->prefix != NULL; k++)
    if (strlen(k->prefix) == len && strncmp(k->prefix, prefix, len) == 0)
      return k;
  return NULL;
}

const struct vq_section_kind *vq_section_kind_by_plugin(uint32_t plugin_kind) {
  const struct vq_section_kind *k;
  for (k = vq_section_kinds; k->prefix != NULL; k++)
    if (k->plugin_kind == plugin_kind) return k;
  return NULL;
}

int vq_section_kind_max_order(void) {
  const struct vq_section_kind *k;
  int max = -1;
  for (k = vq_section_kinds; k->prefix != NULL; k++)
    if (k->start_order > max) max = k->start_order;
  return max;
}

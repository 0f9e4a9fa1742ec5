/* The table of section kinds (section_kind.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pipeline.h"
#include "section_kind.h"

const struct vq_kind_row vq_kind_rows[] = {
    {.section = VQ_SECTION_DAEMON, .prefix = "vicacq",
     .core_options = vq_daemon_options, .start_order = -1},
    {.section = VQ_SECTION_SOURCE, .prefix = "source",
     .plugin_kind = VQ_KIND_SOURCE, .core_options = vq_core_source_options,
     .start_order = 2, .required = 1, .has_grants = 1, .has_id = 1,
     /* the daemon's own records (vicacq.sink.ID.dropped) */
     .reserved_id = "vicacq"},
    {.section = VQ_SECTION_SINK, .prefix = "sink", .plugin_kind = VQ_KIND_SINK,
     .core_options = vq_core_sink_options, .start_order = 0, .required = 1,
     .has_queue = 1, .has_id = 1},
    /* Processors start after the sinks they feed and before the sources
     * that feed them, and stop between the two, so what they still hold
     * is delivered. */
    {.section = VQ_SECTION_PROCESS, .prefix = "process",
     .plugin_kind = VQ_KIND_PROCESSOR, .core_options = vq_core_process_options,
     .start_order = 1, .has_id = 1},
    {.section = VQ_SECTION_ROUTE, .prefix = "route",
     .core_options = vq_route_options, .start_order = -1, .has_id = 1},
    {.prefix = NULL}};

const struct vq_kind_row *vq_kind_row_of(int section) {
  const struct vq_kind_row *k;
  for (k = vq_kind_rows; k->prefix != NULL; k++)
    if (k->section == section) return k;
  return NULL;
}

const struct vq_kind_row *vq_kind_row_by_prefix(const char *prefix,
                                                        size_t len) {
  const struct vq_kind_row *k;
  for (k = vq_kind_rows; k->prefix != NULL; k++)
    if (strlen(k->prefix) == len && strncmp(k->prefix, prefix, len) == 0)
      return k;
  return NULL;
}

const struct vq_kind_row *vq_kind_row_by_plugin(uint32_t plugin_kind) {
  const struct vq_kind_row *k;
  for (k = vq_kind_rows; k->prefix != NULL; k++)
    if (k->plugin_kind == plugin_kind) return k;
  return NULL;
}

int vq_kind_max_order(void) {
  const struct vq_kind_row *k;
  int max = -1;
  for (k = vq_kind_rows; k->prefix != NULL; k++)
    if (k->start_order > max) max = k->start_order;
  return max;
}

void vq_kind_list(char *out, size_t outlen) {
  const struct vq_kind_row *k;
  size_t len = 0, n = 0, total = 0;
  for (k = vq_kind_rows; k->prefix != NULL; k++) total++;
  out[0] = '\0';
  for (k = vq_kind_rows; k->prefix != NULL && len < outlen; k++, n++)
    len += (size_t)snprintf(out + len, outlen - len, "%s[%s%s]",
                            n == 0 ? "" : n + 1 == total ? " or " : ", ",
                            k->prefix, k->has_id ? ".ID" : "");
}

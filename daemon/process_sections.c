/* The processing stage of a pipeline file: `process = a, b` in sources
 * and sinks, [process.ID] sections and their `match` globs, and derived
 * sources' members.  The rules: a processor is in source chains (it may
 * serve several sources: it keeps state per source and device) or in
 * exactly one sink chain, never both, so no reading passes one instance
 * twice; a chain names each processor once. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "log.h"
#include "pipeline_int.h"

struct use {
  const struct vq_section *sink;   /* the sink chain it is in, or NULL */
  const struct vq_section *source; /* a source chain it is in, or NULL */
};

static void build_chain(struct parse_state *st, struct vq_section *s,
                        struct use *uses) {
  struct vq_pipeline *p = st->p;
  const struct vq_kv *kv = vq_section_get(s, "process");
  size_t i, j;
  if (kv == NULL) return;
  s->chain = vq_split_list(kv->value, &s->nchain);
  for (i = 0; i < s->nchain; i++) {
    const char *id = s->chain[i];
    struct vq_section *proc = vq_pipeline_find(p, VQ_SECTION_PROCESS, id);
    struct use *u;
    for (j = 0; j < i; j++)
      if (strcmp(s->chain[j], id) == 0)
        report(st, kv->line, "[%s] key 'process': '%s' is named twice",
               s->name, id);
    if (proc == NULL) {
      report(st, kv->line, "[%s] key 'process': no [process.%s] section",
             s->name, id);
      continue;
    }
    u = &uses[proc - p->sections];
    if (s->kind == VQ_SECTION_SINK) {
      if (u->sink != NULL && u->sink != s)
        report(st, kv->line,
               "[%s] key 'process': [process.%s] is already in the chain of "
               "[%s]: a processor serves one sink (give each sink its own "
               "[process.ID])", s->name, id, u->sink->name);
      else if (u->source != NULL)
        report(st, kv->line,
               "[%s] key 'process': [process.%s] is already in the chain of "
               "[%s]: a processor runs on sources or on one sink, not both",
               s->name, id, u->source->name);
      u->sink = s;
    } else {
      if (u->sink != NULL)
        report(st, kv->line,
               "[%s] key 'process': [process.%s] is already in the chain of "
               "[%s]: a processor runs on sources or on one sink, not both",
               s->name, id, u->sink->name);
      if (u->source == NULL) u->source = s;
    }
  }
}

/* A derived source (a source plugin with process(), like group): every
 * member must be another source of the file. */
static void check_members(struct parse_state *st, struct vq_section *s) {
  const struct vq_kv *kv = vq_section_get(s, "members");
  char **members;
  size_t n, i;
  if (kv == NULL) return;
  members = vq_split_list(kv->value, &n);
  for (i = 0; i < n; i++) {
    char *slash = strchr(members[i], '/');
    if (slash) *slash = '\0';
    if (strcmp(members[i], s->id) == 0)
      report(st, kv->line, "[%s] key 'members': a source cannot be its own "
             "member", s->name);
    else if (vq_pipeline_find(st->p, VQ_SECTION_SOURCE, members[i]) == NULL)
      report(st, kv->line, "[%s] key 'members': no [source.%s] section",
             s->name, members[i]);
    free(members[i]);
  }
  free(members);
}

void vq_process_build(struct parse_state *st) {
  struct vq_pipeline *p = st->p;
  struct use *uses = calloc(p->nsections ? p->nsections : 1, sizeof *uses);
  size_t i;
  if (uses == NULL) {
    report(st, 0, "out of memory");
    return;
  }
  for (i = 0; i < p->nsections; i++) {
    struct vq_section *s = &p->sections[i];
    if (s->kind == VQ_SECTION_SOURCE || s->kind == VQ_SECTION_SINK)
      build_chain(st, s, uses);
    if (s->kind == VQ_SECTION_SOURCE && s->plugin != NULL &&
        vq_plugin_process(s->plugin) != NULL)
      check_members(st, s);
    if (s->kind == VQ_SECTION_PROCESS) {
      const struct vq_kv *m = vq_section_get(s, "match");
      if (m != NULL) s->match = vq_split_list(m->value, &s->nmatch);
    }
  }
  for (i = 0; i < p->nsections && st->errors == 0; i++)
    if (p->sections[i].kind == VQ_SECTION_PROCESS && uses[i].sink == NULL &&
        uses[i].source == NULL)
      vq_warn("%s:%d: [%s] is in no source's or sink's `process` chain",
              st->path, p->sections[i].line, p->sections[i].name);
  free(uses);
}

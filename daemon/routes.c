/* [route.ID]: which sources go to which sinks, and which quantities. */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pipeline_int.h"
#include "vocabulary.h"

char **vq_split_list(const char *value, size_t *count) {
  char **items = NULL, *copy = strdup(value), *save = NULL, *tok;
  size_t n = 0;
  if (copy == NULL) return NULL;
  for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char **grown = realloc(items, (n + 1) * sizeof *items);
    if (grown == NULL) break;
    items = grown;
    items[n] = strdup(vq_trim(tok));
    if (items[n] == NULL) break;
    n++;
  }
  free(copy);
  *count = n;
  return items;
}

int vq_glob_any(char *const *globs, size_t n, const char *text) {
  size_t i;
  for (i = 0; i < n; i++)
    if (fnmatch(globs[i], text, 0) == 0) return 1;
  return 0;
}

static size_t count_matching(const struct vq_pipeline *p, int kind,
                             const char *glob) {
  size_t i, n = 0;
  for (i = 0; i < p->nsections; i++)
    if (p->sections[i].kind == kind &&
        fnmatch(glob, p->sections[i].id, 0) == 0)
      n++;
  return n;
}

/* Does `glob` start with "PREFIX." literally? */
static int has_prefix(const char *glob, const char *prefix, size_t len) {
  return strncmp(glob, prefix, len) == 0 && glob[len] == '.';
}

/* Can a route's `match` glob match any quantity: one of the vocabulary,
 * one a plugin of the file declares (ABI 1.2), the daemon's own
 * (vicacq.*), or one named after a source's plugin ("fixture.*" for
 * fixture-source: plugin.h asks undeclared names to carry that prefix)? */
static int glob_may_match_quantity(const struct vq_pipeline *p,
                                   const char *glob) {
  size_t i, n;
  const struct vq_quantity_info *q = vq_vocabulary_all(&n);
  for (i = 0; i < n; i++)
    if (fnmatch(glob, q[i].name, 0) == 0) return 1;
  if (has_prefix(glob, "vicacq", 6) || fnmatch(glob, "vicacq.x", 0) == 0)
    return 1;
  for (i = 0; i < p->nsections; i++) {
    const struct vq_plugin *pl = p->sections[i].plugin;
    const struct vq_quantity_info *d;
    if (pl == NULL || !(pl->kinds & VQ_KIND_SOURCE)) continue;
    if (has_prefix(glob, pl->name, strlen(pl->name)) ||
        has_prefix(glob, pl->name, strcspn(pl->name, "-")))
      return 1;
    if (pl->abi_minor < 2 || pl->quantities == NULL) continue;
    for (d = pl->quantities; d->name != NULL;
         d = (const void *)((const char *)d + d->size))
      if (fnmatch(glob, d->name, 0) == 0) return 1;
  }
  return 0;
}

void vq_route_build(struct parse_state *st, struct vq_section *s) {
  struct vq_pipeline *p = st->p;
  struct vq_route *grown, *r;
  const struct vq_kv *from = vq_section_get(s, "from");
  const struct vq_kv *to = vq_section_get(s, "to");
  const struct vq_kv *match = vq_section_get(s, "match");
  size_t i;

  if (from == NULL || to == NULL) return; /* reported as missing */
  grown = realloc(p->routes, (p->nroutes + 1) * sizeof *grown);
  if (grown == NULL) {
    report(st, s->line, "out of memory");
    return;
  }
  p->routes = grown;
  r = &p->routes[p->nroutes++];
  memset(r, 0, sizeof *r);
  r->id = strdup(s->id);
  r->from = vq_split_list(from->value, &r->nfrom);
  r->to = vq_split_list(to->value, &r->nto);
  if (match != NULL) r->match = vq_split_list(match->value, &r->nmatch);
  for (i = 0; i < r->nfrom; i++)
    if (count_matching(p, VQ_SECTION_SOURCE, r->from[i]) == 0 &&
        fnmatch(r->from[i], "vicacq", 0) != 0)
      report(st, from->line, "[%s] key 'from': no source matches '%s'",
             s->name, r->from[i]);
  for (i = 0; i < r->nto; i++)
    if (count_matching(p, VQ_SECTION_SINK, r->to[i]) == 0)
      report(st, to->line, "[%s] key 'to': no sink matches '%s'", s->name,
             r->to[i]);
  for (i = 0; i < r->nmatch; i++)
    if (!glob_may_match_quantity(p, r->match[i]))
      /* A warning: a plugin may emit names it does not declare. */
      vq_warn("%s:%d: [%s] key 'match': '%s' matches no quantity of the "
              "vocabulary or of the file's plugins (vicacq --list-quantities)",
              st->path, match->line, s->name, r->match[i]);
}

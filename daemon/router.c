#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "router.h"
#include "sink_rt.h"

static int is_everything(const struct vq_route *r) {
  return r->match == NULL || vq_glob_any(r->match, r->nmatch, "*") ||
         (r->nmatch == 1 && strcmp(r->match[0], "*") == 0);
}

void vq_router_clear(struct vq_ctx *source) {
  size_t i;
  for (i = 0; i < source->ntargets; i++)
    if (source->targets[i].owns_match) free(source->targets[i].match);
  free(source->targets);
  source->targets = NULL;
  source->ntargets = 0;
}

int vq_router_compile(struct vq_ctx *source, const struct vq_pipeline *p,
                      struct vq_ctx *instances) {
  struct vq_ctx *sink;
  size_t n = 0, r;

  vq_router_clear(source);
  for (sink = instances; sink != NULL; sink = sink->next) {
    struct vq_target t = {sink, NULL, 0, 0};
    int routed = 0, everything = 0;
    if (sink->kind != VQ_KIND_SINK || sink->retiring || sink->removed)
      continue;
    for (r = 0; r < p->nroutes; r++) {
      const struct vq_route *route = &p->routes[r];
      if (!vq_glob_any(route->from, route->nfrom, source->id) ||
          !vq_glob_any(route->to, route->nto, sink->id))
        continue;
      if (is_everything(route)) everything = 1;
      else if (!routed || t.match != NULL) {
        /* Several routes to the same sink: the union of their globs.  The
         * common case is one route, whose list is used as is. */
        if (!routed) {
          t.match = route->match;
          t.nmatch = route->nmatch;
        } else {
          char **merged = malloc((t.nmatch + route->nmatch) * sizeof *merged);
          if (merged == NULL) {
            if (t.owns_match) free(t.match);
            return -ENOMEM;
          }
          memcpy(merged, t.match, t.nmatch * sizeof *merged);
          memcpy(merged + t.nmatch, route->match, route->nmatch * sizeof *merged);
          if (t.owns_match) free(t.match);
          t.match = merged;
          t.owns_match = 1;
          t.nmatch += route->nmatch;
        }
      }
      routed = 1;
    }
    if (!routed) continue;
    if (everything) {
      if (t.owns_match) free(t.match);
      t.owns_match = 0;
      t.match = NULL;
      t.nmatch = 0;
    }
    {
      struct vq_target *grown =
          realloc(source->targets, (n + 1) * sizeof *grown);
      if (grown == NULL) {
        if (t.owns_match) free(t.match);
        return -ENOMEM;
      }
      source->targets = grown;
      source->targets[n++] = t;
      source->ntargets = n;
    }
  }
  return 0;
}

/* Grants of the source mark records writable. */
static int writable_flags(const struct vq_ctx *source,
                          const struct vq_record *r) {
  size_t i;
  const struct vq_section *s = source->section;
  for (i = 0; s != NULL && i < s->ngrants; i++)
    if (strcmp(s->grants[i].quantity, r->quantity) == 0)
      return (int)(r->flags | VQ_RECORD_WRITABLE);
  return (int)(r->flags & ~VQ_RECORD_WRITABLE);
}

static int filter_all(void *arg, const struct vq_record *r) {
  return writable_flags(arg, r);
}

struct match_filter {
  const struct vq_ctx *source;
  const struct vq_target *target;
};

static int filter_match(void *arg, const struct vq_record *r) {
  const struct match_filter *f = arg;
  if (!vq_glob_any(f->target->match, f->target->nmatch, r->quantity)) return -1;
  return writable_flags(f->source, r);
}

int vq_router_deliver(struct vq_ctx *source, const struct vq_reading *r,
                      int64_t time_ns) {
  struct vq_item *all = NULL;
  uint64_t seq = ++source->seq;
  size_t i;
  int err = 0;

  if (r->nrecords == 0) return -EINVAL;
  for (i = 0; i < source->ntargets; i++) {
    const struct vq_target *t = &source->targets[i];
    struct vq_item *it;
    if (t->sink->sink == NULL || t->sink->retiring || t->sink->removed)
      continue;
    if (t->match == NULL) {
      if (all == NULL) {
        all = vq_item_copy(r, source->id, time_ns, seq, filter_all, source,
                           &err);
        if (all == NULL) return err;
      }
      vq_chain_sink_push(t->sink, all);
      continue;
    }
    {
      struct match_filter f = {source, t};
      it = vq_item_copy(r, source->id, time_ns, seq, filter_match, &f, &err);
    }
    if (it == NULL) {
      if (err == -ENODATA) continue; /* nothing of it goes to this sink */
      vq_item_unref(all);
      return err;
    }
    vq_chain_sink_push(t->sink, it);
    vq_item_unref(it);
  }
  if (all == NULL && source->ntargets == 0) {
    /* Validate even when nothing is routed, so plugin bugs show. */
    all = vq_item_copy(r, source->id, time_ns, seq, NULL, NULL, &err);
    if (all == NULL) return err;
  }
  vq_item_unref(all);
  return 0;
}

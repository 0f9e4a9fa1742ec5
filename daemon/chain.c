/* The processing stage at run time (chain.h).  A reading runs down a
 * chain synchronously: each processor gets the records its `match`
 * selects, the rest skips it; what a processor emits goes on to the stage
 * after it (found from the processor and the reading's source, so
 * emissions at a window's end or in stop() find their way too).  A reading
 * passed on unchanged is never copied; the sink's queue copies what it
 * keeps, as for any source. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "daemon.h"
#include "intern.h"
#include "loader.h"
#include "log.h"
#include "router.h"
#include "sink_rt.h"

static struct vq_ctx *find_live(struct vq_daemon *d, int kind, const char *id) {
  struct vq_ctx *c;
  for (c = d->instances; c != NULL; c = c->next)
    if (c->kind == kind && !c->removed && strcmp(c->id, id) == 0) return c;
  return NULL;
}

void vq_chain_clear(struct vq_ctx *ctx) {
  free(ctx->chain);
  ctx->chain = NULL;
  ctx->nchain = 0;
  free(ctx->derived);
  ctx->derived = NULL;
  ctx->nderived = 0;
  ctx->chain_sink = NULL;
}

static int append(struct vq_ctx ***list, size_t *n, struct vq_ctx *c) {
  struct vq_ctx **grown;
  size_t i;
  for (i = 0; i < *n; i++)
    if ((*list)[i] == c) return 0;
  grown = realloc(*list, (*n + 1) * sizeof *grown);
  if (grown == NULL) return -ENOMEM;
  *list = grown;
  grown[(*n)++] = c;
  return 0;
}

static int is_derived(const struct vq_ctx *c) {
  return c->kind == VQ_KIND_SOURCE && c->plugin != NULL &&
         vq_plugin_process(c->plugin) != NULL;
}

void vq_chain_compile(struct vq_daemon *d) {
  struct vq_ctx *c;
  size_t i;
  for (c = d->instances; c != NULL; c = c->next) vq_chain_clear(c);
  for (c = d->instances; c != NULL; c = c->next) {
    if (c->removed || c->section == NULL) continue;
    for (i = 0; i < c->section->nchain; i++) {
      struct vq_ctx *p = find_live(d, VQ_KIND_PROCESSOR, c->section->chain[i]);
      if (p == NULL) continue; /* failed to start: the reading skips it */
      if (append(&c->chain, &c->nchain, p) != 0) {
        vq_log(VQ_LOG_ERROR, c->label, "out of memory building its chain");
        break;
      }
      if (c->kind == VQ_KIND_SINK) p->chain_sink = c;
    }
    if (is_derived(c)) {
      const struct vq_kv *kv = vq_section_get(c->section, "members");
      char *copy = kv ? strdup(kv->value) : NULL, *save = NULL, *tok;
      for (tok = copy ? strtok_r(copy, ", ", &save) : NULL; tok;
           tok = strtok_r(NULL, ", ", &save)) {
        char *slash = strchr(tok, '/');
        struct vq_ctx *m;
        if (slash) *slash = '\0';
        m = find_live(d, VQ_KIND_SOURCE, tok);
        if (m != NULL && m != c && append(&m->derived, &m->nderived, c) != 0)
          vq_log(VQ_LOG_ERROR, c->label, "out of memory");
      }
      free(copy);
    }
  }
}

static int run_stage(struct vq_ctx *owner, size_t stage,
                     const struct vq_reading *r);

/* The end of a chain: a source's readings are routed and handed to the
 * derived sources it feeds; a sink's are queued. */
/* A derived source may emit inside process(), through a chain holding a
 * processor that is already on the stack with its scratch records under
 * `r`; that nested call may rewrite or move them.  So the derived sources
 * get the core's own copy of the records. */
static void feed_derived(struct vq_ctx *owner, const struct vq_reading *r) {
  struct vq_record local[16], *recs = local;
  struct vq_reading copy = VQ_READING_INIT;
  size_t i;
  if (r->nrecords > sizeof local / sizeof *local &&
      (recs = malloc(r->nrecords * sizeof *recs)) == NULL) {
    vq_log(VQ_LOG_ERROR, owner->label,
           "out of memory: a reading did not reach its derived sources");
    return;
  }
  for (i = 0; i < r->nrecords; i++) recs[i] = *VQ_READING_RECORD(r, i);
  memcpy(&copy, r, r->size < sizeof copy ? r->size : sizeof copy);
  copy.size = sizeof copy;
  copy.record_size = sizeof *recs;
  copy.records = recs;
  for (i = 0; i < owner->nderived; i++) {
    struct vq_ctx *g = owner->derived[i];
    if (g->state == VQ_INST_STARTED && g->instance != NULL &&
        vq_plugin_process(g->plugin)(g->instance, &copy) != 0)
      vq_log(VQ_LOG_DEBUG, g->label, "a reading of %s was refused",
             owner->id);
  }
  if (recs != local) free(recs);
}

static int finish(struct vq_ctx *owner, const struct vq_reading *r) {
  if (owner->kind == VQ_KIND_SOURCE) {
    int rc = vq_router_deliver(owner, r, r->time_ns);
    if (owner->nderived > 0) feed_derived(owner, r);
    return rc;
  }
  if (owner->chain_item != NULL && r == &owner->chain_item->reading) {
    vq_sink_rt_push(owner->sink, owner->chain_item);
    return 0;
  }
  {
    /* A reading a processor changed or made: the core's own copy.  The
     * item being run down the chain, changed or split by `match`, keeps
     * its number (it is still that one reading of its source); a new one
     * gets the next number of its source, as if the source had emitted
     * it. */
    const struct vq_item *cur = owner->chain_item;
    struct vq_ctx *src = r->source
        ? find_live(owner->daemon, VQ_KIND_SOURCE, r->source) : NULL;
    int err = 0;
    uint64_t seq;
    struct vq_item *it;
    if (r->source == NULL) return -EINVAL;
    if (cur != NULL && r->seq != 0 && r->seq == cur->reading.seq &&
        strcmp(r->source, cur->reading.source) == 0)
      seq = r->seq;
    else
      seq = src ? ++src->seq : 0;
    it = vq_item_copy(r, vq_intern(r->source), r->time_ns, seq, NULL, NULL,
                      &err);
    if (it == NULL) return err;
    vq_sink_rt_push(owner->sink, it);
    vq_item_unref(it);
    return 0;
  }
}

static int matches_all(char *const *match, size_t n) {
  return match == NULL || n == 0 || (n == 1 && strcmp(match[0], "*") == 0);
}

static int call_process(struct vq_ctx *p, const struct vq_reading *r) {
  int rc;
  p->busy++;
  rc = vq_plugin_process(p->plugin)(p->instance, r);
  p->busy--;
  if (rc != 0)
    vq_log(VQ_LOG_DEBUG, p->label, "process: %s (reading not passed on)",
           strerror(rc < 0 ? -rc : rc));
  return rc;
}

static int run_stage(struct vq_ctx *owner, size_t stage,
                     const struct vq_reading *r) {
  struct vq_ctx *p;
  struct vq_record *buf, *own = NULL;
  struct vq_reading in, rest;
  uint32_t i, nin = 0, nrest = 0;
  int rc;
  for (;;) {
    if (stage >= owner->nchain) return finish(owner, r);
    p = owner->chain[stage];
    if (p->state == VQ_INST_STARTED || p->state == VQ_INST_STOPPING) break;
    stage++; /* stopped (a reload): the reading skips it */
  }
  if (matches_all(p->section->match, p->section->nmatch))
    return call_process(p, r);
  /* Split by `match`: the processor's records, and the rest. */
  if (p->busy == 0 && p->scratch_cap >= 2 * (size_t)r->nrecords) {
    buf = p->scratch;
  } else if (p->busy == 0) {
    struct vq_record *grown = realloc(p->scratch, 2 * r->nrecords * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    p->scratch = buf = grown;
    p->scratch_cap = 2 * r->nrecords;
  } else {
    buf = own = malloc(2 * r->nrecords * sizeof *buf);
    if (buf == NULL) return -ENOMEM;
  }
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, i);
    if (vq_glob_any(p->section->match, p->section->nmatch, rec->quantity))
      buf[nin++] = *rec;
    else
      buf[r->nrecords + nrest++] = *rec;
  }
  if (nin == 0) {
    free(own);
    return run_stage(owner, stage + 1, r);
  }
  if (nrest == 0) {
    free(own);
    return call_process(p, r);
  }
  in = *r;
  in.size = sizeof in;
  in.record_size = sizeof *buf;
  in.records = buf;
  in.nrecords = nin;
  rest = in;
  rest.records = buf + r->nrecords;
  rest.nrecords = nrest;
  /* `rest` lives in p's scratch until the later stages are done with it:
   * p counts as busy till then, so a nested pass through p (a derived
   * source's chain) takes its own buffer. */
  p->busy++;
  rc = call_process(p, &in);
  if (run_stage(owner, stage + 1, &rest) != 0 && rc == 0) rc = -EIO;
  p->busy--;
  free(own);
  return rc;
}

int vq_chain_source_emit(struct vq_ctx *source, const struct vq_reading *r,
                         int64_t time_ns) {
  struct vq_reading in = VQ_READING_INIT;
  uint32_t i;
  if (source->nchain == 0 && source->nderived == 0)
    return vq_router_deliver(source, r, time_ns);
  /* Processors get a whole reading: source and time set, as the plugin
   * knew it (an older plugin's smaller struct) or as we do. */
  if (r == NULL || r->size < offsetof(struct vq_reading, records) +
                                 sizeof r->records ||
      r->record_size < sizeof(struct vq_record) - sizeof(const char *) ||
      r->device == NULL || r->nrecords == 0)
    return -EINVAL;
  memcpy(&in, r, r->size < sizeof in ? r->size : sizeof in);
  in.size = sizeof in;
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, i);
    if (rec->quantity == NULL || rec->type < VQ_VALUE_DOUBLE ||
        rec->type > VQ_VALUE_BITMASK)
      return -EINVAL;
  }
  in.source = source->id;
  in.time_ns = time_ns;
  return run_stage(source, 0, &in);
}

int vq_chain_processor_emit(struct vq_ctx *proc, const struct vq_reading *r) {
  struct vq_ctx *owner;
  size_t i;
  if (r == NULL || r->nrecords == 0 || r->device == NULL) return -EINVAL;
  if (proc->chain_sink != NULL) {
    owner = proc->chain_sink;
  } else {
    if (r->source == NULL) {
      vq_log(VQ_LOG_ERROR, proc->label,
             "plugin bug: a processor's reading must keep its source");
      return -EINVAL;
    }
    owner = find_live(proc->daemon, VQ_KIND_SOURCE, r->source);
    if (owner == NULL) return 0; /* the source is gone (a reload) */
  }
  for (i = 0; i < owner->nchain; i++)
    if (owner->chain[i] == proc) return run_stage(owner, i + 1, r);
  return 0; /* no longer in that chain (a reload) */
}

void vq_chain_sink_push(struct vq_ctx *sink, struct vq_item *it) {
  struct vq_item *prev;
  if (sink->nchain == 0) {
    vq_sink_rt_push(sink->sink, it);
    return;
  }
  prev = sink->chain_item;
  sink->chain_item = it;
  run_stage(sink, 0, &it->reading);
  sink->chain_item = prev;
}

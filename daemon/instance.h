/* struct vq_ctx: the core's view of one plugin instance (a [source.ID] or
 * [sink.ID] section), shared by the host table, the router, the sink
 * runtime and the daemon. */
#ifndef VQ_INSTANCE_H
#define VQ_INSTANCE_H

#include <stdint.h>
#include <uv.h>

#include "pipeline.h"
#include "vicacq/plugin.h"

struct vq_daemon;
struct vq_sink_rt;

enum vq_instance_state {
  VQ_INST_CREATED = 0,
  VQ_INST_STARTED,
  VQ_INST_STOPPING,
  VQ_INST_STOPPED
};

/* Where a source's readings go: one sink and the quantity globs routed to
 * it (match NULL: all of them). */
struct vq_target {
  struct vq_ctx *sink;
  char **match; /* items borrowed from the pipeline's routes */
  size_t nmatch;
  int owns_match; /* match is a merged array to free (not its items) */
};

struct vq_stat {
  char *name;
  int64_t value;
};

struct vq_timer {
  uv_timer_t handle;
  struct vq_ctx *ctx;
  vq_callback cb;
  void *arg;
  struct vq_timer *next;
};

struct vq_ctx {
  struct vq_daemon *daemon;
  struct vq_pipeline *pipeline; /* holds a reference */
  struct vq_section *section;
  int kind; /* VQ_KIND_SOURCE, VQ_KIND_SINK or VQ_KIND_PROCESSOR */
  const char *id;  /* interned: outlives the instance */
  char label[80];  /* "source.shunt", the log prefix */
  const struct vq_plugin *plugin;
  void *instance;
  int state;
  int open_handles; /* timers being closed */
  struct vq_timer *timers;
  struct vq_stat *stats;
  size_t nstats;
  int cfg_errors;   /* cfg_error calls (check, create, start) */
  int posts_closed; /* stop completed: post() refused (under post_lock) */

  /* Sources. */
  uint64_t seq;
  int finished;
  struct vq_target *targets;
  size_t ntargets;

  /* Sources and sinks: their processors, in order (chain.c). */
  struct vq_ctx **chain;
  size_t nchain;
  /* Sources: the derived sources (group) their readings also feed. */
  struct vq_ctx **derived;
  size_t nderived;

  /* Processors: the sink whose chain they are in (NULL: source chains),
   * and scratch records for splitting readings by `match`. */
  struct vq_ctx *chain_sink;
  struct vq_record *scratch;
  size_t scratch_cap;
  int busy; /* inside process(): a nested call uses its own buffers */

  /* Sinks. */
  struct vq_sink_rt *sink;
  struct vq_item *chain_item; /* the item running through the chain now */
  int retiring; /* removed by a reload: drain, then stop */
  uint64_t retire_deadline_ms;
  int removed;  /* stop then destroy (reload) */
  int reload_fresh; /* created by the reload under way */
  struct vq_ctx *start_after; /* start once this one has stopped (a reload
                                 that restores the previous section) */

  struct vq_ctx *next;
};

#endif

/* The processing stage at run time: a source's readings through its
 * processors before routing, a sink's through its processors before its
 * queue, and derived sources fed with their members' readings
 * (plugin.h, vq_plugin.process). */
#ifndef VQ_CHAIN_H
#define VQ_CHAIN_H

#include "instance.h"
#include "item.h"

struct vq_daemon;

/* Resolve every `process` chain and derived source's members to the
 * running instances (after routes are compiled, and after a reload). */
void vq_chain_compile(struct vq_daemon *d);

/* Forget what an instance points to. */
void vq_chain_clear(struct vq_ctx *ctx);

/* A source emitted r (time already decided): through its chain, then
 * routed and handed to its derived sources.  0 or -errno. */
int vq_chain_source_emit(struct vq_ctx *source, const struct vq_reading *r,
                         int64_t time_ns);

/* A processor emitted r: on to the stage after it.  0 or -errno. */
int vq_chain_processor_emit(struct vq_ctx *proc, const struct vq_reading *r);

/* An item routed to a sink: through the sink's chain, then queued. */
void vq_chain_sink_push(struct vq_ctx *sink, struct vq_item *it);

#endif

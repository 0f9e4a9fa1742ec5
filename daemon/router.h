/* Routes: which sinks receive which quantities of which source. */
#ifndef VQ_ROUTER_H
#define VQ_ROUTER_H

#include "instance.h"
#include "item.h"

/* Compute source->targets from the pipeline's routes over the given
 * list of instances (sinks that are retiring receive nothing).  0 or
 * -ENOMEM. */
int vq_router_compile(struct vq_ctx *source, const struct vq_pipeline *p,
                      struct vq_ctx *instances);

/* Forget the targets. */
void vq_router_clear(struct vq_ctx *source);

/* Copy a reading emitted by `source` into items and queue them at its
 * targets.  0, or -EINVAL for a malformed reading. */
int vq_router_deliver(struct vq_ctx *source, const struct vq_reading *r,
                      int64_t time_ns);

#endif

/* The control path: commands from sinks, checked against the grants of
 * the pipeline file, handed to the owning source, and their outcome
 * reported back to the sink that sent them. */
#ifndef VQ_CONTROL_H
#define VQ_CONTROL_H

#include <stdint.h>
#include <uv.h>

#include "instance.h"

struct vq_command_entry;

struct vq_control {
  struct vq_ctx **instances; /* the daemon's list, to find sources */
  struct vq_command_entry *list;
  uv_timer_t timer;
  uint64_t next_ticket;
  uint64_t default_timeout_ms;
};

/* Submit: the ticket (> 0), or a negative errno with a static reason. */
int64_t vq_control_submit(struct vq_control *c, struct vq_ctx *sink,
                          const struct vq_command *cmd, const char **reason);
/* A source finished a command. */
void vq_control_done(struct vq_control *c, struct vq_ctx *source,
                     uint64_t ticket, int status, const char *message);
/* An instance goes away: fail its commands, forget it as origin. */
void vq_control_forget(struct vq_control *c, struct vq_ctx *ctx);
/* Fail everything (shutdown); closes the deadline timer. */
void vq_control_shutdown(struct vq_control *c);
/* Set up the deadline timer. */
int vq_control_init(struct vq_control *c, uv_loop_t *loop,
                    struct vq_ctx **instances, uint64_t default_timeout_ms);

#endif

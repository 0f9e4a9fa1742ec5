/* The daemon: runs a pipeline on one libuv loop; start, reload (SIGHUP),
 * stop with a bounded flush (SIGTERM/SIGINT, or when every source has
 * finished). */
#ifndef VQ_DAEMON_H
#define VQ_DAEMON_H

#include <uv.h>

#include "control.h"
#include "instance.h"
#include "notify.h"
#include "pipeline.h"

enum vq_daemon_state {
  VQ_DAEMON_RUNNING = 0,
  VQ_DAEMON_STOPPING_SOURCES,
  VQ_DAEMON_STOPPING_PROCESSORS, /* sources stopped; processors flush */
  VQ_DAEMON_FLUSHING,
  VQ_DAEMON_STOPPING_SINKS,
  VQ_DAEMON_DONE
};

struct vq_post;

/* Exit statuses of vicacq (documented in vicacq(1)). */
enum vq_exit_status {
  VQ_EXIT_OK = 0,
  VQ_EXIT_RUNTIME = 1,     /* could not start, or failed while running */
  VQ_EXIT_CONFIG = 2,      /* invalid pipeline file or usage */
  VQ_EXIT_UNDELIVERED = 3  /* a finite pipeline ended with records
                              dropped (full queue) or lost (shutdown) */
};

struct vq_daemon {
  uv_loop_t loop;
  struct vq_pipeline *pipeline; /* the one running */
  const char *path;             /* re-read on SIGHUP; NULL: no reload */
  struct vq_ctx *instances;
  struct vq_ctx internal; /* source "vicacq": the daemon's own records */

  uv_idle_t drain;
  uv_signal_t sigterm, sigint, sighup, sigusr1;
  uv_timer_t shutdown_timer, tick;
  uv_async_t post_async;
  uv_mutex_t post_lock;
  struct vq_post *posts;

  struct vq_control control;
  struct vq_notify notify; /* systemd: readiness, status, watchdog */
  int state;
  int exit_code;
  int reload_requested;
  int finite; /* stopping because every source finished */
};

/* Run `p` (taking ownership, also on failure) until stopped; returns a
 * vq_exit_status. */
int vq_daemon_run(struct vq_pipeline *p, const char *path);

/* Used by the host table. */
void vq_daemon_kick(struct vq_daemon *d);
void vq_daemon_source_finished(struct vq_daemon *d, struct vq_ctx *ctx);
int vq_daemon_post(struct vq_daemon *d, struct vq_ctx *ctx, vq_callback cb,
                   void *arg);
/* The daemon's own modules (instance.c, post.c, reload.c). */
struct vq_ctx *vq_instance_new(struct vq_daemon *d, struct vq_pipeline *p,
                               struct vq_section *s);
void vq_instance_append(struct vq_daemon *d, struct vq_ctx *ctx);
int vq_instance_start(struct vq_ctx *ctx);
void vq_instance_stop(struct vq_ctx *ctx);
void vq_instance_free(struct vq_daemon *d, struct vq_ctx *ctx);
void vq_pipeline_unref(struct vq_pipeline *p);
void vq_daemon_compile_routes(struct vq_daemon *d);
int vq_daemon_start_created(struct vq_daemon *d, int first_failure);
void vq_daemon_reload(struct vq_daemon *d);
void vq_daemon_on_post(uv_async_t *a);
void vq_daemon_posts_close(struct vq_daemon *d, struct vq_ctx *ctx);
void vq_daemon_posts_free(struct vq_daemon *d);

/* The host table handed to plugins. */
extern const struct vq_host vq_host_table;

#endif

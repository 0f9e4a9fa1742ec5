/* fixture-stall: a test-only source that blocks the daemon's loop thread
 * on purpose, once, so that the watchdog test can see the pings stop
 * while the loop is stuck (a real plugin must never do this).  It emits
 * nothing and never finishes. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "vicacq/plugin.h"

struct stall {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  uint64_t after_ms, for_ms;
  struct vq_timer *timer;
};

static const struct vq_option options[] = {
    {"stall_after", VQ_OPT_DURATION, 0, "1s", NULL, 0, 3600000,
     "when to block the loop, from start"},
    {"stall_for", VQ_OPT_DURATION, 0, "0", NULL, 0, 3600000,
     "how long to block it (0: never block)"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

static int stall_create(const struct vq_host *host, struct vq_ctx *ctx,
                        void **instance) {
  struct stall *s = calloc(1, sizeof *s);
  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  host->cfg_duration(ctx, "stall_after", &s->after_ms);
  host->cfg_duration(ctx, "stall_for", &s->for_ms);
  *instance = s;
  return 0;
}

static void stall_now(void *arg) {
  struct stall *s = arg;
  struct timespec left = {(time_t)(s->for_ms / 1000),
                          (long)(s->for_ms % 1000) * 1000000L};
  s->host->timer_stop(s->ctx, s->timer);
  s->timer = NULL;
  s->host->log(s->ctx, VQ_LOG_INFO, "blocking the loop for %llu ms",
               (unsigned long long)s->for_ms);
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {}
  s->host->log(s->ctx, VQ_LOG_INFO, "loop unblocked");
}

static int stall_start(void *instance) {
  struct stall *s = instance;
  if (s->for_ms == 0) return 0;
  s->timer = s->host->timer_start(s->ctx, s->after_ms, 0, stall_now, s);
  return s->timer != NULL ? 0 : -ENOMEM;
}

static void stall_stop(void *instance, vq_stopped_cb done) {
  struct stall *s = instance;
  if (s->timer != NULL) s->host->timer_stop(s->ctx, s->timer);
  s->timer = NULL;
  done(s->ctx);
}

static void stall_destroy(void *instance) { free(instance); }

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "fixture-stall",
    .version = "1",
    .description = "test fixture: blocks the loop thread once",
    .kinds = VQ_KIND_SOURCE,
    .options = options,
    .create = stall_create,
    .start = stall_start,
    .stop = stall_stop,
    .destroy = stall_destroy,
};

VQ_PLUGIN_DECLARE(fixture_stall, descriptor)

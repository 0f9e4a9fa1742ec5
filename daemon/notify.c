#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "sink_rt.h"

static void on_watchdog(uv_timer_t *t) {
  /* Sent from the loop thread on purpose: if a callback blocks the loop,
   * the pings stop and systemd restarts the service. */
  sd_notify(0, "WATCHDOG=1");
}

int vq_notify_init(struct vq_notify *n, struct vq_daemon *d) {
  uint64_t usec = 0;
  int rc;

  n->daemon = d;
  n->interval_ms = 0;
  n->enabled = getenv("NOTIFY_SOCKET") != NULL;
  rc = uv_timer_init(&d->loop, &n->watchdog);
  if (rc != 0) return rc;
  n->watchdog.data = n;
  /* 0 for WATCHDOG_PID: it must name this process if it is set. */
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    n->interval_ms = usec / 2000; /* half the timeout, as sd_watchdog_enabled(3) advises */
    if (n->interval_ms == 0) n->interval_ms = 1;
    vq_debug("systemd watchdog: ping every %" PRIu64 " ms", n->interval_ms);
    uv_timer_start(&n->watchdog, on_watchdog, n->interval_ms, n->interval_ms);
  }
  return 0;
}

void vq_notify_close(struct vq_notify *n) {
  if (!uv_is_closing((uv_handle_t *)&n->watchdog))
    uv_close((uv_handle_t *)&n->watchdog, NULL);
}

/* Counters over every running instance: what sources read, what sinks
 * wrote, hold and dropped. */
static void format_status(const struct vq_daemon *d, char *buf, size_t size) {
  const struct vq_ctx *c;
  unsigned sources = 0, sinks = 0;
  uint64_t readings = 0, written = 0, queued = 0, dropped = 0;

  for (c = d->instances; c != NULL; c = c->next) {
    if (c->removed) continue;
    if (c->sink != NULL) {
      sinks++;
      written += c->sink->n.written;
      queued += vq_sink_rt_pending(c->sink);
      dropped += c->sink->n.dropped;
    } else {
      sources++;
      readings += c->seq;
    }
  }
  snprintf(buf, size,
           "STATUS=%u sources, %" PRIu64 " readings; %u sinks, %" PRIu64
           " written, %" PRIu64 " queued, %" PRIu64 " dropped",
           sources, readings, sinks, written, queued, dropped);
}

void vq_notify_status(struct vq_notify *n) {
  char status[256];
  if (!n->enabled) return;
  format_status(n->daemon, status, sizeof status);
  sd_notify(0, status);
}

void vq_notify_ready(struct vq_notify *n) {
  char status[256];
  if (!n->enabled) return;
  format_status(n->daemon, status, sizeof status);
  sd_notifyf(0, "READY=1\n%s", status);
}

void vq_notify_reloading(struct vq_notify *n) {
  struct timespec ts;
  if (!n->enabled) return;
  /* MONOTONIC_USEC lets systemd (Type=notify-reload, 253+) tell this
   * reload from an earlier one. */
  clock_gettime(CLOCK_MONOTONIC, &ts);
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=reloading",
             (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

void vq_notify_stopping(struct vq_notify *n) {
  if (!n->enabled) return;
  sd_notify(0, "STOPPING=1\nSTATUS=stopping: delivering what is queued");
}

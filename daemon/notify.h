/* The systemd service manager protocol (sd_notify): READY=1 once sources
 * and sinks have started, RELOADING=1 / READY=1 around a SIGHUP reload,
 * STOPPING=1 when the stop begins, STATUS= with the counters, and
 * WATCHDOG=1 from a loop timer so that a stuck loop stops the pings and
 * systemd restarts the service (WatchdogSec= in the unit).
 *
 * Every call is a no-op when the daemon was not started by a service
 * manager (NOTIFY_SOCKET unset); nothing here can fail the daemon. */
#ifndef VQ_NOTIFY_H
#define VQ_NOTIFY_H

#include <stdint.h>
#include <uv.h>

struct vq_daemon;

struct vq_notify {
  struct vq_daemon *daemon; /* counters for STATUS= are read from here */
  uv_timer_t watchdog;      /* pings at half of WATCHDOG_USEC */
  uint64_t interval_ms;     /* 0: no watchdog asked for */
  int enabled;              /* NOTIFY_SOCKET is set */
};

/* Read the environment, start the watchdog timer on the daemon's loop if
 * WATCHDOG_USEC asks for one.  0 or a libuv error code. */
int vq_notify_init(struct vq_notify *n, struct vq_daemon *d);
/* Close the watchdog timer (with the daemon's other handles). */
void vq_notify_close(struct vq_notify *n);

void vq_notify_ready(struct vq_notify *n);
void vq_notify_reloading(struct vq_notify *n);
void vq_notify_stopping(struct vq_notify *n);
/* STATUS= with the current counters. */
void vq_notify_status(struct vq_notify *n);

#endif

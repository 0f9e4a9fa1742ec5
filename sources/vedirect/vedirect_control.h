/* VE.Direct HEX requests in flight: one at a time (the device answers in
 * order and the line is shared with text), a queue behind it, time-outs
 * and retries.  Pure code: time comes in as milliseconds, frames go out
 * through a send callback, the caller runs a timer to call ved_ctl_tick()
 * at ved_ctl_deadline(). */
#ifndef VEDIRECT_CONTROL_H
#define VEDIRECT_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "vedirect_hex.h"

#define VED_CTL_QUEUE 8

/* Completion: status 0 with the reply, or -ETIMEDOUT (no answer after the
 * retries), -EOPNOTSUPP (the device says "unknown command"), -ECANCELED
 * (ved_ctl_cancel_all). */
typedef void (*ved_ctl_done)(void *arg, uint32_t tag, int status,
                             const struct ved_hex_frame *reply);

struct ved_ctl_req {
  uint8_t cmd;   /* VED_CMD_* */
  uint16_t reg;  /* Get / Set */
  uint8_t value[8];
  size_t vlen;   /* Set value bytes */
  ved_ctl_done done;
  void *arg;
  uint32_t tag; /* handed back to done() */
  /* filled in by the queue */
  unsigned tries;
  uint64_t sent_ms;
  char frame[32];
  size_t flen;
};

struct ved_ctl {
  struct ved_ctl_req q[VED_CTL_QUEUE];
  size_t head, count;
  int inflight;               /* q[head] has been sent */
  uint64_t timeout_ms;        /* per try */
  unsigned retries;           /* extra tries after the first */
  /* Write a frame to the device; 0 or -errno (counts as a try). */
  int (*send)(void *arg, const char *frame, size_t len);
  void *send_arg;
  uint64_t sent, timeouts, retried, errors;
};

void ved_ctl_init(struct ved_ctl *c, uint64_t timeout_ms, unsigned retries,
                  int (*send)(void *, const char *, size_t), void *send_arg);

/* Queue a request (cmd and, for Get/Set, reg and value); sends it now when
 * nothing is in flight.  0, -ENOSPC (queue full), -EINVAL. */
int ved_ctl_submit(struct ved_ctl *c, const struct ved_ctl_req *req,
                   uint64_t now_ms);

/* A decoded frame from the device.  Returns 1 when it answered the request
 * in flight (completed, or retried on a framing-error reply), 0 when it is
 * not an answer (async frames, stray replies). */
int ved_ctl_on_frame(struct ved_ctl *c, const struct ved_hex_frame *f,
                     uint64_t now_ms);

/* Handle a time-out of the request in flight (resend or fail it). */
void ved_ctl_tick(struct ved_ctl *c, uint64_t now_ms);

/* When ved_ctl_tick must next be called; UINT64_MAX when nothing waits. */
uint64_t ved_ctl_deadline(const struct ved_ctl *c);

/* Fail everything queued with `status` (port lost, stopping). */
void ved_ctl_cancel_all(struct ved_ctl *c, int status);

#endif

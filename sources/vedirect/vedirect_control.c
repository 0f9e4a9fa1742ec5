/* HEX request queue; see vedirect_control.h. */
#include "vedirect_control.h"

#include <errno.h>
#include <string.h>

void ved_ctl_init(struct ved_ctl *c, uint64_t timeout_ms, unsigned retries,
                  int (*send)(void *, const char *, size_t), void *send_arg) {
  memset(c, 0, sizeof *c);
  c->timeout_ms = timeout_ms ? timeout_ms : 1000;
  c->retries = retries;
  c->send = send;
  c->send_arg = send_arg;
}

static void send_head(struct ved_ctl *c, uint64_t now_ms) {
  struct ved_ctl_req *r = &c->q[c->head];
  r->tries++;
  r->sent_ms = now_ms;
  c->inflight = 1;
  c->sent++;
  /* A failed write is handled like a lost frame: the time-out retries. */
  if (c->send(c->send_arg, r->frame, r->flen) < 0) c->errors++;
}

/* Remove the head, then start the next one. */
static void finish_head(struct ved_ctl *c, int status,
                        const struct ved_hex_frame *reply, uint64_t now_ms) {
  struct ved_ctl_req r = c->q[c->head];
  c->head = (c->head + 1) % VED_CTL_QUEUE;
  c->count--;
  c->inflight = 0;
  if (c->count > 0) send_head(c, now_ms);
  /* Completion last: it may submit the next request. */
  if (r.done) r.done(r.arg, r.tag, status, reply);
}

int ved_ctl_submit(struct ved_ctl *c, const struct ved_ctl_req *req,
                   uint64_t now_ms) {
  struct ved_ctl_req *r;
  int n;
  if (c->count >= VED_CTL_QUEUE) return -ENOSPC;
  r = &c->q[(c->head + c->count) % VED_CTL_QUEUE];
  *r = *req;
  r->tries = 0;
  switch (req->cmd) {
    case VED_CMD_PING:
    case VED_CMD_APP_VERSION:
    case VED_CMD_PRODUCT_ID:
      n = ved_hex_encode(req->cmd, NULL, 0, r->frame, sizeof r->frame);
      break;
    case VED_CMD_GET:
      n = ved_hex_get(req->reg, r->frame, sizeof r->frame);
      break;
    case VED_CMD_SET:
      n = ved_hex_set(req->reg, req->value, req->vlen, r->frame,
                      sizeof r->frame);
      break;
    default:
      return -EINVAL;
  }
  if (n < 0) return n;
  r->flen = (size_t)n;
  c->count++;
  if (c->count == 1) send_head(c, now_ms);
  return 0;
}

/* Does reply f answer request r? */
static int answers(const struct ved_ctl_req *r, const struct ved_hex_frame *f) {
  switch (r->cmd) {
    case VED_CMD_PING:
      return f->cmd == VED_RSP_PING;
    case VED_CMD_APP_VERSION:
    case VED_CMD_PRODUCT_ID:
      return f->cmd == VED_RSP_DONE;
    case VED_CMD_GET:
    case VED_CMD_SET:
      return f->cmd == r->cmd && f->len >= 3 &&
             (uint16_t)(f->payload[0] | f->payload[1] << 8) == r->reg;
    default:
      return 0;
  }
}

int ved_ctl_on_frame(struct ved_ctl *c, const struct ved_hex_frame *f,
                     uint64_t now_ms) {
  struct ved_ctl_req *r;
  if (!c->inflight) return 0;
  r = &c->q[c->head];
  if (f->cmd == VED_RSP_ERROR) {
    /* Framing error: our frame arrived damaged.  Send it again while
     * tries are left; the time-out handles the rest. */
    if (r->tries <= c->retries) {
      c->retried++;
      send_head(c, now_ms);
    } else {
      finish_head(c, -EIO, f, now_ms);
    }
    return 1;
  }
  if (f->cmd == VED_RSP_UNKNOWN && f->len >= 1 && f->payload[0] == r->cmd) {
    finish_head(c, -EOPNOTSUPP, f, now_ms);
    return 1;
  }
  if (!answers(r, f)) return 0;
  finish_head(c, 0, f, now_ms);
  return 1;
}

uint64_t ved_ctl_deadline(const struct ved_ctl *c) {
  if (!c->inflight) return UINT64_MAX;
  return c->q[c->head].sent_ms + c->timeout_ms;
}

void ved_ctl_tick(struct ved_ctl *c, uint64_t now_ms) {
  if (!c->inflight || now_ms < ved_ctl_deadline(c)) return;
  c->timeouts++;
  if (c->q[c->head].tries <= c->retries) {
    c->retried++;
    send_head(c, now_ms);
  } else {
    finish_head(c, -ETIMEDOUT, NULL, now_ms);
  }
}

void ved_ctl_cancel_all(struct ved_ctl *c, int status) {
  /* Take the requests out first: completions may submit new ones. */
  struct ved_ctl_req q[VED_CTL_QUEUE];
  size_t n = c->count, i;
  for (i = 0; i < n; i++) q[i] = c->q[(c->head + i) % VED_CTL_QUEUE];
  c->head = c->count = 0;
  c->inflight = 0;
  for (i = 0; i < n; i++)
    if (q[i].done) q[i].done(q[i].arg, q[i].tag, status, NULL);
}

#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "control.h"
#include "log.h"

enum { CMD_PENDING, CMD_ACTIVE, CMD_DONE };

/* Outcomes are reported from the timer, never from inside submit(), so a
 * sink always knows the ticket before it hears the result. */
#define CHECK_INTERVAL_MS 100

struct vq_command_entry {
  uint64_t ticket;
  struct vq_ctx *sink;   /* origin; NULL once it is gone */
  struct vq_ctx *source; /* NULL once it is gone */
  char *device, *quantity;
  char unit[16];
  double value;
  int64_t deadline_ns;
  uint64_t deadline_ms; /* loop time */
  int state;
  int status;
  char message[200];
  struct vq_command_entry *next;
};

static void on_timer(uv_timer_t *t);

static void schedule(struct vq_control *c, uint64_t timeout) {
  if (uv_is_closing((uv_handle_t *)&c->timer)) return;
  uv_timer_start(&c->timer, on_timer, timeout, 0);
}

static const char *origin_label(const struct vq_command_entry *e) {
  return e->sink ? e->sink->label : "(gone)";
}

static void finish(struct vq_control *c, struct vq_command_entry *e,
                   int status, const char *message) {
  e->state = CMD_DONE;
  e->status = status;
  snprintf(e->message, sizeof e->message, "%s", message ? message : "");
  if (status == 0)
    vq_log(VQ_LOG_INFO, e->source ? e->source->label : NULL,
           "command #%llu from %s: %s/%s = %g done%s%s",
           (unsigned long long)e->ticket, origin_label(e), e->device,
           e->quantity, e->value, *e->message ? ": " : "", e->message);
  else
    vq_log(VQ_LOG_WARN, e->source ? e->source->label : NULL,
           "command #%llu from %s: %s/%s = %g failed: %s%s%s",
           (unsigned long long)e->ticket, origin_label(e), e->device,
           e->quantity, e->value, strerror(-status),
           *e->message ? ": " : "", e->message);
  schedule(c, 0);
}

static int same_target(const struct vq_command_entry *a,
                       const struct vq_command_entry *b) {
  return a->source == b->source && strcmp(a->device, b->device) == 0 &&
         strcmp(a->quantity, b->quantity) == 0;
}

static void dispatch(struct vq_control *c, struct vq_command_entry *e) {
  struct vq_command cmd;
  int rc;
  memset(&cmd, 0, sizeof cmd);
  cmd.size = sizeof cmd;
  cmd.ticket = e->ticket;
  cmd.source = e->source->id;
  cmd.device = e->device;
  cmd.quantity = e->quantity;
  cmd.value = e->value;
  cmd.unit = e->unit;
  cmd.deadline_ns = e->deadline_ns;
  cmd.origin = e->sink ? e->sink->label : "";
  e->state = CMD_ACTIVE;
  rc = e->source->plugin->command(e->source->instance, &cmd);
  if (rc < 0 && e->state == CMD_ACTIVE)
    finish(c, e, rc, "refused by the source");
}

static struct vq_ctx *find_source(struct vq_control *c, const char *id) {
  struct vq_ctx *i;
  /* A source a reload replaced is still listed while it stops: the one
   * that runs is the one not removed. */
  for (i = *c->instances; i != NULL; i = i->next)
    if (i->kind == VQ_KIND_SOURCE && !i->removed && strcmp(i->id, id) == 0)
      return i;
  return NULL;
}

int64_t vq_control_submit(struct vq_control *c, struct vq_ctx *sink,
                          const struct vq_command *cmd, const char **reason) {
  struct vq_ctx *source;
  const struct vq_grant *grant = NULL;
  struct vq_command_entry *e, *i;
  const char *why = NULL;
  int rc = 0;
  size_t g;

  if (cmd == NULL || cmd->size < offsetof(struct vq_command, origin) ||
      cmd->source == NULL || cmd->device == NULL || cmd->quantity == NULL) {
    why = "malformed command";
    rc = -EINVAL;
    goto refuse;
  }
  source = find_source(c, cmd->source);
  if (source == NULL || source->state != VQ_INST_STARTED) {
    why = "no such source is running";
    rc = -ENOENT;
    goto refuse;
  }
  for (g = 0; g < source->section->ngrants; g++)
    if (strcmp(source->section->grants[g].quantity, cmd->quantity) == 0)
      grant = &source->section->grants[g];
  if (grant == NULL) {
    why = "writing this quantity is not enabled (no write.QUANTITY range in "
          "the source's section)";
    rc = -EPERM;
    goto refuse;
  }
  if (cmd->unit != NULL && *cmd->unit != '\0' && grant->writable->unit &&
      strcmp(cmd->unit, grant->writable->unit) != 0) {
    why = "wrong unit for this quantity";
    rc = -EINVAL;
    goto refuse;
  }
  if (!isfinite(cmd->value)) {
    why = "value is not a number";
    rc = -EINVAL;
    goto refuse;
  }
  if (cmd->value < grant->min || cmd->value > grant->max) {
    why = "value outside the range granted in the pipeline file";
    rc = -ERANGE;
    goto refuse;
  }

  e = calloc(1, sizeof *e);
  if (e == NULL || (e->device = strdup(cmd->device)) == NULL ||
      (e->quantity = strdup(cmd->quantity)) == NULL) {
    if (e) free(e->device);
    free(e);
    why = "out of memory";
    rc = -ENOMEM;
    goto refuse;
  }
  e->ticket = ++c->next_ticket;
  e->sink = sink;
  e->source = source;
  e->value = cmd->value;
  snprintf(e->unit, sizeof e->unit, "%s",
           grant->writable->unit ? grant->writable->unit : "");
  {
    uv_loop_t *loop = c->timer.loop;
    uint64_t now = uv_now(loop), timeout = c->default_timeout_ms;
    int64_t now_ns = vq_realtime_ns();
    if (cmd->deadline_ns > 0)
      timeout = cmd->deadline_ns > now_ns
                    ? (uint64_t)(cmd->deadline_ns - now_ns) / 1000000u
                    : 0;
    e->deadline_ms = now + timeout;
    e->deadline_ns = now_ns + (int64_t)timeout * 1000000LL;
  }
  vq_log(VQ_LOG_INFO, source->label, "command #%llu from %s: set %s/%s = %g",
         (unsigned long long)e->ticket, sink ? sink->label : "?", e->device,
         e->quantity, e->value);

  /* Only the newest command per (device, quantity) waits: an older one
   * still waiting is superseded. */
  for (i = c->list; i != NULL; i = i->next) {
    if (i->state == CMD_PENDING && same_target(i, e))
      finish(c, i, -ECANCELED, "superseded by a newer command");
  }
  e->state = CMD_PENDING;
  e->next = c->list;
  c->list = e;
  for (i = c->list; i != NULL; i = i->next)
    if (i != e && i->state == CMD_ACTIVE && same_target(i, e)) break;
  if (i == NULL) dispatch(c, e);
  schedule(c, 0);
  return (int64_t)e->ticket;

refuse:
  vq_log(VQ_LOG_WARN, sink ? sink->label : NULL,
         "command %s/%s/%s = %g refused: %s", cmd && cmd->source ? cmd->source : "?",
         cmd && cmd->device ? cmd->device : "?",
         cmd && cmd->quantity ? cmd->quantity : "?", cmd ? cmd->value : 0.0,
         why);
  if (reason) *reason = why;
  return rc;
}

void vq_control_done(struct vq_control *c, struct vq_ctx *source,
                     uint64_t ticket, int status, const char *message) {
  struct vq_command_entry *e;
  for (e = c->list; e != NULL; e = e->next) {
    if (e->ticket != ticket) continue;
    if (e->source != source) {
      vq_log(VQ_LOG_ERROR, source->label,
             "plugin bug: command_done for command #%llu of another source",
             (unsigned long long)ticket);
      return;
    }
    if (e->state != CMD_ACTIVE) break;
    finish(c, e, status > 0 ? -status : status, message);
    return;
  }
  vq_log(VQ_LOG_DEBUG, source->label,
         "command #%llu completed after its deadline; outcome ignored",
         (unsigned long long)ticket);
}

static void free_entry(struct vq_command_entry *e) {
  free(e->device);
  free(e->quantity);
  free(e);
}

static void on_timer(uv_timer_t *t) {
  struct vq_control *c = t->data;
  struct vq_command_entry **p = &c->list, *e;
  uint64_t now = uv_now(t->loop);

  /* Deadlines first, so that their outcomes go out in this round. */
  for (e = c->list; e != NULL; e = e->next)
    if (e->state != CMD_DONE && now >= e->deadline_ms)
      finish(c, e, -ETIMEDOUT,
             e->state == CMD_ACTIVE ? "no answer from the source in time"
                                    : "still waiting for an earlier command");
  while ((e = *p) != NULL) {
    if (e->state != CMD_DONE) {
      p = &e->next;
      continue;
    }
    *p = e->next;
    if (e->sink != NULL && e->sink->plugin->command_result != NULL &&
        e->sink->state == VQ_INST_STARTED)
      e->sink->plugin->command_result(e->sink->instance, e->ticket, e->status,
                                      e->message);
    /* The next waiting command for the same target may go now. */
    {
      struct vq_command_entry *w;
      for (w = c->list; w != NULL; w = w->next)
        if (w->state == CMD_PENDING && e->source != NULL && same_target(w, e)) {
          dispatch(c, w);
          break;
        }
    }
    free_entry(e);
    p = &c->list; /* the list may have changed under dispatch */
  }
  if (c->list != NULL) schedule(c, CHECK_INTERVAL_MS);
}

void vq_control_forget(struct vq_control *c, struct vq_ctx *ctx) {
  struct vq_command_entry *e;
  for (e = c->list; e != NULL; e = e->next) {
    if (e->sink == ctx) e->sink = NULL;
    if (e->source == ctx) {
      if (e->state != CMD_DONE) finish(c, e, -ECANCELED, "source stopped");
      e->source = NULL;
    }
  }
}

int vq_control_init(struct vq_control *c, uv_loop_t *loop,
                    struct vq_ctx **instances, uint64_t default_timeout_ms) {
  memset(c, 0, sizeof *c);
  c->instances = instances;
  c->default_timeout_ms = default_timeout_ms;
  c->timer.data = c;
  return uv_timer_init(loop, &c->timer);
}

void vq_control_shutdown(struct vq_control *c) {
  while (c->list != NULL) {
    struct vq_command_entry *e = c->list;
    c->list = e->next;
    free_entry(e);
  }
  if (!uv_is_closing((uv_handle_t *)&c->timer))
    uv_close((uv_handle_t *)&c->timer, NULL);
}

/* The one BlueZ client of the process: created by the first subscriber,
 * closed when the last one leaves.  This library is loaded once per
 * process (vq_bluez.h), so `active` is shared by every plugin module. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluez_internal.h"
#include "vq_secret.h"

static struct bluez_client *active;
struct vq_bluez_stats bluez_stats;

struct bluez_client *bluez_active(void) { return active; }

void bluez_log(struct bluez_client *c, int level, const char *fmt, ...) {
  char buf[400];
  struct vq_bluez_sub *sub;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  /* The oldest live subscriber speaks for the client. */
  for (sub = c->subs; sub != NULL; sub = sub->next)
    if (!sub->dead) {
      sub->log(sub->arg, level, buf);
      return;
    }
}

void bluez_handle_closed(uv_handle_t *h) {
  struct bluez_client *c = h->data;
  size_t i;
  if (--c->open_handles > 0) return;
  while (c->subs != NULL) {
    struct vq_bluez_sub *n = c->subs->next;
    free(c->subs);
    c->subs = n;
  }
  for (i = 0; i < c->ndones; i++) c->dones[i].fn(c->dones[i].arg);
  free(c->dones);
  free(c->devs);
  free(c->adapter_want);
  free(c);
}

static int same_adapter(const char *a, const char *b) {
  if (a == NULL || b == NULL) return a == b;
  return strcmp(a, b) == 0;
}

static struct bluez_client *client_new(uv_loop_t *loop, const char *adapter,
                                       struct vq_bluez_sub *first) {
  struct bluez_client *c = calloc(1, sizeof *c);
  if (c == NULL) return NULL;
  if (adapter != NULL && (c->adapter_want = strdup(adapter)) == NULL) {
    free(c);
    return NULL;
  }
  c->loop = loop;
  c->subs = first; /* so the client can log from here on */
  /* uv_timer_init only fails for a bad loop; nothing to close then. */
  if (uv_timer_init(loop, &c->bus_timer) != 0 || uv_timer_init(loop, &c->retry_timer) != 0) {
    free(c->adapter_want);
    free(c);
    return NULL;
  }
  c->bus_timer.data = c;
  c->retry_timer.data = c;
  c->open_handles = 2;
  bluez_discovery_reset(c);
  return c;
}

int vq_bluez_subscribe(uv_loop_t *loop, const char *adapter, uint16_t company,
                       vq_bluez_adv_fn on_adv, vq_bluez_log_fn log, void *arg,
                       struct vq_bluez_sub **out) {
  struct vq_bluez_sub *sub, **tail;
  struct bluez_client *c = active;
  if (loop == NULL || on_adv == NULL || log == NULL || out == NULL) return -EINVAL;
  if (c != NULL && (!same_adapter(adapter, c->adapter_want) || c->loop != loop))
    return -EBUSY;
  sub = calloc(1, sizeof *sub);
  if (sub == NULL) return -ENOMEM;
  sub->company = company;
  sub->on_adv = on_adv;
  sub->log = log;
  sub->arg = arg;
  bluez_stats.subscribers++;
  *out = sub;
  if (c == NULL) {
    if ((c = client_new(loop, adapter, sub)) == NULL) {
      bluez_stats.subscribers--;
      free(sub);
      return -ENOMEM;
    }
    active = c;
    if (bluez_bus_connect(c) != 0) {
      bluez_log(c, 1, "will retry the system bus in %u s", BLUEZ_RECONNECT_MS / 1000);
      bluez_schedule_retry(c, BLUEZ_RECONNECT_MS);
    }
    return 0;
  }
  for (tail = &c->subs; *tail != NULL; tail = &(*tail)->next) {}
  *tail = sub;
  return 0;
}

static void release_pause(struct bluez_client *c, struct vq_bluez_sub *sub) {
  if (!sub->paused) return;
  sub->paused = 0;
  c->npaused--;
  bluez_discovery_pause_changed(c);
}

static void client_close(struct bluez_client *c, vq_bluez_done_fn done, void *done_arg) {
  struct bluez_done *nd = NULL;
  struct vq_bluez_sub *sub;
  if (done != NULL) {
    nd = realloc(c->dones, (c->ndones + 1) * sizeof *c->dones);
    if (nd != NULL) {
      c->dones = nd;
      c->dones[c->ndones].fn = done;
      c->dones[c->ndones++].arg = done_arg;
    }
  }
  active = NULL;
  c->closing = 1;
  bluez_bus_disconnect(c);
  /* Freed once the handles are closed: a dispatch may still walk them. */
  for (sub = c->subs; sub != NULL; sub = sub->next) sub->dead = 1;
  uv_close((uv_handle_t *)&c->bus_timer, bluez_handle_closed);
  uv_close((uv_handle_t *)&c->retry_timer, bluez_handle_closed);
  /* Out of memory for the completion list: nothing refers to the
   * subscriber's arg any more (the client only calls subscribers), so
   * say it now. */
  if (done != NULL && nd == NULL) done(done_arg);
}

void vq_bluez_unsubscribe(struct vq_bluez_sub *sub, vq_bluez_done_fn done,
                          void *done_arg) {
  struct bluez_client *c = active;
  struct vq_bluez_sub **pp, *live = NULL;
  if (sub == NULL) {
    if (done != NULL) done(done_arg);
    return;
  }
  bluez_stats.subscribers--;
  vq_secret_clear(sub->pin, sizeof sub->pin); /* no answers from here on */
  if (c == NULL) {
    free(sub);
    if (done != NULL) done(done_arg);
    return;
  }
  release_pause(c, sub);
  bluez_calls_cancel(c, sub);
  sub->dead = 1;
  for (pp = &c->subs; *pp != NULL; pp = &(*pp)->next)
    if (!(*pp)->dead) live = *pp;
  if (live == NULL) {
    client_close(c, done, done_arg);
    return;
  }
  /* Others still listen: unlink now, or after the dispatch running. */
  if (!c->dispatching) {
    for (pp = &c->subs; *pp != NULL; pp = &(*pp)->next)
      if (*pp == sub) {
        *pp = sub->next;
        free(sub);
        break;
      }
  }
  if (done != NULL) done(done_arg);
}

int vq_bluez_discovery_pause(struct vq_bluez_sub *sub) {
  struct bluez_client *c = active;
  if (sub == NULL) return -EINVAL;
  if (sub->paused || c == NULL) return 0;
  sub->paused = 1;
  c->npaused++;
  bluez_discovery_pause_changed(c);
  return 0;
}

int vq_bluez_discovery_resume(struct vq_bluez_sub *sub) {
  struct bluez_client *c = active;
  if (sub == NULL) return -EINVAL;
  if (c != NULL) release_pause(c, sub);
  return 0;
}

void vq_bluez_get_stats(struct vq_bluez_stats *out) {
  *out = bluez_stats;
  out->discovering = active != NULL && active->discovery_started;
  out->devices = active != NULL ? (unsigned)active->ndevs : 0;
}

/* Method calls made for a subscriber: each is tracked until its reply so
 * that unsubscribing cancels it (no callback after unsubscribe) and a lost
 * bus fails it (no call left hanging). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluez_internal.h"

/* The device object of the subscriber's owned device on the adapter in
 * use: 0, -ENOENT (no owned device) or -EAGAIN (no adapter yet). */
int bluez_sub_dev_path(const struct bluez_client *c, const struct vq_bluez_sub *sub,
                       char *out, size_t size) {
  const uint8_t *a = sub->dev_addr;
  int n;
  if (!sub->has_dev) return -ENOENT;
  if (c == NULL || c->bus == NULL || c->adapter_path[0] == '\0') return -EAGAIN;
  n = snprintf(out, size, "%s/dev_%02X_%02X_%02X_%02X_%02X_%02X", c->adapter_path, a[0],
               a[1], a[2], a[3], a[4], a[5]);
  return n > 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

static void unlink_call(struct bluez_client *c, struct bluez_call *call) {
  struct bluez_call **pp;
  for (pp = &c->calls; *pp != NULL; pp = &(*pp)->next)
    if (*pp == call) {
      *pp = call->next;
      return;
    }
}

static int on_call_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct bluez_call *call = userdata;
  struct bluez_client *c = call->c;
  (void)ret_error;
  unlink_call(c, call);
  call->slot = sd_bus_slot_unref(call->slot);
  if (!call->sub->dead && !c->closing) call->on_reply(call, m, 0);
  free(call);
  return 0;
}

/* Send msg (consumed) and track it.  0, or -errno (nothing will run). */
int bluez_call_start(struct bluez_client *c, struct vq_bluez_sub *sub, sd_bus_message *msg,
                     const char *path, const char *extra, bluez_reply_fn on_reply,
                     bluez_any_fn fn) {
  struct bluez_call *call = calloc(1, sizeof *call);
  int r;
  if (call == NULL) {
    sd_bus_message_unref(msg);
    return -ENOMEM;
  }
  call->c = c;
  call->sub = sub;
  call->on_reply = on_reply;
  call->fn = fn;
  snprintf(call->path, sizeof call->path, "%s", path);
  snprintf(call->extra, sizeof call->extra, "%s", extra != NULL ? extra : "");
  r = sd_bus_call_async(c->bus, &call->slot, msg, on_call_reply, call, 0);
  sd_bus_message_unref(msg);
  if (r < 0) {
    free(call);
    return r;
  }
  call->next = c->calls;
  c->calls = call;
  bluez_bus_update(c);
  return 0;
}

/* Drop the calls of sub (all when sub is NULL) without calling back. */
void bluez_calls_cancel(struct bluez_client *c, struct vq_bluez_sub *sub) {
  struct bluez_call **pp = &c->calls;
  while (*pp != NULL) {
    struct bluez_call *call = *pp;
    if (sub == NULL || call->sub == sub) {
      *pp = call->next;
      sd_bus_slot_unref(call->slot);
      free(call);
    } else {
      pp = &call->next;
    }
  }
}

/* The bus went away: every call in flight fails with err. */
void bluez_calls_fail(struct bluez_client *c, int err) {
  struct bluez_call *list = c->calls;
  c->calls = NULL;
  while (list != NULL) {
    struct bluez_call *call = list;
    list = call->next;
    call->slot = sd_bus_slot_unref(call->slot);
    if (!call->sub->dead && !c->closing) call->on_reply(call, NULL, err);
    free(call);
  }
}

/* The outcome of a reply: 0, or -errno with the D-Bus error's name and
 * message (NULL for a local failure). */
int bluez_reply_error(sd_bus_message *m, int err, const char **name, const char **msg) {
  const sd_bus_error *e;
  *name = NULL;
  *msg = NULL;
  if (m == NULL) return err < 0 ? err : -EIO;
  e = sd_bus_message_get_error(m);
  if (e == NULL) return 0;
  *name = e->name;
  *msg = e->message;
  err = sd_bus_error_get_errno(e);
  return err > 0 ? -err : -EIO;
}

/* The reply of a call answered through a vq_bluez_result_fn. */
void bluez_result_reply(struct bluez_call *call, sd_bus_message *m, int err) {
  vq_bluez_result_fn fn = (vq_bluez_result_fn)call->fn;
  const char *name, *msg;
  err = bluez_reply_error(m, err, &name, &msg);
  fn(call->sub->arg, err, name, msg);
}

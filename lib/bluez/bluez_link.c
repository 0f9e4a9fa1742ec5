/* A subscriber's owned device: Device1 calls (Connect, Pair, Trusted,
 * Disconnect), a fresh read of its state, and its property changes and
 * notifications handed to the owner. */
#include <errno.h>
#include <string.h>

#include "bluez_internal.h"

#define PROPS_IFACE "org.freedesktop.DBus.Properties"
#define GATT_CHAR_IFACE "org.bluez.GattCharacteristic1"

int vq_bluez_own_device(struct vq_bluez_sub *sub, const uint8_t addr[6], const char *pin,
                        vq_bluez_event_fn on_event) {
  size_t i;
  if (sub == NULL || addr == NULL || on_event == NULL) return -EINVAL;
  if (pin != NULL) {
    if (strlen(pin) != 6) return -EINVAL;
    for (i = 0; i < 6; i++)
      if (pin[i] < '0' || pin[i] > '9') return -EINVAL;
  }
  memcpy(sub->dev_addr, addr, 6);
  memcpy(sub->pin, pin != NULL ? pin : "", pin != NULL ? 7 : 1);
  sub->on_event = on_event;
  sub->has_dev = 1;
  return 0;
}

/* A call of iface.method on the owned device's object, into *msg. */
static int device_msg(struct vq_bluez_sub *sub, int have_fn, const char *iface,
                      const char *method, struct bluez_client **cp, sd_bus_message **msg,
                      char path[160]) {
  struct bluez_client *c = bluez_active();
  int r;
  if (sub == NULL || !have_fn) return -EINVAL;
  if ((r = bluez_sub_dev_path(c, sub, path, 160)) < 0) return r;
  *cp = c;
  return sd_bus_message_new_method_call(c->bus, msg, BLUEZ_SERVICE, path, iface, method);
}

/* Device1.<method>() on the owned device, answered through fn. */
static int device_call(struct vq_bluez_sub *sub, const char *method, vq_bluez_result_fn fn) {
  struct bluez_client *c = NULL;
  sd_bus_message *msg = NULL;
  char path[160];
  int r;
  if ((r = device_msg(sub, fn != NULL, BLUEZ_DEVICE_IFACE, method, &c, &msg, path)) < 0)
    return r;
  return bluez_call_start(c, sub, msg, path, NULL, bluez_result_reply, (bluez_any_fn)fn);
}

int vq_bluez_connect(struct vq_bluez_sub *sub, vq_bluez_result_fn fn) {
  return device_call(sub, "Connect", fn);
}

int vq_bluez_disconnect(struct vq_bluez_sub *sub, vq_bluez_result_fn fn) {
  return device_call(sub, "Disconnect", fn);
}

int vq_bluez_pair(struct vq_bluez_sub *sub, vq_bluez_result_fn fn) {
  struct bluez_client *c = bluez_active();
  int r;
  if (sub == NULL || fn == NULL) return -EINVAL;
  if (c == NULL || c->bus == NULL) return -EAGAIN;
  /* The agent's registration is sent first on the same connection, so
   * bluetoothd has it before the Pair call asks for the passkey. */
  if ((r = bluez_agent_ensure(c)) < 0) return r;
  return device_call(sub, "Pair", fn);
}

int vq_bluez_trust(struct vq_bluez_sub *sub, vq_bluez_result_fn fn) {
  struct bluez_client *c = NULL;
  sd_bus_message *msg = NULL;
  char path[160];
  int r;
  if ((r = device_msg(sub, fn != NULL, PROPS_IFACE, "Set", &c, &msg, path)) < 0) return r;
  if ((r = sd_bus_message_append(msg, "ssv", BLUEZ_DEVICE_IFACE, "Trusted", "b", 1)) < 0) {
    sd_bus_message_unref(msg);
    return r;
  }
  return bluez_call_start(c, sub, msg, path, NULL, bluez_result_reply, (bluez_any_fn)fn);
}

/* The Device1 flags in an a{sv}; the ones absent stay as they are. */
static int read_flags(sd_bus_message *m, struct vq_bluez_device_state *st,
                      int *seen_connected, int *seen_paired, int *seen_resolved) {
  int r;
  if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char *key;
    int b, *dst = NULL, *seen = NULL;
    if ((r = sd_bus_message_read(m, "s", &key)) < 0) return r;
    if (strcmp(key, "Connected") == 0) {
      dst = &st->connected;
      seen = seen_connected;
    } else if (strcmp(key, "Paired") == 0) {
      dst = &st->paired;
      seen = seen_paired;
    } else if (strcmp(key, "ServicesResolved") == 0) {
      dst = &st->services_resolved;
      seen = seen_resolved;
    } else if (strcmp(key, "Trusted") == 0) {
      dst = &st->trusted;
    }
    if (dst != NULL) {
      if ((r = bluez_read_variant(m, 'b', &b)) < 0) return r;
      if (r > 0) {
        *dst = b != 0;
        if (seen != NULL) *seen = 1;
      }
    } else if ((r = sd_bus_message_skip(m, "v")) < 0) {
      return r;
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(m);
}

static void state_reply(struct bluez_call *call, sd_bus_message *m, int err) {
  vq_bluez_state_fn fn = (vq_bluez_state_fn)call->fn;
  struct vq_bluez_device_state st;
  const char *name, *msg;
  int dummy;
  memset(&st, 0, sizeof st);
  err = bluez_reply_error(m, err, &name, &msg);
  if (err < 0) {
    /* No such object: BlueZ has not seen the device (yet). */
    if (name != NULL && (strcmp(name, "org.freedesktop.DBus.Error.UnknownObject") == 0 ||
                         strcmp(name, "org.freedesktop.DBus.Error.UnknownMethod") == 0 ||
                         strcmp(name, "org.freedesktop.DBus.Error.InvalidArgs") == 0))
      err = 0;
    fn(call->sub->arg, err, &st);
    return;
  }
  st.known = 1;
  err = read_flags(m, &st, &dummy, &dummy, &dummy);
  fn(call->sub->arg, err < 0 ? err : 0, &st);
}

int vq_bluez_device_state(struct vq_bluez_sub *sub, vq_bluez_state_fn fn) {
  struct bluez_client *c = NULL;
  sd_bus_message *msg = NULL;
  char path[160];
  int r;
  if ((r = device_msg(sub, fn != NULL, PROPS_IFACE, "GetAll", &c, &msg, path)) < 0) return r;
  if ((r = sd_bus_message_append(msg, "s", BLUEZ_DEVICE_IFACE)) < 0) {
    sd_bus_message_unref(msg);
    return r;
  }
  return bluez_call_start(c, sub, msg, path, NULL, state_reply, (bluez_any_fn)fn);
}

/* The live owner of the device object `path` (under 0) or of an object
 * under it (under 1: a characteristic; the device object itself is none),
 * or NULL. */
static struct vq_bluez_sub *owner_of(struct bluez_client *c, const char *path, int under) {
  struct vq_bluez_sub *sub;
  char dev[160];
  size_t n;
  for (sub = c->subs; sub != NULL; sub = sub->next) {
    if (sub->dead || bluez_sub_dev_path(c, sub, dev, sizeof dev) < 0) continue;
    n = strlen(dev);
    if (strncmp(path, dev, n) != 0) continue;
    if (under ? path[n] == '/' : path[n] == '\0') return sub;
  }
  return NULL;
}

static void emit(struct bluez_client *c, struct vq_bluez_sub *sub,
                 const struct vq_bluez_event *ev) {
  c->dispatching++;
  sub->on_event(sub->arg, ev);
  c->dispatching--;
}

/* Value in a GattCharacteristic1 PropertiesChanged. */
static void value_changed(struct bluez_client *c, struct vq_bluez_sub *sub, const char *path,
                          sd_bus_message *m) {
  int r;
  if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0) return;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char *key, *contents;
    char t;
    if (sd_bus_message_read(m, "s", &key) < 0) return;
    if (strcmp(key, "Value") == 0 && sd_bus_message_peek_type(m, &t, &contents) >= 0 &&
        contents != NULL && strcmp(contents, "ay") == 0) {
      struct vq_bluez_event ev;
      const void *p = NULL;
      size_t len = 0;
      if (sd_bus_message_enter_container(m, 'v', "ay") < 0 ||
          sd_bus_message_read_array(m, 'y', &p, &len) < 0)
        return;
      memset(&ev, 0, sizeof ev);
      ev.kind = VQ_BLUEZ_EV_VALUE;
      ev.char_path = path;
      ev.value = p;
      ev.len = len;
      emit(c, sub, &ev);
      return;
    }
    if (sd_bus_message_skip(m, "v") < 0 || sd_bus_message_exit_container(m) < 0) return;
  }
}

void bluez_link_props_changed(struct bluez_client *c, const char *path, const char *iface,
                              sd_bus_message *m) {
  struct vq_bluez_sub *sub;
  if (strcmp(iface, GATT_CHAR_IFACE) == 0) {
    if ((sub = owner_of(c, path, 1)) != NULL) value_changed(c, sub, path, m);
    return;
  }
  if (strcmp(iface, BLUEZ_DEVICE_IFACE) == 0 && (sub = owner_of(c, path, 0)) != NULL) {
    struct vq_bluez_device_state st;
    struct vq_bluez_event ev;
    int conn = 0, paired = 0, resolved = 0;
    memset(&st, 0, sizeof st);
    if (read_flags(m, &st, &conn, &paired, &resolved) < 0) return;
    memset(&ev, 0, sizeof ev);
    /* Connected first, so an owner sees a disconnect before the
     * ServicesResolved false that comes with it. */
    if (conn) {
      ev.kind = VQ_BLUEZ_EV_CONNECTED;
      ev.flag = st.connected;
      emit(c, sub, &ev);
    }
    if (paired && !sub->dead) {
      ev.kind = VQ_BLUEZ_EV_PAIRED;
      ev.flag = st.paired;
      emit(c, sub, &ev);
    }
    if (resolved && !sub->dead) {
      ev.kind = VQ_BLUEZ_EV_SERVICES_RESOLVED;
      ev.flag = st.services_resolved;
      emit(c, sub, &ev);
    }
  }
}

/* The device object `path` went away, or with path NULL every one (the
 * adapter or bluetoothd left). */
void bluez_link_gone(struct bluez_client *c, const char *path) {
  struct vq_bluez_sub *sub;
  struct vq_bluez_event ev;
  char dev[160];
  if (c->closing) return;
  memset(&ev, 0, sizeof ev);
  ev.kind = VQ_BLUEZ_EV_GONE;
  for (sub = c->subs; sub != NULL; sub = sub->next) {
    if (sub->dead || !sub->has_dev) continue;
    if (path != NULL &&
        (bluez_sub_dev_path(c, sub, dev, sizeof dev) < 0 || strcmp(dev, path) != 0))
      continue;
    emit(c, sub, &ev);
  }
}

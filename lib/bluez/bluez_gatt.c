/* GATT on the owned device: characteristics looked up by service UUID in
 * BlueZ's object tree, ReadValue, WriteValue with response, StartNotify. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bluez_internal.h"

#define GATT_SERVICE_IFACE "org.bluez.GattService1"
#define GATT_CHAR_IFACE "org.bluez.GattCharacteristic1"
/* A sane bound on characteristics of one device. */
#define MAX_CHARS 128u

struct found_char {
  struct vq_bluez_char ch;
  const char *service; /* its GattService1 object */
};

struct lookup {
  struct found_char chars[MAX_CHARS];
  size_t n;
  const char *service_path; /* the wanted service, NULL until found */
};

/* Flags (as): what the characteristic allows.  A variant of another type
 * is skipped like any property's (entering it as "as" failed the whole
 * lookup). */
static int char_flags(sd_bus_message *m, struct vq_bluez_char *ch) {
  const char *contents, *s;
  char t;
  int r = sd_bus_message_peek_type(m, &t, &contents);
  if (r < 0) return r;
  if (t != 'v' || contents == NULL || strcmp(contents, "as") != 0)
    return sd_bus_message_skip(m, "v");
  if ((r = sd_bus_message_enter_container(m, 'v', "as")) < 0) return r;
  if ((r = sd_bus_message_enter_container(m, 'a', "s")) < 0) return r;
  while ((r = sd_bus_message_read(m, "s", &s)) > 0) {
    if (strcmp(s, "read") == 0) ch->can_read = 1;
    if (strcmp(s, "write") == 0) ch->can_write = 1;
    if (strcmp(s, "notify") == 0 || strcmp(s, "indicate") == 0) ch->can_notify = 1;
  }
  if (r < 0) return r;
  if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  return sd_bus_message_exit_container(m);
}

/* GattCharacteristic1 properties: UUID, Service, Flags. */
static int char_props(sd_bus_message *m, struct found_char *fc) {
  int r;
  if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char *key;
    if ((r = sd_bus_message_read(m, "s", &key)) < 0) return r;
    if (strcmp(key, "UUID") == 0) {
      if ((r = bluez_read_variant(m, 's', &fc->ch.uuid)) < 0) return r;
    } else if (strcmp(key, "Service") == 0) {
      if ((r = bluez_read_variant(m, 'o', &fc->service)) < 0) return r;
    } else if (strcmp(key, "Flags") == 0) {
      if ((r = char_flags(m, &fc->ch)) < 0) return r;
    } else if ((r = sd_bus_message_skip(m, "v")) < 0) {
      return r;
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(m);
}

static int service_uuid_is(sd_bus_message *m, const char *want, int *match) {
  int r;
  *match = 0;
  if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char *key, *uuid;
    if ((r = sd_bus_message_read(m, "s", &key)) < 0) return r;
    if (strcmp(key, "UUID") == 0) {
      if ((r = bluez_read_variant(m, 's', &uuid)) < 0) return r;
      if (r > 0 && strcasecmp(uuid, want) == 0) *match = 1;
    } else if ((r = sd_bus_message_skip(m, "v")) < 0) {
      return r;
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(m);
}

/* One object of GetManagedObjects that lies under the device. */
static int lookup_object(sd_bus_message *m, const char *path, const char *want,
                         struct lookup *lk) {
  int r;
  if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
    const char *iface;
    int match;
    if ((r = sd_bus_message_read(m, "s", &iface)) < 0) return r;
    if (strcmp(iface, GATT_SERVICE_IFACE) == 0) {
      if ((r = service_uuid_is(m, want, &match)) < 0) return r;
      if (match && lk->service_path == NULL) lk->service_path = path;
    } else if (strcmp(iface, GATT_CHAR_IFACE) == 0 && lk->n < MAX_CHARS) {
      struct found_char *fc = &lk->chars[lk->n];
      memset(fc, 0, sizeof *fc);
      fc->ch.path = path;
      if ((r = char_props(m, fc)) < 0) return r;
      if (fc->ch.uuid != NULL && fc->service != NULL) lk->n++;
    } else if ((r = sd_bus_message_skip(m, "a{sv}")) < 0) {
      return r;
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(m);
}

static void lookup_reply(struct bluez_call *call, sd_bus_message *m, int err) {
  vq_bluez_chars_fn fn = (vq_bluez_chars_fn)call->fn;
  struct lookup *lk = NULL;
  struct vq_bluez_char *out = NULL;
  const char *name, *msg;
  size_t dlen = strlen(call->path), i, n = 0;
  int r;
  err = bluez_reply_error(m, err, &name, &msg);
  if (err < 0) goto done;
  lk = calloc(1, sizeof *lk);
  out = calloc(MAX_CHARS, sizeof *out);
  if (lk == NULL || out == NULL) {
    err = -ENOMEM;
    goto done;
  }
  if ((r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}")) < 0) goto bad;
  while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
    const char *path;
    if ((r = sd_bus_message_read(m, "o", &path)) < 0) goto bad;
    if (strncmp(path, call->path, dlen) == 0 && path[dlen] == '/') {
      if ((r = lookup_object(m, path, call->extra, lk)) < 0) goto bad;
    } else if ((r = sd_bus_message_skip(m, "a{sa{sv}}")) < 0) {
      goto bad;
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) goto bad;
  }
  if (r < 0) goto bad;
  if (lk->service_path != NULL)
    for (i = 0; i < lk->n; i++)
      if (strcmp(lk->chars[i].service, lk->service_path) == 0) out[n++] = lk->chars[i].ch;
  goto done;
bad:
  err = r;
done:
  fn(call->sub->arg, err, err < 0 ? NULL : out, err < 0 ? 0 : n);
  free(out);
  free(lk);
}

int vq_bluez_gatt_lookup(struct vq_bluez_sub *sub, const char *service_uuid,
                         vq_bluez_chars_fn fn) {
  struct bluez_client *c = bluez_active();
  sd_bus_message *msg = NULL;
  char path[160];
  int r;
  if (sub == NULL || fn == NULL || service_uuid == NULL || strlen(service_uuid) >= 64)
    return -EINVAL;
  if ((r = bluez_sub_dev_path(c, sub, path, sizeof path)) < 0) return r;
  if ((r = sd_bus_message_new_method_call(c->bus, &msg, BLUEZ_SERVICE, "/",
                                          "org.freedesktop.DBus.ObjectManager",
                                          "GetManagedObjects")) < 0)
    return r;
  return bluez_call_start(c, sub, msg, path, service_uuid, lookup_reply, (bluez_any_fn)fn);
}

/* A call on a characteristic of the owned device: the path must lie under
 * the device object. */
static int char_call(struct vq_bluez_sub *sub, const char *char_path, const char *method,
                     struct bluez_client **cp, sd_bus_message **msg) {
  struct bluez_client *c = bluez_active();
  char dev[160];
  size_t n;
  int r;
  if (sub == NULL || char_path == NULL) return -EINVAL;
  if ((r = bluez_sub_dev_path(c, sub, dev, sizeof dev)) < 0) return r;
  n = strlen(dev);
  if (strncmp(char_path, dev, n) != 0 || char_path[n] != '/' || strlen(char_path) >= 160)
    return -EINVAL;
  *cp = c;
  return sd_bus_message_new_method_call(c->bus, msg, BLUEZ_SERVICE, char_path,
                                        GATT_CHAR_IFACE, method);
}

static void read_reply(struct bluez_call *call, sd_bus_message *m, int err) {
  vq_bluez_value_fn fn = (vq_bluez_value_fn)call->fn;
  const char *name, *msg;
  const void *p = NULL;
  size_t len = 0;
  err = bluez_reply_error(m, err, &name, &msg);
  if (err == 0 && (err = sd_bus_message_read_array(m, 'y', &p, &len)) > 0) err = 0;
  fn(call->sub->arg, call->path, err < 0 ? err : 0, name, err < 0 ? NULL : p,
     err < 0 ? 0 : len);
}

int vq_bluez_gatt_read(struct vq_bluez_sub *sub, const char *char_path,
                       vq_bluez_value_fn fn) {
  struct bluez_client *c = NULL;
  sd_bus_message *msg = NULL;
  int r;
  if (fn == NULL) return -EINVAL;
  if ((r = char_call(sub, char_path, "ReadValue", &c, &msg)) < 0) return r;
  if ((r = sd_bus_message_append(msg, "a{sv}", 0)) < 0) {
    sd_bus_message_unref(msg);
    return r;
  }
  return bluez_call_start(c, sub, msg, char_path, NULL, read_reply, (bluez_any_fn)fn);
}

int vq_bluez_gatt_write(struct vq_bluez_sub *sub, const char *char_path,
                        const uint8_t *data, size_t len, vq_bluez_result_fn fn) {
  struct bluez_client *c = NULL;
  sd_bus_message *msg = NULL;
  int r;
  if (fn == NULL || (data == NULL && len > 0)) return -EINVAL;
  if ((r = char_call(sub, char_path, "WriteValue", &c, &msg)) < 0) return r;
  /* type=request: a write with response, so a lost link shows as an error. */
  if ((r = sd_bus_message_append_array(msg, 'y', data, len)) < 0 ||
      (r = sd_bus_message_append(msg, "a{sv}", 1, "type", "s", "request")) < 0) {
    sd_bus_message_unref(msg);
    return r;
  }
  return bluez_call_start(c, sub, msg, char_path, NULL, bluez_result_reply, (bluez_any_fn)fn);
}

int vq_bluez_gatt_notify(struct vq_bluez_sub *sub, const char *char_path,
                         vq_bluez_result_fn fn) {
  struct bluez_client *c = NULL;
  sd_bus_message *msg = NULL;
  int r;
  if (fn == NULL) return -EINVAL;
  if ((r = char_call(sub, char_path, "StartNotify", &c, &msg)) < 0) return r;
  return bluez_call_start(c, sub, msg, char_path, NULL, bluez_result_reply, (bluez_any_fn)fn);
}

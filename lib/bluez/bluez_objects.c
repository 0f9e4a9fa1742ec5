/* The client's view of BlueZ's ObjectManager: which adapter to use, the
 * device objects, and bluetoothd leaving and coming back. */
#include <stdio.h>
#include <string.h>

#include "bluez_internal.h"

const char *bluez_adapter_name(const struct bluez_client *c) {
  const char *p = strrchr(c->adapter_path, '/');
  return p != NULL ? p + 1 : c->adapter_path;
}

/* Adapter1 properties: Powered and Discovering (left as they are when the
 * dictionary does not have them). */
static int adapter_props(sd_bus_message *m, int *powered, int *discovering) {
  int r;
  if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char *key;
    int b;
    if ((r = sd_bus_message_read(m, "s", &key)) < 0) return r;
    if (strcmp(key, "Powered") == 0 || strcmp(key, "Discovering") == 0) {
      if ((r = bluez_read_variant(m, 'b', &b)) < 0) return r;
      if (r > 0) *(key[0] == 'P' ? powered : discovering) = b;
    } else if ((r = sd_bus_message_skip(m, "v")) < 0) {
      return r;
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(m);
}

static int adapter_wanted(const struct bluez_client *c, const char *path) {
  const char *name = strrchr(path, '/');
  if (name == NULL) return 0;
  if (c->adapter_want == NULL) return 1;
  return strcmp(name + 1, c->adapter_want) == 0;
}

static void choose_adapter(struct bluez_client *c, const char *path, const char *why) {
  snprintf(c->adapter_path, sizeof c->adapter_path, "%s", path);
  bluez_discovery_reset(c);
  c->waiting_logged = 0;
  bluez_log(c, 2, "using Bluetooth adapter %s%s", bluez_adapter_name(c), why);
  bluez_discovery_start(c);
}

/* One interface of an InterfacesAdded or GetManagedObjects entry.  During
 * GetManagedObjects (first_powered != NULL) the first powered adapter by
 * path is collected instead of chosen at once. */
static int interface_added(struct bluez_client *c, const char *path, sd_bus_message *m,
                           int live, char *first_powered, size_t fp_size) {
  const char *iface;
  int r = sd_bus_message_read(m, "s", &iface);
  if (r < 0) return r;
  if (strcmp(iface, BLUEZ_DEVICE_IFACE) == 0) return bluez_device_props(c, path, m, live);
  if (strcmp(iface, BLUEZ_ADAPTER_IFACE) == 0) {
    int powered = 0, discovering = 0;
    if ((r = adapter_props(m, &powered, &discovering)) < 0) return r;
    if (c->adapter_path[0] == '\0' && powered && adapter_wanted(c, path)) {
      if (first_powered != NULL) {
        if (first_powered[0] == '\0' || strcmp(path, first_powered) < 0)
          snprintf(first_powered, fp_size, "%s", path);
      } else {
        choose_adapter(c, path, " (it appeared)");
      }
    }
    return 0;
  }
  return sd_bus_message_skip(m, "a{sv}");
}

/* Who bluetoothd is on the bus, for the agent to answer only it (NULL or
 * too long: unknown). */
static void set_owner(struct bluez_client *c, const char *unique) {
  if (unique == NULL || strlen(unique) >= sizeof c->bluez_owner) unique = "";
  snprintf(c->bluez_owner, sizeof c->bluez_owner, "%s", unique);
}

static int on_objects(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct bluez_client *c = userdata;
  const sd_bus_error *e = sd_bus_message_get_error(m);
  char first[96] = "";
  const char *path;
  int r;
  (void)ret_error;
  if (c->closing) return 0;
  if (e != NULL) {
    c->bluez_present = 0;
    bluez_log(c, 1, "bluetoothd is not on the bus (%s); waiting for it", e->name);
    return 0;
  }
  c->bluez_present = 1;
  set_owner(c, sd_bus_message_get_sender(m));
  if ((r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}")) < 0) goto bad;
  while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
    if ((r = sd_bus_message_read(m, "o", &path)) < 0) goto bad;
    if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0) goto bad;
    while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
      /* Cached devices carry old data: remember names, deliver nothing. */
      if ((r = interface_added(c, path, m, 0, first, sizeof first)) < 0) goto bad;
      if ((r = sd_bus_message_exit_container(m)) < 0) goto bad;
    }
    if (r < 0) goto bad;
    if ((r = sd_bus_message_exit_container(m)) < 0) goto bad;
    if ((r = sd_bus_message_exit_container(m)) < 0) goto bad;
  }
  if (r < 0) goto bad;
  if (c->adapter_path[0] == '\0') {
    if (first[0] != '\0') {
      choose_adapter(c, first, "");
    } else if (!c->waiting_logged) {
      c->waiting_logged = 1;
      if (c->adapter_want != NULL)
        bluez_log(c, 1, "Bluetooth adapter %s is not there or not powered; waiting for it",
                  c->adapter_want);
      else
        bluez_log(c, 1, "no powered Bluetooth adapter; waiting for one");
    }
  }
  return 0;
bad:
  bluez_log(c, 0, "cannot parse GetManagedObjects reply: %s", strerror(-r));
  return 0;
}

void bluez_objects_load(struct bluez_client *c) {
  int r = sd_bus_call_method_async(c->bus, NULL, BLUEZ_SERVICE, "/",
                                   "org.freedesktop.DBus.ObjectManager",
                                   "GetManagedObjects", on_objects, c, "");
  if (r < 0) bluez_log(c, 0, "cannot call GetManagedObjects: %s", strerror(-r));
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct bluez_client *c = userdata;
  const char *path;
  int r;
  (void)ret_error;
  if (c->closing) return 0;
  if ((r = sd_bus_message_read(m, "o", &path)) < 0) goto bad;
  if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0) goto bad;
  while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
    if ((r = interface_added(c, path, m, 1, NULL, 0)) < 0) goto bad;
    if ((r = sd_bus_message_exit_container(m)) < 0) goto bad;
  }
  if (r < 0) goto bad;
  return 0;
bad:
  bluez_log(c, 3, "unparsable InterfacesAdded: %s", strerror(-r));
  return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata,
                                 sd_bus_error *ret_error) {
  struct bluez_client *c = userdata;
  const char *path, *iface;
  int r;
  (void)ret_error;
  if (c->closing) return 0;
  if (sd_bus_message_read(m, "o", &path) < 0) return 0;
  if (sd_bus_message_enter_container(m, 'a', "s") < 0) return 0;
  while ((r = sd_bus_message_read(m, "s", &iface)) > 0) {
    if (strcmp(iface, BLUEZ_DEVICE_IFACE) == 0) {
      bluez_link_gone(c, path);
      bluez_device_forget(c, path);
    }
    if (strcmp(iface, BLUEZ_ADAPTER_IFACE) == 0 && strcmp(path, c->adapter_path) == 0) {
      bluez_log(c, 1, "Bluetooth adapter %s disappeared; waiting for it to come back",
                bluez_adapter_name(c));
      bluez_link_gone(c, NULL);
      bluez_devices_forget_under(c, c->adapter_path);
      c->adapter_path[0] = '\0';
      c->waiting_logged = 1;
      bluez_discovery_reset(c);
    }
  }
  return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata,
                                 sd_bus_error *ret_error) {
  struct bluez_client *c = userdata;
  const char *iface, *path = sd_bus_message_get_path(m);
  int r;
  (void)ret_error;
  if (c->closing || path == NULL) return 0;
  if (sd_bus_message_read(m, "s", &iface) < 0) return 0;
  if (strcmp(iface, BLUEZ_DEVICE_IFACE) == 0) {
    if ((r = bluez_device_props(c, path, m, 1)) < 0)
      bluez_log(c, 3, "unparsable Device1 change: %s", strerror(-r));
    /* Read again from the start for the owner of a connection. */
    if (sd_bus_message_rewind(m, 1) >= 0 && sd_bus_message_read(m, "s", &iface) >= 0)
      bluez_link_props_changed(c, path, iface, m);
    return 0;
  }
  if (strcmp(iface, "org.bluez.GattCharacteristic1") == 0) {
    bluez_link_props_changed(c, path, iface, m);
    return 0;
  }
  if (strcmp(iface, BLUEZ_ADAPTER_IFACE) == 0) {
    int powered = -1, discovering = -1;
    if (adapter_props(m, &powered, &discovering) < 0) return 0;
    if (c->adapter_path[0] == '\0') {
      if (powered == 1 && adapter_wanted(c, path)) choose_adapter(c, path, " (powered on)");
      return 0;
    }
    if (strcmp(path, c->adapter_path) == 0)
      bluez_discovery_adapter_changed(c, powered, discovering);
  }
  return 0;
}

static int on_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct bluez_client *c = userdata;
  const char *name, *old_owner, *new_owner;
  (void)ret_error;
  if (c->closing) return 0;
  if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0) return 0;
  if (strcmp(name, BLUEZ_SERVICE) != 0) return 0;
  bluez_link_gone(c, NULL);
  bluez_calls_fail(c, -ECONNRESET);
  c->adapter_path[0] = '\0';
  bluez_agent_reset(c);
  bluez_discovery_reset(c);
  set_owner(c, new_owner);
  if (new_owner[0] == '\0') {
    bluez_log(c, 1, "bluetoothd left the bus; waiting for it to come back");
    c->bluez_present = 0;
    bluez_devices_clear(c);
  } else {
    bluez_log(c, 2, "bluetoothd is on the bus again");
    c->waiting_logged = 0;
    bluez_objects_load(c);
  }
  return 0;
}

static int add_match(struct bluez_client *c, const char *rule, sd_bus_message_handler_t cb) {
  int r = sd_bus_add_match_async(c->bus, NULL, rule, cb, NULL, c);
  if (r < 0) bluez_log(c, 0, "cannot add D-Bus match %s: %s", rule, strerror(-r));
  return r;
}

int bluez_objects_watch(struct bluez_client *c) {
  int r;
  if ((r = add_match(c, "type='signal',sender='org.freedesktop.DBus',"
                        "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
                        "member='NameOwnerChanged',arg0='org.bluez'",
                     on_name_owner)) < 0 ||
      (r = add_match(c, "type='signal',sender='org.bluez',"
                        "interface='org.freedesktop.DBus.ObjectManager',"
                        "member='InterfacesAdded'",
                     on_interfaces_added)) < 0 ||
      (r = add_match(c, "type='signal',sender='org.bluez',"
                        "interface='org.freedesktop.DBus.ObjectManager',"
                        "member='InterfacesRemoved'",
                     on_interfaces_removed)) < 0 ||
      (r = add_match(c, "type='signal',sender='org.bluez',"
                        "interface='org.freedesktop.DBus.Properties',"
                        "member='PropertiesChanged',path_namespace='/org/bluez'",
                     on_properties_changed)) < 0)
    return r;
  return 0;
}

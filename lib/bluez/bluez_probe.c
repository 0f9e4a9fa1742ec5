/* A synchronous "is BlueZ usable" check for one-shot tools (vicacq scan,
 * vicacq dump), on a connection of its own that is closed before it
 * returns: a tool must fail with a clear reason instead of listening to
 * nothing for its whole duration. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bluez_internal.h"

/* Bound on each call: bluetoothd answers in milliseconds when it is up. */
#define PROBE_TIMEOUT_USEC (5u * 1000000u)

static int say(char *why, size_t n, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int say(char *why, size_t n, int rc, const char *fmt, ...) {
  va_list ap;
  if (why != NULL && n > 0) {
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* Whether the GetManagedObjects reply lists an adapter named `want` (NULL:
 * any).  1 yes, 0 no, <0 unparsable. */
static int has_adapter(sd_bus_message *m, const char *want) {
  const char *path, *iface;
  int r, found = 0;
  if ((r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
    const char *name;
    if ((r = sd_bus_message_read(m, "o", &path)) < 0) return r;
    name = strrchr(path, '/');
    if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0) return r;
    while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
      if ((r = sd_bus_message_read(m, "s", &iface)) < 0) return r;
      if (strcmp(iface, BLUEZ_ADAPTER_IFACE) == 0 && name != NULL &&
          (want == NULL || strcmp(name + 1, want) == 0))
        found = 1;
      if ((r = sd_bus_message_skip(m, "a{sv}")) < 0) return r;
      if ((r = sd_bus_message_exit_container(m)) < 0) return r;
    }
    if (r < 0) return r;
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  return r < 0 ? r : found;
}

int vq_bluez_probe(const char *adapter, char *why, size_t why_size) {
  sd_bus *bus = NULL;
  sd_bus_message *reply = NULL;
  sd_bus_error err = SD_BUS_ERROR_NULL;
  int r, owned = 0;
  if (why != NULL && why_size > 0) why[0] = '\0';
  if ((r = sd_bus_open_system(&bus)) < 0)
    return say(why, why_size, r, "cannot connect to the system bus (%s): is D-Bus running?",
               strerror(-r));
  if ((r = sd_bus_set_method_call_timeout(bus, PROBE_TIMEOUT_USEC)) < 0) goto out;
  r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                         "org.freedesktop.DBus", "NameHasOwner", &err, &reply, "s",
                         BLUEZ_SERVICE);
  if (r >= 0) r = sd_bus_message_read(reply, "b", &owned);
  if (r < 0) {
    say(why, why_size, r, "cannot ask the system bus for bluetoothd: %s",
        sd_bus_error_is_set(&err) ? bluez_error_text(&err) : strerror(-r));
    goto out;
  }
  if (!owned) {
    r = say(why, why_size, -ENOENT,
            "bluetoothd is not running (no org.bluez on the system bus); "
            "start it with: systemctl start bluetooth");
    goto out;
  }
  reply = sd_bus_message_unref(reply);
  r = sd_bus_call_method(bus, BLUEZ_SERVICE, "/", "org.freedesktop.DBus.ObjectManager",
                         "GetManagedObjects", &err, &reply, "");
  if (r >= 0) r = has_adapter(reply, adapter);
  if (r < 0) {
    say(why, why_size, r, "cannot list BlueZ's objects: %s",
        sd_bus_error_is_set(&err) ? bluez_error_text(&err) : strerror(-r));
    goto out;
  }
  if (r == 0) {
    if (adapter != NULL)
      r = say(why, why_size, -ENODEV, "BlueZ has no Bluetooth adapter %s", adapter);
    else
      r = say(why, why_size, -ENODEV, "BlueZ has no Bluetooth adapter");
    goto out;
  }
  r = 0;
out:
  if (r < 0 && why != NULL && why_size > 0 && why[0] == '\0')
    say(why, why_size, r, "BlueZ check failed: %s", strerror(-r));
  sd_bus_error_free(&err);
  sd_bus_message_unref(reply);
  sd_bus_flush_close_unref(bus);
  return r;
}

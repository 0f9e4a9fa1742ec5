/* BlueZ LE scanner: sd-bus client driven by the libuv loop (uv_poll on the
 * bus fd, uv_timer for sd-bus timeouts), one per process. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "bluez_scan.h"

#define BLUEZ "org.bluez"
#define ADAPTER_IFACE "org.bluez.Adapter1"
#define DEVICE_IFACE "org.bluez.Device1"
/* Restart delays after discovery was stopped or failed: doubled while it
 * keeps happening, so a fight with another program is not a busy loop. */
#define RETRY_MIN_MS 1000u
#define RETRY_MAX_MS 60000u
#define RECONNECT_MS 5000u

struct bluez_sub {
  struct bluez_sub *next;
  uint16_t company;
  bluez_adv_fn on_adv;
  bluez_log_fn log;
  void *arg;
  int dead;
};

struct cached_dev {
  char path[96];
  uint8_t addr[6];
  int has_addr;
  char name[64];
  int has_rssi;
  int rssi;
};

struct scanner {
  uv_loop_t *loop;
  sd_bus *bus;
  uv_poll_t poll;
  uv_timer_t bus_timer;
  uv_timer_t retry_timer;
  int poll_open;
  int open_handles;
  char *adapter_want;        /* "hci0" or NULL for the first powered */
  char adapter_path[96];     /* chosen adapter, "" if none */
  int bluez_present;
  int discovery_started;     /* our StartDiscovery succeeded */
  int discovery_pending;     /* filter/start calls in flight */
  unsigned retry_ms;
  uint64_t started_at_ms;
  int waiting_logged;        /* "no adapter" said once */
  int closing;
  int dispatching;
  struct bluez_sub *subs;
  struct cached_dev *devs;
  size_t ndevs, capdevs;
  /* unsubscribe completions waiting for the close */
  struct done_item {
    bluez_done_fn fn;
    void *arg;
  } *dones;
  size_t ndones;
};

static struct scanner *active;

static void slog(struct scanner *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void slog(struct scanner *s, int level, const char *fmt, ...) {
  char buf[400];
  struct bluez_sub *sub;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  /* The oldest live subscriber speaks for the scanner. */
  for (sub = s->subs; sub != NULL; sub = sub->next)
    if (!sub->dead) {
      sub->log(sub->arg, level, buf);
      return;
    }
}

static const char *adapter_name(const struct scanner *s) {
  const char *p = strrchr(s->adapter_path, '/');
  return p != NULL ? p + 1 : s->adapter_path;
}

static void bus_update(struct scanner *s);
static void start_discovery(struct scanner *s);
static void get_objects(struct scanner *s);
static int connect_bus(struct scanner *s);

/* ---- message helpers -------------------------------------------------- */

/* Read a variant holding `sig` (a basic type) into *out; skips a variant
 * of another type.  1 read, 0 skipped, <0 error. */
static int read_variant(sd_bus_message *m, char type, void *out) {
  char t;
  const char *contents;
  char sig[2] = {type, '\0'};
  int r = sd_bus_message_peek_type(m, &t, &contents);
  if (r < 0) return r;
  if (t != 'v' || contents == NULL || strcmp(contents, sig) != 0) {
    r = sd_bus_message_skip(m, "v");
    return r < 0 ? r : 0;
  }
  r = sd_bus_message_enter_container(m, 'v', sig);
  if (r < 0) return r;
  r = sd_bus_message_read_basic(m, type, out);
  if (r < 0) return r;
  r = sd_bus_message_exit_container(m);
  return r < 0 ? r : 1;
}

static int parse_addr(const char *text, uint8_t addr[6]) {
  unsigned v[6];
  int i;
  if (text == NULL || strlen(text) != 17 ||
      sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    return -1;
  for (i = 0; i < 6; i++) addr[i] = (uint8_t)v[i];
  return 0;
}

/* BlueZ device paths end in dev_AA_BB_CC_DD_EE_FF. */
static int addr_from_path(const char *path, uint8_t addr[6]) {
  const char *p = strstr(path, "/dev_");
  char text[18];
  int i;
  if (p == NULL || strlen(p + 5) < 17) return -1;
  memcpy(text, p + 5, 17);
  text[17] = '\0';
  for (i = 2; i < 17; i += 3) {
    if (text[i] != '_') return -1;
    text[i] = ':';
  }
  return parse_addr(text, addr);
}

static struct cached_dev *cache_get(struct scanner *s, const char *path, int create) {
  size_t i;
  struct cached_dev *d;
  for (i = 0; i < s->ndevs; i++)
    if (strcmp(s->devs[i].path, path) == 0) return &s->devs[i];
  if (!create || strlen(path) >= sizeof d->path) return NULL;
  if (s->ndevs == s->capdevs) {
    size_t ncap = s->capdevs ? s->capdevs * 2 : 32;
    void *n;
    if (ncap > 4096) return NULL; /* a sane bound on devices in range */
    n = realloc(s->devs, ncap * sizeof *s->devs);
    if (n == NULL) return NULL;
    s->devs = n;
    s->capdevs = ncap;
  }
  d = &s->devs[s->ndevs++];
  memset(d, 0, sizeof *d);
  snprintf(d->path, sizeof d->path, "%s", path);
  d->has_addr = addr_from_path(path, d->addr) == 0;
  return d;
}

static void cache_drop(struct scanner *s, const char *path) {
  size_t i;
  for (i = 0; i < s->ndevs; i++)
    if (strcmp(s->devs[i].path, path) == 0) {
      s->devs[i] = s->devs[--s->ndevs];
      return;
    }
}

static void deliver(struct scanner *s, const struct cached_dev *d, uint16_t company,
                    const uint8_t *data, size_t len) {
  struct bluez_adv adv;
  struct bluez_sub *sub;
  if (!d->has_addr) return;
  memcpy(adv.addr, d->addr, 6);
  adv.name = d->name[0] ? d->name : NULL;
  adv.has_rssi = d->has_rssi;
  adv.rssi = d->rssi;
  adv.company = company;
  adv.data = data;
  adv.len = len;
  s->dispatching++;
  for (sub = s->subs; sub != NULL; sub = sub->next)
    if (!sub->dead && sub->company == company) sub->on_adv(sub->arg, &adv);
  s->dispatching--;
  if (s->dispatching == 0 && !s->closing) {
    /* Subscribers that left during the dispatch. */
    struct bluez_sub **pp = &s->subs;
    while (*pp != NULL) {
      if ((*pp)->dead) {
        struct bluez_sub *dead = *pp;
        *pp = dead->next;
        free(dead);
      } else {
        pp = &(*pp)->next;
      }
    }
  }
}

/* ManufacturerData: a{qv}, each v an ay.  Other shapes are skipped. */
struct mfr {
  uint16_t company;
  const void *data;
  size_t len;
};

static int read_mfr(sd_bus_message *m, struct mfr *out, size_t max, size_t *n) {
  char t;
  const char *contents;
  int r = sd_bus_message_peek_type(m, &t, &contents);
  *n = 0;
  if (r < 0) return r;
  if (t != 'v' || contents == NULL || strcmp(contents, "a{qv}") != 0)
    return sd_bus_message_skip(m, "v");
  if ((r = sd_bus_message_enter_container(m, 'v', "a{qv}")) < 0) return r;
  if ((r = sd_bus_message_enter_container(m, 'a', "{qv}")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "qv")) > 0) {
    uint16_t company;
    const void *p = NULL;
    size_t len = 0;
    if ((r = sd_bus_message_read(m, "q", &company)) < 0) return r;
    if ((r = sd_bus_message_peek_type(m, &t, &contents)) < 0) return r;
    if (contents != NULL && strcmp(contents, "ay") == 0) {
      if ((r = sd_bus_message_enter_container(m, 'v', "ay")) < 0) return r;
      if ((r = sd_bus_message_read_array(m, 'y', &p, &len)) < 0) return r;
      if ((r = sd_bus_message_exit_container(m)) < 0) return r;
      if (*n < max) {
        out[*n].company = company;
        out[*n].data = p;
        out[*n].len = len;
        (*n)++;
      }
    } else if ((r = sd_bus_message_skip(m, "v")) < 0) {
      return r;
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  if (r < 0) return r;
  if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  return sd_bus_message_exit_container(m);
}

/* Device1 properties (a{sv}); deliver manufacturer data if `live`. */
static int device_props(struct scanner *s, const char *path, sd_bus_message *m, int live) {
  struct cached_dev *d = cache_get(s, path, 1);
  struct mfr mfr[8];
  size_t nmfr = 0, i;
  int r;
  if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char *key, *str;
    int16_t rssi;
    if ((r = sd_bus_message_read(m, "s", &key)) < 0) return r;
    if (d != NULL && strcmp(key, "Address") == 0) {
      if ((r = read_variant(m, 's', &str)) < 0) return r;
      if (r > 0 && parse_addr(str, d->addr) == 0) d->has_addr = 1;
    } else if (d != NULL && (strcmp(key, "Name") == 0 ||
                             (strcmp(key, "Alias") == 0 && d->name[0] == '\0'))) {
      if ((r = read_variant(m, 's', &str)) < 0) return r;
      if (r > 0) snprintf(d->name, sizeof d->name, "%s", str);
    } else if (d != NULL && strcmp(key, "RSSI") == 0) {
      if ((r = read_variant(m, 'n', &rssi)) < 0) return r;
      if (r > 0) {
        d->has_rssi = 1;
        d->rssi = rssi;
      }
    } else if (strcmp(key, "ManufacturerData") == 0) {
      if ((r = read_mfr(m, mfr, 8, &nmfr)) < 0) return r;
    } else if ((r = sd_bus_message_skip(m, "v")) < 0) {
      return r;
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  if (r < 0) return r;
  if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  /* Data arrive before the RSSI in a message at times: deliver after the
   * whole dictionary is read.  The data point into m, valid until then. */
  if (live && d != NULL)
    for (i = 0; i < nmfr; i++) deliver(s, d, mfr[i].company, mfr[i].data, mfr[i].len);
  return 0;
}

/* Adapter1 properties: Powered and Discovering. */
static int adapter_props(sd_bus_message *m, int *powered, int *discovering) {
  int r;
  if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char *key;
    int b;
    if ((r = sd_bus_message_read(m, "s", &key)) < 0) return r;
    if (strcmp(key, "Powered") == 0 || strcmp(key, "Discovering") == 0) {
      if ((r = read_variant(m, 'b', &b)) < 0) return r;
      if (r > 0) *(key[0] == 'P' ? powered : discovering) = b;
    } else if ((r = sd_bus_message_skip(m, "v")) < 0) {
      return r;
    }
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  }
  if (r < 0) return r;
  return sd_bus_message_exit_container(m);
}

static int adapter_wanted(const struct scanner *s, const char *path) {
  const char *name = strrchr(path, '/');
  if (name == NULL) return 0;
  if (s->adapter_want == NULL) return 1;
  return strcmp(name + 1, s->adapter_want) == 0;
}

static void choose_adapter(struct scanner *s, const char *path, const char *why) {
  snprintf(s->adapter_path, sizeof s->adapter_path, "%s", path);
  s->discovery_started = 0;
  s->waiting_logged = 0;
  slog(s, 2, "using Bluetooth adapter %s%s", adapter_name(s), why);
  start_discovery(s);
}

/* One interface of an InterfacesAdded or GetManagedObjects entry. */
static int interface_added(struct scanner *s, const char *path, sd_bus_message *m,
                           int live, char *first_powered, size_t fp_size) {
  const char *iface;
  int r = sd_bus_message_read(m, "s", &iface);
  if (r < 0) return r;
  if (strcmp(iface, DEVICE_IFACE) == 0) return device_props(s, path, m, live);
  if (strcmp(iface, ADAPTER_IFACE) == 0) {
    int powered = 0, discovering = 0;
    if ((r = adapter_props(m, &powered, &discovering)) < 0) return r;
    if (s->adapter_path[0] == '\0' && powered && adapter_wanted(s, path)) {
      if (first_powered != NULL) {
        if (first_powered[0] == '\0' || strcmp(path, first_powered) < 0)
          snprintf(first_powered, fp_size, "%s", path);
      } else {
        choose_adapter(s, path, " (it appeared)");
      }
    }
    return 0;
  }
  return sd_bus_message_skip(m, "a{sv}");
}

/* ---- discovery -------------------------------------------------------- */

static void retry_cb(uv_timer_t *t);

static void schedule_retry(struct scanner *s, unsigned ms) {
  int rc = uv_timer_start(&s->retry_timer, retry_cb, ms, 0);
  if (rc != 0) slog(s, 0, "cannot start the retry timer: %s", uv_strerror(rc));
}

static unsigned next_retry(struct scanner *s) {
  unsigned ms = s->retry_ms;
  s->retry_ms = s->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : s->retry_ms * 2;
  return ms;
}

static int on_start_discovery(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct scanner *s = userdata;
  const sd_bus_error *e = sd_bus_message_get_error(m);
  s->discovery_pending = 0;
  if (s->closing || s->adapter_path[0] == '\0') return 0;
  if (e != NULL) {
    unsigned ms = next_retry(s);
    slog(s, 1, "StartDiscovery on %s failed (%s); trying again in %u s", adapter_name(s),
         e->message ? e->message : e->name, ms / 1000);
    schedule_retry(s, ms);
    return 0;
  }
  s->discovery_started = 1;
  s->started_at_ms = uv_now(s->loop);
  slog(s, 2, "LE discovery running on %s", adapter_name(s));
  return 0;
}

static int on_set_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct scanner *s = userdata;
  const sd_bus_error *e = sd_bus_message_get_error(m);
  int r;
  if (s->closing || s->adapter_path[0] == '\0') {
    s->discovery_pending = 0;
    return 0;
  }
  if (e != NULL)
    /* Old BlueZ without DuplicateData still scans, with fewer reports. */
    slog(s, 1, "SetDiscoveryFilter on %s failed (%s); scanning without it", adapter_name(s),
         e->message ? e->message : e->name);
  r = sd_bus_call_method_async(s->bus, NULL, BLUEZ, s->adapter_path, ADAPTER_IFACE,
                               "StartDiscovery", on_start_discovery, s, "");
  if (r < 0) {
    s->discovery_pending = 0;
    slog(s, 0, "cannot call StartDiscovery: %s", strerror(-r));
    schedule_retry(s, next_retry(s));
  }
  return 0;
}

static void start_discovery(struct scanner *s) {
  int r;
  if (s->closing || s->adapter_path[0] == '\0' || s->discovery_pending) return;
  s->discovery_pending = 1;
  r = sd_bus_call_method_async(s->bus, NULL, BLUEZ, s->adapter_path, ADAPTER_IFACE,
                               "SetDiscoveryFilter", on_set_filter, s, "a{sv}", 2,
                               "Transport", "s", "le", "DuplicateData", "b", 1);
  if (r < 0) {
    s->discovery_pending = 0;
    slog(s, 0, "cannot call SetDiscoveryFilter: %s", strerror(-r));
    schedule_retry(s, next_retry(s));
  }
}

static void retry_cb(uv_timer_t *t) {
  struct scanner *s = t->data;
  if (s->closing) return;
  if (s->bus == NULL) {
    if (connect_bus(s) != 0) schedule_retry(s, RECONNECT_MS);
  } else if (s->bluez_present && s->adapter_path[0] != '\0' && !s->discovery_started) {
    start_discovery(s);
  }
  bus_update(s);
}

/* ---- signals ---------------------------------------------------------- */

static int on_objects(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct scanner *s = userdata;
  const sd_bus_error *e = sd_bus_message_get_error(m);
  char first[96] = "";
  const char *path;
  int r;
  if (s->closing) return 0;
  if (e != NULL) {
    s->bluez_present = 0;
    slog(s, 1, "bluetoothd is not on the bus (%s); waiting for it", e->name);
    return 0;
  }
  s->bluez_present = 1;
  if ((r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}")) < 0) goto bad;
  while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
    if ((r = sd_bus_message_read(m, "o", &path)) < 0) goto bad;
    if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0) goto bad;
    while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
      /* Cached devices carry old data: remember names, deliver nothing. */
      if ((r = interface_added(s, path, m, 0, first, sizeof first)) < 0) goto bad;
      if ((r = sd_bus_message_exit_container(m)) < 0) goto bad;
    }
    if (r < 0) goto bad;
    if ((r = sd_bus_message_exit_container(m)) < 0) goto bad;
    if ((r = sd_bus_message_exit_container(m)) < 0) goto bad;
  }
  if (r < 0) goto bad;
  if (s->adapter_path[0] == '\0') {
    if (first[0] != '\0') {
      choose_adapter(s, first, "");
    } else if (!s->waiting_logged) {
      s->waiting_logged = 1;
      if (s->adapter_want != NULL)
        slog(s, 1, "Bluetooth adapter %s is not there or not powered; waiting for it",
             s->adapter_want);
      else
        slog(s, 1, "no powered Bluetooth adapter; waiting for one");
    }
  }
  return 0;
bad:
  slog(s, 0, "cannot parse GetManagedObjects reply: %s", strerror(-r));
  return 0;
}

static void get_objects(struct scanner *s) {
  int r = sd_bus_call_method_async(s->bus, NULL, BLUEZ, "/",
                                   "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                   on_objects, s, "");
  if (r < 0) slog(s, 0, "cannot call GetManagedObjects: %s", strerror(-r));
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct scanner *s = userdata;
  const char *path;
  int r;
  if (s->closing) return 0;
  if ((r = sd_bus_message_read(m, "o", &path)) < 0) goto bad;
  if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0) goto bad;
  while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
    if ((r = interface_added(s, path, m, 1, NULL, 0)) < 0) goto bad;
    if ((r = sd_bus_message_exit_container(m)) < 0) goto bad;
  }
  if (r < 0) goto bad;
  return 0;
bad:
  slog(s, 3, "unparsable InterfacesAdded: %s", strerror(-r));
  return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct scanner *s = userdata;
  const char *path, *iface;
  int r;
  if (s->closing) return 0;
  if ((r = sd_bus_message_read(m, "o", &path)) < 0) return 0;
  if ((r = sd_bus_message_enter_container(m, 'a', "s")) < 0) return 0;
  while ((r = sd_bus_message_read(m, "s", &iface)) > 0) {
    if (strcmp(iface, DEVICE_IFACE) == 0) cache_drop(s, path);
    if (strcmp(iface, ADAPTER_IFACE) == 0 && strcmp(path, s->adapter_path) == 0) {
      slog(s, 1, "Bluetooth adapter %s disappeared; waiting for it to come back",
           adapter_name(s));
      s->adapter_path[0] = '\0';
      s->discovery_started = 0;
      s->waiting_logged = 1;
      uv_timer_stop(&s->retry_timer);
    }
  }
  return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct scanner *s = userdata;
  const char *iface, *path = sd_bus_message_get_path(m);
  int r;
  if (s->closing || path == NULL) return 0;
  if ((r = sd_bus_message_read(m, "s", &iface)) < 0) return 0;
  if (strcmp(iface, DEVICE_IFACE) == 0) {
    if ((r = device_props(s, path, m, 1)) < 0) slog(s, 3, "unparsable Device1 change: %s", strerror(-r));
    return 0;
  }
  if (strcmp(iface, ADAPTER_IFACE) == 0) {
    int powered = -1, discovering = -1;
    if (adapter_props(m, &powered, &discovering) < 0) return 0;
    if (s->adapter_path[0] == '\0') {
      if (powered == 1 && adapter_wanted(s, path)) choose_adapter(s, path, " (powered on)");
      return 0;
    }
    if (strcmp(path, s->adapter_path) != 0) return 0;
    if (powered == 0) {
      slog(s, 1, "Bluetooth adapter %s was powered off; waiting for it", adapter_name(s));
      s->discovery_started = 0;
      uv_timer_stop(&s->retry_timer);
      return 0;
    }
    if (powered == 1 && !s->discovery_started) {
      slog(s, 2, "Bluetooth adapter %s was powered on", adapter_name(s));
      s->retry_ms = RETRY_MIN_MS;
      start_discovery(s);
      return 0;
    }
    if (discovering == 0 && s->discovery_started) {
      unsigned ms;
      /* Someone stopped discovery (bluetoothctl, another client taking the
       * adapter down...).  Restart after a delay that grows while it keeps
       * happening soon after each restart. */
      if (uv_now(s->loop) - s->started_at_ms > 60000) s->retry_ms = RETRY_MIN_MS;
      ms = next_retry(s);
      s->discovery_started = 0;
      slog(s, 1, "discovery on %s was stopped by someone else; restarting in %u s",
           adapter_name(s), ms / 1000);
      schedule_retry(s, ms);
    }
  }
  return 0;
}

static int on_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct scanner *s = userdata;
  const char *name, *old_owner, *new_owner;
  if (s->closing) return 0;
  if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0) return 0;
  if (strcmp(name, BLUEZ) != 0) return 0;
  if (new_owner[0] == '\0') {
    slog(s, 1, "bluetoothd left the bus; waiting for it to come back");
    s->bluez_present = 0;
    s->adapter_path[0] = '\0';
    s->discovery_started = 0;
    s->discovery_pending = 0;
    s->ndevs = 0;
    uv_timer_stop(&s->retry_timer);
  } else {
    slog(s, 2, "bluetoothd is on the bus again");
    s->adapter_path[0] = '\0';
    s->discovery_started = 0;
    s->retry_ms = RETRY_MIN_MS;
    s->waiting_logged = 0;
    get_objects(s);
  }
  return 0;
}

/* ---- sd-bus on libuv --------------------------------------------------- */

static void disconnect_bus(struct scanner *s);

static void bus_process(struct scanner *s) {
  int r;
  if (s->bus == NULL) return;
  do {
    r = sd_bus_process(s->bus, NULL);
  } while (r > 0 && s->bus != NULL);
  if (r < 0 && s->bus != NULL) {
    slog(s, 0, "lost the system bus (%s); reconnecting in %u s", strerror(-r),
         RECONNECT_MS / 1000);
    disconnect_bus(s);
    schedule_retry(s, RECONNECT_MS);
    return;
  }
  bus_update(s);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct scanner *s = h->data;
  (void)status; /* errors surface from sd_bus_process */
  (void)events;
  bus_process(s);
}

static void on_bus_timer(uv_timer_t *t) { bus_process(t->data); }

static void bus_update(struct scanner *s) {
  int ev, uvev = 0, r;
  uint64_t usec;
  if (s->bus == NULL || s->closing) return;
  ev = sd_bus_get_events(s->bus);
  if (ev < 0) return;
  if (ev & POLLIN) uvev |= UV_READABLE;
  if (ev & POLLOUT) uvev |= UV_WRITABLE;
  if ((r = uv_poll_start(&s->poll, uvev, on_poll)) != 0)
    slog(s, 0, "uv_poll_start: %s", uv_strerror(r));
  if (sd_bus_get_timeout(s->bus, &usec) >= 0 && usec != UINT64_MAX) {
    struct timespec ts;
    uint64_t now, delay_ms = 0;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    if (usec > now) delay_ms = (usec - now + 999) / 1000;
    uv_timer_start(&s->bus_timer, on_bus_timer, delay_ms, 0);
  } else {
    uv_timer_stop(&s->bus_timer);
  }
}

static void handle_closed(uv_handle_t *h) {
  struct scanner *s = h->data;
  size_t i;
  if (--s->open_handles > 0) return;
  for (i = 0; i < s->ndones; i++) s->dones[i].fn(s->dones[i].arg);
  free(s->dones);
  free(s->devs);
  free(s->adapter_want);
  free(s);
}

static void disconnect_bus(struct scanner *s) {
  if (s->poll_open) {
    /* The poll handle is bound to the fd; it goes with the connection. */
    s->poll_open = 0;
    uv_close((uv_handle_t *)&s->poll, handle_closed);
  }
  uv_timer_stop(&s->bus_timer);
  if (s->bus != NULL) {
    sd_bus_close(s->bus);
    s->bus = sd_bus_unref(s->bus);
  }
  s->bluez_present = 0;
  s->adapter_path[0] = '\0';
  s->discovery_started = 0;
  s->discovery_pending = 0;
  s->ndevs = 0;
}

static int add_match(struct scanner *s, const char *rule, sd_bus_message_handler_t cb) {
  int r = sd_bus_add_match_async(s->bus, NULL, rule, cb, NULL, s);
  if (r < 0) slog(s, 0, "cannot add D-Bus match %s: %s", rule, strerror(-r));
  return r;
}

static int connect_bus(struct scanner *s) {
  int r, fd;
  /* sd_bus_open_system honours DBUS_SYSTEM_BUS_ADDRESS. */
  if ((r = sd_bus_open_system(&s->bus)) < 0) {
    slog(s, 0, "cannot connect to the system bus: %s", strerror(-r));
    s->bus = NULL;
    return r;
  }
  if ((fd = sd_bus_get_fd(s->bus)) < 0 || uv_poll_init(s->loop, &s->poll, fd) != 0) {
    slog(s, 0, "cannot watch the system bus connection");
    s->bus = sd_bus_unref(s->bus);
    return -EIO;
  }
  s->poll.data = s;
  s->poll_open = 1;
  s->open_handles++;
  if ((r = add_match(s, "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                        "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.bluez'",
                     on_name_owner)) < 0 ||
      (r = add_match(s, "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.ObjectManager',"
                        "member='InterfacesAdded'",
                     on_interfaces_added)) < 0 ||
      (r = add_match(s, "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.ObjectManager',"
                        "member='InterfacesRemoved'",
                     on_interfaces_removed)) < 0 ||
      (r = add_match(s, "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',"
                        "member='PropertiesChanged',path_namespace='/org/bluez'",
                     on_properties_changed)) < 0) {
    disconnect_bus(s);
    return r;
  }
  get_objects(s);
  bus_update(s);
  return 0;
}

/* ---- public ------------------------------------------------------------ */

int bluez_scan_subscribe(uv_loop_t *loop, const char *adapter, uint16_t company,
                         bluez_adv_fn on_adv, bluez_log_fn log, void *arg,
                         struct bluez_sub **out) {
  struct bluez_sub *sub, **tail;
  struct scanner *s = active;
  int r;
  if (s != NULL) {
    int same = (adapter == NULL && s->adapter_want == NULL) ||
               (adapter != NULL && s->adapter_want != NULL && strcmp(adapter, s->adapter_want) == 0);
    if (!same || s->loop != loop) return -EBUSY;
  }
  sub = calloc(1, sizeof *sub);
  if (sub == NULL) return -ENOMEM;
  sub->company = company;
  sub->on_adv = on_adv;
  sub->log = log;
  sub->arg = arg;
  if (s == NULL) {
    s = calloc(1, sizeof *s);
    if (s == NULL || (adapter != NULL && (s->adapter_want = strdup(adapter)) == NULL)) {
      free(s);
      free(sub);
      return -ENOMEM;
    }
    s->loop = loop;
    s->retry_ms = RETRY_MIN_MS;
    s->subs = sub; /* so the scanner can log from here on */
    if ((r = uv_timer_init(loop, &s->bus_timer)) != 0 ||
        (r = uv_timer_init(loop, &s->retry_timer)) != 0) {
      /* uv_timer_init cannot fail in practice; nothing to close here */
      free(s->adapter_want);
      free(s);
      free(sub);
      return -ENOMEM;
    }
    s->bus_timer.data = s;
    s->retry_timer.data = s;
    s->open_handles = 2;
    active = s;
    if (connect_bus(s) != 0) {
      slog(s, 1, "will retry the system bus in %u s", RECONNECT_MS / 1000);
      schedule_retry(s, RECONNECT_MS);
    }
    *out = sub;
    return 0;
  }
  for (tail = &s->subs; *tail != NULL; tail = &(*tail)->next) {}
  *tail = sub;
  *out = sub;
  return 0;
}

void bluez_scan_unsubscribe(struct bluez_sub *sub, bluez_done_fn done, void *arg) {
  struct scanner *s = active;
  struct bluez_sub **pp, *live = NULL;
  struct done_item *nd;
  if (s == NULL) {
    free(sub);
    if (done != NULL) done(arg);
    return;
  }
  sub->dead = 1;
  for (pp = &s->subs; *pp != NULL; pp = &(*pp)->next)
    if (!(*pp)->dead) live = *pp;
  if (live != NULL) {
    /* Others still listen: unlink now (not inside a dispatch). */
    if (!s->dispatching) {
      for (pp = &s->subs; *pp != NULL; pp = &(*pp)->next)
        if (*pp == sub) {
          *pp = sub->next;
          free(sub);
          break;
        }
    }
    if (done != NULL) done(arg);
    return;
  }
  /* The last one: close the scanner; done() once the handles are closed. */
  nd = realloc(s->dones, (s->ndones + 1) * sizeof *s->dones);
  if (nd != NULL && done != NULL) {
    s->dones = nd;
    s->dones[s->ndones].fn = done;
    s->dones[s->ndones++].arg = arg;
  } else if (nd != NULL) {
    s->dones = nd;
  }
  active = NULL;
  s->closing = 1;
  disconnect_bus(s);
  while (s->subs != NULL) {
    struct bluez_sub *n = s->subs->next;
    free(s->subs);
    s->subs = n;
  }
  uv_close((uv_handle_t *)&s->bus_timer, handle_closed);
  uv_close((uv_handle_t *)&s->retry_timer, handle_closed);
  if (nd == NULL && done != NULL) done(arg); /* out of memory: say it now */
}

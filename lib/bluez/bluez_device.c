/* Device objects: their Device1 properties (address, name, RSSI, bond,
 * ManufacturerData) and the hand-out of manufacturer data to the
 * subscribers of its company. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bluez_internal.h"

/* A sane bound on device objects in range of one adapter. */
#define MAX_DEVICES 4096u
/* Manufacturer data entries read from one dictionary. */
#define MAX_MFR 8u

static struct bluez_dev *dev_get(struct bluez_client *c, const char *path) {
  size_t i;
  struct bluez_dev *d;
  for (i = 0; i < c->ndevs; i++)
    if (strcmp(c->devs[i].path, path) == 0) return &c->devs[i];
  if (strlen(path) >= sizeof d->path) return NULL;
  if (c->ndevs == c->capdevs) {
    size_t ncap = c->capdevs ? c->capdevs * 2 : 32;
    void *n;
    if (ncap > MAX_DEVICES) return NULL;
    n = realloc(c->devs, ncap * sizeof *c->devs);
    if (n == NULL) return NULL;
    c->devs = n;
    c->capdevs = ncap;
  }
  d = &c->devs[c->ndevs++];
  memset(d, 0, sizeof *d);
  snprintf(d->path, sizeof d->path, "%s", path);
  d->has_addr = bluez_addr_from_path(path, d->addr) == 0;
  return d;
}

void bluez_device_forget(struct bluez_client *c, const char *path) {
  size_t i;
  for (i = 0; i < c->ndevs; i++)
    if (strcmp(c->devs[i].path, path) == 0) {
      c->devs[i] = c->devs[--c->ndevs];
      return;
    }
}

void bluez_devices_clear(struct bluez_client *c) { c->ndevs = 0; }

void bluez_devices_forget_under(struct bluez_client *c, const char *adapter_path) {
  size_t i = 0, n = strlen(adapter_path);
  while (i < c->ndevs) {
    if (strncmp(c->devs[i].path, adapter_path, n) == 0 && c->devs[i].path[n] == '/')
      c->devs[i] = c->devs[--c->ndevs];
    else
      i++;
  }
}

/* Free the subscribers that left during a dispatch. */
static void reap_subscribers(struct bluez_client *c) {
  struct vq_bluez_sub **pp = &c->subs;
  while (*pp != NULL) {
    if ((*pp)->dead) {
      struct vq_bluez_sub *dead = *pp;
      *pp = dead->next;
      free(dead);
    } else {
      pp = &(*pp)->next;
    }
  }
}

static void deliver(struct bluez_client *c, const struct bluez_dev *d, uint16_t company,
                    const uint8_t *data, size_t len) {
  struct vq_bluez_adv adv;
  struct vq_bluez_sub *sub;
  if (!d->has_addr) return;
  memcpy(adv.addr, d->addr, 6);
  adv.name = d->name[0] ? d->name : NULL;
  adv.has_rssi = d->has_rssi;
  adv.rssi = d->rssi;
  adv.company = company;
  adv.data = data;
  adv.len = len;
  adv.bonded = d->has_bonded ? d->bonded : d->paired;
  c->dispatching++;
  for (sub = c->subs; sub != NULL; sub = sub->next)
    if (!sub->dead && sub->company == company) sub->on_adv(sub->arg, &adv);
  c->dispatching--;
  if (c->dispatching == 0 && !c->closing) reap_subscribers(c);
}

struct mfr {
  uint16_t company;
  const void *data;
  size_t len;
};

/* ManufacturerData: a{qv}, each v an ay.  Other shapes are skipped. */
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

/* Device1 properties (a{sv}); hands out manufacturer data when `live`
 * (GetManagedObjects reports old data: not delivered). */
int bluez_device_props(struct bluez_client *c, const char *path, sd_bus_message *m,
                       int live) {
  struct bluez_dev *d = dev_get(c, path);
  struct mfr mfr[MAX_MFR];
  size_t nmfr = 0, i;
  int r;
  if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0) return r;
  while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
    const char *key, *str;
    int16_t rssi;
    int flag;
    if ((r = sd_bus_message_read(m, "s", &key)) < 0) return r;
    if (d != NULL && strcmp(key, "Address") == 0) {
      if ((r = bluez_read_variant(m, 's', &str)) < 0) return r;
      if (r > 0 && bluez_parse_addr(str, d->addr) == 0) d->has_addr = 1;
    } else if (d != NULL && (strcmp(key, "Name") == 0 ||
                             (strcmp(key, "Alias") == 0 && d->name[0] == '\0'))) {
      if ((r = bluez_read_variant(m, 's', &str)) < 0) return r;
      if (r > 0) snprintf(d->name, sizeof d->name, "%s", str);
    } else if (d != NULL && strcmp(key, "RSSI") == 0) {
      if ((r = bluez_read_variant(m, 'n', &rssi)) < 0) return r;
      if (r > 0) {
        d->has_rssi = 1;
        d->rssi = rssi;
      }
    } else if (d != NULL && strcmp(key, "Paired") == 0) {
      if ((r = bluez_read_variant(m, 'b', &flag)) < 0) return r;
      if (r > 0) d->paired = flag != 0;
    } else if (d != NULL && strcmp(key, "Bonded") == 0) {
      if ((r = bluez_read_variant(m, 'b', &flag)) < 0) return r;
      if (r > 0) {
        d->has_bonded = 1;
        d->bonded = flag != 0;
      }
    } else if (strcmp(key, "ManufacturerData") == 0) {
      if ((r = read_mfr(m, mfr, MAX_MFR, &nmfr)) < 0) return r;
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
    for (i = 0; i < nmfr; i++) deliver(c, d, mfr[i].company, mfr[i].data, mfr[i].len);
  return 0;
}

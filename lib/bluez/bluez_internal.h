/* The process's BlueZ client as the files of lib/bluez see it (not
 * installed).  One job per file: bluez_bus.c the sd-bus connection on the
 * libuv loop, bluez_objects.c the ObjectManager view (adapters, bluetoothd
 * coming and going), bluez_device.c a device's properties and the hand-out
 * of its data, bluez_discovery.c the discovery session, bluez_client.c the
 * subscribers and the client's lifetime. */
#ifndef VQ_BLUEZ_INTERNAL_H
#define VQ_BLUEZ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <uv.h>

#include "vq_bluez.h"

#define BLUEZ_SERVICE "org.bluez"
#define BLUEZ_ADAPTER_IFACE "org.bluez.Adapter1"
#define BLUEZ_DEVICE_IFACE "org.bluez.Device1"
/* Delay before reconnecting to a system bus that went away. */
#define BLUEZ_RECONNECT_MS 5000u

struct vq_bluez_sub {
  struct vq_bluez_sub *next;
  uint16_t company;
  vq_bluez_adv_fn on_adv;
  vq_bluez_log_fn log;
  void *arg;
  int dead;   /* unsubscribed during a dispatch: freed after it */
  int paused; /* holds a discovery pause */
};

/* What the client remembers of a device object: its data arrive in
 * PropertiesChanged without the address, name or RSSI. */
struct bluez_dev {
  char path[96];
  uint8_t addr[6];
  int has_addr;
  char name[64];
  int has_rssi;
  int rssi;
};

struct bluez_done {
  vq_bluez_done_fn fn;
  void *arg;
};

struct bluez_client {
  uv_loop_t *loop;
  sd_bus *bus;
  uv_poll_t poll;
  uv_timer_t bus_timer;   /* sd-bus timeouts */
  uv_timer_t retry_timer; /* reconnect / discovery restart */
  int poll_open;
  int open_handles;
  char *adapter_want;    /* "hci0", or NULL for the first powered */
  char adapter_path[96]; /* chosen adapter, "" if none */
  int bluez_present;
  int waiting_logged; /* "no adapter" said once */
  int closing;
  int dispatching;

  /* discovery (bluez_discovery.c) */
  int discovery_started; /* our StartDiscovery succeeded and still runs */
  int discovery_pending; /* filter/start calls in flight */
  unsigned npaused;      /* subscribers holding a pause */
  unsigned retry_ms;
  uint64_t started_at_ms;

  struct vq_bluez_sub *subs;
  struct bluez_dev *devs;
  size_t ndevs, capdevs;
  struct bluez_done *dones; /* unsubscribe completions waiting for close */
  size_t ndones;
};

/* Process-wide counters (bluez_client.c). */
extern struct vq_bluez_stats bluez_stats;

/* bluez_client.c */
void bluez_log(struct bluez_client *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void bluez_handle_closed(uv_handle_t *h);

/* bluez_bus.c */
int bluez_bus_connect(struct bluez_client *c);
void bluez_bus_disconnect(struct bluez_client *c);
void bluez_bus_update(struct bluez_client *c);
void bluez_schedule_retry(struct bluez_client *c, unsigned ms);

/* bluez_objects.c */
int bluez_objects_watch(struct bluez_client *c);
void bluez_objects_load(struct bluez_client *c);
const char *bluez_adapter_name(const struct bluez_client *c);

/* bluez_device.c */
int bluez_device_props(struct bluez_client *c, const char *path, sd_bus_message *m,
                       int live);
void bluez_device_forget(struct bluez_client *c, const char *path);
void bluez_devices_clear(struct bluez_client *c);

/* bluez_discovery.c */
void bluez_discovery_start(struct bluez_client *c);
void bluez_discovery_reset(struct bluez_client *c);
void bluez_discovery_retry(struct bluez_client *c);
void bluez_discovery_adapter_changed(struct bluez_client *c, int powered,
                                     int discovering);
void bluez_discovery_pause_changed(struct bluez_client *c);

/* bluez_msg.c */
int bluez_read_variant(sd_bus_message *m, char type, void *out);
int bluez_parse_addr(const char *text, uint8_t addr[6]);
int bluez_addr_from_path(const char *path, uint8_t addr[6]);
const char *bluez_error_text(const sd_bus_error *e);

#endif

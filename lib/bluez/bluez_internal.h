/* The process's BlueZ client as the files of lib/bluez see it (not
 * installed).  One job per file: bluez_bus.c the sd-bus connection on the
 * libuv loop, bluez_objects.c the ObjectManager view (adapters, bluetoothd
 * coming and going), bluez_device.c a device's properties and the hand-out
 * of its data, bluez_discovery.c the discovery session, bluez_client.c the
 * subscribers and the client's lifetime, bluez_call.c method calls tracked
 * per subscriber, bluez_link.c an owned device's calls and events,
 * bluez_gatt.c GATT lookup/read/write/notify, bluez_agent.c the pairing
 * agent. */
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
  /* the owned device (vq_bluez_own_device), for ble-gatt */
  int has_dev;
  uint8_t dev_addr[6];
  char pin[7]; /* "" for none */
  vq_bluez_event_fn on_event;
};

struct bluez_call;
/* A subscriber's callback of any type, cast back by the reply handler. */
typedef void (*bluez_any_fn)(void);
/* Handles the reply of a call; m NULL when the call failed locally (bus
 * lost), err then says why. */
typedef void (*bluez_reply_fn)(struct bluez_call *call, sd_bus_message *m, int err);

/* One method call in flight for a subscriber (bluez_call.c). */
struct bluez_call {
  struct bluez_call *next;
  struct bluez_client *c;
  struct vq_bluez_sub *sub;
  sd_bus_slot *slot;
  bluez_reply_fn on_reply;
  bluez_any_fn fn; /* the subscriber's callback, cast back by on_reply */
  char path[160];
  char extra[64]; /* a string the reply needs (the service UUID of a lookup) */
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
  /* Device1.Paired and, where BlueZ has it, Bonded (there Paired is also
   * true for a pairing whose keys were not stored). */
  int paired, has_bonded, bonded;
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
  char bluez_owner[64]; /* bluetoothd's unique bus name, "" when unknown */
  int waiting_logged; /* "no adapter" said once */
  int closing;
  int dispatching;

  /* discovery (bluez_discovery.c) */
  int discovery_started; /* our StartDiscovery succeeded and still runs */
  int discovery_pending; /* filter/start calls in flight */
  sd_bus_slot *discovery_call; /* the one in flight: unref'd to cancel it */
  int discovery_resuming; /* the start in flight resumes after a pause */
  unsigned npaused;      /* subscribers holding a pause */
  unsigned retry_ms;
  uint64_t started_at_ms;

  struct vq_bluez_sub *subs;
  struct bluez_dev *devs;
  size_t ndevs, capdevs;
  struct bluez_done *dones; /* unsubscribe completions waiting for close */
  size_t ndones;

  struct bluez_call *calls; /* in flight (bluez_call.c) */
  sd_bus_slot *agent_slot;  /* the exported Agent1 object (bluez_agent.c) */
  int agent_registered;     /* RegisterAgent sent to this bluetoothd */
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
/* Forget the devices of one adapter (its objects are gone with it, whether
 * or not BlueZ announced each device's removal first). */
void bluez_devices_forget_under(struct bluez_client *c, const char *adapter_path);

/* bluez_discovery.c */
void bluez_discovery_start(struct bluez_client *c);
void bluez_discovery_reset(struct bluez_client *c);
void bluez_discovery_retry(struct bluez_client *c);
void bluez_discovery_adapter_changed(struct bluez_client *c, int powered,
                                     int discovering);
void bluez_discovery_pause_changed(struct bluez_client *c);

/* bluez_call.c */
struct bluez_client *bluez_active(void);
int bluez_sub_dev_path(const struct bluez_client *c, const struct vq_bluez_sub *sub,
                       char *out, size_t size);
int bluez_call_start(struct bluez_client *c, struct vq_bluez_sub *sub, sd_bus_message *msg,
                     const char *path, const char *extra, bluez_reply_fn on_reply,
                     bluez_any_fn fn);
void bluez_calls_cancel(struct bluez_client *c, struct vq_bluez_sub *sub);
void bluez_calls_fail(struct bluez_client *c, int err);
int bluez_reply_error(sd_bus_message *m, int err, const char **name, const char **msg);
void bluez_result_reply(struct bluez_call *call, sd_bus_message *m, int err);

/* bluez_link.c */
void bluez_link_props_changed(struct bluez_client *c, const char *path, const char *iface,
                              sd_bus_message *m);
void bluez_link_gone(struct bluez_client *c, const char *path);

/* bluez_agent.c */
int bluez_agent_ensure(struct bluez_client *c);
void bluez_agent_reset(struct bluez_client *c);

/* bluez_msg.c */
int bluez_read_variant(sd_bus_message *m, char type, void *out);
int bluez_parse_addr(const char *text, uint8_t addr[6]);
int bluez_addr_from_path(const char *path, uint8_t addr[6]);
const char *bluez_error_text(const sd_bus_error *e);

#endif

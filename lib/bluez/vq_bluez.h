/* The BlueZ client shared by the Bluetooth plugins (ble-adv, ble-gatt):
 * one system bus connection, one adapter choice and one LE discovery
 * session per process, however many plugin modules use it.  It is a
 * private shared library (libvqbluez, installed beside the plugins) rather
 * than a static one linked into each module, so the dynamic linker loads
 * it once and every module sees the same state (doc/design.md,
 * "Decisions").
 *
 * It knows nothing of Victron: subscribers get the manufacturer data of
 * one company id.  Everything runs on the caller's libuv loop thread; no
 * call blocks except vq_bluez_probe (meant for one-shot tools).
 *
 * The client picks the configured adapter (or the first powered one), sets
 * a discovery filter (Transport=le, DuplicateData=true), starts discovery
 * and reads ManufacturerData from InterfacesAdded and PropertiesChanged.
 * It survives bluetoothd restarting, the adapter going and coming back, and
 * discovery stopped by another program (restarted after a growing delay),
 * logging one line for each. */
#ifndef VQ_BLUEZ_H
#define VQ_BLUEZ_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* One advertisement.  Every pointer is valid only during the callback. */
struct vq_bluez_adv {
  uint8_t addr[6];     /* most significant byte first, as written */
  const char *name;    /* Name or Alias, NULL if unknown */
  int has_rssi;
  int rssi;            /* dBm, when has_rssi */
  uint16_t company;    /* Bluetooth SIG company id */
  const uint8_t *data; /* manufacturer data after the company id */
  size_t len;
  int bonded;          /* BlueZ keeps a bond: Device1.Bonded, or Paired where
                          BlueZ has no Bonded property (older releases) */
};

/* level: 0 error, 1 warn, 2 info, 3 debug (as enum vq_log_level).  msg is
 * valid during the call. */
typedef void (*vq_bluez_log_fn)(void *arg, int level, const char *msg);
typedef void (*vq_bluez_adv_fn)(void *arg, const struct vq_bluez_adv *adv);
typedef void (*vq_bluez_done_fn)(void *arg);

struct vq_bluez_sub;

/* Subscribe to the manufacturer data of `company`.  The first subscriber
 * opens the client on `loop` with `adapter` (NULL: the first powered one;
 * the string is copied); a later one naming another adapter or loop gets
 * -EBUSY.  The client's own log lines go to the oldest subscriber's `log`.
 * `arg` is passed back to on_adv and log until the unsubscribe completes.
 * 0 and *out, or -errno. */
int vq_bluez_subscribe(uv_loop_t *loop, const char *adapter, uint16_t company,
                       vq_bluez_adv_fn on_adv, vq_bluez_log_fn log, void *arg,
                       struct vq_bluez_sub **out);

/* Unsubscribe (also from within on_adv).  done(done_arg) runs once nothing
 * refers to the subscriber's arg any more: at once, or after the client's
 * libuv handles closed when this was the last subscriber.  `sub` is
 * invalid after the call. */
void vq_bluez_unsubscribe(struct vq_bluez_sub *sub, vq_bluez_done_fn done,
                          void *done_arg);

/* Pause discovery while `sub` sets up a connection (scanning while
 * connecting makes many controllers fail the connection), and resume it.
 * Pauses are counted per subscriber and across subscribers: discovery runs
 * again when no subscriber holds a pause.  Unsubscribing releases a pause
 * still held.  Advertisements that BlueZ still reports while paused are
 * delivered.  Pausing a paused subscriber or resuming one that is not
 * paused does nothing.  0, or -EINVAL for a NULL sub. */
int vq_bluez_discovery_pause(struct vq_bluez_sub *sub);
int vq_bluez_discovery_resume(struct vq_bluez_sub *sub);

/* Check, synchronously (up to ~5 s), that the system bus is reachable,
 * bluetoothd is on it and `adapter` (NULL: any) exists: for tools such as
 * `vicacq scan` that must fail clearly instead of listing nothing.  0, or
 * -errno with a sentence for the user in why[why_size]. */
int vq_bluez_probe(const char *adapter, char *why, size_t why_size);

/* What the process's client has done so far (tests, SIGUSR1 counters). */
struct vq_bluez_stats {
  unsigned bus_connections;  /* system bus connections opened */
  unsigned discovery_starts; /* successful StartDiscovery calls */
  unsigned discovery_stops;  /* StopDiscovery calls made for pauses */
  unsigned subscribers;      /* live subscribers now */
  int discovering;           /* our discovery is running now */
  unsigned devices;          /* Device1 objects the client tracks now, of any
                              * adapter (those of an adapter that went away
                              * are dropped with it) */
};
void vq_bluez_get_stats(struct vq_bluez_stats *out);

/* "AA:BB:CC:DD:EE:FF" (either case) into addr, MSB first.  0, or -1. */
int vq_bluez_parse_addr(const char *text, uint8_t addr[6]);

/* ---- Connections and GATT (ble-gatt) ----
 * A subscriber may own one device: it then gets that device's connection
 * state and characteristic values, and the process's pairing agent answers
 * RequestPasskey for that device's object with the subscriber's PIN (and
 * rejects every other request).  The agent (org.bluez.Agent1,
 * KeyboardOnly) is registered once per process, on the first pairing, and
 * again after bluetoothd restarts.  Every call below is asynchronous: its
 * callback runs later on the loop, never from within the call, and never
 * after the subscriber unsubscribed. */

/* What changed on the owned device.  Pointers valid during the callback. */
enum vq_bluez_event_kind {
  VQ_BLUEZ_EV_CONNECTED,         /* Device1.Connected became `flag` */
  VQ_BLUEZ_EV_PAIRED,            /* Device1.Paired became `flag` */
  VQ_BLUEZ_EV_SERVICES_RESOLVED, /* Device1.ServicesResolved became `flag` */
  VQ_BLUEZ_EV_VALUE,             /* a characteristic's Value changed (notification) */
  VQ_BLUEZ_EV_GONE               /* the device object or its adapter went away */
};
struct vq_bluez_event {
  enum vq_bluez_event_kind kind;
  int flag;
  const char *char_path; /* VALUE: the characteristic object */
  const uint8_t *value;  /* VALUE: its new value */
  size_t len;
};
typedef void (*vq_bluez_event_fn)(void *arg, const struct vq_bluez_event *ev);

/* Own device `addr` (MSB first) and answer its passkey request with `pin`
 * (six decimal digits as text, copied; NULL: none).  Calling it again
 * replaces both (a reloaded PIN).  0, or -EINVAL. */
int vq_bluez_own_device(struct vq_bluez_sub *sub, const uint8_t addr[6], const char *pin,
                        vq_bluez_event_fn on_event);

/* The result of a call: err 0 on success, else -errno with the D-Bus error
 * name (e.g. "org.bluez.Error.AuthenticationFailed") and message, valid
 * during the callback (NULL when the error is local). */
typedef void (*vq_bluez_result_fn)(void *arg, int err, const char *err_name,
                                   const char *err_msg);

/* Device1 properties of the owned device, from a fresh read:
 * known 0 when BlueZ has no such device (yet) on the adapter. */
struct vq_bluez_device_state {
  int known, connected, paired, trusted, services_resolved;
};
typedef void (*vq_bluez_state_fn)(void *arg, int err, const struct vq_bluez_device_state *st);
int vq_bluez_device_state(struct vq_bluez_sub *sub, vq_bluez_state_fn fn);

/* Device1.Connect, Device1.Pair (through the agent), Trusted = true and
 * Device1.Disconnect on the owned device.  0 (fn will run), or -errno:
 * -EAGAIN while no adapter is in use, -ENOENT with no owned device. */
int vq_bluez_connect(struct vq_bluez_sub *sub, vq_bluez_result_fn fn);
int vq_bluez_pair(struct vq_bluez_sub *sub, vq_bluez_result_fn fn);
int vq_bluez_trust(struct vq_bluez_sub *sub, vq_bluez_result_fn fn);
int vq_bluez_disconnect(struct vq_bluez_sub *sub, vq_bluez_result_fn fn);

/* A characteristic of the owned device.  Strings valid during the
 * callback. */
struct vq_bluez_char {
  const char *path;
  const char *uuid; /* lower case as BlueZ writes it */
  int can_read, can_write, can_notify;
};
/* The characteristics of service `service_uuid` (either case) on the owned
 * device, looked up in BlueZ's object tree (after ServicesResolved: object
 * paths are not stable across connections).  n 0 when the service is
 * absent. */
typedef void (*vq_bluez_chars_fn)(void *arg, int err, const struct vq_bluez_char *chars,
                                  size_t n);
int vq_bluez_gatt_lookup(struct vq_bluez_sub *sub, const char *service_uuid,
                         vq_bluez_chars_fn fn);

/* GattCharacteristic1.ReadValue; value valid during the callback. */
typedef void (*vq_bluez_value_fn)(void *arg, const char *char_path, int err,
                                  const char *err_name, const uint8_t *value, size_t len);
int vq_bluez_gatt_read(struct vq_bluez_sub *sub, const char *char_path,
                       vq_bluez_value_fn fn);
/* WriteValue with response (type "request"); data copied. */
int vq_bluez_gatt_write(struct vq_bluez_sub *sub, const char *char_path,
                        const uint8_t *data, size_t len, vq_bluez_result_fn fn);
/* StartNotify: later values come as VQ_BLUEZ_EV_VALUE events. */
int vq_bluez_gatt_notify(struct vq_bluez_sub *sub, const char *char_path,
                         vq_bluez_result_fn fn);

#endif

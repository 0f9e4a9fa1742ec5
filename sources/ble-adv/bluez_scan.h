/* BlueZ LE scanner over D-Bus (sd-bus on a libuv loop), shared by every
 * subscriber in the process.  It knows nothing of Victron: subscribers get
 * the manufacturer data of one company id.  Kept free of ble-adv types so
 * ble-gatt can share it.
 *
 * It picks the configured adapter (or the first powered one), sets a
 * discovery filter (Transport=le, DuplicateData=true), starts discovery and
 * reads ManufacturerData from InterfacesAdded and PropertiesChanged.  It
 * survives bluetoothd restarting (NameOwnerChanged), the adapter going and
 * coming back, and discovery stopped by someone else (restarted after a
 * delay), logging one line for each. */
#ifndef VQ_BLUEZ_SCAN_H
#define VQ_BLUEZ_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct bluez_adv {
  uint8_t addr[6];
  const char *name; /* Name or Alias, NULL if unknown */
  int has_rssi;
  int rssi;
  uint16_t company;
  const uint8_t *data; /* manufacturer data after the company id */
  size_t len;
};

/* level: 0 error, 1 warn, 2 info, 3 debug (as vq_log_level). */
typedef void (*bluez_log_fn)(void *arg, int level, const char *msg);
typedef void (*bluez_adv_fn)(void *arg, const struct bluez_adv *adv);
typedef void (*bluez_done_fn)(void *arg);

struct bluez_sub;

/* Subscribe to manufacturer data of `company`.  The first subscriber opens
 * the scanner on `loop` with `adapter` (NULL: first powered); a later one
 * asking for another adapter gets -EBUSY.  Scanner log lines go to the
 * oldest subscriber's log function.  0 or -errno. */
int bluez_scan_subscribe(uv_loop_t *loop, const char *adapter, uint16_t company,
                         bluez_adv_fn on_adv, bluez_log_fn log, void *arg,
                         struct bluez_sub **out);

/* Unsubscribe; when the last one leaves the scanner closes.  done(arg) is
 * called once nothing refers to the subscriber's arg any more (maybe
 * later, after libuv handles closed). */
void bluez_scan_unsubscribe(struct bluez_sub *sub, bluez_done_fn done, void *arg);

#endif

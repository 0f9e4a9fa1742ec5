/* The ble-gatt source as its files see it (not installed):
 * ble_gatt_plugin.c options and lifecycle, ble_gatt_link.c the connection
 * (connect, pair, look up, keep-alive, read, notify, reconnect). */
#ifndef VQ_BLE_GATT_SOURCE_H
#define VQ_BLE_GATT_SOURCE_H

#include <stdint.h>

#include <uv.h>

#include "ble_gatt.h"
#include "vicacq/plugin.h"
#include "victron.h"
#include "vq_bluez.h"

#define GATT_MAX_CHARS 16

enum gatt_state {
  GATT_IDLE,       /* waiting for the next attempt */
  GATT_SETUP,      /* connecting, pairing, trusting */
  GATT_WAIT_SERVICES,
  GATT_LOOKUP,
  GATT_ONLINE,
  GATT_STOPPING
};

/* One characteristic of this connection (paths change per connection). */
struct gatt_char {
  const struct ble_gatt_char *def;
  char path[160];
  int notify;        /* StartNotify succeeded */
  uint64_t last_ms;  /* last read or notification (loop time) */
  int reading;       /* a ReadValue in flight */
};

struct gatt_src {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  uint8_t addr[6];
  char device[13];   /* 12 lowercase hex digits, as ble-adv */
  char pin[7];
  char *adapter;
  int poll_mode;
  uint64_t interval_ms;
  unsigned keep_alive_s;

  struct vq_bluez_sub *sub;
  int sub_open;
  uv_timer_t retry, keepalive, flush;
  int open_handles;
  enum gatt_state state;
  int paired, resolved, connected, online;
  unsigned backoff_ms;
  int auth_failed;   /* the last Pair failed on the PIN */
  int unseen_logged;
  unsigned reads_left; /* poll mode: first reads still to come back */

  struct gatt_char chars[GATT_MAX_CHARS];
  size_t nchars;
  char ka_path[160];

  /* From the shared scanner's advertisements of this device: the product
   * (NULL until a model id was heard) and the last link.rssi emitted. */
  const char *product;
  char product_id[VIC_PRODUCT_ID_TEXT_SIZE]; /* "0xA389", "" until heard */
  uint64_t rssi_ms;     /* loop time link.rssi was last added */
  int rssi_sent;

  /* values waiting to go out as one reading */
  struct vq_record pending[GATT_MAX_CHARS + 2]; /* + link.online, link.rssi */
  size_t npending;
  int64_t pending_ns;

  vq_stopped_cb stopped;
};

void gatt_log(struct gatt_src *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ble_gatt_link.c */
int gatt_link_start(struct gatt_src *s);
void gatt_link_stop(struct gatt_src *s);

#endif

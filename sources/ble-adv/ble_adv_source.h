/* One ble-adv source instance as the plugin's files share it (not part of
 * the protocol code in ble_adv.h).  ble_adv_plugin.c: descriptor, options,
 * lifecycle; ble_adv_input.c: what happens to one advertisement (decode,
 * scan table, dump), key warnings; ble_adv_replay.c: capture files, read
 * once however many sources replay them; ble_adv_dump.c: the capture
 * writer. */
#ifndef VQ_BLE_ADV_SOURCE_H
#define VQ_BLE_ADV_SOURCE_H

#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "ble_adv.h"
#include "vicacq/plugin.h"

enum ble_mode { MODE_DECODE, MODE_SCAN, MODE_DUMP };

/* Devices tracked by one source without an address filter / by a scan. */
#define BLE_MAX_DEVICES 128

struct ble_dev {
  uint8_t addr[6];
  char id[13];
  struct ble_adv_device adv;
  int adv_ready;
  /* key warnings */
  int key_bad;
  int64_t last_warn_ns;
  uint64_t rejected_since_warn;
  int implausible_warned;
  /* scan */
  char name[64];
  uint16_t model_id;
  uint8_t record_type;
  int has_record;
  int has_rssi;
  int rssi;
  int bonded; /* as struct ble_heard */
  uint64_t seen;
};

/* What an input knows of one advertisement besides its data. */
struct ble_heard {
  const char *name; /* NULL if unknown */
  int has_rssi;
  int rssi;
  int bonded; /* BlueZ keeps a bond with the device: 1, 0, -1 unknown (replay) */
};

/* Addresses a scan marks (known_addresses, gatt_addresses). */
struct ble_addrs {
  uint8_t (*addr)[6];
  size_t n;
};

struct ble_feed; /* a capture file being replayed (ble_adv_replay.c) */
struct ble_src;

struct ble_timers {
  uv_timer_t end;  /* scan/dump duration */
  uv_timer_t dump; /* periodic flush of the dump */
  int open;
  struct ble_src *owner; /* NULL once the source no longer waits for them */
};
struct vq_bluez_sub;

struct ble_src {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  enum ble_mode mode;
  int has_addr;
  uint8_t addr[6];
  int has_key;
  uint8_t key[16];
  char *adapter;
  char *capture;
  char *output;
  double speed;
  int loop;
  uint64_t seconds_ms;
  struct ble_addrs known; /* scan: known_addresses (KEY column) */
  struct ble_addrs gatt;  /* scan: gatt_addresses (GATT column) */

  struct ble_dev *devs;
  size_t ndevs;

  /* inputs */
  struct vq_bluez_sub *sub;
  int sub_open;
  struct ble_feed *feed;
  int feed_open;
  /* The source's timers live apart from it: a failed start() is followed
   * by destroy() without stop(), before libuv has closed them. */
  struct ble_timers *timers;
  int pending_closes;

  FILE *dump;
  int dump_is_stdout;
  char *dump_buf;

  int finished;
  int stopping;
  vq_stopped_cb stopped;
  struct ble_adv_reading reading;
};

/* A log line of the source (the host formats it: no truncation). */
#define ble_log(s, level, ...) (s)->host->log((s)->ctx, (level), __VA_ARGS__)

/* ble_adv_input.c */
/* One advertisement (manufacturer data of 0x02E1 without the company id)
 * from any input; t 0 means now. */
void ble_input(struct ble_src *s, const uint8_t addr[6], const struct ble_heard *h,
               const uint8_t *data, size_t len, int64_t t);
/* Print the scan table (scan), flush the dump, tell the host. */
void ble_finish(struct ble_src *s);
/* Forget the devices' repeat memory (a looping replay starts over). */
void ble_rewind(struct ble_src *s);
/* Has the scan's pipeline file a key for addr? */
int ble_known_address(const struct ble_src *s, const uint8_t addr[6]);

/* ble_adv_replay.c */
/* Replay s->capture into s, sharing the file's reader with every other
 * source replaying it at the same speed and loop setting.  0 or -errno
 * (logged). */
int ble_replay_join(struct ble_src *s);
/* Leave; done(s) once nothing refers to s (maybe later). */
void ble_replay_leave(struct ble_src *s, void (*done)(struct ble_src *s));
/* Capture lines parsed by this module since it was loaded (tests). */
uint64_t ble_replay_lines_parsed(void);

/* ble_adv_dump.c */
int ble_dump_open(struct ble_src *s);
void ble_dump_line(struct ble_src *s, const uint8_t addr[6], int has_rssi, int rssi,
                   const uint8_t *data, size_t len, int64_t t);
/* Flush (and close unless stdout); errors are logged.  Idempotent. */
void ble_dump_close(struct ble_src *s);

#endif

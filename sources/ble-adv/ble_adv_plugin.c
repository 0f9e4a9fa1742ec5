/* ble-adv plugin: descriptor, options, the check pass, tools and the
 * lifecycle of a source.  Modes: decode (emit readings), scan (list
 * devices in range, then finish) and dump (write a capture file); input
 * from the process's BlueZ client (lib/bluez) or a capture replay. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "ble_adv_source.h"
#include "vicacq/plugin.h"
#include "vq_bluez.h"
#include "vq_secret.h"

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif


/* ---- options ------------------------------------------------------------ */

/* A problem with `key`: cfg_error names file, line and key (ABI 1.2); an
 * older host gets a log line. */
static void cfg_problem(const struct vq_host *host, struct vq_ctx *ctx, const char *key,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void cfg_problem(const struct vq_host *host, struct vq_ctx *ctx, const char *key,
                        const char *fmt, ...) {
  char buf[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (VQ_HOST_HAS(host, cfg_error))
    host->cfg_error(ctx, key, "%s", buf);
  else
    host->log(ctx, VQ_LOG_ERROR, "%s: %s", key, buf);
}

/* A comma-separated list of addresses (known_addresses, gatt_addresses)
 * into *out (NULL at check).  0, -EINVAL (said with its key) or -ENOMEM. */
static int read_addrs(const struct vq_host *host, struct vq_ctx *ctx, const char *key,
                      struct ble_addrs *out) {
  const char *v = host->cfg_string(ctx, key);
  uint8_t addr[6];
  int bad = 0;
  for (; v != NULL && *v != '\0';) {
    const char *end = strchr(v, ',');
    size_t len = end ? (size_t)(end - v) : strlen(v);
    char item[32];
    while (len > 0 && (*v == ' ' || *v == '\t')) v++, len--;
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
    if (len > 0) {
      if (len >= sizeof item) len = sizeof item - 1;
      memcpy(item, v, len);
      item[len] = '\0';
      if (ble_addr_parse(item, addr) != 0) {
        cfg_problem(host, ctx, key, "'%s' is not a Bluetooth address", item);
        bad = 1;
      } else if (out != NULL) {
        void *n = realloc(out->addr, (out->n + 1) * sizeof *out->addr);
        if (n == NULL) return -ENOMEM;
        out->addr = n;
        memcpy(out->addr[out->n++], addr, 6);
      }
    }
    v = end ? end + 1 : NULL;
  }
  return bad ? -EINVAL : 0;
}

/* What the section says, checked the same way at --check and at create:
 * every problem goes to cfg_error with its key.  `s` (may be NULL at
 * check) gets the parsed values.  0, -EINVAL or -ENOMEM. */
static int read_options(const struct vq_host *host, struct vq_ctx *ctx, struct ble_src *s) {
  const char *mode = host->cfg_string(ctx, "mode");
  const char *v;
  uint8_t addr[6], key[16];
  int bad = 0, has_key = 0, rc;
  enum ble_mode m = MODE_DECODE;
  if (mode != NULL && strcmp(mode, "scan") == 0) m = MODE_SCAN;
  if (mode != NULL && strcmp(mode, "dump") == 0) m = MODE_DUMP;
  v = host->cfg_string(ctx, "address");
  if (v != NULL && v[0] != '\0') {
    if (ble_addr_parse(v, addr) != 0) {
      cfg_problem(host, ctx, "address", "'%s' is not a Bluetooth address (AA:BB:CC:DD:EE:FF)", v);
      bad = 1;
    } else if (s != NULL) {
      memcpy(s->addr, addr, 6);
      s->has_addr = 1;
    }
  }
  v = host->cfg_string(ctx, "key");
  if (v != NULL && v[0] != '\0') {
    if (ble_adv_parse_key(v, key) != 0) {
      /* Never print the value of a secret. */
      cfg_problem(host, ctx, "key", "not 32 hexadecimal digits (VictronConnect: Product info > "
                                  "Instant readout details)");
      bad = 1;
    } else {
      has_key = 1;
      if (s != NULL) memcpy(s->key, key, 16);
    }
    vq_secret_clear(key, sizeof key);
  }
  if (m == MODE_DECODE && !has_key && !bad) {
    cfg_problem(host, ctx, "key", "key (or key_file) is required to decode advertisements");
    bad = 1;
  }
  if ((rc = read_addrs(host, ctx, "known_addresses", s ? &s->known : NULL)) == -ENOMEM) return rc;
  if (rc != 0) bad = 1;
  if ((rc = read_addrs(host, ctx, "gatt_addresses", s ? &s->gatt : NULL)) == -ENOMEM) return rc;
  if (rc != 0) bad = 1;
  v = host->cfg_string(ctx, "capture");
  if (v != NULL && v[0] != '\0' && access(v, R_OK) != 0) {
    cfg_problem(host, ctx, "capture", "cannot read %s: %s", v, strerror(errno));
    bad = 1;
  } else if (v == NULL || v[0] == '\0') {
    double speed = 0;
    int loop = 0;
    /* Pacing belongs to replays (doc/design.md §9.3). */
    if (host->cfg_double(ctx, "speed", &speed) == 0 && speed != 0) {
      cfg_problem(host, ctx, "speed", "only a replay (capture = FILE) has a speed");
      bad = 1;
    }
    if (host->cfg_bool(ctx, "loop", &loop) == 0 && loop) {
      cfg_problem(host, ctx, "loop", "only a replay (capture = FILE) can loop");
      bad = 1;
    }
  }
  if (s != NULL) {
    s->mode = m;
    s->has_key = has_key;
  }
  return bad ? -EINVAL : 0;
}

static int ble_check(const struct vq_host *host, struct vq_ctx *ctx) {
  return read_options(host, ctx, NULL);
}

static char *dup_opt(struct ble_src *s, const char *key) {
  const char *v = s->host->cfg_string(s->ctx, key);
  return (v != NULL && v[0] != '\0') ? strdup(v) : NULL;
}

static void src_free(struct ble_src *s) {
  size_t i;
  if (s == NULL) return;
  for (i = 0; i < s->ndevs; i++)
    if (s->devs[i].adv_ready) ble_adv_device_fini(&s->devs[i].adv);
  free(s->devs);
  free(s->known.addr);
  free(s->gatt.addr);
  free(s->adapter);
  free(s->capture);
  free(s->output);
  /* The key must not outlive the instance in freed memory. */
  vq_secret_clear(s->key, sizeof s->key);
  free(s);
}

static int ble_create(const struct vq_host *host, struct vq_ctx *ctx, void **instance) {
  struct ble_src *s = calloc(1, sizeof *s);
  int rc, b;
  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  if ((rc = read_options(host, ctx, s)) != 0) goto fail;
  s->adapter = dup_opt(s, "adapter");
  s->capture = dup_opt(s, "capture");
  s->output = dup_opt(s, "output");
  if (host->cfg_double(ctx, "speed", &s->speed) != 0) s->speed = 0;
  if (host->cfg_bool(ctx, "loop", &b) == 0) s->loop = b;
  if (host->cfg_duration(ctx, "seconds", &s->seconds_ms) != 0)
    s->seconds_ms = s->mode == MODE_SCAN ? 10000 : 0;
  if (s->loop && s->mode != MODE_DECODE) s->loop = 0; /* scan/dump end */
  s->devs = calloc(s->mode == MODE_DECODE && s->has_addr ? 1 : BLE_MAX_DEVICES,
                   sizeof *s->devs);
  if (s->devs == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  *instance = s;
  return 0;
fail:
  src_free(s);
  return rc;
}

/* ---- BlueZ input ---------------------------------------------------------- */

static void on_bluez_adv(void *arg, const struct vq_bluez_adv *a) {
  struct ble_src *s = arg;
  struct ble_heard h;
  if (a->company != BLE_ADV_COMPANY_ID) {
    s->host->stat_add(s->ctx, ble_adv_status_name(BLE_ADV_WRONG_COMPANY), 1);
    return;
  }
  h.name = a->name;
  h.has_rssi = a->has_rssi;
  h.rssi = a->rssi;
  h.bonded = a->bonded;
  ble_input(s, a->addr, &h, a->data, a->len, 0);
}

static void on_bluez_log(void *arg, int level, const char *msg) {
  struct ble_src *s = arg;
  s->host->log(s->ctx, level, "%s", msg);
}

/* ---- lifecycle ------------------------------------------------------------ */

static void end_timer_cb(uv_timer_t *t) { ble_finish(((struct ble_timers *)t->data)->owner); }

static void stop_check(struct ble_src *s);

static void timer_closed(uv_handle_t *h) {
  struct ble_timers *t = h->data;
  struct ble_src *s = t->owner;
  if (--t->open > 0) return;
  free(t);
  if (s != NULL) {
    s->pending_closes--;
    stop_check(s);
  }
}

/* Close the timers; with `wait` the source's stop waits for them. */
static void timers_close(struct ble_src *s, int wait) {
  struct ble_timers *t = s->timers;
  if (t == NULL) return;
  s->timers = NULL;
  t->owner = wait ? s : NULL;
  if (wait) s->pending_closes++;
  uv_close((uv_handle_t *)&t->end, timer_closed);
  uv_close((uv_handle_t *)&t->dump, timer_closed);
}

static int start_live(struct ble_src *s, uv_loop_t *loop) {
  int rc = vq_bluez_subscribe(loop, s->adapter, BLE_ADV_COMPANY_ID, on_bluez_adv, on_bluez_log, s,
                          &s->sub);
  if (rc != 0) {
    ble_log(s, VQ_LOG_ERROR, "cannot start the BlueZ scanner: %s", strerror(-rc));
    return rc;
  }
  s->sub_open = 1;
  /* Scans (and dumps given a duration) end after `seconds`. */
  if (s->mode != MODE_DECODE && s->seconds_ms > 0 &&
      uv_timer_start(&s->timers->end, end_timer_cb, s->seconds_ms, 0) != 0)
    return -ENOMEM;
  return 0;
}

static int ble_start(void *instance) {
  struct ble_src *s = instance;
  uv_loop_t *loop = s->host->loop(s->ctx);
  struct ble_timers *t = calloc(1, sizeof *t);
  int rc;
  if (t == NULL) return -ENOMEM;
  if (s->capture == NULL && s->mode != MODE_DECODE) {
    char why[256];
    /* A tool (scan, dump) that cannot hear anything must say so and fail,
     * not print "0 devices" after its whole duration. */
    if ((rc = vq_bluez_probe(s->adapter, why, sizeof why)) != 0) {
      ble_log(s, VQ_LOG_ERROR, "cannot %s: %s", s->mode == MODE_SCAN ? "scan" : "dump", why);
      free(t);
      return rc;
    }
  }
  /* uv_timer_init cannot fail on the host's live loop. */
  uv_timer_init(loop, &t->end);
  uv_timer_init(loop, &t->dump);
  t->end.data = t->dump.data = t;
  t->open = 2;
  t->owner = s;
  s->timers = t;
  rc = s->mode == MODE_DUMP ? ble_dump_open(s) : 0;
  if (rc == 0) rc = s->capture != NULL ? ble_replay_join(s) : start_live(s, loop);
  if (rc != 0) {
    /* No stop() follows a failed start: undo everything here. */
    ble_dump_close(s);
    timers_close(s, 0);
    if (s->feed_open) ble_replay_leave(s, NULL);
  }
  return rc;
}

/* Reports the stop once the input and the handles are gone. */
static void stop_check(struct ble_src *s) {
  vq_stopped_cb done = s->stopped;
  if (s->sub_open || s->feed_open || s->pending_closes > 0 || done == NULL) return;
  s->stopped = NULL;
  done(s->ctx);
}

static void sub_closed(void *arg) {
  struct ble_src *s = arg;
  s->sub = NULL;
  s->sub_open = 0;
  stop_check(s);
}

static void feed_left(struct ble_src *s) { stop_check(s); }

static void ble_stop(void *instance, vq_stopped_cb done) {
  struct ble_src *s = instance;
  s->stopping = 1;
  s->stopped = done;
  ble_dump_close(s);
  timers_close(s, 1);
  if (s->feed_open) ble_replay_leave(s, feed_left);
  if (s->sub_open)
    vq_bluez_unsubscribe(s->sub, sub_closed, s);
  else
    stop_check(s);
}

static void ble_destroy(void *instance) { src_free(instance); }

/* ---- descriptor ----------------------------------------------------------- */

static const struct vq_option options[] = {
  {"address", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "Bluetooth address of the device (AA:BB:CC:DD:EE:FF); without it every Victron "
   "device whose key check byte matches the key is decoded"},
  {"key", VQ_OPT_SECRET, 0, NULL, NULL, 0, -1,
   "advertisement encryption key, 32 hex digits (VictronConnect: Product info > "
   "Instant readout details); required in decode mode, or give key_file"},
  {"adapter", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "Bluetooth adapter, e.g. hci0 (default: the first powered one); all Bluetooth "
   "sources share one BlueZ client"},
  {"capture", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "replay this capture file (written by vicacq dump) instead of scanning; sources "
   "replaying one file read it once"},
  {"speed", VQ_OPT_DOUBLE, 0, "0", NULL, 0, 1000,
   "capture replay speed: 0 as fast as possible, 1 real time, N times real time"},
  {"loop", VQ_OPT_BOOL, 0, "no", NULL, 0, -1,
   "replay the capture again at its end (readings then carry the current time)"},
  {"mode", VQ_OPT_ENUM, 0, "decode", "decode|scan|dump", 0, -1,
   "decode: emit readings; scan: list Victron devices in range; dump: write a "
   "capture file (used by vicacq scan / vicacq dump)"},
  {"seconds", VQ_OPT_DURATION, 0, NULL, NULL, 0, 86400000.0,
   "scan/dump: how long to listen (scan default 10 s, dump default until stopped)"},
  {"output", VQ_OPT_STRING, 0, "-", NULL, 0, -1,
   "dump: capture file to write (- for standard output)"},
  {"known_addresses", VQ_OPT_STRING, VQ_OPT_LIST, NULL, NULL, 0, -1,
   "scan: addresses that have a key configured (shown in the KEY column)"},
  {"gatt_addresses", VQ_OPT_STRING, VQ_OPT_LIST, NULL, NULL, 0, -1,
   "scan: addresses a ble-gatt source reads (shown in the GATT column)"},
  {NULL, 0, 0, NULL, NULL, 0, 0, NULL},
};

/* vicacq scan / vicacq dump ble-adv (the core builds the pipeline). */
static const struct vq_tool tools[] = {
  {.name = "scan",
   .summary = "list the Victron devices in range (KEY/GATT: -c FILE has a key/"
              "a ble-gatt source for it; BONDED: BlueZ has a bond with it)",
   .preset = "mode=scan",
   .options = "adapter,seconds,capture",
   .from_config = "known_addresses=address+key",
   .from_config_more = "gatt_addresses=ble-gatt:address"},
  {.name = "dump",
   .summary = "write the Victron advertisements heard to a capture file",
   .preset = "mode=dump",
   .options = "adapter,address,seconds,output,capture",
   .required = "output"},
  {.name = NULL},
};

static const struct vq_plugin descriptor = {
  VQ_PLUGIN_HEADER,
  .name = "ble-adv",
  .version = PACKAGE_VERSION,
  .description = "Victron Instant Readout BLE advertisements (BlueZ or capture replay)",
  .kinds = VQ_KIND_SOURCE,
  .options = options,
  .create = ble_create,
  .start = ble_start,
  .stop = ble_stop,
  .destroy = ble_destroy,
  .check = ble_check,
  .tools = tools,
};

VQ_PLUGIN_DECLARE(ble_adv, descriptor)

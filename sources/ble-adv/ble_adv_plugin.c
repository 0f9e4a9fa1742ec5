/* ble-adv plugin: descriptor, options and the glue between an input (the
 * shared BlueZ scanner or a capture file) and the protocol code.  Modes:
 * decode (emit readings), scan (list devices in range, then finish) and
 * dump (write a capture file). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "ble_adv.h"
#include "ble_capture.h"
#include "vq_bluez.h"
#include "vicacq/plugin.h"

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

enum mode { MODE_DECODE, MODE_SCAN, MODE_DUMP };

/* A key warning is repeated at most this often per device. */
#define KEY_WARN_INTERVAL_NS (600LL * 1000000000LL)
/* Devices tracked by one source without an address filter / by a scan. */
#define MAX_DEVICES 128
/* Capture lines handled per loop turn at speed 0 (keeps the loop live). */
#define REPLAY_BATCH 256

struct dev {
  uint8_t addr[6];
  char id[13];
  struct ble_adv_device adv;
  int adv_ready;
  /* key check state */
  int key_bad;
  int64_t last_warn_ns;
  uint64_t rejected_since_warn;
  /* scan */
  char name[64];
  uint16_t model_id;
  uint8_t record_type;
  int has_record;
  int has_rssi;
  int rssi;
  uint64_t seen;
};

struct src {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  enum mode mode;
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
  /* known_addresses (scan) */
  uint8_t (*known)[6];
  size_t nknown;

  struct dev *devs;
  size_t ndevs;

  /* inputs */
  struct vq_bluez_sub *sub;
  FILE *cap;
  /* Own libuv timers (closed before stop reports done): a replay step
   * per loop turn would otherwise create a host timer per step. */
  uv_timer_t replay_timer;
  uv_timer_t end_timer;
  /* Replay steps that are due now run from an idle handle: a timer re-armed
   * with 0 ms inside its callback runs again before libuv polls for I/O. */
  uv_idle_t replay_idle;
  unsigned passes; /* completed rounds of a looping replay */
  int timers_init;
  int pending_closes;
  int sub_open;
  int64_t replay_first_ns;   /* capture time of the first line */
  uint64_t replay_start_ms;  /* loop time when it was replayed */
  struct ble_capture_line pending;
  int have_pending;
  unsigned long lineno;
  int finished;

  FILE *dump;
  int dump_is_stdout;

  vq_stopped_cb stopped;
  int stopping;
  struct ble_adv_reading reading;
};

static void vlog(struct src *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void vlog(struct src *s, int level, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  s->host->log(s->ctx, level, "%s", buf);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int known_address(const struct src *s, const uint8_t addr[6]) {
  size_t i;
  if (s->has_key && s->has_addr && memcmp(s->addr, addr, 6) == 0) return 1;
  for (i = 0; i < s->nknown; i++)
    if (memcmp(s->known[i], addr, 6) == 0) return 1;
  return 0;
}

static struct dev *find_dev(struct src *s, const uint8_t addr[6], int create) {
  size_t i;
  struct dev *d;
  for (i = 0; i < s->ndevs; i++)
    if (memcmp(s->devs[i].addr, addr, 6) == 0) return &s->devs[i];
  if (!create || s->ndevs >= MAX_DEVICES) return NULL;
  d = &s->devs[s->ndevs];
  memset(d, 0, sizeof *d);
  memcpy(d->addr, addr, 6);
  ble_addr_device_id(addr, d->id);
  if (s->mode == MODE_DECODE) {
    if (ble_adv_device_init(&d->adv, s->key) != 0) {
      vlog(s, VQ_LOG_ERROR, "cannot create an AES context (OpenSSL)");
      return NULL;
    }
    d->adv_ready = 1;
  }
  s->ndevs++;
  return d;
}

/* Key check failures: one clear warning, then at most one per interval. */
static void key_mismatch(struct src *s, struct dev *d, uint8_t seen, int64_t t) {
  d->rejected_since_warn++;
  if (!s->has_addr) {
    /* Without an address filter other Victron devices in range are
     * expected to fail the check: not worth a warning. */
    return;
  }
  if (!d->key_bad) {
    vlog(s, VQ_LOG_WARN,
         "device %s: key check failed: the device sends key byte 0x%02x but the "
         "configured key starts with 0x%02x; the key probably changed in "
         "VictronConnect (Product info > Instant readout details). Nothing is "
         "emitted from this device until the key matches.",
         d->id, seen, s->key[0]);
    d->key_bad = 1;
    d->last_warn_ns = t;
    d->rejected_since_warn = 0;
  } else if (t - d->last_warn_ns >= KEY_WARN_INTERVAL_NS) {
    vlog(s, VQ_LOG_WARN,
         "device %s: key still does not match (key byte 0x%02x, expected 0x%02x); "
         "%" PRIu64 " advertisements rejected since the last warning",
         d->id, seen, s->key[0], d->rejected_since_warn);
    d->last_warn_ns = t;
    d->rejected_since_warn = 0;
  }
}

static void emit_reading(struct src *s, struct dev *d, int has_rssi, int rssi,
                         int64_t t) {
  struct ble_adv_reading *r = &s->reading;
  struct vq_reading out = VQ_READING_INIT;
  struct vq_tag tags[2];
  uint32_t ntags = 0;
  int rc;
  if (has_rssi && r->nrecords < BLE_ADV_MAX_RECORDS) {
    struct vq_record *rec = &r->records[r->nrecords++];
    memset(rec, 0, sizeof *rec);
    rec->quantity = "link.rssi";
    rec->type = VQ_VALUE_INT;
    rec->value.i64 = rssi;
  }
  if (r->product != NULL) {
    tags[ntags].key = "product";
    tags[ntags++].value = r->product;
  }
  tags[ntags].key = "product_id";
  tags[ntags++].value = r->product_id;
  out.device = d->id;
  out.time_ns = t;
  out.tags = tags;
  out.ntags = ntags;
  out.nrecords = r->nrecords;
  out.records = r->records;
  rc = s->host->emit(s->ctx, &out);
  if (rc != 0) {
    s->host->stat_add(s->ctx, "emit_failed", 1);
    vlog(s, VQ_LOG_DEBUG, "emit failed: %d", rc);
  }
}

static void dump_line(struct src *s, const uint8_t addr[6], int has_rssi, int rssi,
                      const uint8_t *data, size_t len, int64_t t) {
  char line[256];
  int n = ble_capture_format_line(line, sizeof line, t, addr, has_rssi, rssi, data, len);
  if (n < 0) {
    s->host->stat_add(s->ctx, "dump_too_long", 1);
    return;
  }
  if (fputs(line, s->dump) == EOF || fflush(s->dump) == EOF) {
    s->host->stat_add(s->ctx, "dump_write_failed", 1);
    return;
  }
  s->host->stat_add(s->ctx, "dumped", 1);
}

/* One advertisement (manufacturer data of 0x02E1 without the company id)
 * from any input. */
static void input(struct src *s, const uint8_t addr[6], const char *name,
                  int has_rssi, int rssi, const uint8_t *data, size_t len,
                  int64_t t) {
  struct dev *d;
  struct ble_adv_header h;
  enum ble_adv_status st;
  uint8_t seen = 0;
  if (s->stopping || s->finished) return;
  if (s->has_addr && memcmp(addr, s->addr, 6) != 0) return;
  if (t == 0) t = now_ns();
  switch (s->mode) {
  case MODE_DUMP:
    dump_line(s, addr, has_rssi, rssi, data, len, t);
    return;
  case MODE_SCAN:
    d = find_dev(s, addr, 1);
    if (d == NULL) return;
    d->seen++;
    if (name != NULL && name[0] != '\0') snprintf(d->name, sizeof d->name, "%s", name);
    if (has_rssi) {
      d->has_rssi = 1;
      d->rssi = rssi;
    }
    if (ble_adv_parse_header(data, len, &h) == BLE_ADV_OK) {
      d->model_id = h.model_id;
      d->record_type = h.record_type;
      d->has_record = 1;
    }
    return;
  case MODE_DECODE:
    break;
  }
  d = find_dev(s, addr, 1);
  if (d == NULL) {
    s->host->stat_add(s->ctx, "too_many_devices", 1);
    return;
  }
  st = ble_adv_device_process(&d->adv, data, len, &s->reading, &seen);
  s->host->stat_add(s->ctx, ble_adv_status_name(st), 1);
  if (st == BLE_ADV_KEY_MISMATCH) {
    key_mismatch(s, d, seen, now_ns());
    return;
  }
  if (st != BLE_ADV_OK) {
    if (st == BLE_ADV_SHORT_HEADER || st == BLE_ADV_SHORT_PAYLOAD ||
        st == BLE_ADV_UNKNOWN_RECORD)
      vlog(s, VQ_LOG_DEBUG, "device %s: advertisement dropped: %s", d->id,
           ble_adv_status_name(st));
    return;
  }
  if (d->key_bad) {
    vlog(s, VQ_LOG_INFO, "device %s: key matches again", d->id);
    d->key_bad = 0;
  }
  emit_reading(s, d, has_rssi, rssi, t);
}

/* ---- scan output -------------------------------------------------------- */

static void print_scan(struct src *s) {
  size_t i;
  printf("%-17s  %-24s  %-44s  %-22s  %5s  %s\n", "ADDRESS", "NAME", "PRODUCT", "RECORD",
         "RSSI", "KEY");
  for (i = 0; i < s->ndevs; i++) {
    const struct dev *d = &s->devs[i];
    char a[18], product[64], record[40], rssi[8];
    const char *pn = d->has_record ? vic_product_name(d->model_id) : NULL;
    ble_addr_format(d->addr, a);
    if (pn != NULL)
      snprintf(product, sizeof product, "%s", pn);
    else if (d->has_record)
      snprintf(product, sizeof product, "unknown (0x%04X)", d->model_id);
    else
      snprintf(product, sizeof product, "-");
    if (d->has_record)
      snprintf(record, sizeof record, "0x%02X %s", d->record_type,
               ble_adv_record_name(d->record_type));
    else
      snprintf(record, sizeof record, "-");
    if (d->has_rssi)
      snprintf(rssi, sizeof rssi, "%d", d->rssi);
    else
      snprintf(rssi, sizeof rssi, "-");
    printf("%-17s  %-24s  %-44s  %-22s  %5s  %s\n", a, d->name[0] ? d->name : "-", product,
           record, rssi, known_address(s, d->addr) ? "yes" : "no");
  }
  printf("%zu Victron device%s in range\n", s->ndevs, s->ndevs == 1 ? "" : "s");
  fflush(stdout);
}

static void finish(struct src *s) {
  if (s->finished) return;
  if (s->mode == MODE_SCAN) print_scan(s);
  if (s->dump != NULL && fflush(s->dump) == EOF)
    vlog(s, VQ_LOG_ERROR, "writing %s failed: %s", s->output, strerror(errno));
  s->finished = 1;
  s->host->finished(s->ctx);
}

static void end_timer_cb(uv_timer_t *t) {
  struct src *s = t->data;
  finish(s);
}

/* ---- capture replay ------------------------------------------------------ */

static void replay_step(struct src *s);
static void replay_timer_cb(uv_timer_t *t) { replay_step(t->data); }
static void replay_idle_cb(uv_idle_t *i) {
  uv_idle_stop(i);
  replay_step(i->data);
}

static int replay_open(struct src *s) {
  s->cap = fopen(s->capture, "r");
  if (s->cap == NULL) {
    int e = errno;
    vlog(s, VQ_LOG_ERROR, "cannot open capture %s: %s", s->capture, strerror(e));
    return -e;
  }
  s->lineno = 0;
  s->have_pending = 0;
  s->replay_first_ns = -1;
  return 0;
}

/* Next advertisement line; 0, or 1 at the end of the file. */
static int replay_next(struct src *s) {
  char line[512];
  for (;;) {
    int rc;
    if (fgets(line, sizeof line, s->cap) == NULL) return 1;
    s->lineno++;
    rc = ble_capture_parse_line(line, &s->pending);
    if (rc == 0) return 0;
    if (rc < 0) {
      s->host->stat_add(s->ctx, "capture_bad_line", 1);
      if (s->passes == 0) /* a looping replay says it once */
        vlog(s, VQ_LOG_WARN, "%s:%lu: not a capture line, skipped", s->capture, s->lineno);
    }
  }
}

static void replay_schedule(struct src *s, uint64_t delay_ms) {
  int rc = delay_ms == 0 ? uv_idle_start(&s->replay_idle, replay_idle_cb)
                         : uv_timer_start(&s->replay_timer, replay_timer_cb, delay_ms, 0);
  if (rc != 0) {
    vlog(s, VQ_LOG_ERROR, "cannot start a timer (%s); replay ends", uv_strerror(rc));
    finish(s);
  }
}

static uint64_t loop_ms(struct src *s) {
  return uv_now((uv_loop_t *)s->host->loop(s->ctx));
}

/* A replay at full speed can wait: it pauses while the sinks it feeds are
 * more than half full rather than have their queues drop records. */
#define REPLAY_BACKLOG_PAUSE 50
#define REPLAY_BACKLOG_WAIT_MS 0 /* yield one loop turn (idle handle) */

static void replay_step(struct src *s) {
  int n;
  if (s->stopping || s->finished) return;
  if (s->speed == 0 && VQ_HOST_HAS(s->host, backlog) &&
      s->host->backlog(s->ctx) >= REPLAY_BACKLOG_PAUSE) {
    replay_schedule(s, REPLAY_BACKLOG_WAIT_MS);
    return;
  }
  for (n = 0; n < REPLAY_BATCH; n++) {
    struct ble_capture_line *l = &s->pending;
    int64_t t;
    if (!s->have_pending) {
      if (replay_next(s) != 0) {
        if (s->loop && s->lineno > 0 && s->replay_first_ns >= 0) {
          size_t i;
          /* Start over: the devices' repeat memory too, or nothing of the
           * second round would be emitted. */
          rewind(s->cap);
          s->lineno = 0;
          s->passes++;
          s->replay_first_ns = -1;
          for (i = 0; i < s->ndevs; i++)
            if (s->devs[i].adv_ready) ble_adv_device_reset(&s->devs[i].adv);
          replay_schedule(s, s->speed > 0 ? 1000 : 0);
          return;
        }
        finish(s);
        return;
      }
      s->have_pending = 1;
      if (s->replay_first_ns < 0) {
        s->replay_first_ns = l->time_ns;
        s->replay_start_ms = loop_ms(s);
      }
    }
    if (s->speed > 0) {
      /* Real time (or a multiple): wait until the line is due. */
      double due = (double)(l->time_ns - s->replay_first_ns) / 1e6 / s->speed;
      uint64_t now = loop_ms(s) - s->replay_start_ms;
      if (due > (double)now) {
        replay_schedule(s, (uint64_t)(due - (double)now) + 1);
        return;
      }
    }
    s->have_pending = 0;
    /* A looping replay stands in for a live device: readings get the
     * current time; otherwise the capture's own time. */
    t = s->loop ? 0 : l->time_ns;
    input(s, l->addr, NULL, l->has_rssi, l->rssi, l->data, l->len, t);
    if (s->stopping || s->finished) return;
  }
  replay_schedule(s, 0);
}

/* ---- BlueZ input ---------------------------------------------------------- */

static void on_bluez_adv(void *arg, const struct vq_bluez_adv *a) {
  struct src *s = arg;
  if (a->company != BLE_ADV_COMPANY_ID) {
    s->host->stat_add(s->ctx, ble_adv_status_name(BLE_ADV_WRONG_COMPANY), 1);
    return;
  }
  input(s, a->addr, a->name, a->has_rssi, a->rssi, a->data, a->len, 0);
}

static void on_bluez_log(void *arg, int level, const char *msg) {
  struct src *s = arg;
  s->host->log(s->ctx, level, "%s", msg);
}

/* ---- lifecycle ------------------------------------------------------------ */

static int parse_known(struct src *s, const char *list) {
  const char *p = list;
  size_t cap = 0;
  while (p != NULL && *p != '\0') {
    char item[32];
    size_t n;
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len > 0 && (*p == ' ' || *p == '\t')) {
      p++;
      len--;
    }
    n = len;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (n > 0) {
      if (n >= sizeof item) return -EINVAL;
      memcpy(item, p, n);
      item[n] = '\0';
      if (s->nknown == cap) {
        size_t ncap = cap ? cap * 2 : 8;
        void *nk = realloc(s->known, ncap * sizeof *s->known);
        if (nk == NULL) return -ENOMEM;
        s->known = nk;
        cap = ncap;
      }
      if (ble_addr_parse(item, s->known[s->nknown]) != 0) {
        vlog(s, VQ_LOG_ERROR, "known_addresses: '%s' is not a Bluetooth address", item);
        return -EINVAL;
      }
      s->nknown++;
    }
    p = end ? end + 1 : NULL;
  }
  return 0;
}

static char *dup_opt(struct src *s, const char *key) {
  const char *v = s->host->cfg_string(s->ctx, key);
  return (v != NULL && v[0] != '\0') ? strdup(v) : NULL;
}

static void src_free(struct src *s) {
  size_t i;
  if (s == NULL) return;
  for (i = 0; i < s->ndevs; i++)
    if (s->devs[i].adv_ready) ble_adv_device_fini(&s->devs[i].adv);
  free(s->devs);
  free(s->known);
  free(s->adapter);
  free(s->capture);
  free(s->output);
  /* The key must not outlive the instance in freed memory. */
  memset(s->key, 0, sizeof s->key);
  free(s);
}

static int ble_create(const struct vq_host *host, struct vq_ctx *ctx, void **instance) {
  struct src *s = calloc(1, sizeof *s);
  const char *v;
  int rc = -EINVAL;
  int b;
  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  v = host->cfg_string(ctx, "mode");
  if (v == NULL || strcmp(v, "decode") == 0)
    s->mode = MODE_DECODE;
  else if (strcmp(v, "scan") == 0)
    s->mode = MODE_SCAN;
  else if (strcmp(v, "dump") == 0)
    s->mode = MODE_DUMP;
  else {
    vlog(s, VQ_LOG_ERROR, "mode: '%s' is not decode, scan or dump", v);
    goto fail;
  }
  v = host->cfg_string(ctx, "address");
  if (v != NULL && v[0] != '\0') {
    if (ble_addr_parse(v, s->addr) != 0) {
      vlog(s, VQ_LOG_ERROR, "address: '%s' is not a Bluetooth address (AA:BB:CC:DD:EE:FF)", v);
      goto fail;
    }
    s->has_addr = 1;
  }
  v = host->cfg_string(ctx, "key");
  if (v != NULL && v[0] != '\0') {
    if (ble_adv_parse_key(v, s->key) != 0) {
      /* Never log the value of a secret. */
      vlog(s, VQ_LOG_ERROR, "key: not 32 hexadecimal digits");
      goto fail;
    }
    s->has_key = 1;
  }
  if (s->mode == MODE_DECODE && !s->has_key) {
    vlog(s, VQ_LOG_ERROR, "key (or key_file) is required to decode advertisements");
    goto fail;
  }
  s->adapter = dup_opt(s, "adapter");
  s->capture = dup_opt(s, "capture");
  s->output = dup_opt(s, "output");
  if (host->cfg_double(ctx, "speed", &s->speed) != 0) s->speed = 0;
  if (host->cfg_bool(ctx, "loop", &b) == 0) s->loop = b;
  if (host->cfg_duration(ctx, "seconds", &s->seconds_ms) != 0)
    s->seconds_ms = s->mode == MODE_SCAN ? 10000 : 0;
  if (s->loop && s->mode != MODE_DECODE) s->loop = 0; /* scan/dump end */
  v = host->cfg_string(ctx, "known_addresses");
  if ((rc = parse_known(s, v)) != 0) goto fail;
  s->devs = calloc(s->mode == MODE_DECODE && s->has_addr ? 1 : MAX_DEVICES, sizeof *s->devs);
  if (s->devs == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  *instance = s;
  return 0;
fail:
  src_free(s);
  return rc < 0 ? rc : -EINVAL;
}

static int ble_start(void *instance) {
  struct src *s = instance;
  uv_loop_t *loop = s->host->loop(s->ctx);
  int rc;
  if ((rc = uv_timer_init(loop, &s->replay_timer)) != 0) {
    vlog(s, VQ_LOG_ERROR, "cannot create a timer: %s", uv_strerror(rc));
    return -ENOMEM;
  }
  s->timers_init |= 1;
  if ((rc = uv_timer_init(loop, &s->end_timer)) != 0) {
    vlog(s, VQ_LOG_ERROR, "cannot create a timer: %s", uv_strerror(rc));
    return -ENOMEM; /* stop() closes the first */
  }
  s->timers_init |= 2;
  if ((rc = uv_idle_init(loop, &s->replay_idle)) != 0) {
    vlog(s, VQ_LOG_ERROR, "cannot create an idle handle: %s", uv_strerror(rc));
    return -ENOMEM;
  }
  s->timers_init |= 4;
  s->replay_idle.data = s;
  s->replay_timer.data = s;
  s->end_timer.data = s;
  if (s->mode == MODE_DUMP) {
    if (s->output == NULL || strcmp(s->output, "-") == 0) {
      s->dump = stdout;
      s->dump_is_stdout = 1;
    } else {
      s->dump = fopen(s->output, "w");
      if (s->dump == NULL) {
        rc = -errno;
        vlog(s, VQ_LOG_ERROR, "cannot write %s: %s", s->output, strerror(-rc));
        return rc;
      }
    }
    fprintf(s->dump,
            "# vicacq ble-adv capture: <unix time> <address> <rssi or -> "
            "<manufacturer data of company 0x02E1 without the company id, hex>\n");
    if (s->has_addr) {
      char a[18];
      ble_addr_format(s->addr, a);
      fprintf(s->dump, "# address filter: %s\n", a);
    }
    fflush(s->dump);
  }
  if (s->capture != NULL) {
    if ((rc = replay_open(s)) != 0) return rc;
    if ((rc = uv_idle_start(&s->replay_idle, replay_idle_cb)) != 0) return -ENOMEM;
  } else {
    rc = vq_bluez_subscribe(loop, s->adapter, BLE_ADV_COMPANY_ID, on_bluez_adv,
                              on_bluez_log, s, &s->sub);
    if (rc != 0) {
      vlog(s, VQ_LOG_ERROR, "cannot start the BlueZ scanner: %s", strerror(-rc));
      return rc;
    }
    s->sub_open = 1;
  }
  /* Scans (and dumps given a duration) end after `seconds`; a replayed
   * scan ends at the end of the file. */
  if (s->capture == NULL && s->mode != MODE_DECODE && s->seconds_ms > 0) {
    if (uv_timer_start(&s->end_timer, end_timer_cb, s->seconds_ms, 0) != 0) return -ENOMEM;
  }
  return 0;
}

/* Reports the stop once the scanner subscription and both timers are
 * gone. */
static void stop_check(struct src *s) {
  vq_stopped_cb done = s->stopped;
  if (s->sub_open || s->pending_closes > 0 || done == NULL) return;
  s->stopped = NULL;
  done(s->ctx);
}

static void sub_closed(void *arg) {
  struct src *s = arg;
  s->sub = NULL;
  s->sub_open = 0;
  stop_check(s);
}

static void timer_closed(uv_handle_t *h) {
  struct src *s = h->data;
  s->pending_closes--;
  stop_check(s);
}

static void ble_stop(void *instance, vq_stopped_cb done) {
  struct src *s = instance;
  s->stopping = 1;
  s->stopped = done;
  if (s->timers_init & 1) {
    s->pending_closes++;
    uv_close((uv_handle_t *)&s->replay_timer, timer_closed);
  }
  if (s->timers_init & 2) {
    s->pending_closes++;
    uv_close((uv_handle_t *)&s->end_timer, timer_closed);
  }
  if (s->timers_init & 4) {
    s->pending_closes++;
    uv_close((uv_handle_t *)&s->replay_idle, timer_closed);
  }
  s->timers_init = 0;
  if (s->cap != NULL) {
    fclose(s->cap);
    s->cap = NULL;
  }
  if (s->dump != NULL) {
    if (fflush(s->dump) == EOF)
      vlog(s, VQ_LOG_ERROR, "writing %s failed: %s", s->output ? s->output : "stdout",
           strerror(errno));
    if (!s->dump_is_stdout && fclose(s->dump) != 0)
      vlog(s, VQ_LOG_ERROR, "closing %s failed: %s", s->output, strerror(errno));
    s->dump = NULL;
  }
  if (s->sub_open)
    vq_bluez_unsubscribe(s->sub, sub_closed, s);
  else
    stop_check(s);
}

static void ble_destroy(void *instance) { src_free(instance); }

static const struct vq_option options[] = {
  {"address", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "Bluetooth address of the device (AA:BB:CC:DD:EE:FF); without it every Victron "
   "device whose key check byte matches the key is decoded"},
  {"key", VQ_OPT_SECRET, 0, NULL, NULL, 0, -1,
   "advertisement encryption key, 32 hex digits (VictronConnect: Product info > "
   "Instant readout details); required in decode mode, or give key_file"},
  {"adapter", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "Bluetooth adapter, e.g. hci0 (default: the first powered one); all ble-adv "
   "sources share one scanner"},
  {"capture", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "replay this capture file (written by vicacq dump) instead of scanning"},
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
  {NULL, 0, 0, NULL, NULL, 0, 0, NULL},
};

/* vicacq scan / vicacq dump ble-adv (the core builds the pipeline). */
static const struct vq_tool tools[] = {
  {.name = "scan",
   .summary = "list the Victron devices in range (KEY: yes when -c FILE has "
              "a key for it)",
   .preset = "mode=scan",
   .options = "adapter,seconds,capture",
   .from_config = "known_addresses=address+key"},
  {.name = "dump",
   .summary = "write the Victron advertisements heard to a capture file",
   .preset = "mode=dump",
   .options = "adapter,address,seconds,output,capture",
   .required = "output"},
  {.name = NULL},
};

static const struct vq_plugin descriptor = {
  VQ_PLUGIN_HEADER,
  "ble-adv",
  PACKAGE_VERSION,
  "Victron Instant Readout BLE advertisements (BlueZ or capture replay)",
  VQ_KIND_SOURCE,
  options,
  NULL,
  ble_create,
  ble_start,
  ble_stop,
  ble_destroy,
  NULL,
  NULL,
  NULL,
  NULL, NULL, tools, {NULL}, /* check, quantities, tools, reserved */
};

VQ_PLUGIN_DECLARE(ble_adv, descriptor)

/* ble-gatt plugin: descriptor, options, the check pass and the lifecycle
 * of a source reading a SmartShunt over a GATT connection (issue 13,
 * doc/protocols/ble-gatt.md).  The connection itself is ble_gatt_link.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble_gatt_source.h"
#include "vq_hex.h"
#include "vq_secret.h"

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

void gatt_log(struct gatt_src *s, int level, const char *fmt, ...) {
  char buf[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  s->host->log(s->ctx, level, "%s", buf);
}

static void cfg_problem(const struct vq_host *host, struct vq_ctx *ctx, const char *key,
                        const char *msg) {
  if (VQ_HOST_HAS(host, cfg_error))
    host->cfg_error(ctx, key, "%s", msg);
  else
    host->log(ctx, VQ_LOG_ERROR, "%s: %s", key, msg);
}

/* Six decimal digits, as text: "012345" keeps its zero (never octal). */
static int pin_ok(const char *pin) {
  size_t i;
  if (pin == NULL || strlen(pin) != 6) return 0;
  for (i = 0; i < 6; i++)
    if (pin[i] < '0' || pin[i] > '9') return 0;
  return 1;
}

/* The section's values, checked the same at --check and create; `s` (NULL
 * at check) gets them.  0 or -EINVAL. */
static int read_options(const struct vq_host *host, struct vq_ctx *ctx, struct gatt_src *s) {
  const char *addr = host->cfg_string(ctx, "address");
  const char *pin = host->cfg_string(ctx, "pin");
  const char *mode = host->cfg_string(ctx, "mode");
  uint8_t a[6];
  int64_t ka = 30;
  int bad = 0;
  if (addr == NULL || vq_bluez_parse_addr(addr, a) != 0) {
    cfg_problem(host, ctx, "address", "not a Bluetooth address (AA:BB:CC:DD:EE:FF)");
    bad = 1;
  }
  if (pin == NULL || pin[0] == '\0') pin = "000000";
  if (!pin_ok(pin)) {
    /* Never print a secret's value. */
    cfg_problem(host, ctx, "pin", "not six decimal digits (the SmartShunt's PIN code, "
                                  "VictronConnect: Product info > PIN code)");
    bad = 1;
  }
  host->cfg_int(ctx, "keep_alive", &ka);
  if (bad || s == NULL) return bad ? -EINVAL : 0;
  memcpy(s->addr, a, 6);
  vq_mac_device_id(a, s->device);
  memcpy(s->pin, pin, 7);
  s->poll_mode = mode != NULL && strcmp(mode, "poll") == 0;
  s->keep_alive_s = (unsigned)ka;
  if (host->cfg_duration(ctx, "interval", &s->interval_ms) != 0) s->interval_ms = 30000;
  return 0;
}

static int gatt_check(const struct vq_host *host, struct vq_ctx *ctx) {
  return read_options(host, ctx, NULL);
}

static void src_free(struct gatt_src *s) {
  if (s == NULL) return;
  free(s->adapter);
  vq_secret_clear(s->pin, sizeof s->pin);
  free(s);
}

static int gatt_create(const struct vq_host *host, struct vq_ctx *ctx, void **instance) {
  struct gatt_src *s = calloc(1, sizeof *s);
  const char *adapter;
  int rc;
  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  if ((rc = read_options(host, ctx, s)) != 0) {
    src_free(s);
    return rc;
  }
  adapter = host->cfg_string(ctx, "adapter");
  if (adapter != NULL && adapter[0] != '\0' && (s->adapter = strdup(adapter)) == NULL) {
    src_free(s);
    return -ENOMEM;
  }
  *instance = s;
  return 0;
}

static int gatt_start(void *instance) { return gatt_link_start(instance); }

static void gatt_stop(void *instance, vq_stopped_cb done) {
  struct gatt_src *s = instance;
  s->stopped = done;
  gatt_link_stop(s);
}

static void gatt_destroy(void *instance) { src_free(instance); }

static const struct vq_option options[] = {
  {"address", VQ_OPT_STRING, VQ_OPT_REQUIRED, NULL, NULL, 0, -1,
   "Bluetooth address of the SmartShunt (AA:BB:CC:DD:EE:FF)"},
  {"pin", VQ_OPT_SECRET, 0, "000000", NULL, 0, -1,
   "the SmartShunt's PIN code, six digits, leading zeros kept (VictronConnect: Product "
   "info > PIN code); or pin_file"},
  {"adapter", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "Bluetooth adapter, e.g. hci0 (default: the first powered one); all Bluetooth sources "
   "share one BlueZ client"},
  {"mode", VQ_OPT_ENUM, 0, "keep", "keep|poll", 0, -1,
   "keep: stay connected; poll: connect, read every value, disconnect, every interval"},
  {"interval", VQ_OPT_DURATION, 0, "30", NULL, 1000, 86400000.0,
   "poll mode: time between reads"},
  {"keep_alive", VQ_OPT_INT, 0, "30", NULL, 1, 65,
   "seconds written to the keep-alive characteristic (in ms), rewritten at half"},
  {NULL, 0, 0, NULL, NULL, 0, 0, NULL},
};

static const struct vq_plugin descriptor = {
  VQ_PLUGIN_HEADER,
  .name = "ble-gatt",
  .version = PACKAGE_VERSION,
  .description = "Victron SmartShunt over a BlueZ GATT connection (PIN pairing, keep-alive)",
  .kinds = VQ_KIND_SOURCE,
  .options = options,
  .create = gatt_create,
  .start = gatt_start,
  .stop = gatt_stop,
  .destroy = gatt_destroy,
  .check = gatt_check,
};

VQ_PLUGIN_DECLARE(ble_gatt, descriptor)

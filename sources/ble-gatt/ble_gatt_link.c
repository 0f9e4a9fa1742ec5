/* The connection of a ble-gatt source (doc/protocols/ble-gatt.md §3-§5):
 * connect with discovery paused, pair when not bonded, trust, look the
 * characteristics up by UUID after ServicesResolved (handles are not
 * stable), write the keep-alive first, read every value once, subscribe
 * where offered, rewrite the keep-alive at half its period and re-read a
 * value silent for 2 x keep_alive.  A lost link reconnects with back-off
 * and jitter; a wrong PIN is retried at most once per 30 s.  Poll mode
 * connects, reads every value once and disconnects, every `interval`, so
 * the phone app can connect in between. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ble_gatt_source.h"

#define BACKOFF_FIRST_MS 1000u
#define BACKOFF_MAX_MS 60000u
#define AUTH_RETRY_MS 30000u
#define UNSEEN_RETRY_MS 2000u
/* Values that arrive within this are one reading with one time. */
#define COALESCE_MS 20u
/* BlueZ reports an RSSI per advertisement (several a second); a link
 * quality sample this often is plenty and keeps readings value-driven. */
#define RSSI_EVERY_MS 10000u

static void attempt(uv_timer_t *t);

static uint64_t now_ms(struct gatt_src *s) { return uv_now(s->host->loop(s->ctx)); }

/* The next attempt after `base` ms, +-20 % so that sources do not retry in
 * step. */
static void retry_in(struct gatt_src *s, unsigned base) {
  unsigned jitter = base / 5;
  unsigned ms = base - jitter + (jitter ? (unsigned)rand() % (2 * jitter + 1) : 0);
  s->state = GATT_IDLE;
  uv_timer_start(&s->retry, attempt, ms, 0);
}

static void set_online(struct gatt_src *s, int online);

static void backoff(struct gatt_src *s) {
  unsigned ms = s->backoff_ms ? s->backoff_ms : BACKOFF_FIRST_MS;
  s->backoff_ms = ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms * 2;
  /* Polling: a poll that fails is the link lost (keep mode says so when
   * the connection drops). */
  if (s->poll_mode) set_online(s, 0);
  retry_in(s, ms);
}

/* ---- readings ---- */

static void flush_cb(uv_timer_t *t) {
  struct gatt_src *s = t->data;
  struct vq_reading r = VQ_READING_INIT;
  struct vq_tag tags[2] = {{"product", s->product ? s->product : "SmartShunt"},
                           {"product_id", s->product_id}};
  if (s->npending == 0) return;
  r.device = s->device;
  r.time_ns = s->pending_ns;
  r.tags = tags;
  r.ntags = s->product_id[0] != '\0' ? 2 : 1;
  r.records = s->pending;
  r.nrecords = (uint32_t)s->npending;
  s->host->emit(s->ctx, &r);
  s->npending = 0;
}

static void add_record(struct gatt_src *s, const struct vq_record *rec) {
  size_t i;
  if (s->npending == 0) {
    uv_timeval64_t tv;
    s->pending_ns = uv_gettimeofday(&tv) == 0
                        ? (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000
                        : 0;
    uv_timer_start(&s->flush, flush_cb, COALESCE_MS, 0);
  }
  /* A second value of one quantity before the flush: the newer wins. */
  for (i = 0; i < s->npending; i++)
    if (strcmp(s->pending[i].quantity, rec->quantity) == 0) {
      s->pending[i] = *rec;
      return;
    }
  if (s->npending < sizeof s->pending / sizeof s->pending[0]) s->pending[s->npending++] = *rec;
}

static void set_online(struct gatt_src *s, int online) {
  struct vq_record rec;
  if (s->online == online) return;
  s->online = online;
  memset(&rec, 0, sizeof rec);
  rec.quantity = "link.online";
  rec.type = VQ_VALUE_BOOL;
  rec.value.i64 = online;
  add_record(s, &rec);
  if (!online) {
    /* The link is down now, not after the coalescing delay. */
    uv_timer_stop(&s->flush);
    flush_cb(&s->flush);
  }
}

static struct gatt_char *char_by_path(struct gatt_src *s, const char *path) {
  size_t i;
  for (i = 0; i < s->nchars; i++)
    if (strcmp(s->chars[i].path, path) == 0) return &s->chars[i];
  return NULL;
}

static void got_value(struct gatt_src *s, struct gatt_char *c, const uint8_t *v, size_t len) {
  struct vq_record rec;
  c->last_ms = now_ms(s);
  if (ble_gatt_decode(c->def, v, len, &rec) != 0) {
    s->host->stat_add(s->ctx, "wrong_length", 1);
    return;
  }
  add_record(s, &rec);
}

/* ---- connection lost ---- */

static void link_down(struct gatt_src *s, const char *why) {
  if (s->state == GATT_STOPPING) return;
  if (s->poll_mode && s->state == GATT_IDLE) return; /* our own disconnect after a poll */
  uv_timer_stop(&s->keepalive);
  vq_bluez_discovery_resume(s->sub);
  s->nchars = 0;
  s->ka_path[0] = '\0';
  s->connected = s->resolved = 0;
  if (s->online) gatt_log(s, VQ_LOG_WARN, "%s disconnected (%s); reconnecting", s->device, why);
  set_online(s, 0);
  if (s->state != GATT_IDLE) backoff(s);
}

/* ---- keep-alive and quiet values ---- */

static void on_notify(void *arg, int err, const char *name, const char *msg);

/* Poll mode: every value is in; send them and let go of the device. */
static void poll_done(struct gatt_src *s) {
  uv_timer_stop(&s->keepalive);
  uv_timer_stop(&s->flush);
  flush_cb(&s->flush);
  s->nchars = 0;
  s->connected = s->resolved = 0;
  retry_in(s, (unsigned)s->interval_ms);
  vq_bluez_disconnect(s->sub, on_notify);
}

static void on_read(void *arg, const char *path, int err, const char *name,
                    const uint8_t *v, size_t len) {
  struct gatt_src *s = arg;
  struct gatt_char *c = char_by_path(s, path);
  if (c == NULL) return;
  c->reading = 0;
  if (err < 0)
    gatt_log(s, VQ_LOG_DEBUG, "reading %s failed: %s", c->def->quantity,
             name != NULL ? name : strerror(-err));
  else
    got_value(s, c, v, len);
  if (s->poll_mode && s->state == GATT_ONLINE && s->reads_left > 0 && --s->reads_left == 0)
    poll_done(s);
}

static void read_char(struct gatt_src *s, struct gatt_char *c) {
  if (c->reading) return;
  if (vq_bluez_gatt_read(s->sub, c->path, on_read) == 0) c->reading = 1;
}

static void write_keepalive(struct gatt_src *s);

static void keepalive_cb(uv_timer_t *t) {
  struct gatt_src *s = t->data;
  uint64_t now = now_ms(s), quiet = 2000u * s->keep_alive_s;
  size_t i;
  write_keepalive(s);
  for (i = 0; i < s->nchars; i++)
    if (now - s->chars[i].last_ms > quiet) read_char(s, &s->chars[i]);
}

static void on_notify(void *arg, int err, const char *name, const char *msg) {
  (void)arg;
  (void)err;
  (void)name;
  (void)msg; /* a value without notifications is re-read when quiet */
}

static void start_reading(struct gatt_src *s) {
  size_t i;
  uint64_t now = now_ms(s);
  s->reads_left = 0;
  for (i = 0; i < s->nchars; i++) {
    struct gatt_char *c = &s->chars[i];
    c->last_ms = now;
    read_char(s, c);
    if (c->reading) s->reads_left++;
    if (c->notify && !s->poll_mode) vq_bluez_gatt_notify(s->sub, c->path, on_notify);
  }
  if (s->poll_mode && s->reads_left == 0) poll_done(s);
}

static void on_keepalive(void *arg, int err, const char *name, const char *msg) {
  struct gatt_src *s = arg;
  (void)msg;
  if (s->state == GATT_STOPPING) return;
  if (err < 0) {
    gatt_log(s, VQ_LOG_DEBUG, "keep-alive write failed: %s", name != NULL ? name : strerror(-err));
    return; /* the disconnect event follows when the link is gone */
  }
  if (s->state == GATT_LOOKUP) {
    s->state = GATT_ONLINE;
    s->backoff_ms = 0;
    if (!s->online || !s->poll_mode)
      gatt_log(s, VQ_LOG_INFO, "%s connected, reading %zu values", s->device, s->nchars);
    set_online(s, 1);
    start_reading(s);
  }
  if (s->state == GATT_ONLINE) /* not after a poll ended */
    uv_timer_start(&s->keepalive, keepalive_cb, 500u * s->keep_alive_s, 0);
}

static void write_keepalive(struct gatt_src *s) {
  uint8_t v[2];
  ble_gatt_keepalive(s->keep_alive_s, v);
  if (vq_bluez_gatt_write(s->sub, s->ka_path, v, 2, on_keepalive) < 0 && s->state == GATT_ONLINE)
    uv_timer_start(&s->keepalive, keepalive_cb, 500u * s->keep_alive_s, 0);
}

/* ---- set-up ---- */

static void on_chars(void *arg, int err, const struct vq_bluez_char *ch, size_t n) {
  struct gatt_src *s = arg;
  size_t i;
  if (s->state != GATT_LOOKUP) return;
  if (err < 0) {
    gatt_log(s, VQ_LOG_WARN, "cannot list the GATT services of %s: %s", s->device,
             strerror(-err));
    vq_bluez_disconnect(s->sub, on_notify);
    backoff(s);
    return;
  }
  s->nchars = 0;
  s->ka_path[0] = '\0';
  for (i = 0; i < n; i++) {
    uint16_t id;
    const struct ble_gatt_char *def;
    if (ble_gatt_uuid_id(ch[i].uuid, &id) != 0) continue;
    if (id == BLE_GATT_KEEPALIVE_ID) {
      snprintf(s->ka_path, sizeof s->ka_path, "%s", ch[i].path);
      continue;
    }
    if ((def = ble_gatt_char_by_id(id)) == NULL || !ch[i].can_read ||
        s->nchars == GATT_MAX_CHARS)
      continue;
    memset(&s->chars[s->nchars], 0, sizeof s->chars[0]);
    s->chars[s->nchars].def = def;
    s->chars[s->nchars].notify = def->notify && ch[i].can_notify;
    snprintf(s->chars[s->nchars].path, sizeof s->chars[0].path, "%s", ch[i].path);
    s->nchars++;
  }
  if (n == 0 || s->ka_path[0] == '\0') {
    gatt_log(s, VQ_LOG_ERROR,
             "%s has no GATT service " BLE_GATT_SERVICE_UUID ": in VictronConnect, open the "
             "SmartShunt's Product info, turn on \"Bluetooth GATT service\", then power-cycle "
             "the SmartShunt", s->device);
    s->state = GATT_IDLE;
    vq_bluez_disconnect(s->sub, on_notify);
    retry_in(s, AUTH_RETRY_MS);
    return;
  }
  write_keepalive(s);
}

static void lookup(struct gatt_src *s) {
  int r;
  s->state = GATT_LOOKUP;
  if ((r = vq_bluez_gatt_lookup(s->sub, BLE_GATT_SERVICE_UUID, on_chars)) < 0) {
    gatt_log(s, VQ_LOG_WARN, "cannot look up the GATT service: %s", strerror(-r));
    backoff(s);
  }
}

static void on_trusted(void *arg, int err, const char *name, const char *msg) {
  struct gatt_src *s = arg;
  (void)msg;
  if (s->state != GATT_SETUP) return;
  vq_bluez_discovery_resume(s->sub);
  if (err < 0)
    gatt_log(s, VQ_LOG_DEBUG, "cannot set %s trusted: %s", s->device,
             name != NULL ? name : strerror(-err));
  if (s->resolved) lookup(s);
  else s->state = GATT_WAIT_SERVICES;
}

static void on_paired(void *arg, int err, const char *name, const char *msg) {
  struct gatt_src *s = arg;
  (void)msg;
  if (s->state != GATT_SETUP) return;
  if (err < 0) {
    vq_bluez_discovery_resume(s->sub);
    if (name != NULL && strcmp(name, "org.bluez.Error.AuthenticationFailed") == 0) {
      gatt_log(s, VQ_LOG_ERROR,
               "pairing with %s failed: wrong PIN; set pin (or pin_file) to the SmartShunt's "
               "PIN code (VictronConnect: the SmartShunt > settings > Product info > PIN "
               "code) and reload; retrying in %u s",
               s->device, AUTH_RETRY_MS / 1000);
      s->auth_failed = 1;
      vq_bluez_disconnect(s->sub, on_notify);
      retry_in(s, AUTH_RETRY_MS);
      return;
    }
    gatt_log(s, VQ_LOG_WARN, "pairing with %s failed: %s", s->device,
             name != NULL ? name : strerror(-err));
    backoff(s);
    return;
  }
  s->auth_failed = 0;
  gatt_log(s, VQ_LOG_INFO, "paired with %s", s->device);
  s->paired = 1;
  if (vq_bluez_trust(s->sub, on_trusted) < 0) on_trusted(s, 0, NULL, NULL);
}

static void on_connected(void *arg, int err, const char *name, const char *msg) {
  struct gatt_src *s = arg;
  (void)msg;
  if (s->state != GATT_SETUP) return;
  if (err < 0) {
    vq_bluez_discovery_resume(s->sub);
    gatt_log(s, VQ_LOG_DEBUG, "connecting to %s failed: %s", s->device,
             name != NULL ? name : strerror(-err));
    backoff(s);
    return;
  }
  s->connected = 1;
  if (!s->paired) {
    if (vq_bluez_pair(s->sub, on_paired) < 0) backoff(s);
  } else if (vq_bluez_trust(s->sub, on_trusted) < 0) {
    on_trusted(s, 0, NULL, NULL);
  }
}

static void on_state(void *arg, int err, const struct vq_bluez_device_state *st) {
  struct gatt_src *s = arg;
  if (s->state != GATT_SETUP) return;
  if (err < 0 || !st->known) {
    /* Not seen yet: the shared scanner is running; wait for it. */
    if (!s->unseen_logged)
      gatt_log(s, VQ_LOG_INFO, "waiting for %s to be seen by the Bluetooth scanner", s->device);
    s->unseen_logged = 1;
    retry_in(s, UNSEEN_RETRY_MS);
    return;
  }
  s->paired = st->paired;
  s->resolved = st->services_resolved;
  vq_bluez_discovery_pause(s->sub);
  if (vq_bluez_connect(s->sub, on_connected) < 0) {
    vq_bluez_discovery_resume(s->sub);
    backoff(s);
  }
}

static void attempt(uv_timer_t *t) {
  struct gatt_src *s = t->data;
  int r;
  s->state = GATT_SETUP;
  if ((r = vq_bluez_device_state(s->sub, on_state)) < 0) retry_in(s, r == -EAGAIN ? 500 : 5000);
}

/* ---- events ---- */

static void on_event(void *arg, const struct vq_bluez_event *ev) {
  struct gatt_src *s = arg;
  struct gatt_char *c;
  switch (ev->kind) {
  case VQ_BLUEZ_EV_CONNECTED:
    if (!ev->flag) link_down(s, "the device closed the link");
    break;
  case VQ_BLUEZ_EV_GONE: link_down(s, "BlueZ lost the device"); break;
  case VQ_BLUEZ_EV_PAIRED: s->paired = ev->flag; break;
  case VQ_BLUEZ_EV_SERVICES_RESOLVED:
    s->resolved = ev->flag;
    if (ev->flag && s->state == GATT_WAIT_SERVICES) lookup(s);
    break;
  case VQ_BLUEZ_EV_VALUE:
    if (s->state == GATT_ONLINE && (c = char_by_path(s, ev->char_path)) != NULL)
      got_value(s, c, ev->value, ev->len);
    break;
  }
}

/* The shared scanner runs for ble-adv and to find the device.  This
 * device's own advertisements name its model and carry the RSSI; they are
 * heard before a connection and between polls only, since a connected
 * SmartShunt stops advertising and BlueZ has no RSSI property for a
 * connection (doc/protocols/ble-gatt.md §6). */
static void on_adv(void *arg, const struct vq_bluez_adv *adv) {
  struct gatt_src *s = arg;
  uint64_t now;
  int32_t model;
  if (s->state == GATT_STOPPING || memcmp(adv->addr, s->addr, sizeof s->addr) != 0) return;
  if ((model = vic_ble_model_id(adv->data, adv->len)) >= 0) {
    s->product = vic_product_name((unsigned)model);
    vic_product_id_text((uint16_t)model, s->product_id);
  }
  now = now_ms(s);
  if (adv->has_rssi && (!s->rssi_sent || now - s->rssi_ms >= RSSI_EVERY_MS)) {
    struct vq_record rec;
    memset(&rec, 0, sizeof rec);
    rec.quantity = "link.rssi";
    rec.type = VQ_VALUE_INT;
    rec.value.i64 = adv->rssi;
    s->rssi_sent = 1;
    s->rssi_ms = now;
    add_record(s, &rec);
  }
}

static void on_bluez_log(void *arg, int level, const char *msg) {
  struct gatt_src *s = arg;
  s->host->log(s->ctx, level, "%s", msg);
}

/* ---- start and stop ---- */

static void handle_closed(uv_handle_t *h);

int gatt_link_start(struct gatt_src *s) {
  uv_loop_t *loop = s->host->loop(s->ctx);
  int r;
  uv_timer_init(loop, &s->retry);
  uv_timer_init(loop, &s->keepalive);
  uv_timer_init(loop, &s->flush);
  s->retry.data = s->keepalive.data = s->flush.data = s;
  s->open_handles = 3;
  if ((r = vq_bluez_subscribe(loop, s->adapter, 0x02E1, on_adv, on_bluez_log, s, &s->sub)) < 0 ||
      (r = vq_bluez_own_device(s->sub, s->addr, s->pin, on_event)) < 0) {
    gatt_log(s, VQ_LOG_ERROR, "cannot start the BlueZ client: %s", strerror(-r));
    if (s->sub != NULL) vq_bluez_unsubscribe(s->sub, NULL, NULL);
    s->sub = NULL;
    /* No stop() follows a failed start: close the timers here. */
    uv_close((uv_handle_t *)&s->retry, handle_closed);
    uv_close((uv_handle_t *)&s->keepalive, handle_closed);
    uv_close((uv_handle_t *)&s->flush, handle_closed);
    return r;
  }
  s->sub_open = 1;
  uv_timer_start(&s->retry, attempt, 0, 0);
  return 0;
}

static void stop_check(struct gatt_src *s) {
  vq_stopped_cb done = s->stopped;
  if (s->sub_open || s->open_handles > 0 || done == NULL) return;
  s->stopped = NULL;
  done(s->ctx);
}

static void handle_closed(uv_handle_t *h) {
  struct gatt_src *s = h->data;
  s->open_handles--;
  stop_check(s);
}

static void sub_closed(void *arg) {
  struct gatt_src *s = arg;
  s->sub = NULL;
  s->sub_open = 0;
  stop_check(s);
}

static void on_disconnected(void *arg, int err, const char *name, const char *msg) {
  struct gatt_src *s = arg;
  (void)err;
  (void)name;
  (void)msg;
  vq_bluez_unsubscribe(s->sub, sub_closed, s);
}

/* Disconnect (the bond is kept: no RemoveDevice), then leave the client. */
void gatt_link_stop(struct gatt_src *s) {
  int was_connected = s->connected || s->state == GATT_ONLINE;
  s->state = GATT_STOPPING;
  uv_timer_stop(&s->flush);
  flush_cb(&s->flush);
  uv_close((uv_handle_t *)&s->retry, handle_closed);
  uv_close((uv_handle_t *)&s->keepalive, handle_closed);
  uv_close((uv_handle_t *)&s->flush, handle_closed);
  if (!s->sub_open) return;
  if (!was_connected || vq_bluez_disconnect(s->sub, on_disconnected) < 0)
    vq_bluez_unsubscribe(s->sub, sub_closed, s);
}

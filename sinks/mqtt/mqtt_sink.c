/* The mqtt sink: state topics (doc/design.md §7), Home Assistant discovery,
 * availability and commands over libmosquitto on the daemon's loop.
 *
 * Delivery is at least once.  A batch completes OK only when every QoS 1
 * publish of it has been acknowledged by the broker (QoS 0: when every
 * byte is written to the socket).  While the broker is unreachable the
 * batch stays in flight (the core keeps queueing behind it, dropping the
 * oldest only on overflow), and after the reconnect libmosquitto sends the
 * unacknowledged QoS 1 messages again and the rest of the batch follows,
 * in order.  A message whose acknowledgement was lost arrives twice. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_announce.h"
#include "mqtt_client.h"
#include "mqtt_commands.h"
#include "mqtt_devices.h"
#include "mqtt_options.h"
#include "mqtt_out.h"
#include "mqtt_topics.h"
#include "record_format.h"
#include "vicacq/plugin.h"
#include "vq_text.h"

#define MID_SLOTS 65536

struct mqtt_sink {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  uv_loop_t *loop;
  struct mqtt_config cfg;
  char *status_topic; /* <base>/status */

  struct mqtt_client *client;
  struct mqtt_out out;
  struct mqtt_registry reg;
  struct mqtt_announcer ann;
  struct mqtt_commands cmds;

  /* The batch in flight. */
  const struct vq_batch *batch;
  uint32_t next;        /* readings published so far */
  uint32_t *pending;    /* unacknowledged QoS 1 messages per reading */
  uint32_t pending_cap;
  uint64_t unacked;     /* sum of pending */
  uint32_t rejected;    /* records never deliverable (refused, bad ids) */
  int publishing;       /* inside publish_batch: no completion */
  int32_t *mid_reading; /* mid -> reading index of the batch, or -1 */

  struct vq_text payload;
  uv_timer_t avail_timer, birth_timer, ghost_timer;
  int timers_open;
  int ghosts_due;       /* ghost_timeout passed while disconnected */
  unsigned bad_id_logged;
  int stopping;
  vq_stopped_cb stopped;
};

/* ---- publishing ------------------------------------------------------- */

/* struct mqtt_out for the announcer and the commands: messages that are
 * not part of the batch. */
static int out_publish(void *arg, const char *topic, const void *payload,
                       size_t len, int qos, int retain) {
  struct mqtt_sink *s = arg;
  int mid = 0, rc;
  rc = mqtt_client_publish(s->client, topic, payload, len, qos, retain, &mid);
  if (mid > 0) s->mid_reading[mid] = -1;
  return rc;
}

static int out_subscribe(void *arg, const char *topic) {
  struct mqtt_sink *s = arg;
  return mqtt_client_subscribe(s->client, topic, 1);
}

static int out_connected(void *arg) {
  struct mqtt_sink *s = arg;
  return mqtt_client_connected(s->client);
}

/* A message that can never be published (the broker's size limit, a topic
 * libmosquitto refuses): its records are rejected, the rest goes on. */
static int never_deliverable(int rc) {
  return rc == -EMSGSIZE || rc == -EILSEQ || rc == -EINVAL;
}

/* Publish one message of reading i of the batch, count it if QoS 1. */
static int publish_state(struct mqtt_sink *s, uint32_t i, const char *topic,
                         const char *payload, size_t len, uint32_t records) {
  int mid = 0, rc, qos = s->cfg.qos;
  rc = mqtt_client_publish(s->client, topic, payload, len, qos, s->cfg.retain,
                           &mid);
  if (mid > 0) {
    s->mid_reading[mid] = qos > 0 ? (int32_t)i : -1;
    if (qos > 0) {
      s->pending[i]++;
      s->unacked++;
    }
  }
  if (never_deliverable(rc)) {
    s->rejected += records;
    s->host->stat_add(s->ctx, "records_rejected", records);
    s->host->log(s->ctx, VQ_LOG_WARN, "cannot publish on %s: %s (rejected)",
                 topic, strerror(-rc));
    return 0;
  }
  return rc;
}

/* Bytes outside printable ASCII as \xHH, for a log line. */
static void add_escaped(struct vq_text *t, const char *s) {
  static const char hex[] = "0123456789abcdef";
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      vq_text_addc(t, (char)c);
    } else {
      char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
      vq_text_add(t, e, 4);
    }
  }
}

/* Ids that cannot be in a topic: the reading is rejected, not retried.
 * The id is shown with its bytes escaped. */
static int reading_ids_ok(struct mqtt_sink *s, const struct vq_reading *r) {
  const char *bad = NULL;
  struct vq_text t;
  if (r->source != NULL && !vq_utf8_valid(r->source)) bad = r->source;
  else if (!vq_utf8_valid(r->device)) bad = r->device;
  if (bad == NULL) return 1;
  s->rejected += r->nrecords;
  s->host->stat_add(s->ctx, "records_rejected", r->nrecords);
  if (s->bad_id_logged++ > 0) return 0; /* the counters tell the rest */
  vq_text_init(&t);
  add_escaped(&t, bad);
  s->host->log(s->ctx, VQ_LOG_WARN,
               "readings of %s %s are rejected: the id is not UTF-8, which an "
               "MQTT topic must be (counted as records_rejected)",
               bad == r->device ? "device" : "source",
               t.failed ? "?" : t.data);
  vq_text_free(&t);
  return 0;
}

/* Plain payload of a record: number, enum label (the code when it has
 * none), ON/OFF, text, bitmask labels ("none" when no bit is set); None
 * when not available (HA shows unknown). */
static void plain_payload(struct vq_text *t, const struct vq_record *rec) {
  if (rec->flags & VQ_RECORD_NA) {
    vq_text_adds(t, "None");
    return;
  }
  switch (rec->type) {
  case VQ_VALUE_DOUBLE:
  case VQ_VALUE_INT: vq_format_json_value(t, rec); break;
  case VQ_VALUE_BOOL: vq_text_adds(t, rec->value.i64 ? "ON" : "OFF"); break;
  case VQ_VALUE_STRING: vq_text_adds(t, rec->value.str ? rec->value.str : ""); break;
  case VQ_VALUE_ENUM:
    if (rec->text != NULL && *rec->text) vq_text_adds(t, rec->text);
    else vq_text_add_int(t, rec->value.i64);
    break;
  default:
    /* bitmask: the labels of the set bits; "none" when no bit is set (an
     * empty payload would clear a retained state, and HA ignores it) */
    if (rec->text == NULL) vq_text_add_int(t, rec->value.i64);
    else vq_text_adds(t, *rec->text ? rec->text : "none");
    break;
  }
}

static int publish_reading(struct mqtt_sink *s, uint32_t i) {
  const struct vq_reading *r = s->batch->readings[i];
  struct mqtt_device *d, *twin;
  uint32_t j;
  int online = 1, created, changed, rc;

  if (!reading_ids_ok(s, r)) return 0;
  if ((d = mqtt_registry_device(&s->reg, r, &created, &changed)) == NULL)
    return -ENOMEM;
  if (created && (twin = mqtt_registry_same_id(&s->reg, d)) != NULL)
    s->host->log(s->ctx, VQ_LOG_WARN,
                 "sources %s and %s both report a device %s (one without a "
                 "serial number?): Home Assistant gets two devices, told "
                 "apart by the source in their ids",
                 twin->source, d->source, d->device);
  if (changed) mqtt_announce_device_changed(&s->ann, d);
  d->last_ms = uv_now(s->loop);
  for (j = 0; j < r->nrecords; j++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, j);
    if (strcmp(rec->quantity, "link.online") == 0 && rec->type == VQ_VALUE_BOOL &&
        !(rec->flags & VQ_RECORD_NA) && rec->value.i64 == 0)
      online = 0; /* the source lost the device */
  }
  mqtt_announce_availability(&s->ann, d, online, 0);

  if (s->cfg.json) {
    for (j = 0; j < r->nrecords; j++) {
      struct mqtt_entity *e =
          mqtt_announce_record(&s->ann, d, VQ_READING_RECORD(r, j));
      if (e == NULL) return -ENOMEM;
      if (e->writable && !e->subscribed) mqtt_commands_subscribe(&s->cmds, e);
    }
    vq_text_clear(&s->payload);
    vq_format_json_reading(&s->payload, r);
    if (s->payload.failed) return -ENOMEM;
    return publish_state(s, i, d->topic, s->payload.data, s->payload.len,
                         r->nrecords);
  }
  for (j = 0; j < r->nrecords; j++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, j);
    struct mqtt_entity *e;
    if (!vq_utf8_valid(rec->quantity)) {
      s->rejected++;
      s->host->stat_add(s->ctx, "records_rejected", 1);
      continue;
    }
    if ((e = mqtt_announce_record(&s->ann, d, rec)) == NULL) return -ENOMEM;
    if (e->writable && !e->subscribed) mqtt_commands_subscribe(&s->cmds, e);
    vq_text_clear(&s->payload);
    plain_payload(&s->payload, rec);
    if (s->payload.failed) return -ENOMEM;
    if (e->last == NULL || strcmp(e->last, s->payload.data) != 0) {
      char *copy = strdup(s->payload.data);
      if (copy != NULL) {
        free(e->last);
        e->last = copy;
      }
    }
    if ((rc = publish_state(s, i, e->state_topic, s->payload.data,
                            s->payload.len, 1)) < 0)
      return rc;
  }
  return 0;
}

/* Readings finished from the head: published and fully acknowledged. */
static uint32_t acked_prefix(const struct mqtt_sink *s) {
  uint32_t i;
  for (i = 0; i < s->next && s->pending[i] == 0; i++) {
  }
  return i;
}

static void complete(struct mqtt_sink *s, int status, uint32_t done,
                     const char *reason) {
  const struct vq_batch *b = s->batch;
  uint32_t rejected = s->rejected;
  s->batch = NULL;
  if (status == VQ_WRITE_OK && rejected > 0) {
    status = VQ_WRITE_PARTIAL;
    done = b->nreadings;
    reason = "never deliverable (refused by the broker, or an id that is "
             "not UTF-8)";
  }
  s->host->batch_done(s->ctx, b, status, done,
                      status == VQ_WRITE_PARTIAL ? rejected : 0, reason);
}

static void check_done(struct mqtt_sink *s) {
  if (s->batch == NULL || s->publishing || s->next < s->batch->nreadings)
    return;
  if (s->cfg.qos > 0) {
    if (s->unacked == 0) complete(s, VQ_WRITE_OK, 0, NULL);
  } else if (mqtt_client_connected(s->client) && mqtt_client_idle(s->client)) {
    /* QoS 0: done once libmosquitto has written everything (that paces
     * the core to the socket instead of growing libmosquitto's queue);
     * otherwise on_drained finishes it. */
    complete(s, VQ_WRITE_OK, 0, NULL);
  }
}

static void publish_batch(struct mqtt_sink *s) {
  int rc;
  s->publishing = 1;
  while (s->batch != NULL && s->next < s->batch->nreadings &&
         mqtt_client_connected(s->client)) {
    rc = publish_reading(s, s->next);
    if (rc == -ENOTCONN) break; /* the rest goes after the reconnect */
    if (rc < 0) {
      s->publishing = 0;
      s->host->log(s->ctx, VQ_LOG_ERROR, "cannot publish: %s", strerror(-rc));
      /* The finished head stays delivered; the rest is retried. */
      complete(s, VQ_WRITE_PARTIAL, acked_prefix(s), strerror(-rc));
      return;
    }
    s->next++;
  }
  s->publishing = 0;
  /* New entities are on disk before their batch completes: a kill -9
   * must not make them ghosts nobody clears. */
  mqtt_announce_save(&s->ann);
  check_done(s);
}

static int sink_write(void *instance, const struct vq_batch *batch) {
  struct mqtt_sink *s = instance;
  if (batch->nreadings > s->pending_cap) {
    uint32_t *p = realloc(s->pending, batch->nreadings * sizeof *p);
    if (p == NULL) return -ENOMEM;
    s->pending = p;
    s->pending_cap = batch->nreadings;
  }
  memset(s->pending, 0, batch->nreadings * sizeof *s->pending);
  s->batch = batch;
  s->next = 0;
  s->unacked = 0;
  s->rejected = 0;
  /* Not connected: hold the batch until we are (on_connected).  Handing
   * it back as RETRY would put the core's back-off (up to retry_max)
   * between the broker's return and the delivery. */
  if (mqtt_client_connected(s->client)) publish_batch(s);
  return 0;
}

/* ---- client callbacks ------------------------------------------------- */

static void on_log(void *arg, int level, const char *fmt, ...) {
  struct mqtt_sink *s = arg;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  s->host->log(s->ctx, level, "%s", line);
}

static void on_connected(void *arg) {
  struct mqtt_sink *s = arg;
  struct mqtt_device *d;
  size_t i;
  int rc;
  out_publish(s, s->status_topic, "online", 6, 1, 1);
  if (s->cfg.discovery &&
      (rc = mqtt_client_subscribe(s->client, s->cfg.ha_status_topic, 1)) < 0)
    s->host->log(s->ctx, VQ_LOG_WARN, "cannot subscribe to %s: %s",
                 s->cfg.ha_status_topic, strerror(-rc));
  mqtt_announce_all(&s->ann, 0);
  for (d = s->reg.devices; d != NULL; d = d->next)
    for (i = 0; i < d->nentities; i++)
      if (d->entities[i].writable)
        mqtt_commands_subscribe(&s->cmds, &d->entities[i]);
  if (s->ghosts_due) {
    s->ghosts_due = 0;
    mqtt_announce_sweep_ghosts(&s->ann);
  }
  if (s->batch != NULL && s->cfg.qos == 0 && s->next == s->batch->nreadings)
    s->next = 0; /* QoS 0 bytes lost with the connection: send again */
  publish_batch(s);
}

static void on_disconnected(void *arg, const char *why) {
  struct mqtt_sink *s = arg;
  struct mqtt_device *d;
  size_t i;
  s->host->log(s->ctx, VQ_LOG_WARN, "broker %s:%d unreachable: %s%s",
               s->cfg.client.host, s->cfg.client.port, why,
               s->batch ? " (records wait in the queue)" : "");
  for (d = s->reg.devices; d != NULL; d = d->next)
    for (i = 0; i < d->nentities; i++) d->entities[i].subscribed = 0;
  /* QoS 0: what was handed to libmosquitto may not have been written. */
  if (s->batch != NULL && s->cfg.qos == 0) s->next = 0;
}

static void on_birth_timer(uv_timer_t *t) {
  struct mqtt_sink *s = t->data;
  if (mqtt_client_connected(s->client)) mqtt_announce_all(&s->ann, 1);
}

static void on_message(void *arg, const struct mosquitto_message *msg) {
  struct mqtt_sink *s = arg;
  if (s->cfg.discovery && strcmp(msg->topic, s->cfg.ha_status_topic) == 0) {
    /* Home Assistant (re)started: it forgot every entity.  Announce again
     * after a short random delay so that many publishers do not answer in
     * the same instant. */
    if (msg->payloadlen == 6 && memcmp(msg->payload, "online", 6) == 0) {
      uint64_t delay = s->cfg.discovery_delay_ms
                           ? (uint64_t)rand() % (s->cfg.discovery_delay_ms + 1)
                           : 0;
      s->host->log(s->ctx, VQ_LOG_INFO,
                   "Home Assistant is online: discovery in %llu ms",
                   (unsigned long long)delay);
      uv_timer_start(&s->birth_timer, on_birth_timer, delay, 0);
    }
    return;
  }
  mqtt_commands_message(&s->cmds, msg->topic, msg->payload,
                        msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0,
                        msg->retain);
}

static void on_published(void *arg, int mid, int reason) {
  struct mqtt_sink *s = arg;
  int32_t i;
  if (mid <= 0 || mid >= MID_SLOTS) return;
  i = s->mid_reading[mid];
  s->mid_reading[mid] = -1;
  if (i < 0 || s->batch == NULL || (uint32_t)i >= s->batch->nreadings ||
      s->pending[i] == 0)
    return;
  s->pending[i]--;
  s->unacked--;
  if (reason >= 0x80) /* refused (MQTT 5), e.g. by an ACL: its records */
    s->rejected += s->cfg.json ? s->batch->readings[i]->nrecords : 1;
  check_done(s);
}

static void on_drained(void *arg) {
  struct mqtt_sink *s = arg;
  if (s->cfg.qos == 0 && s->batch != NULL && !s->publishing &&
      s->next == s->batch->nreadings)
    complete(s, VQ_WRITE_OK, 0, NULL);
}

/* ---- timers ----------------------------------------------------------- */

static void on_avail_timer(uv_timer_t *t) {
  struct mqtt_sink *s = t->data;
  mqtt_announce_timeouts(&s->ann, uv_now(s->loop), s->cfg.device_timeout_ms);
}

static void on_ghost_timer(uv_timer_t *t) {
  struct mqtt_sink *s = t->data;
  if (mqtt_client_connected(s->client)) mqtt_announce_sweep_ghosts(&s->ann);
  else s->ghosts_due = 1; /* at the next connect */
}

/* ---- plugin ----------------------------------------------------------- */

static void sink_destroy(void *instance);

static int sink_create(const struct vq_host *host, struct vq_ctx *ctx,
                       void **instance) {
  struct mqtt_sink *s = calloc(1, sizeof *s);
  struct mqtt_client_cbs cbs;
  struct mqtt_disc_options disc;
  struct vq_text t;
  int rc, i;

  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  s->loop = host->loop(ctx);
  vq_text_init(&s->payload);
  mqtt_registry_init(&s->reg, "");
  if ((rc = mqtt_config_read(&s->cfg, host, ctx, 0)) < 0) goto fail;
  s->reg.base = s->cfg.base;
  s->mid_reading = malloc(MID_SLOTS * sizeof *s->mid_reading);
  vq_text_init(&t);
  vq_text_adds(&t, s->cfg.base);
  vq_text_adds(&t, "/status");
  s->status_topic = t.failed ? NULL : t.data;
  if (s->mid_reading == NULL || s->status_topic == NULL) {
    if (s->status_topic == NULL) vq_text_free(&t);
    rc = -ENOMEM;
    goto fail;
  }
  for (i = 0; i < MID_SLOTS; i++) s->mid_reading[i] = -1;
  s->cfg.client.will_topic = s->status_topic;
  s->cfg.client.will_payload = "offline";

  s->out.connected = out_connected;
  s->out.publish = out_publish;
  s->out.subscribe = out_subscribe;
  s->out.arg = s;
  memset(&disc, 0, sizeof disc);
  disc.prefix = s->cfg.prefix;
  disc.base = s->cfg.base;
  disc.node = s->cfg.node_id;
  disc.origin_sw = PACKAGE_VERSION;
  disc.json_payload = s->cfg.json;
  disc.expire_after_s = s->cfg.expire_after_s;
  disc.qos = 1;
  mqtt_announcer_init(&s->ann, host, ctx, &s->out, &s->reg, &disc,
                      s->cfg.discovery, s->cfg.json, s->cfg.qos,
                      s->cfg.retain);
  mqtt_commands_init(&s->cmds, host, ctx, &s->out, &s->reg, s->cfg.base);

  memset(&cbs, 0, sizeof cbs);
  cbs.connected = on_connected;
  cbs.disconnected = on_disconnected;
  cbs.message = on_message;
  cbs.published = on_published;
  cbs.drained = on_drained;
  cbs.log = on_log;
  if ((rc = mqtt_client_new(&s->client, s->loop, &s->cfg.client, &cbs, s)) < 0)
    goto fail;
  *instance = s;
  return 0;
fail:
  sink_destroy(s);
  return rc;
}

static int sink_start(void *instance) {
  struct mqtt_sink *s = instance;
  uv_timer_init(s->loop, &s->avail_timer);
  uv_timer_init(s->loop, &s->birth_timer);
  uv_timer_init(s->loop, &s->ghost_timer);
  s->avail_timer.data = s->birth_timer.data = s->ghost_timer.data = s;
  s->timers_open = 3;
  if (s->cfg.device_timeout_ms > 0) {
    uint64_t every = s->cfg.device_timeout_ms / 4;
    if (every > 1000) every = 1000;
    if (every < 10) every = 10;
    uv_timer_start(&s->avail_timer, on_avail_timer, every, every);
  }
  if (mqtt_ghosts_stale(&s->ann.ghosts) > 0)
    uv_timer_start(&s->ghost_timer, on_ghost_timer, s->cfg.ghost_timeout_ms, 0);
  s->host->log(s->ctx, VQ_LOG_INFO,
               "connecting to %s:%d as %s (MQTT %s%s), node id %s",
               s->cfg.client.host, s->cfg.client.port, s->cfg.client_id,
               s->cfg.client.protocol == MQTT_PROTOCOL_V5 ? "5" : "3.1.1",
               s->cfg.client.tls ? ", TLS" : "", s->cfg.node_id);
  return mqtt_client_start(s->client);
}

static void on_timer_closed(uv_handle_t *h) {
  struct mqtt_sink *s = h->data;
  if (--s->timers_open == 0) s->stopped(s->ctx);
}

static void on_client_stopped(void *arg) {
  struct mqtt_sink *s = arg;
  uv_close((uv_handle_t *)&s->avail_timer, on_timer_closed);
  uv_close((uv_handle_t *)&s->birth_timer, on_timer_closed);
  uv_close((uv_handle_t *)&s->ghost_timer, on_timer_closed);
}

static void sink_stop(void *instance, vq_stopped_cb done) {
  struct mqtt_sink *s = instance;
  s->stopped = done;
  s->stopping = 1;
  if (s->batch != NULL) {
    /* What is acknowledged is delivered; the rest stays queued (and
     * spooled, if configured). */
    uint32_t n = acked_prefix(s);
    if (n == 0) complete(s, VQ_WRITE_RETRY, 0, "stopping");
    else complete(s, VQ_WRITE_PARTIAL, n, "stopping");
  }
  mqtt_announce_save(&s->ann);
  /* The graceful "offline" (a clean disconnect does not fire the will). */
  mqtt_client_stop(s->client, s->status_topic, "offline", 1000,
                   on_client_stopped, s);
}

static void sink_destroy(void *instance) {
  struct mqtt_sink *s = instance;
  if (s->client != NULL) mqtt_client_free(s->client);
  if (s->ann.host != NULL) mqtt_announcer_free(&s->ann);
  mqtt_commands_free(&s->cmds);
  mqtt_registry_free(&s->reg);
  vq_text_free(&s->payload);
  free(s->pending);
  free(s->mid_reading);
  free(s->status_topic);
  mqtt_config_free(&s->cfg);
  free(s);
}

static void sink_command_result(void *instance, uint64_t ticket, int status,
                                const char *message) {
  struct mqtt_sink *s = instance;
  mqtt_commands_result(&s->cmds, ticket, status, message);
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "mqtt",
    .version = PACKAGE_VERSION,
    .description = "MQTT state topics, Home Assistant discovery and commands",
    .kinds = VQ_KIND_SINK,
    .options = mqtt_options,
    .create = sink_create,
    .start = sink_start,
    .stop = sink_stop,
    .destroy = sink_destroy,
    .write = sink_write,
    .command_result = sink_command_result,
    .check = mqtt_config_check,
};

VQ_PLUGIN_DECLARE(mqtt, descriptor)

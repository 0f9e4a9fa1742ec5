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
#include <unistd.h>

#include "mqtt_sink.h"
#include "mqtt_topics.h"
#include "record_format.h"

#define MID_SLOTS 65536

static const struct vq_option options[] = {
    {"host", VQ_OPT_STRING, 0, "127.0.0.1", NULL, 1, 0, "broker host"},
    {"port", VQ_OPT_INT, 0, NULL, NULL, 1, 65535,
     "broker port (default 1883, or 8883 with tls)"},
    {"client_id", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "MQTT client id (default vicacq-<sink id>-<host name>)"},
    {"protocol", VQ_OPT_ENUM, 0, "5", "3.1.1|5", 1, 0,
     "MQTT protocol version (5 lets retained commands be told from live "
     "ones)"},
    {"keepalive", VQ_OPT_DURATION, 0, "30s", NULL, 5000, 65535000,
     "MQTT keepalive"},
    {"clean_session", VQ_OPT_BOOL, 0, "yes", NULL, 1, 0,
     "no: a persistent session (needs a fixed client_id)"},
    {"username", VQ_OPT_STRING, 0, NULL, NULL, 1, 0, "user name"},
    {"password", VQ_OPT_SECRET, 0, NULL, NULL, 1, 0,
     "password (or password_file = PATH)"},
    {"tls", VQ_OPT_BOOL, 0, "no", NULL, 1, 0, "connect with TLS"},
    {"tls_ca_file", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "CA certificate(s) to trust (default: the system store)"},
    {"tls_ca_path", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "directory of CA certificates to trust"},
    {"tls_cert_file", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "client certificate (PEM)"},
    {"tls_key_file", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "client certificate key (PEM, unencrypted)"},
    {"tls_verify_host", VQ_OPT_BOOL, 0, "yes", NULL, 1, 0,
     "check that the broker's certificate names host"},
    {"qos", VQ_OPT_INT, 0, "1", NULL, 0, 1,
     "QoS of state messages (1: at least once, acknowledged before the "
     "records leave the queue)"},
    {"retain", VQ_OPT_BOOL, 0, "no", NULL, 1, 0, "retain state messages"},
    {"payload", VQ_OPT_ENUM, 0, "plain", "plain|json", 1, 0,
     "plain: one topic per quantity; json: one object per device per "
     "reading on <base>/<source>/<device>"},
    {"base_topic", VQ_OPT_STRING, 0, "vicacq", NULL, 1, 0, "topic root"},
    {"discovery", VQ_OPT_BOOL, 0, "yes", NULL, 1, 0,
     "publish Home Assistant discovery"},
    {"discovery_prefix", VQ_OPT_STRING, 0, "homeassistant", NULL, 1, 0,
     "Home Assistant discovery prefix"},
    {"ha_status_topic", VQ_OPT_STRING, 0, "homeassistant/status", NULL, 1, 0,
     "Home Assistant birth topic; discovery is re-sent when it says online"},
    {"discovery_delay", VQ_OPT_DURATION, 0, "2s", NULL, 0, 600000,
     "longest random delay before re-sending discovery to a restarted HA"},
    {"expire_after", VQ_OPT_DURATION, 0, "0", NULL, 0, 86400000,
     "Home Assistant expire_after of sensors (0: none)"},
    {"device_timeout", VQ_OPT_DURATION, 0, "5m", NULL, 0, 86400000,
     "a device silent this long is marked unavailable (0: never)"},
    {"reconnect_min", VQ_OPT_DURATION, 0, "1s", NULL, 10, 3600000,
     "first reconnect delay (doubles, with jitter, up to reconnect_max)"},
    {"reconnect_max", VQ_OPT_DURATION, 0, "60s", NULL, 10, 3600000,
     "longest reconnect delay"},
    {"connect_timeout", VQ_OPT_DURATION, 0, "10s", NULL, 100, 600000,
     "give up on a connection attempt after this long"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

/* ---- publishing ------------------------------------------------------- */

int mqtt_sink_publish_extra(struct mqtt_sink *s, const char *topic,
                            const char *payload, size_t len, int qos,
                            int retain) {
  int mid = 0, rc;
  rc = mqtt_client_publish(s->client, topic, payload, len, qos, retain, &mid);
  if (mid > 0) s->mid_reading[mid] = -1; /* not part of the batch */
  return rc;
}

/* Publish one message of reading i of the batch, count it if QoS 1. */
static int publish_state(struct mqtt_sink *s, uint32_t i, const char *topic,
                         const char *payload, size_t len) {
  int mid = 0, rc;
  rc = mqtt_client_publish(s->client, topic, payload, len, s->qos, s->retain,
                           &mid);
  if (mid > 0) {
    s->mid_reading[mid] = s->qos > 0 ? (int32_t)i : -1;
    if (s->qos > 0) {
      s->pending[i]++;
      s->unacked++;
    }
  }
  if (rc == -EMSGSIZE) {
    /* Never deliverable (the broker's packet limit): count it, go on. */
    s->rejected++;
    return 0;
  }
  return rc;
}

static int publish_reading(struct mqtt_sink *s, uint32_t i) {
  const struct vq_reading *r = s->batch->readings[i];
  struct mqtt_device *d = mqtt_device_get(s, r);
  uint32_t j;
  int online = 1, rc;

  if (d == NULL) return -ENOMEM;
  d->last_ms = uv_now(s->loop);
  for (j = 0; j < r->nrecords; j++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, j);
    if (strcmp(rec->quantity, "link.online") == 0 && rec->type == VQ_VALUE_BOOL &&
        !(rec->flags & VQ_RECORD_NA) && rec->value.i64 == 0)
      online = 0; /* the source lost the device */
  }
  mqtt_device_set_available(s, d, online, 0);

  if (s->json) {
    for (j = 0; j < r->nrecords; j++)
      if (mqtt_entity_get(s, d, VQ_READING_RECORD(r, j)) == NULL)
        return -ENOMEM;
    vq_text_clear(&s->payload);
    vq_format_json_reading(&s->payload, r);
    if (s->payload.failed) return -ENOMEM;
    return publish_state(s, i, d->topic, s->payload.data, s->payload.len);
  }
  for (j = 0; j < r->nrecords; j++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, j);
    struct mqtt_entity *e = mqtt_entity_get(s, d, rec);
    if (e == NULL) return -ENOMEM;
    vq_text_clear(&s->payload);
    mqtt_plain_payload(&s->payload, rec);
    if (s->payload.failed) return -ENOMEM;
    if (e->last == NULL || strcmp(e->last, s->payload.data) != 0) {
      char *copy = strdup(s->payload.data);
      if (copy != NULL) {
        free(e->last);
        e->last = copy;
      }
    }
    if ((rc = publish_state(s, i, e->state_topic, s->payload.data,
                            s->payload.len)) < 0)
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
    reason = "the broker refused some messages";
  }
  s->host->batch_done(s->ctx, b, status, done,
                      status == VQ_WRITE_PARTIAL ? rejected : 0, reason);
}

static void check_done(struct mqtt_sink *s) {
  if (s->batch == NULL || s->publishing || s->next < s->batch->nreadings)
    return;
  if (s->qos > 0) {
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
  int rc;
  mqtt_sink_publish_extra(s, s->status_topic, "online", 6, 1, 1);
  if (s->discovery &&
      (rc = mqtt_client_subscribe(s->client, s->ha_status_topic, 1)) < 0)
    s->host->log(s->ctx, VQ_LOG_WARN, "cannot subscribe to %s: %s",
                 s->ha_status_topic, strerror(-rc));
  mqtt_announce_all(s, 0);
  if (s->batch != NULL && s->qos == 0 && s->next == s->batch->nreadings)
    s->next = 0; /* QoS 0 bytes lost with the connection: send again */
  publish_batch(s);
}

static void on_disconnected(void *arg, const char *why) {
  struct mqtt_sink *s = arg;
  struct mqtt_device *d;
  size_t i;
  s->host->log(s->ctx, VQ_LOG_WARN, "broker %s:%d unreachable: %s%s",
               s->ccfg.host, s->ccfg.port, why,
               s->batch ? " (records wait in the queue)" : "");
  for (d = s->devices; d != NULL; d = d->next)
    for (i = 0; i < d->nentities; i++) d->entities[i].subscribed = 0;
  /* QoS 0: what was handed to libmosquitto may not have been written. */
  if (s->batch != NULL && s->qos == 0) s->next = 0;
}

static void on_message(void *arg, const struct mosquitto_message *msg) {
  mqtt_commands_message(arg, msg);
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
  if (reason >= 0x80) s->rejected++; /* refused (MQTT 5), e.g. by an ACL */
  check_done(s);
}

static void on_drained(void *arg) {
  struct mqtt_sink *s = arg;
  if (s->qos == 0 && s->batch != NULL && !s->publishing &&
      s->next == s->batch->nreadings)
    complete(s, VQ_WRITE_OK, 0, NULL);
}

/* ---- timers ----------------------------------------------------------- */

static void on_avail_timer(uv_timer_t *t) {
  mqtt_devices_check_timeouts(t->data);
}

static void on_birth_timer(uv_timer_t *t) {
  struct mqtt_sink *s = t->data;
  if (mqtt_client_connected(s->client)) mqtt_announce_all(s, 1);
}

void mqtt_sink_schedule_announce(struct mqtt_sink *s, uint64_t delay_ms) {
  uv_timer_start(&s->birth_timer, on_birth_timer, delay_ms, 0);
}

/* ---- plugin ----------------------------------------------------------- */

static char *join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *r = malloc(la + lb + 1);
  if (r == NULL) return NULL;
  memcpy(r, a, la);
  memcpy(r + la, b, lb + 1);
  return r;
}

static int sink_create(const struct vq_host *host, struct vq_ctx *ctx,
                       void **instance) {
  struct mqtt_sink *s = calloc(1, sizeof *s);
  struct mqtt_client_cbs cbs;
  struct vq_text id;
  int64_t v;
  uint64_t ms;
  int b, rc, i;

  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  s->loop = host->loop(ctx);
  vq_text_init(&s->topic);
  vq_text_init(&s->payload);
  vq_text_init(&s->scratch);
  s->mid_reading = malloc(MID_SLOTS * sizeof *s->mid_reading);
  if (s->mid_reading == NULL) {
    free(s);
    return -ENOMEM;
  }
  for (i = 0; i < MID_SLOTS; i++) s->mid_reading[i] = -1;

  s->base = host->cfg_string(ctx, "base_topic");
  s->prefix = host->cfg_string(ctx, "discovery_prefix");
  s->ha_status_topic = host->cfg_string(ctx, "ha_status_topic");
  host->cfg_int(ctx, "qos", &v);
  s->qos = (int)v;
  host->cfg_bool(ctx, "retain", &s->retain);
  s->json = strcmp(host->cfg_string(ctx, "payload"), "json") == 0;
  host->cfg_bool(ctx, "discovery", &s->discovery);
  host->cfg_duration(ctx, "discovery_delay", &s->discovery_delay_ms);
  host->cfg_duration(ctx, "device_timeout", &s->device_timeout_ms);

  s->ccfg.host = host->cfg_string(ctx, "host");
  host->cfg_bool(ctx, "tls", &s->ccfg.tls);
  s->ccfg.port = s->ccfg.tls ? 8883 : 1883;
  if (host->cfg_int(ctx, "port", &v) == 0) s->ccfg.port = (int)v;
  host->cfg_duration(ctx, "keepalive", &ms);
  s->ccfg.keepalive_s = (int)(ms / 1000);
  host->cfg_bool(ctx, "clean_session", &s->ccfg.clean_session);
  s->ccfg.protocol = strcmp(host->cfg_string(ctx, "protocol"), "5") == 0
                         ? MQTT_PROTOCOL_V5
                         : MQTT_PROTOCOL_V311;
  s->ccfg.username = host->cfg_string(ctx, "username");
  s->ccfg.password = host->cfg_string(ctx, "password");
  s->ccfg.ca_file = host->cfg_string(ctx, "tls_ca_file");
  s->ccfg.ca_path = host->cfg_string(ctx, "tls_ca_path");
  s->ccfg.cert_file = host->cfg_string(ctx, "tls_cert_file");
  s->ccfg.key_file = host->cfg_string(ctx, "tls_key_file");
  host->cfg_bool(ctx, "tls_verify_host", &b);
  s->ccfg.tls_verify_host = b;
  host->cfg_duration(ctx, "reconnect_min", &s->ccfg.reconnect_min_ms);
  host->cfg_duration(ctx, "reconnect_max", &s->ccfg.reconnect_max_ms);
  if (s->ccfg.reconnect_max_ms < s->ccfg.reconnect_min_ms)
    s->ccfg.reconnect_max_ms = s->ccfg.reconnect_min_ms;
  host->cfg_duration(ctx, "connect_timeout", &s->ccfg.connect_timeout_ms);

  vq_text_init(&id);
  if (host->cfg_string(ctx, "client_id") != NULL) {
    vq_text_adds(&id, host->cfg_string(ctx, "client_id"));
  } else {
    char hn[64] = "";
    if (gethostname(hn, sizeof hn - 1) != 0) hn[0] = '\0';
    vq_text_addf(&id, "vicacq-%s-%s", host->instance_id(ctx), hn);
  }
  s->client_id = strdup(id.data ? id.data : "vicacq");
  vq_text_clear(&id);
  vq_text_adds(&id, "vicacq_");
  mqtt_topic_add_id(&id, s->client_id ? s->client_id : "");
  s->daemon_id = strdup(id.data ? id.data : "vicacq");
  vq_text_free(&id);
  s->status_topic = join(s->base, "/status");
  if (!s->client_id || !s->daemon_id || !s->status_topic) {
    rc = -ENOMEM;
    goto fail;
  }
  if (!s->ccfg.clean_session && host->cfg_string(ctx, "client_id") == NULL)
    host->log(ctx, VQ_LOG_WARN,
              "clean_session = no without a client_id: the session lives as "
              "long as the host name stays %s", s->client_id);
  s->ccfg.client_id = s->client_id;
  s->ccfg.will_topic = s->status_topic;
  s->ccfg.will_payload = "offline";

  s->disc.prefix = s->prefix;
  s->disc.base = s->base;
  s->disc.daemon_id = s->daemon_id;
  s->disc.origin_sw = PACKAGE_VERSION;
  s->disc.json_payload = s->json;
  host->cfg_duration(ctx, "expire_after", &ms);
  s->disc.expire_after_s = (int64_t)((ms + 999) / 1000);
  s->disc.qos = 1;

  memset(&cbs, 0, sizeof cbs);
  cbs.connected = on_connected;
  cbs.disconnected = on_disconnected;
  cbs.message = on_message;
  cbs.published = on_published;
  cbs.drained = on_drained;
  cbs.log = on_log;
  rc = mqtt_client_new(&s->client, s->loop, &s->ccfg, &cbs, s);
  if (rc < 0) goto fail;
  *instance = s;
  return 0;
fail:
  free(s->client_id);
  free(s->daemon_id);
  free(s->status_topic);
  free(s->mid_reading);
  free(s);
  return rc;
}

static int sink_start(void *instance) {
  struct mqtt_sink *s = instance;
  uv_timer_init(s->loop, &s->avail_timer);
  uv_timer_init(s->loop, &s->birth_timer);
  s->avail_timer.data = s->birth_timer.data = s;
  s->timers_open = 2;
  if (s->device_timeout_ms > 0) {
    uint64_t every = s->device_timeout_ms / 4;
    if (every > 1000) every = 1000;
    if (every < 10) every = 10;
    uv_timer_start(&s->avail_timer, on_avail_timer, every, every);
  }
  s->host->log(s->ctx, VQ_LOG_INFO, "connecting to %s:%d as %s (MQTT %s%s)",
               s->ccfg.host, s->ccfg.port, s->client_id,
               s->ccfg.protocol == MQTT_PROTOCOL_V5 ? "5" : "3.1.1",
               s->ccfg.tls ? ", TLS" : "");
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
  /* The graceful "offline" (a clean disconnect does not fire the will). */
  mqtt_client_stop(s->client, s->status_topic, "offline", 1000,
                   on_client_stopped, s);
}

static void sink_destroy(void *instance) {
  struct mqtt_sink *s = instance;
  mqtt_client_free(s->client);
  mqtt_devices_free(s);
  mqtt_commands_free(s);
  vq_text_free(&s->topic);
  vq_text_free(&s->payload);
  vq_text_free(&s->scratch);
  free(s->pending);
  free(s->mid_reading);
  free(s->client_id);
  free(s->daemon_id);
  free(s->status_topic);
  free(s);
}

static void sink_command_result(void *instance, uint64_t ticket, int status,
                                const char *message) {
  mqtt_commands_result(instance, ticket, status, message);
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    "mqtt",
    PACKAGE_VERSION,
    "MQTT state topics, Home Assistant discovery and commands",
    VQ_KIND_SINK,
    options,
    NULL,
    sink_create,
    sink_start,
    sink_stop,
    sink_destroy,
    sink_write,
    NULL,
    sink_command_result,
    NULL, NULL, NULL, {NULL}, /* check, quantities, tools, reserved */
};

VQ_PLUGIN_DECLARE(mqtt, descriptor)

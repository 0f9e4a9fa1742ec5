/* The mqtt sink's options; see mqtt_options.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqtt_options.h"
#include "mqtt_topics.h"
#include "vq_cfg.h"
#include "vq_secret.h"
#include "vq_text.h"

const struct vq_option mqtt_options[] = {
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
     "password (or password_file = PATH; needs username)"},
    {"tls", VQ_OPT_BOOL, 0, "no", NULL, 1, 0, "connect with TLS"},
    {"tls_ca_file", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "CA certificate(s) to trust (default: the system store)"},
    {"tls_ca_path", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "directory of CA certificates to trust"},
    {"tls_cert_file", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "client certificate (PEM; with tls_key_file)"},
    {"tls_key_file", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "client certificate key (PEM, unencrypted; with tls_cert_file)"},
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
    {"node_id", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "this sink's id in Home Assistant unique ids and discovery topics "
     "([a-zA-Z0-9_-]; default <host name>-<sink id>); give each vicacq on "
     "one broker its own"},
    {"ha_status_topic", VQ_OPT_STRING, 0, "homeassistant/status", NULL, 1, 0,
     "Home Assistant birth topic; discovery is re-sent when it says online"},
    {"discovery_delay", VQ_OPT_DURATION, 0, "2s", NULL, 0, 600000,
     "longest random delay before re-sending discovery to a restarted HA"},
    {"ghost_timeout", VQ_OPT_DURATION, 0, "10m", NULL, 0, 604800000,
     "entities announced by an earlier run (kept in state_dir) that have "
     "not come back this long after start are removed from Home Assistant"},
    {"expire_after", VQ_OPT_DURATION, 0, "0", NULL, 0, 86400000,
     "Home Assistant expire_after of sensors (0: none)"},
    {"device_timeout", VQ_OPT_DURATION, 0, "5m", NULL, 0, 86400000,
     "a device silent this long is marked unavailable (0: never)"},
    {"reconnect_min", VQ_OPT_DURATION, 0, "1s", NULL, 10, 3600000,
     "first reconnect delay (doubles, with jitter, up to reconnect_max)"},
    {"reconnect_max", VQ_OPT_DURATION, 0, "60s", NULL, 10, 3600000,
     "longest reconnect delay (not below reconnect_min)"},
    {"connect_timeout", VQ_OPT_DURATION, 0, "10s", NULL, 100, 600000,
     "give up on a connection attempt after this long"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

/* A topic the sink publishes under: a prefix of names, never wildcards. */
static int check_topic_root(const struct vq_host *host, struct vq_ctx *ctx,
                            const char *key, const char *v) {
  if (v == NULL || *v == '\0')
    return vq_cfg_report(host, ctx, key, "must not be empty");
  if (strpbrk(v, "+#") != NULL)
    return vq_cfg_report(host, ctx, key,
                         "'%s' has a wildcard (+ or #); topics published to "
                         "cannot", v);
  if (v[strlen(v) - 1] == '/')
    return vq_cfg_report(host, ctx, key, "'%s' must not end with '/'", v);
  if (!vq_utf8_valid(v))
    return vq_cfg_report(host, ctx, key, "is not UTF-8 (MQTT topics must be)");
  return 0;
}

static int is_id(const char *s) {
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
      return 0;
  return 1;
}

static char *default_client_id(const char *sink_id) {
  struct vq_text t;
  char hn[64] = "", *r;
  if (gethostname(hn, sizeof hn - 1) != 0) hn[0] = '\0';
  vq_text_init(&t);
  vq_text_addf(&t, "vicacq-%s-%s", sink_id, hn);
  r = t.failed ? NULL : strdup(t.data);
  vq_text_free(&t);
  return r;
}

static char *default_node_id(const char *sink_id) {
  struct vq_text t;
  char hn[64] = "", *r;
  if (gethostname(hn, sizeof hn - 1) != 0 || hn[0] == '\0')
    snprintf(hn, sizeof hn, "localhost");
  vq_text_init(&t);
  mqtt_topic_add_id(&t, hn);
  vq_text_addc(&t, '-');
  mqtt_topic_add_id(&t, sink_id);
  r = t.failed ? NULL : strdup(t.data);
  vq_text_free(&t);
  return r;
}

int mqtt_config_read(struct mqtt_config *c, const struct vq_host *host,
                     struct vq_ctx *ctx, int check_only) {
  struct mqtt_client_cfg *cc = &c->client;
  int64_t v;
  uint64_t ms;
  int b, bad = 0;

  memset(c, 0, sizeof *c);
  if (vq_cfg_strdup(host, ctx, "base_topic", &c->base) ||
      vq_cfg_strdup(host, ctx, "discovery_prefix", &c->prefix) ||
      vq_cfg_strdup(host, ctx, "ha_status_topic", &c->ha_status_topic) ||
      vq_cfg_strdup(host, ctx, "client_id", &c->client_id) ||
      vq_cfg_strdup(host, ctx, "node_id", &c->node_id) ||
      vq_cfg_strdup(host, ctx, "host", &c->host) ||
      vq_cfg_strdup(host, ctx, "username", &c->username) ||
      vq_cfg_strdup(host, ctx, "password", &c->password) ||
      vq_cfg_strdup(host, ctx, "tls_ca_file", &c->ca_file) ||
      vq_cfg_strdup(host, ctx, "tls_ca_path", &c->ca_path) ||
      vq_cfg_strdup(host, ctx, "tls_cert_file", &c->cert_file) ||
      vq_cfg_strdup(host, ctx, "tls_key_file", &c->key_file))
    return -ENOMEM;
  c->client_id_given = c->client_id != NULL;

  host->cfg_int(ctx, "qos", &v);
  c->qos = (int)v;
  host->cfg_bool(ctx, "retain", &c->retain);
  c->json = strcmp(host->cfg_string(ctx, "payload"), "json") == 0;
  host->cfg_bool(ctx, "discovery", &c->discovery);
  host->cfg_duration(ctx, "discovery_delay", &c->discovery_delay_ms);
  host->cfg_duration(ctx, "device_timeout", &c->device_timeout_ms);
  host->cfg_duration(ctx, "ghost_timeout", &c->ghost_timeout_ms);
  host->cfg_duration(ctx, "expire_after", &ms);
  c->expire_after_s = (int64_t)((ms + 999) / 1000);

  host->cfg_bool(ctx, "tls", &cc->tls);
  cc->port = cc->tls ? 8883 : 1883;
  if (host->cfg_int(ctx, "port", &v) == 0) cc->port = (int)v;
  host->cfg_duration(ctx, "keepalive", &ms);
  cc->keepalive_s = (int)(ms / 1000);
  host->cfg_bool(ctx, "clean_session", &cc->clean_session);
  cc->protocol = strcmp(host->cfg_string(ctx, "protocol"), "5") == 0
                     ? MQTT_PROTOCOL_V5
                     : MQTT_PROTOCOL_V311;
  host->cfg_bool(ctx, "tls_verify_host", &b);
  cc->tls_verify_host = b;
  host->cfg_duration(ctx, "reconnect_min", &cc->reconnect_min_ms);
  host->cfg_duration(ctx, "reconnect_max", &cc->reconnect_max_ms);
  host->cfg_duration(ctx, "connect_timeout", &cc->connect_timeout_ms);

  /* What the schema cannot say. */
  if (check_topic_root(host, ctx, "base_topic", c->base)) bad = 1;
  if (check_topic_root(host, ctx, "discovery_prefix", c->prefix)) bad = 1;
  if (c->ha_status_topic[0] == '\0' || !vq_utf8_valid(c->ha_status_topic)) {
    vq_cfg_report(host, ctx, "ha_status_topic", "must be a non-empty UTF-8 topic");
    bad = 1;
  }
  if (c->host[0] == '\0') {
    vq_cfg_report(host, ctx, "host", "must not be empty");
    bad = 1;
  }
  if (c->node_id != NULL && (c->node_id[0] == '\0' || !is_id(c->node_id))) {
    vq_cfg_report(host, ctx, "node_id",
                  "'%s' may only hold letters, digits, '_' and '-' (it goes "
                  "into Home Assistant topics and unique ids)", c->node_id);
    bad = 1;
  }
  if (c->client_id != NULL &&
      (c->client_id[0] == '\0' || !vq_utf8_valid(c->client_id) ||
       strlen(c->client_id) > 65535)) {
    vq_cfg_report(host, ctx, "client_id", "must be non-empty UTF-8");
    bad = 1;
  }
  if (c->password != NULL && c->username == NULL) {
    vq_cfg_report(host, ctx, "password",
                  "is sent only with a username: set username too");
    bad = 1;
  }
  if ((c->cert_file == NULL) != (c->key_file == NULL)) {
    vq_cfg_report(host, ctx, c->cert_file ? "tls_cert_file" : "tls_key_file",
                  "a client certificate needs both tls_cert_file and "
                  "tls_key_file");
    bad = 1;
  }
  if (!cc->tls) {
    static const char *const tls_keys[] = {"tls_ca_file", "tls_ca_path",
                                           "tls_cert_file", "tls_key_file"};
    const char *const vals[] = {c->ca_file, c->ca_path, c->cert_file,
                                c->key_file};
    size_t i;
    for (i = 0; i < 4; i++)
      if (vals[i] != NULL) {
        vq_cfg_report(host, ctx, tls_keys[i],
                      "is set but tls = no: it would be ignored");
        bad = 1;
      }
  }
  if (cc->reconnect_max_ms < cc->reconnect_min_ms) {
    vq_cfg_report(host, ctx, "reconnect_max",
                  "is below reconnect_min (%llu ms < %llu ms)",
                  (unsigned long long)cc->reconnect_max_ms,
                  (unsigned long long)cc->reconnect_min_ms);
    bad = 1;
  }
  if (!cc->clean_session && c->client_id == NULL) {
    vq_cfg_report(host, ctx, "clean_session",
                  "no (a persistent session) needs a fixed client_id: the "
                  "broker finds the session by it");
    bad = 1;
  }
  if (bad) return -EINVAL;
  if (check_only) return 0;

  if (c->client_id == NULL &&
      (c->client_id = default_client_id(host->instance_id(ctx))) == NULL)
    return -ENOMEM;
  if (c->node_id == NULL &&
      (c->node_id = default_node_id(host->instance_id(ctx))) == NULL)
    return -ENOMEM;
  cc->host = c->host;
  cc->client_id = c->client_id;
  cc->username = c->username;
  cc->password = c->password;
  cc->ca_file = c->ca_file;
  cc->ca_path = c->ca_path;
  cc->cert_file = c->cert_file;
  cc->key_file = c->key_file;
  return 0;
}

void mqtt_config_free(struct mqtt_config *c) {
  free(c->base);
  free(c->prefix);
  free(c->ha_status_topic);
  free(c->client_id);
  free(c->node_id);
  free(c->host);
  free(c->username);
  vq_secret_free(c->password);
  free(c->ca_file);
  free(c->ca_path);
  free(c->cert_file);
  free(c->key_file);
  memset(c, 0, sizeof *c);
}

int mqtt_config_check(const struct vq_host *host, struct vq_ctx *ctx) {
  struct mqtt_config c;
  int rc = mqtt_config_read(&c, host, ctx, 1);
  mqtt_config_free(&c);
  return rc;
}

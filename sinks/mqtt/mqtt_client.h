/* libmosquitto driven by the libuv loop: the client's socket under a
 * uv_poll, its keepalive work on a timer, connect and reconnect (with
 * exponential back-off and jitter) done here, no extra thread. */
#ifndef MQTT_CLIENT_H
#define MQTT_CLIENT_H

#include <mosquitto.h>
#include <stdint.h>
#include <uv.h>

struct mqtt_client_cfg {
  const char *host;
  int port;
  const char *client_id;
  int keepalive_s;
  int clean_session;
  int protocol; /* MQTT_PROTOCOL_V311 or MQTT_PROTOCOL_V5 */
  const char *username, *password;
  int tls;
  const char *ca_file, *ca_path, *cert_file, *key_file;
  int tls_verify_host;
  const char *will_topic, *will_payload; /* retained, QoS 1 */
  uint64_t reconnect_min_ms, reconnect_max_ms, connect_timeout_ms;
};

struct mqtt_client_cbs {
  void (*connected)(void *arg);
  /* Lost (or never got) the connection; `why` for the log. */
  void (*disconnected)(void *arg, const char *why);
  void (*message)(void *arg, const struct mosquitto_message *msg);
  /* A QoS 1 publish was acknowledged (or a QoS 0 one written); reason is
   * the MQTT 5 reason code (>= 0x80: the broker refused it), else 0. */
  void (*published)(void *arg, int mid, int reason);
  /* Every byte libmosquitto had queued is written (for QoS 0 pacing). */
  void (*drained)(void *arg);
  void (*log)(void *arg, int level, const char *fmt, ...)
      __attribute__((format(printf, 3, 4)));
};

struct mqtt_client;

/* Create (not yet connecting).  0 or -errno (logged). */
int mqtt_client_new(struct mqtt_client **out, uv_loop_t *loop,
                    const struct mqtt_client_cfg *cfg,
                    const struct mqtt_client_cbs *cbs, void *arg);
/* Start connecting; a broker that is down is retried, never an error. */
int mqtt_client_start(struct mqtt_client *c);
int mqtt_client_connected(const struct mqtt_client *c);
/* 1 when libmosquitto has nothing left to write. */
int mqtt_client_idle(const struct mqtt_client *c);
/* Publish.  *mid is set (0 when nothing was queued).  0, or a negative
 * errno: -ENOTCONN when not connected (QoS 0: nothing queued). */
int mqtt_client_publish(struct mqtt_client *c, const char *topic,
                        const void *payload, size_t len, int qos, int retain,
                        int *mid);
/* Subscribe (MQTT 5: retain-as-published, so retained messages can be
 * told from live ones).  0 or -errno. */
int mqtt_client_subscribe(struct mqtt_client *c, const char *topic, int qos);
/* Publish `payload` retained on `topic` (the graceful "offline"), wait up
 * to timeout_ms for its acknowledgement, disconnect, close every handle,
 * then call done(arg). */
void mqtt_client_stop(struct mqtt_client *c, const char *topic,
                      const char *payload, uint64_t timeout_ms,
                      void (*done)(void *arg), void *arg);
/* After stop's done: free. */
void mqtt_client_free(struct mqtt_client *c);

#endif

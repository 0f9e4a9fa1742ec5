/* libmosquitto on the libuv loop; see mqtt_client.h.
 *
 * libmosquitto is used without its own thread: its socket is watched by a
 * uv_poll (readable always, writable while mosquitto_want_write says so),
 * mosquitto_loop_misc (keepalive) runs on a 1 s timer, and connecting is
 * non-blocking (mosquitto_connect_async / mosquitto_reconnect_async).  The
 * socket changes on every reconnect, so after each call into libmosquitto
 * the poll is re-synchronised with mosquitto_socket().
 *
 * Host names are resolved with uv_getaddrinfo (on libuv's thread pool)
 * and libmosquitto is handed an address, so its own getaddrinfo never
 * blocks the loop; the addresses are tried in turn, one per attempt, and
 * the name is looked up again when they are used up or after a
 * connection was made (the broker may have moved).  The exception is TLS with
 * tls_verify_host: libmosquitto checks the certificate against (and sends
 * as SNI) the name it was given, so it gets the name and resolves it
 * itself; the lookup just before has usually put it in the resolver's
 * cache. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "mqtt_client.h"
#include "vicacq/plugin.h"

enum state { ST_IDLE, ST_DOWN, ST_CONNECTING, ST_UP, ST_STOPPING, ST_CLOSED };

#define MISC_INTERVAL_MS 1000

struct mqtt_client {
  uv_loop_t *loop;
  struct mosquitto *mosq;
  struct mqtt_client_cfg cfg;
  struct mqtt_client_cbs cbs;
  void *arg;
  int state;
  int connect_called; /* mosquitto_connect_async has stored host/port */
  int numeric;        /* cfg.host is an address: no lookup */
  uv_getaddrinfo_t resolver;
  int resolving;      /* resolver in flight */
  char addrs[8][INET6_ADDRSTRLEN]; /* of the last lookup, tried in turn */
  int naddrs, next_addr;

  uv_poll_t *poll; /* on poll_fd; NULL when there is no socket */
  int poll_fd, poll_events;
  int stale_fd; /* a socket given up on (connect timeout): not watched */

  uv_timer_t misc_timer, reconnect_timer, deadline_timer;
  uint64_t backoff_ms;
  char last_error[160];

  /* stop */
  int stop_mid;
  void (*stop_done)(void *arg);
  void *stop_arg;
  int open_handles;
  int started;
};

static void sync_socket(struct mqtt_client *c);
static void lost(struct mqtt_client *c, const char *why);
static void finish_stop(uv_timer_t *t);

static void on_poll_closed(uv_handle_t *h) { free(h); }

static void close_poll(struct mqtt_client *c) {
  if (c->poll == NULL) return;
  uv_close((uv_handle_t *)c->poll, on_poll_closed);
  c->poll = NULL;
  c->poll_fd = -1;
  c->poll_events = 0;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  struct mqtt_client *c = h->data;
  int rc = MOSQ_ERR_SUCCESS;
  if (status < 0) events = UV_READABLE; /* let libmosquitto see the error */
  if (events & UV_READABLE) rc = mosquitto_loop_read(c->mosq, 1);
  if (rc == MOSQ_ERR_SUCCESS && (events & UV_WRITABLE) && c->poll != NULL &&
      mosquitto_socket(c->mosq) == c->poll_fd)
    rc = mosquitto_loop_write(c->mosq, 1);
  if (rc != MOSQ_ERR_SUCCESS && c->state != ST_DOWN && c->state != ST_CLOSED) {
    snprintf(c->last_error, sizeof c->last_error, "%s",
             rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
  }
  sync_socket(c);
}

/* Watch the socket libmosquitto has now, for what it wants now. */
static void sync_socket(struct mqtt_client *c) {
  int fd = mosquitto_socket(c->mosq), events, rc;
  if (c->state == ST_CLOSED) return;
  if (fd != c->poll_fd) close_poll(c);
  if (fd < 0 || fd == c->stale_fd) {
    if (c->state == ST_CONNECTING || c->state == ST_UP)
      lost(c, c->last_error[0] ? c->last_error : "connection closed");
    return;
  }
  if (c->poll == NULL) {
    c->poll = malloc(sizeof *c->poll);
    if (c->poll == NULL) return;
    rc = uv_poll_init_socket(c->loop, c->poll, fd);
    if (rc < 0) {
      free(c->poll);
      c->poll = NULL;
      c->cbs.log(c->arg, VQ_LOG_ERROR, "cannot watch the MQTT socket: %s",
                 uv_strerror(rc));
      return;
    }
    c->poll->data = c;
    c->poll_fd = fd;
    c->poll_events = 0;
  }
  events = UV_READABLE | (mosquitto_want_write(c->mosq) ? UV_WRITABLE : 0);
  if (events != c->poll_events) {
    rc = uv_poll_start(c->poll, events, on_poll);
    if (rc < 0)
      c->cbs.log(c->arg, VQ_LOG_ERROR, "cannot watch the MQTT socket: %s",
                 uv_strerror(rc));
    else c->poll_events = events;
  }
  if (!(events & UV_WRITABLE) && c->state == ST_UP && c->cbs.drained)
    c->cbs.drained(c->arg);
}

static void on_reconnect_timer(uv_timer_t *t);

static void schedule_reconnect(struct mqtt_client *c) {
  /* Exponential back-off with +-25% jitter, so that a fleet of daemons
   * does not reconnect in step after a broker restart. */
  uint64_t delay = c->backoff_ms, spread = delay / 2;
  if (spread > 0) delay = delay - delay / 4 + (uint64_t)rand() % (spread + 1);
  c->backoff_ms *= 2;
  if (c->backoff_ms > c->cfg.reconnect_max_ms)
    c->backoff_ms = c->cfg.reconnect_max_ms;
  uv_timer_start(&c->reconnect_timer, on_reconnect_timer, delay, 0);
  c->cbs.log(c->arg, VQ_LOG_DEBUG, "reconnecting in %llu ms",
             (unsigned long long)delay);
}

static void lost(struct mqtt_client *c, const char *why) {
  int was = c->state;
  if (was != ST_CONNECTING && was != ST_UP) return;
  c->state = ST_DOWN;
  uv_timer_stop(&c->deadline_timer);
  if (c->cbs.disconnected) c->cbs.disconnected(c->arg, why);
  schedule_reconnect(c);
}

static void on_deadline(uv_timer_t *t) {
  struct mqtt_client *c = t->data;
  if (c->state != ST_CONNECTING) return;
  /* Give up on this socket; the next attempt replaces it. */
  c->stale_fd = mosquitto_socket(c->mosq);
  close_poll(c);
  lost(c, c->resolving ? "no answer from the name lookup in time"
                       : "no answer from the broker in time");
}

/* Connect to `host` (an address, or the name for TLS verification). */
static void connect_to(struct mqtt_client *c, const char *host) {
  int rc;
  c->last_error[0] = '\0';
  if (!c->connect_called || !c->numeric) {
    rc = mosquitto_connect_async(c->mosq, host, c->cfg.port, c->cfg.keepalive_s);
    c->connect_called = rc != MOSQ_ERR_INVAL;
  } else {
    rc = mosquitto_reconnect_async(c->mosq);
  }
  c->stale_fd = -1;
  if (rc != MOSQ_ERR_SUCCESS) {
    snprintf(c->last_error, sizeof c->last_error, "%s",
             rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    close_poll(c);
    lost(c, c->last_error);
    return;
  }
  sync_socket(c);
}

static void release(struct mqtt_client *c);

/* The next address of the last lookup (or, for TLS with host checking,
 * the name: libmosquitto must see it). */
static void connect_next(struct mqtt_client *c) {
  const char *a = c->addrs[c->next_addr++];
  if (c->cfg.tls && c->cfg.tls_verify_host) a = c->cfg.host;
  c->cbs.log(c->arg, VQ_LOG_DEBUG, "connecting to %s (%s) port %d", c->cfg.host,
             c->addrs[c->next_addr - 1], c->cfg.port);
  connect_to(c, a);
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res) {
  struct mqtt_client *c = req->data;
  struct addrinfo *ai;
  c->resolving = 0;
  if (c->state != ST_CONNECTING || status == UV_ECANCELED) {
    /* Stopped, or the attempt timed out meanwhile (the next one starts
     * from its own timer). */
    uv_freeaddrinfo(res);
    if (c->state == ST_CLOSED) release(c);
    return;
  }
  if (status < 0) {
    uv_freeaddrinfo(res);
    snprintf(c->last_error, sizeof c->last_error, "cannot resolve %s: %s",
             c->cfg.host, uv_strerror(status));
    lost(c, c->last_error);
    return;
  }
  c->naddrs = c->next_addr = 0;
  for (ai = res; ai != NULL && c->naddrs < 8; ai = ai->ai_next) {
    char *a = c->addrs[c->naddrs];
    if (ai->ai_family == AF_INET &&
        uv_ip4_name((const struct sockaddr_in *)ai->ai_addr, a,
                    sizeof c->addrs[0]) == 0)
      c->naddrs++;
    else if (ai->ai_family == AF_INET6 &&
             uv_ip6_name((const struct sockaddr_in6 *)ai->ai_addr, a,
                         sizeof c->addrs[0]) == 0)
      c->naddrs++;
  }
  uv_freeaddrinfo(res);
  if (c->naddrs == 0) {
    snprintf(c->last_error, sizeof c->last_error,
             "%s has no IPv4 or IPv6 address", c->cfg.host);
    lost(c, c->last_error);
    return;
  }
  connect_next(c);
}

static void attempt(struct mqtt_client *c) {
  struct addrinfo hints;
  int rc;
  c->last_error[0] = '\0';
  c->state = ST_CONNECTING;
  uv_timer_start(&c->deadline_timer, on_deadline, c->cfg.connect_timeout_ms, 0);
  if (c->numeric) {
    connect_to(c, c->cfg.host);
    return;
  }
  if (c->next_addr < c->naddrs) {
    connect_next(c);
    return;
  }
  if (c->resolving) return; /* an earlier lookup is still out: use it */
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  c->resolver.data = c;
  rc = uv_getaddrinfo(c->loop, &c->resolver, on_resolved, c->cfg.host, NULL,
                      &hints);
  if (rc < 0) {
    snprintf(c->last_error, sizeof c->last_error, "cannot resolve %s: %s",
             c->cfg.host, uv_strerror(rc));
    lost(c, c->last_error);
    return;
  }
  c->resolving = 1;
}

static void on_reconnect_timer(uv_timer_t *t) {
  struct mqtt_client *c = t->data;
  if (c->state == ST_DOWN) attempt(c);
}

static void on_misc_timer(uv_timer_t *t) {
  struct mqtt_client *c = t->data;
  if (c->state != ST_UP && c->state != ST_CONNECTING && c->state != ST_STOPPING)
    return;
  if (mosquitto_loop_misc(c->mosq) != MOSQ_ERR_SUCCESS && !c->last_error[0])
    snprintf(c->last_error, sizeof c->last_error, "keepalive timed out");
  sync_socket(c);
}

/* ---- libmosquitto callbacks (run inside loop_read/write/misc) ------- */

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                       const mosquitto_property *props) {
  struct mqtt_client *c = obj;
  (void)m;
  (void)flags;
  (void)props;
  if (rc != 0) {
    /* v3 CONNACK codes and v5 reason codes have their own strings. */
    snprintf(c->last_error, sizeof c->last_error, "broker refused: %s",
             c->cfg.protocol == MQTT_PROTOCOL_V5 ? mosquitto_reason_string(rc)
                                                 : mosquitto_connack_string(rc));
    return; /* libmosquitto drops the connection; lost() follows */
  }
  uv_timer_stop(&c->deadline_timer);
  c->state = ST_UP;
  c->backoff_ms = c->cfg.reconnect_min_ms;
  c->next_addr = c->naddrs; /* a reconnect looks the name up again */
  c->cbs.log(c->arg, VQ_LOG_INFO, "connected to %s:%d", c->cfg.host,
             c->cfg.port);
  if (c->cbs.connected) c->cbs.connected(c->arg);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc,
                          const mosquitto_property *props) {
  struct mqtt_client *c = obj;
  (void)m;
  (void)props;
  if (c->state == ST_STOPPING || c->state == ST_CLOSED) return;
  if (!c->last_error[0])
    snprintf(c->last_error, sizeof c->last_error, "%s",
             rc == 0 ? "disconnected" : mosquitto_strerror(rc));
  lost(c, c->last_error);
}

static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                       const mosquitto_property *props) {
  struct mqtt_client *c = obj;
  (void)m;
  (void)props;
  if (c->cbs.published) c->cbs.published(c->arg, mid, reason);
  if (c->state == ST_STOPPING && mid == c->stop_mid) {
    uv_timer_stop(&c->deadline_timer);
    uv_timer_start(&c->deadline_timer, finish_stop, 0, 0);
  }
}

static void on_message(struct mosquitto *m, void *obj,
                       const struct mosquitto_message *msg,
                       const mosquitto_property *props) {
  struct mqtt_client *c = obj;
  (void)m;
  (void)props;
  if (c->cbs.message && c->state == ST_UP) c->cbs.message(c->arg, msg);
}

/* ---- public ----------------------------------------------------------- */

static int mosq_errno(int rc) {
  switch (rc) {
  case MOSQ_ERR_SUCCESS: return 0;
  case MOSQ_ERR_NOMEM: return -ENOMEM;
  case MOSQ_ERR_NO_CONN:
  case MOSQ_ERR_CONN_LOST: return -ENOTCONN;
  case MOSQ_ERR_PAYLOAD_SIZE:
  case MOSQ_ERR_OVERSIZE_PACKET: return -EMSGSIZE;
  case MOSQ_ERR_MALFORMED_UTF8: return -EILSEQ; /* never publishable */
  case MOSQ_ERR_ERRNO: return errno ? -errno : -EIO;
  case MOSQ_ERR_NOT_SUPPORTED: return -ENOTSUP;
  default: return -EINVAL;
  }
}

int mqtt_client_new(struct mqtt_client **out, uv_loop_t *loop,
                    const struct mqtt_client_cfg *cfg,
                    const struct mqtt_client_cbs *cbs, void *arg) {
  struct mqtt_client *c = calloc(1, sizeof *c);
  int rc;
  if (c == NULL) return -ENOMEM;
  mosquitto_lib_init();
  c->loop = loop;
  c->cfg = *cfg;
  c->cbs = *cbs;
  c->arg = arg;
  c->poll_fd = -1;
  c->stale_fd = -1;
  c->backoff_ms = cfg->reconnect_min_ms;
  {
    unsigned char buf[sizeof(struct in6_addr)];
    c->numeric = inet_pton(AF_INET, cfg->host, buf) == 1 ||
                 inet_pton(AF_INET6, cfg->host, buf) == 1;
  }
  c->mosq = mosquitto_new(cfg->client_id, cfg->clean_session, c);
  if (c->mosq == NULL) {
    rc = -errno;
    cbs->log(arg, VQ_LOG_ERROR, "cannot create the MQTT client: %s",
             strerror(errno));
    goto fail;
  }
  mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, cfg->protocol);
  /* Small state messages go out at once (Nagle + delayed ACKs would add
   * up to 40 ms). */
  mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
  /* Many QoS 1 messages in flight (the broker may lower it, MQTT 5). */
  mosquitto_int_option(c->mosq, MOSQ_OPT_SEND_MAXIMUM, 1000);
  if (cfg->username != NULL &&
      (rc = mosquitto_username_pw_set(c->mosq, cfg->username, cfg->password)) !=
          MOSQ_ERR_SUCCESS) {
    cbs->log(arg, VQ_LOG_ERROR, "username/password: %s", mosquitto_strerror(rc));
    rc = mosq_errno(rc);
    goto fail;
  }
  if (cfg->will_topic != NULL &&
      (rc = mosquitto_will_set(c->mosq, cfg->will_topic,
                               (int)strlen(cfg->will_payload),
                               cfg->will_payload, 1, true)) != MOSQ_ERR_SUCCESS) {
    cbs->log(arg, VQ_LOG_ERROR, "will: %s", mosquitto_strerror(rc));
    rc = mosq_errno(rc);
    goto fail;
  }
  if (cfg->tls) {
    if (cfg->ca_file == NULL && cfg->ca_path == NULL) {
      rc = mosquitto_int_option(c->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
      if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_tls_set(c->mosq, NULL, NULL, cfg->cert_file,
                               cfg->key_file, NULL);
    } else {
      rc = mosquitto_tls_set(c->mosq, cfg->ca_file, cfg->ca_path,
                             cfg->cert_file, cfg->key_file, NULL);
    }
    if (rc == MOSQ_ERR_SUCCESS)
      rc = mosquitto_tls_insecure_set(c->mosq, !cfg->tls_verify_host);
    if (rc != MOSQ_ERR_SUCCESS) {
      cbs->log(arg, VQ_LOG_ERROR,
               "TLS set-up failed (ca_file/cert_file/key_file readable?): %s",
               rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
      rc = mosq_errno(rc);
      goto fail;
    }
  }
  mosquitto_connect_v5_callback_set(c->mosq, on_connect);
  mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
  mosquitto_publish_v5_callback_set(c->mosq, on_publish);
  mosquitto_message_v5_callback_set(c->mosq, on_message);
  *out = c;
  return 0;
fail:
  if (c->mosq) mosquitto_destroy(c->mosq);
  mosquitto_lib_cleanup();
  free(c);
  return rc < 0 ? rc : -EINVAL;
}

int mqtt_client_start(struct mqtt_client *c) {
  c->started = 1;
  uv_timer_init(c->loop, &c->misc_timer);
  uv_timer_init(c->loop, &c->reconnect_timer);
  uv_timer_init(c->loop, &c->deadline_timer);
  c->misc_timer.data = c->reconnect_timer.data = c->deadline_timer.data = c;
  c->open_handles = 3;
  uv_timer_start(&c->misc_timer, on_misc_timer, MISC_INTERVAL_MS,
                 MISC_INTERVAL_MS);
  attempt(c);
  return 0;
}

int mqtt_client_connected(const struct mqtt_client *c) {
  return c->state == ST_UP;
}

int mqtt_client_idle(const struct mqtt_client *c) {
  return !mosquitto_want_write(c->mosq);
}

int mqtt_client_publish(struct mqtt_client *c, const char *topic,
                        const void *payload, size_t len, int qos, int retain,
                        int *mid) {
  int rc, m = 0;
  *mid = 0;
  if (c->state != ST_UP) return -ENOTCONN;
  rc = mosquitto_publish(c->mosq, &m, topic, (int)len, payload, qos,
                         retain != 0);
  /* A QoS 1 message that got a mid is in libmosquitto's queue even when
   * the write failed: it is sent again after the reconnect. */
  if (rc == MOSQ_ERR_SUCCESS ||
      (qos > 0 && m != 0 &&
       (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST ||
        rc == MOSQ_ERR_ERRNO)))
    *mid = m;
  if (c->state == ST_UP || rc != MOSQ_ERR_SUCCESS) sync_socket(c);
  return mosq_errno(rc);
}

int mqtt_client_subscribe(struct mqtt_client *c, const char *topic, int qos) {
  int rc;
  if (c->state != ST_UP) return -ENOTCONN;
  if (c->cfg.protocol == MQTT_PROTOCOL_V5)
    rc = mosquitto_subscribe_v5(c->mosq, NULL, topic, qos,
                                MQTT_SUB_OPT_RETAIN_AS_PUBLISHED, NULL);
  else rc = mosquitto_subscribe(c->mosq, NULL, topic, qos);
  sync_socket(c);
  return mosq_errno(rc);
}

static void release(struct mqtt_client *c) {
  if (--c->open_handles == 0 && c->stop_done) c->stop_done(c->stop_arg);
}

static void on_handle_closed(uv_handle_t *h) { release(h->data); }

static void finish_stop(uv_timer_t *t) {
  struct mqtt_client *c = t->data;
  if (c->state == ST_STOPPING) {
    /* A clean DISCONNECT: the broker keeps the will to itself. */
    mosquitto_disconnect(c->mosq);
    if (mosquitto_want_write(c->mosq)) mosquitto_loop_write(c->mosq, 1);
  }
  c->state = ST_CLOSED;
  close_poll(c);
  if (c->resolving) {
    /* Its callback comes (cancelled or not) and releases it. */
    c->open_handles++;
    uv_cancel((uv_req_t *)&c->resolver);
  }
  uv_close((uv_handle_t *)&c->misc_timer, on_handle_closed);
  uv_close((uv_handle_t *)&c->reconnect_timer, on_handle_closed);
  uv_close((uv_handle_t *)&c->deadline_timer, on_handle_closed);
}

void mqtt_client_stop(struct mqtt_client *c, const char *topic,
                      const char *payload, uint64_t timeout_ms,
                      void (*done)(void *arg), void *arg) {
  c->stop_done = done;
  c->stop_arg = arg;
  if (!c->started) {
    c->state = ST_CLOSED;
    done(arg);
    return;
  }
  uv_timer_stop(&c->reconnect_timer);
  uv_timer_stop(&c->deadline_timer);
  if (c->state == ST_UP && topic != NULL) {
    int mid = 0;
    c->state = ST_STOPPING;
    if (mosquitto_publish(c->mosq, &mid, topic, (int)strlen(payload), payload,
                          1, true) == MOSQ_ERR_SUCCESS) {
      c->stop_mid = mid;
      sync_socket(c);
      uv_timer_start(&c->deadline_timer, finish_stop, timeout_ms, 0);
      return;
    }
  } else if (c->state == ST_UP) {
    c->state = ST_STOPPING;
  }
  uv_timer_start(&c->deadline_timer, finish_stop, 0, 0);
}

void mqtt_client_free(struct mqtt_client *c) {
  if (c == NULL) return;
  mosquitto_destroy(c->mosq);
  mosquitto_lib_cleanup();
  free(c);
}

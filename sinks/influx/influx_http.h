/* HTTP(S) requests with libcurl's multi interface driven by the libuv
 * loop: curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION ->
 * uv_poll) and when to wake it (CURLMOPT_TIMERFUNCTION -> uv_timer), and
 * we hand events back with curl_multi_socket_action.  Nothing blocks and
 * there is no extra thread.  One request at a time (the sink has at most
 * one batch in flight), on one easy handle so the connection is kept. */
#ifndef INFLUX_HTTP_H
#define INFLUX_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct influx_http;

struct influx_http_config {
  const char *ca_file;     /* CA bundle for TLS, or NULL for the system's */
  int verify;              /* check the server certificate and name */
  uint64_t timeout_ms;     /* whole request */
  uint64_t connect_timeout_ms;
  const char *username;    /* HTTP Basic auth, or NULL */
  const char *password;
};

struct influx_http_request {
  const char *url;
  const char *body;
  size_t body_len;
  const char *const *headers; /* "Name: value", NULL-terminated, or NULL */
};

struct influx_http_response {
  int failed;              /* no HTTP answer (connection, timeout, TLS) */
  const char *error;       /* what failed, when failed */
  long status;
  const char *body;        /* up to 64 KiB of it */
  size_t body_len;
  const char *retry_after; /* the Retry-After header, or NULL */
};

typedef void (*influx_http_cb)(void *arg, const struct influx_http_response *r);

/* 0 or a negative errno (the reason is in err, if given). */
int influx_http_new(struct influx_http **out, uv_loop_t *loop,
                    const struct influx_http_config *cfg);

/* Start a POST; cb runs once, later, from the loop.  -EBUSY while one is
 * in flight.  The request's strings and body must stay valid until cb. */
int influx_http_post(struct influx_http *h, const struct influx_http_request *req,
                     influx_http_cb cb, void *arg);

/* A request is in flight. */
int influx_http_busy(const struct influx_http *h);

/* Abandon the request in flight (its cb is not called). */
void influx_http_cancel(struct influx_http *h);

/* Cancel, close every handle, then closed(arg) and free everything. */
void influx_http_close(struct influx_http *h, void (*closed)(void *arg),
                       void *arg);

#endif

/* libcurl multi on the libuv loop (see influx_http.h). */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "influx_http.h"
#include "vq_secret.h"

#define BODY_MAX 65536 /* error bodies are short; keep no more */

struct sock_ctx {
  uv_poll_t poll;
  curl_socket_t fd;
  struct influx_http *h;
  struct sock_ctx *next; /* all open ones, to close what curl leaves */
};

struct influx_http {
  uv_loop_t *loop;
  CURLM *multi;
  CURL *easy;
  uv_timer_t timer;
  struct sock_ctx *socks;
  int open_handles; /* the timer and the polls, until closed */
  int busy, closing;
  influx_http_cb cb;
  void *cb_arg;
  struct curl_slist *headers;
  char *body;
  size_t body_len;
  char retry_after[128];
  int have_retry_after;
  char errbuf[CURL_ERROR_SIZE];
  char *ca_file, *username, *password;
  void (*closed)(void *arg);
  void *closed_arg;
};

/* One handle less open; the last one frees everything once closing. */
static void release(struct influx_http *h) {
  if (--h->open_handles > 0 || !h->closing) return;
  if (h->closed != NULL) h->closed(h->closed_arg);
  free(h->body);
  free(h->ca_file);
  free(h->username);
  vq_secret_free(h->password);
  free(h);
}

static void timer_closed(uv_handle_t *handle) { release(handle->data); }

static void poll_closed(uv_handle_t *handle) {
  struct sock_ctx *sc = handle->data, **p;
  struct influx_http *h = sc->h;
  for (p = &h->socks; *p != NULL; p = &(*p)->next)
    if (*p == sc) {
      *p = sc->next;
      break;
    }
  free(sc);
  release(h);
}

static void check_done(struct influx_http *h) {
  CURLMsg *msg;
  int left;
  while (!h->closing && (msg = curl_multi_info_read(h->multi, &left)) != NULL) {
    struct influx_http_response r;
    CURLcode result;
    if (msg->msg != CURLMSG_DONE) continue;
    result = msg->data.result;
    memset(&r, 0, sizeof r);
    curl_multi_remove_handle(h->multi, h->easy);
    h->busy = 0;
    if (result != CURLE_OK) {
      r.failed = 1;
      r.error = h->errbuf[0] ? h->errbuf : curl_easy_strerror(result);
    } else {
      curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &r.status);
    }
    r.body = h->body ? h->body : "";
    r.body_len = h->body_len;
    r.retry_after = h->have_retry_after ? h->retry_after : NULL;
    h->cb(h->cb_arg, &r); /* may start the next request, or close */
  }
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  struct sock_ctx *sc = poll->data;
  struct influx_http *h = sc->h;
  int flags = 0, running;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  curl_multi_socket_action(h->multi, sc->fd, flags, &running);
  check_done(h);
}

static void on_timeout(uv_timer_t *t) {
  struct influx_http *h = t->data;
  int running;
  curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(h);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp,
                     void *socketp) {
  struct influx_http *h = userp;
  struct sock_ctx *sc = socketp;
  int events = 0;
  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    if (sc != NULL) {
      curl_multi_assign(h->multi, s, NULL);
      uv_poll_stop(&sc->poll);
      uv_close((uv_handle_t *)&sc->poll, poll_closed);
    }
    return 0;
  }
  if (sc == NULL) {
    sc = calloc(1, sizeof *sc);
    if (sc == NULL) return -1;
    if (uv_poll_init_socket(h->loop, &sc->poll, s) != 0) {
      free(sc);
      return -1; /* curl fails the transfer */
    }
    sc->poll.data = sc;
    sc->fd = s;
    sc->h = h;
    sc->next = h->socks;
    h->socks = sc;
    h->open_handles++;
    curl_multi_assign(h->multi, s, sc);
  }
  if (what & CURL_POLL_IN) events |= UV_READABLE;
  if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
  return uv_poll_start(&sc->poll, events, on_poll) == 0 ? 0 : -1;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  struct influx_http *h = userp;
  (void)multi;
  if (h->closing) return 0;
  if (timeout_ms < 0) uv_timer_stop(&h->timer);
  else uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
  return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *userp) {
  struct influx_http *h = userp;
  size_t len = size * n, keep = len;
  if (h->body_len + keep > BODY_MAX) keep = BODY_MAX - h->body_len;
  if (keep > 0) {
    memcpy(h->body + h->body_len, data, keep);
    h->body_len += keep;
    h->body[h->body_len] = '\0';
  }
  return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp) {
  struct influx_http *h = userp;
  size_t len = size * n, i;
  static const char name[] = "Retry-After:";
  if (len > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
    const char *v = data + sizeof name - 1;
    size_t vlen = len - (sizeof name - 1);
    while (vlen > 0 && (*v == ' ' || *v == '\t')) v++, vlen--;
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
                        v[vlen - 1] == ' '))
      vlen--;
    if (vlen >= sizeof h->retry_after) vlen = sizeof h->retry_after - 1;
    for (i = 0; i < vlen; i++) h->retry_after[i] = v[i];
    h->retry_after[vlen] = '\0';
    h->have_retry_after = 1;
  }
  return len;
}

static char *dup_or_null(const char *s) {
  return s != NULL ? strdup(s) : NULL;
}

int influx_http_new(struct influx_http **out, uv_loop_t *loop,
                    const struct influx_http_config *cfg) {
  static int curl_ready;
  struct influx_http *h;
  int ok = 1;
  if (!curl_ready) {
    /* Once per process; the loop thread is the only caller. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -EIO;
    curl_ready = 1;
  }
  h = calloc(1, sizeof *h);
  if (h == NULL) return -ENOMEM;
  h->loop = loop;
  h->body = malloc(BODY_MAX + 1);
  h->ca_file = dup_or_null(cfg->ca_file);
  h->username = dup_or_null(cfg->username);
  h->password = dup_or_null(cfg->password);
  h->multi = curl_multi_init();
  h->easy = curl_easy_init();
  if (h->body == NULL || h->multi == NULL || h->easy == NULL ||
      (cfg->ca_file && !h->ca_file) || (cfg->username && !h->username) ||
      (cfg->password && !h->password)) {
    if (h->multi) curl_multi_cleanup(h->multi);
    if (h->easy) curl_easy_cleanup(h->easy);
    free(h->body);
    free(h->ca_file);
    free(h->username);
    vq_secret_free(h->password);
    free(h);
    return -ENOMEM;
  }
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);

  /* Options that stay for every request of this sink. */
  ok &= curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)cfg->connect_timeout_ms) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->errbuf) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_HEADERDATA, h) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_USERAGENT, "vicacq/" PACKAGE_VERSION) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYPEER, cfg->verify ? 1L : 0L) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_SSL_VERIFYHOST, cfg->verify ? 2L : 0L) == CURLE_OK;
  if (h->ca_file)
    ok &= curl_easy_setopt(h->easy, CURLOPT_CAINFO, h->ca_file) == CURLE_OK;
  if (h->username) {
    /* Basic auth keeps the password out of URLs (and server logs). */
    ok &= curl_easy_setopt(h->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) == CURLE_OK;
    ok &= curl_easy_setopt(h->easy, CURLOPT_USERNAME, h->username) == CURLE_OK;
    ok &= curl_easy_setopt(h->easy, CURLOPT_PASSWORD,
                           h->password ? h->password : "") == CURLE_OK;
  }
  if (!ok || uv_timer_init(loop, &h->timer) != 0) {
    curl_multi_cleanup(h->multi);
    curl_easy_cleanup(h->easy);
    free(h->body);
    free(h->ca_file);
    free(h->username);
    vq_secret_free(h->password);
    free(h);
    return -EINVAL;
  }
  h->timer.data = h;
  h->open_handles = 1;
  *out = h;
  return 0;
}

int influx_http_busy(const struct influx_http *h) { return h->busy; }

int influx_http_post(struct influx_http *h, const struct influx_http_request *req,
                     influx_http_cb cb, void *arg) {
  struct curl_slist *list = NULL, *grown;
  const char *const *hd;
  int ok = 1;
  if (h->busy) return -EBUSY;
  if (h->closing) return -ECANCELED;
  /* No "Expect: 100-continue": a round trip for nothing on big bodies. */
  if ((list = curl_slist_append(NULL, "Expect:")) == NULL) return -ENOMEM;
  for (hd = req->headers; hd != NULL && *hd != NULL; hd++) {
    if ((grown = curl_slist_append(list, *hd)) == NULL) {
      curl_slist_free_all(list);
      return -ENOMEM;
    }
    list = grown;
  }
  curl_slist_free_all(h->headers);
  h->headers = list;
  h->body_len = 0;
  h->body[0] = '\0';
  h->have_retry_after = 0;
  h->errbuf[0] = '\0';
  ok &= curl_easy_setopt(h->easy, CURLOPT_URL, req->url) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len) == CURLE_OK;
  ok &= curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, req->body ? req->body : "") == CURLE_OK;
  if (!ok) return -EINVAL;
  h->cb = cb;
  h->cb_arg = arg;
  if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK) return -EIO;
  h->busy = 1;
  return 0;
}

void influx_http_cancel(struct influx_http *h) {
  if (!h->busy) return;
  curl_multi_remove_handle(h->multi, h->easy);
  h->busy = 0;
}

void influx_http_close(struct influx_http *h, void (*closed)(void *arg),
                       void *arg) {
  struct sock_ctx *sc;
  influx_http_cancel(h);
  h->closing = 1;
  h->closed = closed;
  h->closed_arg = arg;
  /* Cleaning up the multi handle closes the cached connections and tells
   * on_socket to drop their polls. */
  curl_multi_cleanup(h->multi);
  curl_easy_cleanup(h->easy);
  curl_slist_free_all(h->headers);
  h->headers = NULL;
  for (sc = h->socks; sc != NULL; sc = sc->next)
    if (!uv_is_closing((uv_handle_t *)&sc->poll))
      uv_close((uv_handle_t *)&sc->poll, poll_closed);
  uv_timer_stop(&h->timer);
  uv_close((uv_handle_t *)&h->timer, timer_closed);
}

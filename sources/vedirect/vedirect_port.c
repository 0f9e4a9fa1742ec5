/* VE.Direct ports: serial (libserialport + uv_poll), TCP, file replay.
 * See vedirect_port.h.
 *
 * Longer than 600 lines on purpose: the three transports share one state
 * machine (open, report up/down once, back off, reconnect, close with
 * pending requests counted) over one struct, and splitting them would put
 * that struct and machine in a header for three files to reach into. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strndup, getaddrinfo under -std=c11 */
#endif
#include "vedirect_port.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK 4096
#define FILE_CHUNK 65536
#define OUT_MAX 1024

struct serial_conn {
  uv_poll_t poll;
  struct sp_port *sp;
  int fd;
  struct ved_port *port;
  uint8_t out[OUT_MAX]; /* bytes the tty did not take yet */
  size_t outlen;
};

struct tcp_conn {
  uv_tcp_t tcp;
  uv_connect_t req;
  struct ved_port *port;
  int connected;
};

struct ved_port {
  uv_loop_t *loop;
  int kind;
  char *path;     /* serial device or file */
  char *host;     /* tcp */
  char service[8];
  struct ved_port_opts o;
  struct ved_port_cb cb;

  int started, up, reported_down, closing;
  unsigned pending; /* handles being closed, requests in flight, callbacks */
  uint64_t backoff_ms;
  uv_timer_t timer; /* reconnect */
  void (*closed)(void *);
  void *closed_arg;

  struct serial_conn *sc;
  struct tcp_conn *tc;
  uv_getaddrinfo_t gai;
  int gai_pending;

  uv_fs_t fsreq;
  uv_file fd;
  int64_t offset;
  size_t buflen, bufoff;
  int paused, delivering;
  uint8_t *fbuf;
};

static void maybe_done(struct ved_port *p) {
  if (!p->closing || p->pending != 0) return;
  if (p->fd >= 0) {
    uv_fs_t req;
    uv_fs_close(NULL, &req, p->fd, NULL); /* synchronous: a local file */
    uv_fs_req_cleanup(&req);
    p->fd = -1;
  }
  void (*closed)(void *) = p->closed;
  void *arg = p->closed_arg;
  free(p->path);
  free(p->host);
  free(p->fbuf);
  free(p);
  if (closed) closed(arg);
}

static void report_up(struct ved_port *p) {
  p->backoff_ms = p->o.backoff_min_ms;
  p->reported_down = 0;
  if (!p->up) {
    p->up = 1;
    if (p->cb.state) p->cb.state(p->cb.arg, 1, 0, NULL);
  }
}

static void open_port(struct ved_port *p);

static void reconnect_cb(uv_timer_t *t) {
  struct ved_port *p = t->data;
  if (!p->closing) open_port(p);
}

/* The link failed or was lost: report once, try again after the back-off. */
static void report_down(struct ved_port *p, int err, const char *what) {
  if (p->up || !p->reported_down) {
    p->up = 0;
    p->reported_down = 1;
    if (p->cb.state) p->cb.state(p->cb.arg, 0, err, what);
  }
  if (p->closing || p->kind == VED_PORT_FILE) return;
  uv_timer_start(&p->timer, reconnect_cb, p->backoff_ms, 0);
  p->backoff_ms *= 2;
  if (p->backoff_ms > p->o.backoff_max_ms) p->backoff_ms = p->o.backoff_max_ms;
}

static size_t deliver(struct ved_port *p, const uint8_t *buf, size_t len) {
  size_t used;
  p->pending++; /* the callback may close the port */
  used = p->cb.data(p->cb.arg, buf, len);
  p->pending--;
  return used;
}

/* ---- serial ---------------------------------------------------------- */

static void serial_closed(uv_handle_t *h) {
  struct serial_conn *c = h->data;
  struct ved_port *p = c->port;
  sp_close(c->sp);
  sp_free_port(c->sp);
  free(c);
  p->pending--;
  maybe_done(p);
}

static void serial_drop(struct ved_port *p) {
  struct serial_conn *c = p->sc;
  if (c == NULL) return;
  p->sc = NULL;
  p->pending++;
  uv_close((uv_handle_t *)&c->poll, serial_closed);
}

static void serial_lost(struct ved_port *p, int err, const char *what) {
  serial_drop(p);
  report_down(p, err, what);
}

static void serial_cb(uv_poll_t *h, int status, int events) {
  struct serial_conn *c = h->data;
  struct ved_port *p = c->port;
  if (status < 0) {
    /* libuv reports POLLERR/POLLHUP (device unplugged) as an error */
    serial_lost(p, -ENODEV, "serial device gone");
    return;
  }
  if (events & UV_WRITABLE && c->outlen > 0) {
    ssize_t n = write(c->fd, c->out, c->outlen);
    if (n > 0) {
      memmove(c->out, c->out + n, c->outlen - (size_t)n);
      c->outlen -= (size_t)n;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      serial_lost(p, -errno, "serial write failed");
      return;
    }
    if (c->outlen == 0) uv_poll_start(&c->poll, UV_READABLE, serial_cb);
  }
  if (events & UV_READABLE) {
    uint8_t buf[READ_CHUNK];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n > 0) {
      deliver(p, buf, (size_t)n);
    } else if (n == 0) {
      /* end of file on a tty: the device went away (USB unplugged,
       * pty master closed) */
      serial_lost(p, -EPIPE, "serial port closed");
    } else if (errno != EAGAIN && errno != EINTR) {
      serial_lost(p, -errno, "serial read failed");
    }
  }
}

static int sp_err(enum sp_return rc) {
  if (rc == SP_ERR_FAIL) {
    int e = sp_last_error_code();
    return e > 0 ? -e : -EIO;
  }
  if (rc == SP_ERR_MEM) return -ENOMEM;
  if (rc == SP_ERR_SUPP) return -ENOTSUP;
  return -EINVAL;
}

static void serial_open(struct ved_port *p) {
  struct sp_port *sp = NULL;
  struct sp_port_config *cfg = NULL;
  struct serial_conn *c;
  enum sp_return rc;
  int fd = -1, err;
  const char *what = "cannot open serial port";

  if ((rc = sp_get_port_by_name(p->path, &sp)) != SP_OK) {
    report_down(p, rc == SP_ERR_MEM ? -ENOMEM : -ENOENT, what);
    return;
  }
  if ((rc = sp_open(sp, SP_MODE_READ_WRITE)) != SP_OK) {
    err = sp_err(rc);
    sp_free_port(sp);
    report_down(p, err, what);
    return;
  }
  what = "cannot configure serial port (19200 8N1)";
  /* 19200 8N1, no flow control; DTR and RTS on for the RS232 cable. */
  if ((rc = sp_new_config(&cfg)) != SP_OK ||
      (rc = sp_get_config(sp, cfg)) != SP_OK ||
      (rc = sp_set_config_baudrate(cfg, 19200)) != SP_OK ||
      (rc = sp_set_config_bits(cfg, 8)) != SP_OK ||
      (rc = sp_set_config_parity(cfg, SP_PARITY_NONE)) != SP_OK ||
      (rc = sp_set_config_stopbits(cfg, 1)) != SP_OK ||
      (rc = sp_set_config_flowcontrol(cfg, SP_FLOWCONTROL_NONE)) != SP_OK ||
      (rc = sp_set_config_dtr(cfg, SP_DTR_ON)) != SP_OK ||
      (rc = sp_set_config_rts(cfg, SP_RTS_ON)) != SP_OK ||
      (rc = sp_set_config(sp, cfg)) != SP_OK ||
      (rc = sp_get_port_handle(sp, &fd)) != SP_OK) {
    err = sp_err(rc);
    if (cfg) sp_free_config(cfg);
    sp_close(sp);
    sp_free_port(sp);
    report_down(p, err, what);
    return;
  }
  sp_free_config(cfg);
  /* Old bytes in the driver buffer are from before: start clean. */
  sp_flush(sp, SP_BUF_INPUT);
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
      (c = calloc(1, sizeof *c)) == NULL) {
    err = -errno;
    sp_close(sp);
    sp_free_port(sp);
    report_down(p, err, "cannot set up serial port");
    return;
  }
  c->sp = sp;
  c->fd = fd;
  c->port = p;
  if ((err = uv_poll_init(p->loop, &c->poll, fd)) < 0) {
    free(c);
    sp_close(sp);
    sp_free_port(sp);
    report_down(p, err, "cannot poll serial port");
    return;
  }
  c->poll.data = c;
  p->sc = c;
  if ((err = uv_poll_start(&c->poll, UV_READABLE, serial_cb)) < 0) {
    serial_lost(p, err, "cannot poll serial port");
    return;
  }
  report_up(p);
}

static int serial_write(struct ved_port *p, const void *buf, size_t len) {
  struct serial_conn *c = p->sc;
  ssize_t n = 0;
  if (c == NULL) return -ENOTCONN;
  if (c->outlen == 0) {
    n = write(c->fd, buf, len);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) return -errno;
      n = 0;
    }
    if ((size_t)n == len) return 0;
  }
  if (c->outlen + len - (size_t)n > OUT_MAX) return -ENOBUFS;
  memcpy(c->out + c->outlen, (const uint8_t *)buf + n, len - (size_t)n);
  c->outlen += len - (size_t)n;
  uv_poll_start(&c->poll, UV_READABLE | UV_WRITABLE, serial_cb);
  return 0;
}

/* ---- tcp ------------------------------------------------------------- */

static void tcp_closed(uv_handle_t *h) {
  struct tcp_conn *c = h->data;
  struct ved_port *p = c->port;
  free(c);
  p->pending--;
  maybe_done(p);
}

static void tcp_drop(struct ved_port *p) {
  struct tcp_conn *c = p->tc;
  if (c == NULL) return;
  p->tc = NULL;
  p->pending++;
  uv_close((uv_handle_t *)&c->tcp, tcp_closed);
}

static void tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  static uint8_t space[READ_CHUNK]; /* one loop thread: one read at a time */
  (void)h;
  (void)hint;
  *buf = uv_buf_init((char *)space, sizeof space);
}

static void tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct tcp_conn *c = s->data;
  struct ved_port *p = c->port;
  if (nread > 0) {
    deliver(p, (const uint8_t *)buf->base, (size_t)nread);
  } else if (nread < 0) {
    tcp_drop(p);
    report_down(p, nread == UV_EOF ? 0 : (int)nread,
                nread == UV_EOF ? "TCP peer closed the connection"
                                : "TCP connection lost");
  }
}

static void tcp_connected(uv_connect_t *req, int status) {
  struct tcp_conn *c = req->data;
  struct ved_port *p = c->port;
  int err;
  if (status == UV_ECANCELED || p->tc != c) return; /* closed meanwhile */
  if (status < 0) {
    tcp_drop(p);
    report_down(p, status, "TCP connect failed");
    return;
  }
  c->connected = 1;
  uv_tcp_nodelay(&c->tcp, 1);
  if ((err = uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_read)) < 0) {
    tcp_drop(p);
    report_down(p, err, "TCP read failed");
    return;
  }
  report_up(p);
}

static void tcp_resolved(uv_getaddrinfo_t *req, int status,
                         struct addrinfo *ai) {
  struct ved_port *p = req->data;
  struct tcp_conn *c;
  int err;
  p->pending--;
  p->gai_pending = 0;
  if (p->closing || status == UV_ECANCELED) {
    if (ai) uv_freeaddrinfo(ai);
    maybe_done(p);
    return;
  }
  if (status < 0) {
    report_down(p, status, "cannot resolve TCP host");
    return;
  }
  if ((c = calloc(1, sizeof *c)) == NULL) {
    uv_freeaddrinfo(ai);
    report_down(p, -ENOMEM, "out of memory");
    return;
  }
  c->port = p;
  uv_tcp_init(p->loop, &c->tcp);
  c->tcp.data = c;
  c->req.data = c;
  p->tc = c;
  err = uv_tcp_connect(&c->req, &c->tcp, ai->ai_addr, tcp_connected);
  uv_freeaddrinfo(ai);
  if (err < 0) {
    tcp_drop(p);
    report_down(p, err, "TCP connect failed");
  }
}

static void tcp_open(struct ved_port *p) {
  struct addrinfo hints;
  int err;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  p->gai.data = p;
  err = uv_getaddrinfo(p->loop, &p->gai, tcp_resolved, p->host, p->service,
                       &hints);
  if (err < 0) {
    report_down(p, err, "cannot resolve TCP host");
    return;
  }
  p->gai_pending = 1;
  p->pending++;
}

struct write_req {
  uv_write_t req;
  char data[];
};

static void tcp_written(uv_write_t *req, int status) {
  (void)status; /* a failed write shows up as a lost connection */
  free(req);
}

static int tcp_write(struct ved_port *p, const void *buf, size_t len) {
  struct write_req *w;
  uv_buf_t b;
  int err;
  if (p->tc == NULL || !p->tc->connected) return -ENOTCONN;
  if ((w = malloc(sizeof *w + len)) == NULL) return -ENOMEM;
  memcpy(w->data, buf, len);
  b = uv_buf_init(w->data, (unsigned)len);
  if ((err = uv_write(&w->req, (uv_stream_t *)&p->tc->tcp, &b, 1,
                      tcp_written)) < 0) {
    free(w);
    return err;
  }
  return 0;
}

/* ---- file ------------------------------------------------------------ */

static void file_read_next(struct ved_port *p);

static void file_deliver(struct ved_port *p) {
  if (p->delivering) return;
  p->delivering = 1;
  while (!p->closing && !p->paused && p->bufoff < p->buflen) {
    size_t left = p->buflen - p->bufoff;
    size_t used = deliver(p, p->fbuf + p->bufoff, left);
    p->bufoff += used;
    if (used < left) p->paused = 1;
  }
  p->delivering = 0;
  if (!p->closing && !p->paused) file_read_next(p);
  maybe_done(p);
}

static void file_read_cb(uv_fs_t *req) {
  struct ved_port *p = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  p->pending--;
  if (p->closing) {
    maybe_done(p);
    return;
  }
  if (n < 0) {
    report_down(p, (int)n, "cannot read replay file");
    if (p->cb.eof) p->cb.eof(p->cb.arg);
    return;
  }
  if (n == 0) {
    if (p->o.loop && p->offset > 0) { /* start over (not on empty files) */
      p->offset = 0;
      if (p->cb.rewound) {
        p->pending++; /* the callback may close the port */
        p->cb.rewound(p->cb.arg);
        p->pending--;
        if (p->closing) {
          maybe_done(p);
          return;
        }
      }
      file_read_next(p);
    } else if (p->cb.eof) {
      p->pending++;
      p->cb.eof(p->cb.arg);
      p->pending--;
      maybe_done(p);
    }
    return;
  }
  p->offset += n;
  p->buflen = (size_t)n;
  p->bufoff = 0;
  file_deliver(p);
}

static void file_read_next(struct ved_port *p) {
  uv_buf_t b = uv_buf_init((char *)p->fbuf, FILE_CHUNK);
  int err;
  p->fsreq.data = p;
  err = uv_fs_read(p->loop, &p->fsreq, p->fd, &b, 1, p->offset, file_read_cb);
  if (err < 0) {
    report_down(p, err, "cannot read replay file");
    if (p->cb.eof) p->cb.eof(p->cb.arg);
    return;
  }
  p->pending++;
}

void ved_port_pause(struct ved_port *p) {
  if (p->kind == VED_PORT_FILE) p->paused = 1;
}

void ved_port_resume(struct ved_port *p) {
  if (p->kind != VED_PORT_FILE || !p->paused || p->closing) return;
  p->paused = 0;
  file_deliver(p);
}

/* ---- common ---------------------------------------------------------- */

static void open_port(struct ved_port *p) {
  switch (p->kind) {
    case VED_PORT_SERIAL: serial_open(p); break;
    case VED_PORT_TCP: tcp_open(p); break;
    default: break;
  }
}

/* The shape of a spec: sets p->kind and p->path or p->host/service.
 * 0, -EINVAL with *why, or -ENOMEM. */
static int parse_spec(struct ved_port *p, const char *spec, const char **why) {
  if (strncmp(spec, "tcp://", 6) == 0) {
    const char *hp = spec + 6, *colon = strrchr(hp, ':');
    char *end;
    unsigned long port;
    size_t hl;
    p->kind = VED_PORT_TCP;
    if (colon == NULL || colon == hp) {
      *why = "expected tcp://HOST:PORT";
      return -EINVAL;
    }
    port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || colon[1] == '\0' || colon[1] == '-' ||
        colon[1] == '+' || port == 0 || port > 65535) {
      *why = "bad TCP port number (1..65535)";
      return -EINVAL;
    }
    hl = (size_t)(colon - hp);
    /* [v6 address] */
    if (hp[0] == '[' && hl >= 2 && hp[hl - 1] == ']') {
      hp++;
      hl -= 2;
    }
    if (hl == 0) {
      *why = "expected tcp://HOST:PORT";
      return -EINVAL;
    }
    snprintf(p->service, sizeof p->service, "%lu", port);
    return (p->host = strndup(hp, hl)) ? 0 : -ENOMEM;
  }
  if (strncmp(spec, "file:", 5) == 0) {
    p->kind = VED_PORT_FILE;
    if (spec[5] == '\0') {
      *why = "expected file:PATH";
      return -EINVAL;
    }
    return (p->path = strdup(spec + 5)) ? 0 : -ENOMEM;
  }
  p->kind = VED_PORT_SERIAL;
  if (spec[0] == '\0') {
    *why = "empty port";
    return -EINVAL;
  }
  return (p->path = strdup(spec)) ? 0 : -ENOMEM;
}

int ved_port_check(const char *spec, int *kind, const char **why) {
  struct ved_port p;
  int rc;
  memset(&p, 0, sizeof p);
  *why = NULL;
  rc = parse_spec(&p, spec, why);
  free(p.path);
  free(p.host);
  if (rc == -ENOMEM) *why = "out of memory";
  if (rc == 0) *kind = p.kind;
  return rc < 0 ? -EINVAL : 0;
}

int ved_port_new(uv_loop_t *loop, const char *spec,
                 const struct ved_port_opts *opts,
                 const struct ved_port_cb *cb, struct ved_port **out,
                 const char **why) {
  struct ved_port *p = calloc(1, sizeof *p);
  int err;
  *why = NULL;
  if (p == NULL) return -ENOMEM;
  p->loop = loop;
  p->o = *opts;
  if (p->o.backoff_min_ms == 0) p->o.backoff_min_ms = 1000;
  if (p->o.backoff_max_ms < p->o.backoff_min_ms)
    p->o.backoff_max_ms = p->o.backoff_min_ms;
  p->backoff_ms = p->o.backoff_min_ms;
  p->cb = *cb;
  p->fd = -1;
  if ((err = parse_spec(p, spec, why)) == -ENOMEM) goto nomem;
  if (err < 0) goto fail;
  if (p->kind == VED_PORT_FILE && (p->fbuf = malloc(FILE_CHUNK)) == NULL)
    goto nomem;
  *out = p;
  return 0;
nomem:
  free(p->path);
  free(p->host);
  free(p->fbuf);
  free(p);
  return -ENOMEM;
fail:
  free(p->path);
  free(p->host);
  free(p);
  return -EINVAL;
}

int ved_port_kind(const struct ved_port *p) { return p->kind; }

int ved_port_start(struct ved_port *p) {
  int err;
  if ((err = uv_timer_init(p->loop, &p->timer)) < 0) return err;
  p->timer.data = p;
  p->started = 1;
  if (p->kind == VED_PORT_FILE) {
    uv_fs_t req;
    /* A local file opens at once; fail the start if it cannot. */
    err = uv_fs_open(NULL, &req, p->path, O_RDONLY | O_CLOEXEC, 0, NULL);
    uv_fs_req_cleanup(&req);
    if (err < 0) return err;
    p->fd = err;
    report_up(p);
    file_read_next(p);
    return 0;
  }
  open_port(p);
  return 0;
}

int ved_port_write(struct ved_port *p, const void *buf, size_t len) {
  if (p->closing) return -ENOTCONN;
  switch (p->kind) {
    case VED_PORT_SERIAL: return serial_write(p, buf, len);
    case VED_PORT_TCP: return tcp_write(p, buf, len);
    default: return -ENOTSUP;
  }
}

void ved_port_reconnect(struct ved_port *p) {
  if (p->closing || p->kind == VED_PORT_FILE) return;
  if (p->kind == VED_PORT_SERIAL) {
    if (p->sc == NULL) return; /* already waiting to reconnect */
    serial_drop(p);
  } else {
    if (p->tc == NULL) return;
    tcp_drop(p);
  }
  report_down(p, -ETIMEDOUT, "no data from the device");
}

static void timer_closed(uv_handle_t *h) {
  struct ved_port *p = h->data;
  p->pending--;
  maybe_done(p);
}

void ved_port_close(struct ved_port *p, void (*closed)(void *), void *arg) {
  p->closing = 1;
  p->closed = closed;
  p->closed_arg = arg;
  p->pending++; /* hold until everything below is started */
  if (p->started) {
    p->pending++;
    uv_close((uv_handle_t *)&p->timer, timer_closed);
  }
  serial_drop(p);
  tcp_drop(p);
  if (p->gai_pending) uv_cancel((uv_req_t *)&p->gai);
  p->pending--;
  maybe_done(p);
}

/* The raw dump writer (see vedirect_dump.h). */
#include "vedirect_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ved_dump_chunk {
  struct ved_dump_chunk *next;
  size_t len;
  uint8_t data[];
};

static void finish(struct ved_dump *d);

static void written(uv_fs_t *req);

static void write_next(struct ved_dump *d) {
  uv_buf_t b;
  while (d->head != NULL) {
    b = uv_buf_init((char *)d->head->data, (unsigned)d->head->len);
    d->req.data = d;
    if (uv_fs_write(d->loop, &d->req, d->fd, &b, 1, -1, written) == 0) {
      d->busy = 1;
      return;
    }
    /* cannot even queue it: count the bytes as lost and go on */
    {
      struct ved_dump_chunk *c = d->head;
      d->write_errors++;
      d->dropped += c->len;
      d->head = c->next;
      if (d->head == NULL) d->tail = NULL;
      free(c);
    }
  }
  if (d->ending) finish(d);
}

#define RETRY_MS 5

static void retry_now(uv_timer_t *t) {
  struct ved_dump *d = t->data;
  d->busy = 0;
  write_next(d);
}

static void written(uv_fs_t *req) {
  struct ved_dump *d = req->data;
  struct ved_dump_chunk *c = d->head;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  d->busy = 0;
  if (n == UV_EAGAIN) {
    /* a full non-blocking pipe: nothing lost, try again soon (busy stays
     * set so nothing else starts a write meanwhile) */
    if (!d->retry_open && uv_timer_init(d->loop, &d->retry) == 0) {
      d->retry_open = 1;
      d->retry.data = d;
    }
    if (d->retry_open &&
        uv_timer_start(&d->retry, retry_now, RETRY_MS, 0) == 0) {
      d->busy = 1;
      return;
    }
  }
  if (n < 0) {
    d->write_errors++;
    d->dropped += c->len;
  } else if ((size_t)n < c->len) {
    /* short write: keep the rest at the head */
    memmove(c->data, c->data + n, c->len - (size_t)n);
    c->len -= (size_t)n;
    d->written += (uint64_t)n;
    write_next(d);
    return;
  } else {
    d->written += (uint64_t)n;
  }
  d->head = c->next;
  if (d->head == NULL) d->tail = NULL;
  free(c);
  write_next(d);
}

int ved_dump_open(struct ved_dump *d, uv_loop_t *loop, const char *path,
                  void (*closed)(void *), void *arg) {
  uv_fs_t req;
  int rc;
  memset(d, 0, sizeof *d);
  d->loop = loop;
  d->path = path;
  d->closed = closed;
  d->arg = arg;
  d->fd = -1;
  if (strcmp(path, "-") == 0) { /* standard output, closed like a file */
    rc = dup(STDOUT_FILENO);
    if (rc < 0) return uv_translate_sys_error(errno);
    d->fd = rc;
    return 0;
  }
  rc = uv_fs_open(NULL, &req, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0644, NULL);
  uv_fs_req_cleanup(&req);
  if (rc < 0) return rc;
  d->fd = rc;
  return 0;
}

void ved_dump_bytes(struct ved_dump *d, const uint8_t *buf, size_t len) {
  struct ved_dump_chunk *c;
  if (d->ending || d->fd < 0 || len == 0) return;
  if ((c = malloc(sizeof *c + len)) == NULL) {
    d->dropped += len;
    return;
  }
  c->next = NULL;
  c->len = len;
  memcpy(c->data, buf, len);
  if (d->tail) d->tail->next = c;
  else d->head = c;
  d->tail = c;
  if (!d->busy) write_next(d);
}

static void retry_closed(uv_handle_t *h) {
  struct ved_dump *d = h->data;
  if (d->closed) d->closed(d->arg);
}

/* Everything queued is written (or failed): sync, close, report. */
static void finish(struct ved_dump *d) {
  uv_fs_t req;
  if (d->busy || d->fd < 0) return;
  uv_fs_fsync(NULL, &req, d->fd, NULL); /* EINVAL on a pipe: nothing to do */
  uv_fs_req_cleanup(&req);
  uv_fs_close(NULL, &req, d->fd, NULL);
  uv_fs_req_cleanup(&req);
  d->fd = -1;
  if (d->retry_open) {
    d->retry_open = 0;
    uv_close((uv_handle_t *)&d->retry, retry_closed);
    return;
  }
  if (d->closed) d->closed(d->arg);
}

void ved_dump_end(struct ved_dump *d) {
  if (d->ending) return;
  d->ending = 1;
  if (!d->busy) finish(d);
}

int ved_dump_busy(const struct ved_dump *d) { return d->busy; }

void ved_dump_free(struct ved_dump *d) {
  struct ved_dump_chunk *c;
  while ((c = d->head) != NULL) {
    d->head = c->next;
    free(c);
  }
  d->tail = NULL;
  if (d->fd >= 0) {
    uv_fs_t req;
    uv_fs_close(NULL, &req, d->fd, NULL);
    uv_fs_req_cleanup(&req);
    d->fd = -1;
  }
}

/* The stdout sink: records as JSON lines, InfluxDB line protocol or text,
 * written to standard output (or a file) without blocking the loop. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "record_format.h"
#include "vicacq/plugin.h"

enum format { FORMAT_JSON, FORMAT_INFLUX, FORMAT_TEXT };

struct stdout_sink {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  int format;
  struct vq_lp_options lp;
  char *measurement; /* lp.measurement: our copy */
  struct vq_text text;
  const struct vq_batch *batch; /* in flight */

  /* Output: a stream handle for pipes and terminals, the fs API for
   * files and character devices. */
  uv_loop_t *loop;
  uv_file fd;
  int owns_fd;
  int is_stream;
  union {
    uv_pipe_t pipe;
    uv_tty_t tty;
  } stream;
  uv_write_t write_req;
  uv_fs_t fs_req;
  uv_buf_t pending; /* what is left to write of text */
  vq_stopped_cb stopped;
};

static const struct vq_option options[] = {
    {"format", VQ_OPT_ENUM, 0, "json", "json|influx|text", 1, 0,
     "json: one JSON object per record per line; influx: line protocol; "
     "text: for people"},
    {"path", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "append to this file instead of standard output"},
    {"measurement", VQ_OPT_STRING, 0, "victron", NULL, 1, 0,
     "measurement name (format = influx)"},
    {"precision", VQ_OPT_ENUM, 0, "ns", "ns|us|ms|s", 1, 0,
     "timestamp precision (format = influx)"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

static int sink_create(const struct vq_host *host, struct vq_ctx *ctx,
                       void **instance) {
  struct stdout_sink *s = calloc(1, sizeof *s);
  const char *format;
  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  format = host->cfg_string(ctx, "format");
  s->format = strcmp(format, "influx") == 0 ? FORMAT_INFLUX
              : strcmp(format, "text") == 0 ? FORMAT_TEXT
                                            : FORMAT_JSON;
  /* Our own copy: the host's strings are not ours to keep. */
  s->measurement = strdup(host->cfg_string(ctx, "measurement"));
  if (s->measurement == NULL) {
    free(s->measurement);
  free(s);
    return -ENOMEM;
  }
  s->lp.measurement = s->measurement;
  s->lp.precision = vq_lp_precision_parse(host->cfg_string(ctx, "precision"));
  s->lp.enum_text = 1;
  s->loop = host->loop(ctx);
  s->fd = -1;
  vq_text_init(&s->text);
  *instance = s;
  return 0;
}

static int sink_start(void *instance) {
  struct stdout_sink *s = instance;
  const char *path = s->host->cfg_string(s->ctx, "path");
  int rc;

  if (path != NULL) {
    s->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->fd < 0) {
      rc = -errno;
      s->host->log(s->ctx, VQ_LOG_ERROR, "cannot open %s: %s", path,
                   strerror(errno));
      return rc;
    }
    s->owns_fd = 1;
    return 0;
  }
  s->fd = STDOUT_FILENO;
  switch (uv_guess_handle(s->fd)) {
  case UV_TTY:
    rc = uv_tty_init(s->loop, &s->stream.tty, s->fd, 0);
    s->is_stream = rc == 0;
    break;
  case UV_NAMED_PIPE:
    rc = uv_pipe_init(s->loop, &s->stream.pipe, 0);
    if (rc == 0) {
      rc = uv_pipe_open(&s->stream.pipe, s->fd);
      if (rc != 0) uv_close((uv_handle_t *)&s->stream.pipe, NULL);
    }
    s->is_stream = rc == 0;
    break;
  default:
    rc = 0; /* files, /dev/null, sockets: the fs API copes with all */
    break;
  }
  if (s->is_stream) s->stream.pipe.data = s;
  return 0;
}

static void write_more(struct stdout_sink *s);

static void finish(struct stdout_sink *s, int status, const char *reason) {
  const struct vq_batch *b = s->batch;
  s->batch = NULL;
  s->host->batch_done(s->ctx, b, status, 0, 0, reason);
}

static void fail(struct stdout_sink *s, int err) {
  /* A closed reader (EPIPE) will not come back: say so and drop; anything
   * else may pass (a full disk), so try again later. */
  s->host->log(s->ctx, VQ_LOG_ERROR, "write failed: %s", uv_strerror(err));
  finish(s, err == UV_EPIPE ? VQ_WRITE_REJECT : VQ_WRITE_RETRY,
         uv_strerror(err));
}

static void on_stream_written(uv_write_t *req, int status) {
  struct stdout_sink *s = req->data;
  if (status < 0) {
    fail(s, status);
    return;
  }
  finish(s, VQ_WRITE_OK, NULL);
}

static void on_fs_written(uv_fs_t *req) {
  struct stdout_sink *s = req->data;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  if (n < 0) {
    fail(s, (int)n);
    return;
  }
  s->pending.base += n;
  s->pending.len -= (size_t)n;
  if (s->pending.len > 0) {
    write_more(s);
    return;
  }
  finish(s, VQ_WRITE_OK, NULL);
}

static void write_more(struct stdout_sink *s) {
  int rc;
  if (s->is_stream) {
    s->write_req.data = s;
    rc = uv_write(&s->write_req, (uv_stream_t *)&s->stream, &s->pending, 1,
                  on_stream_written);
  } else {
    s->fs_req.data = s;
    rc = uv_fs_write(s->loop, &s->fs_req, s->fd, &s->pending, 1, -1,
                     on_fs_written);
  }
  if (rc < 0) fail(s, rc);
}

static int sink_write(void *instance, const struct vq_batch *batch) {
  struct stdout_sink *s = instance;
  uint32_t i, j;

  vq_text_clear(&s->text);
  for (i = 0; i < batch->nreadings; i++) {
    const struct vq_reading *r = batch->readings[i];
    if (s->format == FORMAT_INFLUX) {
      vq_format_line_protocol(&s->text, r, &s->lp);
      continue;
    }
    if (s->format == FORMAT_JSON) {
      vq_format_json_records(&s->text, r);
      continue;
    }
    for (j = 0; j < r->nrecords; j++)
      vq_format_text_record(&s->text, r, VQ_READING_RECORD(r, j));
  }
  if (s->text.failed) return -ENOMEM; /* retried later */
  s->batch = batch;
  if (s->text.len == 0) {
    finish(s, VQ_WRITE_OK, NULL);
    return 0;
  }
  s->pending = uv_buf_init(s->text.data, (unsigned)s->text.len);
  write_more(s);
  return 0;
}

static void on_stream_closed(uv_handle_t *h) {
  struct stdout_sink *s = h->data;
  s->stopped(s->ctx);
}

static void sink_stop(void *instance, vq_stopped_cb done) {
  struct stdout_sink *s = instance;
  s->stopped = done;
  if (s->owns_fd && s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
  if (s->is_stream) {
    s->is_stream = 0;
    uv_close((uv_handle_t *)&s->stream, on_stream_closed);
    return;
  }
  done(s->ctx);
}

static void sink_destroy(void *instance) {
  struct stdout_sink *s = instance;
  vq_text_free(&s->text);
  free(s->measurement);
  free(s);
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "stdout",
    .version = PACKAGE_VERSION,
    .description = "records to standard output as JSON lines, line protocol or text",
    .kinds = VQ_KIND_SINK,
    .options = options,
    .create = sink_create,
    .start = sink_start,
    .stop = sink_stop,
    .destroy = sink_destroy,
    .write = sink_write,
};

VQ_PLUGIN_DECLARE(stdout, descriptor)

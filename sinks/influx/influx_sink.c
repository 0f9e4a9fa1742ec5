/* The influx sink: readings as InfluxDB line protocol, POSTed to the v1
 * /write or the v2 /api/v2/write API over HTTP(S).
 *
 * Batching.  The core hands over one batch at a time (at most
 * batch_max_records records) and sends the next only when this one is
 * completed, so the sink cannot gather several core batches without
 * completing (and so acknowledging) records it has not delivered.  It
 * gets the same effect by holding a small batch: a batch is sent at once
 * when it has batch_size lines, when flush_interval has passed since the
 * last request, or when its newest reading is already flush_interval old
 * (a backlog); otherwise it waits for whichever of the last two comes
 * first.  Meanwhile new readings pile up in the core's queue and come as
 * the next, bigger, batch.  So there is at most about one request per
 * flush_interval in steady state, readings wait at most about
 * flush_interval, and a backlog goes out back to back.  Requests carry at
 * most batch_size lines; set the core's batch_max_records to about
 * batch_size times the records per reading to fill them.
 *
 * Outcomes (doc/protocols/sinks.md §3): 2xx done; partial write (1.x
 * 400, 2.x 422) the good lines are written, the dropped ones counted as
 * rejected; 400 without partial write: halves until the bad line is alone,
 * then it is rejected; 413 halves (the size that worked is kept, and grown
 * back after a run of good requests: influx_chunk_update);
 * 429/503 with Retry-After: wait that long (at least a growing own delay)
 * and send again; 401/403/404 (and 1.x "retention policy not found"): a
 * clear error, and the core retries later; 404 "database not found" with
 * create_database: CREATE DATABASE and send again at once; 5xx and
 * transport errors: the core's back-off.  What was delivered before a
 * failure is completed as PARTIAL so it is never sent twice. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "influx_body.h"
#include "influx_http.h"
#include "influx_options.h"
#include "influx_response.h"
#include "record_format.h"
#include "vicacq/plugin.h"
#include "vq_secret.h"

#define RETRY_AFTER_CAP_MS 600000 /* as Telegraf: a server saying "a day"
                                     is wrong, not authoritative */
#define OWN_THROTTLE_CAP_MS 60000

enum hold { HOLD_NONE, HOLD_FLUSH, HOLD_THROTTLE };

struct influx_sink {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  uv_loop_t *loop;

  struct influx_config cfg;
  char *auth_header; /* "Authorization: Token ..." or NULL */
  const char *headers[4];
  struct vq_lp_options lp;
  struct vq_lp_types types;

  struct influx_http *http;
  struct influx_body body;

  /* The batch in flight: readings [0, next) are finished, the request
   * in flight (or held) covers [next, hi). */
  const struct vq_batch *batch;
  uint32_t next, hi;
  struct influx_chunk chunk; /* readings per request (413 lowers it) */
  uint32_t rejected;       /* records rejected so far in this batch */
  int db_retried;          /* CREATE DATABASE was tried for this batch */
  int send_after_query;    /* a write waits for the CREATE DATABASE */
  enum hold hold;
  struct vq_timer *timer;
  uint64_t last_post_ms;   /* uv_now of the last write request, 0: none */
  unsigned throttles;      /* 429/503 in a row */
  uint64_t type_skipped_logged;

  char last_problem[256];  /* log a recurring problem once */
  int stopping;
  vq_stopped_cb stopped;
};

/* Log a problem when it differs from the last one logged, so that a
 * server that keeps saying the same thing does not flood the log. */
static void log_problem(struct influx_sink *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_problem(struct influx_sink *s, int level, const char *fmt, ...) {
  char buf[sizeof s->last_problem];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (strcmp(buf, s->last_problem) == 0) return;
  memcpy(s->last_problem, buf, sizeof buf);
  s->host->log(s->ctx, level, "%s", buf);
}

static int64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The vocabulary fixes each quantity's type: keep InfluxDB's field type
 * the same whatever a plugin emits. */
static uint32_t quantity_type(void *arg, const char *quantity) {
  struct influx_sink *s = arg;
  const struct vq_quantity_info *q = s->host->quantity_info(s->ctx, quantity);
  return q != NULL ? q->type : 0;
}

static void stop_timer(struct influx_sink *s) {
  if (s->timer != NULL) {
    s->host->timer_stop(s->ctx, s->timer);
    s->timer = NULL;
  }
  s->hold = HOLD_NONE;
}

/* ------------------------------------------------------------------ */
/* Completing the batch                                                */
/* ------------------------------------------------------------------ */

static void complete(struct influx_sink *s, int status, const char *reason) {
  const struct vq_batch *b = s->batch;
  uint32_t done = s->next, rejected = s->rejected;
  stop_timer(s);
  s->batch = NULL;
  if (status == VQ_WRITE_OK && rejected > 0) status = VQ_WRITE_PARTIAL;
  if (status == VQ_WRITE_RETRY && done > 0) status = VQ_WRITE_PARTIAL;
  s->host->batch_done(s->ctx, b, status, done, rejected, reason);
}

/* Nothing more can be done for now: what is finished is completed, the
 * rest goes back to the core for its back-off. */
static void retry_later(struct influx_sink *s, const char *reason) {
  complete(s, VQ_WRITE_RETRY, reason);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static void send_chunk(struct influx_sink *s);
static void on_hold_timer(void *arg);
static void create_database(struct influx_sink *s);

static void reject_range(struct influx_sink *s, const char *why) {
  uint32_t i, records = 0;
  for (i = s->next; i < s->hi; i++) records += s->batch->readings[i]->nrecords;
  s->rejected += records;
  s->host->stat_add(s->ctx, "lines_rejected",
                    influx_body_lines(&s->body, s->next, s->hi));
  log_problem(s, VQ_LOG_ERROR, "server rejected a line: %s", why);
}

/* A partial write: the server wrote the good lines of [next, hi) and
 * dropped some.  It names only the first problem; count the records of
 * the lines it names when they add up to what it dropped, else the
 * dropped lines times the records per line of the request. */
static void count_partial(struct influx_sink *s, const struct influx_verdict *v) {
  uint32_t lines = influx_body_lines(&s->body, s->next, s->hi);
  uint32_t records = 0, i, all = 0, matched = 0;
  int64_t dropped = v->dropped;

  if (v->bad_line_len > 0)
    matched = influx_body_find_line(&s->body, s->batch, s->next, s->hi,
                                    v->message + v->bad_line_off,
                                    v->bad_line_len, &records);
  else if (v->conflict_field[0] != '\0')
    matched = influx_body_find_field(&s->body, s->batch, s->next, s->hi,
                                     v->conflict_field, &records);
  /* 1.x says dropped=0 for an unparsable line it did drop. */
  if (dropped <= 0) dropped = matched > 0 ? matched : 1;
  if (dropped > lines) dropped = lines;
  if ((int64_t)matched != dropped) {
    for (i = s->next; i < s->hi; i++) all += s->batch->readings[i]->nrecords;
    records = lines ? (uint32_t)(((uint64_t)all * (uint64_t)dropped + lines - 1) / lines) : 0;
  }
  s->rejected += records;
  s->host->stat_add(s->ctx, "lines_rejected", dropped);
  s->host->stat_add(s->ctx, "lines_written", (int64_t)lines - dropped);
  log_problem(s, VQ_LOG_WARN, "server dropped %lld of %u lines: %s",
              (long long)dropped, lines, v->message);
}

static void on_write_done(void *arg, const struct influx_http_response *r) {
  struct influx_sink *s = arg;
  struct influx_verdict v;
  char reason[600];
  int64_t wait;

  if (s->batch == NULL) return; /* completed meanwhile (stop) */
  if (r->failed) {
    snprintf(reason, sizeof reason, "%s", r->error);
    retry_later(s, reason);
    return;
  }
  influx_classify(r->status, r->body, r->body_len, &v);
  if (v.action == INFLUX_DONE || v.action == INFLUX_PARTIAL ||
      v.action == INFLUX_SPLIT)
    influx_chunk_update(&s->chunk, v.action, s->hi - s->next);
  snprintf(reason, sizeof reason, "HTTP %ld: %s", r->status,
           v.message[0] ? v.message : "(no message)");
  switch (v.action) {
  case INFLUX_DONE:
    s->throttles = 0;
    s->last_problem[0] = '\0';
    s->host->stat_add(s->ctx, "lines_written",
                      influx_body_lines(&s->body, s->next, s->hi));
    s->next = s->hi;
    send_chunk(s);
    return;
  case INFLUX_PARTIAL:
    s->throttles = 0;
    count_partial(s, &v);
    s->next = s->hi;
    send_chunk(s);
    return;
  case INFLUX_BAD_LINES:
    /* The whole request was refused for some line(s): halve until the
     * culprit is alone, so good lines still get through. */
    if (influx_body_lines(&s->body, s->next, s->hi) > 1) {
      s->host->stat_add(s->ctx, "splits", 1);
      s->hi = s->next + (s->hi - s->next) / 2;
      send_chunk(s);
      return;
    }
    reject_range(s, reason);
    s->next = s->hi;
    send_chunk(s);
    return;
  case INFLUX_SPLIT:
    if (influx_body_lines(&s->body, s->next, s->hi) > 1) {
      s->host->stat_add(s->ctx, "splits", 1);
      log_problem(s, VQ_LOG_WARN,
                  "request too large (HTTP 413): sending at most %u lines "
                  "per request", (unsigned)s->chunk.size);
      s->hi = s->next; /* send_chunk picks the new size */
      send_chunk(s);
      return;
    }
    reject_range(s, "a single line is larger than the server accepts (HTTP 413)");
    s->next = s->hi;
    send_chunk(s);
    return;
  case INFLUX_THROTTLE: {
    uint64_t own;
    wait = influx_retry_after_ms(r->retry_after, realtime_ns() / 1000000000,
                                 RETRY_AFTER_CAP_MS);
    if (wait < 0) {
      retry_later(s, reason); /* no Retry-After: the core's back-off */
      return;
    }
    /* Never faster than a growing delay of our own, whatever the server
     * says (Retry-After: 0 in a loop). */
    s->throttles++;
    own = (uint64_t)s->throttles * s->throttles * 25;
    if (own > OWN_THROTTLE_CAP_MS) own = OWN_THROTTLE_CAP_MS;
    if ((uint64_t)wait < own) wait = (int64_t)own;
    s->host->stat_add(s->ctx, "throttled", 1);
    s->host->log(s->ctx, VQ_LOG_INFO,
                 "server busy (HTTP %ld), sending again in %lld ms", r->status,
                 (long long)wait);
    s->hold = HOLD_THROTTLE;
    s->timer = s->host->timer_start(s->ctx, (uint64_t)wait, 0,
                                    on_hold_timer, s);
    if (s->timer == NULL) retry_later(s, reason);
    return;
  }
  case INFLUX_CONFIG:
    if (v.db_not_found && s->cfg.create_db && !s->db_retried) {
      s->db_retried = 1;
      s->send_after_query = 1;
      create_database(s);
      return;
    }
    log_problem(s, VQ_LOG_ERROR,
                "write refused, keeping the data and retrying: HTTP %ld: %s%s",
                r->status, v.message,
                r->status == 401 || r->status == 403
                    ? " (check username/password or token)"
                : v.db_not_found ? " (create it, or set create_database = yes)"
                : r->status == 404 ? " (check the URL, org and bucket)"
                                   : "");
    retry_later(s, reason);
    return;
  default:
    retry_later(s, reason);
    return;
  }
}

/* Send readings [next, next + chunk) or finish the batch. */
static void send_chunk(struct influx_sink *s) {
  struct influx_http_request req;
  uint32_t n = s->batch ? s->batch->nreadings : 0;
  int rc;

  if (s->batch == NULL) return;
  if (s->timer != NULL) stop_timer(s); /* a held send is due */
  s->hold = HOLD_NONE;
  for (;;) {
    if (s->next >= n) {
      complete(s, VQ_WRITE_OK,
               s->rejected ? "lines rejected by the server" : NULL);
      return;
    }
    /* A split leaves hi inside the batch; otherwise take a full chunk. */
    if (s->hi <= s->next || s->hi > n) s->hi = s->next + s->chunk.size < n ? s->next + s->chunk.size : n;
    if (influx_body_lines(&s->body, s->next, s->hi) > 0) break;
    s->next = s->hi; /* readings with no field: nothing to send */
  }
  if (influx_http_busy(s->http)) {
    s->send_after_query = 1; /* CREATE DATABASE first */
    return;
  }
  memset(&req, 0, sizeof req);
  req.url = s->cfg.write_url;
  req.headers = s->headers;
  if (s->cfg.gzip) {
    rc = influx_body_gzip(&s->body, s->next, s->hi);
    if (rc < 0) {
      retry_later(s, "cannot compress the body");
      return;
    }
    req.body = s->body.gz.data;
    req.body_len = s->body.gz.len;
  } else {
    req.body = s->body.text.data + influx_body_offset(&s->body, s->next);
    req.body_len = influx_body_offset(&s->body, s->hi) -
                   influx_body_offset(&s->body, s->next);
  }
  rc = influx_http_post(s->http, &req, on_write_done, s);
  if (rc < 0) {
    retry_later(s, strerror(-rc));
    return;
  }
  s->last_post_ms = uv_now(s->loop);
  s->host->stat_add(s->ctx, "requests", 1);
}

static void on_hold_timer(void *arg) { send_chunk(arg); }

static void on_query_done(void *arg, const struct influx_http_response *r) {
  struct influx_sink *s = arg;
  struct influx_verdict v;
  if (r->failed) {
    s->host->log(s->ctx, VQ_LOG_WARN, "CREATE DATABASE \"%s\" failed: %s",
                 s->cfg.database, r->error);
  } else {
    influx_classify(r->status, r->body, r->body_len, &v);
    if (r->status == 200)
      s->host->log(s->ctx, VQ_LOG_INFO, "database \"%s\" is there",
                   s->cfg.database);
    else
      /* 403: not an admin.  The database may exist anyway: go on. */
      s->host->log(s->ctx, VQ_LOG_WARN,
                   "CREATE DATABASE \"%s\": HTTP %ld: %s", s->cfg.database,
                   r->status, v.message);
  }
  if (s->send_after_query && s->batch != NULL && s->hold == HOLD_NONE) {
    s->send_after_query = 0;
    send_chunk(s);
  }
}

static void create_database(struct influx_sink *s) {
  struct vq_text q, stmt;
  struct influx_http_request req;
  static const char *const form[] = {
      "Content-Type: application/x-www-form-urlencoded", NULL, NULL};
  const char *headers[3];
  const char *c;
  int rc;

  vq_text_init(&stmt);
  vq_text_init(&q);
  /* InfluxQL identifier in double quotes: escape " and \. */
  vq_text_adds(&stmt, "CREATE DATABASE \"");
  for (c = s->cfg.database; *c; c++) {
    if (*c == '"' || *c == '\\') vq_text_addc(&stmt, '\\');
    vq_text_addc(&stmt, *c);
  }
  vq_text_addc(&stmt, '"');
  vq_text_adds(&q, "q=");
  if (stmt.data) influx_add_query_value(&q, stmt.data);
  vq_text_free(&stmt);
  if (q.failed) {
    vq_text_free(&q);
    if (s->batch) retry_later(s, "out of memory");
    return;
  }
  headers[0] = form[0];
  headers[1] = s->auth_header;
  headers[2] = NULL;
  memset(&req, 0, sizeof req);
  req.url = s->cfg.query_url;
  req.body = q.data;
  req.body_len = q.len;
  req.headers = headers;
  /* libcurl copies nothing: keep the form until the answer. */
  vq_text_free(&s->body.gz);
  s->body.gz = q;
  rc = influx_http_post(s->http, &req, on_query_done, s);
  if (rc < 0) {
    s->host->log(s->ctx, VQ_LOG_WARN, "CREATE DATABASE not sent: %s",
                 strerror(-rc));
    if (s->send_after_query && s->batch) retry_later(s, "CREATE DATABASE failed");
  }
}

/* ------------------------------------------------------------------ */
/* Plugin callbacks                                                    */
/* ------------------------------------------------------------------ */

static void sink_destroy(void *instance);

static int sink_create(const struct vq_host *host, struct vq_ctx *ctx,
                       void **instance) {
  struct influx_sink *s = calloc(1, sizeof *s);
  struct influx_http_config hc;
  int rc;
  size_t h = 0;

  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  s->loop = host->loop(ctx);
  influx_body_init(&s->body);
  if ((rc = influx_config_read(&s->cfg, host, ctx, 0)) != 0) {
    sink_destroy(s);
    return rc;
  }
  influx_chunk_init(&s->chunk, (uint32_t)s->cfg.batch_size);
  s->lp.measurement = s->cfg.measurement;
  s->lp.precision = s->cfg.precision;
  s->lp.enum_text = s->cfg.enum_text;
  s->types.field_type = quantity_type;
  s->types.arg = s;

  s->headers[h++] = "Content-Type: text/plain; charset=utf-8";
  if (s->cfg.gzip) s->headers[h++] = "Content-Encoding: gzip";
  if (s->cfg.token != NULL) {
    size_t n = strlen(s->cfg.token) + 32;
    if ((s->auth_header = malloc(n)) == NULL) {
      sink_destroy(s);
      return -ENOMEM;
    }
    snprintf(s->auth_header, n, "Authorization: Token %s", s->cfg.token);
    s->headers[h++] = s->auth_header;
  }
  s->headers[h] = NULL;

  memset(&hc, 0, sizeof hc);
  hc.ca_file = s->cfg.ca_file;
  hc.verify = s->cfg.verify;
  hc.timeout_ms = s->cfg.timeout_ms;
  hc.connect_timeout_ms = s->cfg.timeout_ms < 5000 ? s->cfg.timeout_ms : 5000;
  if (!s->cfg.v2) {
    hc.username = s->cfg.username;
    hc.password = s->cfg.password;
  }
  if ((rc = influx_http_new(&s->http, s->loop, &hc)) != 0) {
    host->log(ctx, VQ_LOG_ERROR, "cannot set up libcurl: %s", strerror(-rc));
    sink_destroy(s);
    return rc;
  }
  *instance = s;
  return 0;
}

static int sink_start(void *instance) {
  struct influx_sink *s = instance;
  /* The server may be down: the sink starts anyway, and writes retry. */
  if (s->cfg.create_db) create_database(s);
  return 0;
}

/* How long a batch of `lines` lines may wait for more (0: send now). */
static uint64_t hold_ms(struct influx_sink *s, const struct vq_batch *b,
                        uint32_t lines) {
  uint64_t now = uv_now(s->loop), since, wait;
  int64_t age_ms;
  if (s->stopping || s->cfg.flush_ms == 0 || lines >= (uint64_t)s->cfg.batch_size ||
      s->last_post_ms == 0)
    return 0;
  since = now - s->last_post_ms;
  if (since >= s->cfg.flush_ms) return 0;
  wait = s->cfg.flush_ms - since;
  age_ms = (realtime_ns() - b->readings[b->nreadings - 1]->time_ns) / 1000000;
  if (age_ms >= (int64_t)s->cfg.flush_ms) return 0; /* a backlog: no waiting */
  if (age_ms > 0 && s->cfg.flush_ms - (uint64_t)age_ms < wait)
    wait = s->cfg.flush_ms - (uint64_t)age_ms;
  return wait;
}

static int sink_write(void *instance, const struct vq_batch *batch) {
  struct influx_sink *s = instance;
  uint64_t wait;
  int rc;

  rc = influx_body_format(&s->body, batch, &s->lp, &s->types);
  if (rc < 0) return rc; /* the core retries */
  if (s->types.skipped > s->type_skipped_logged) {
    s->host->stat_add(s->ctx, "fields_type_skipped",
                      (int64_t)(s->types.skipped - s->type_skipped_logged));
    log_problem(s, VQ_LOG_WARN,
                "left out fields whose type differs from their quantity's "
                "(%llu so far)", (unsigned long long)s->types.skipped);
    s->type_skipped_logged = s->types.skipped;
  }
  s->batch = batch;
  s->next = s->hi = 0;
  s->rejected = 0;
  s->db_retried = 0;
  wait = hold_ms(s, batch, s->body.lines);
  if (wait > 0 && s->body.lines > 0) {
    s->hold = HOLD_FLUSH;
    s->timer = s->host->timer_start(s->ctx, wait, 0, on_hold_timer, s);
    if (s->timer != NULL) return 0;
    s->hold = HOLD_NONE; /* no timer: just send */
  }
  send_chunk(s);
  return 0;
}

static void on_http_closed(void *arg) {
  struct influx_sink *s = arg;
  s->http = NULL;
  s->stopped(s->ctx);
}

static void sink_stop(void *instance, vq_stopped_cb done) {
  struct influx_sink *s = instance;
  s->stopping = 1;
  s->stopped = done;
  /* The daemon stops a sink once its queue is flushed or its shutdown
   * time is up: whatever is still in flight or held is given back. */
  influx_http_cancel(s->http);
  if (s->batch != NULL) retry_later(s, "stopping");
  stop_timer(s);
  influx_http_close(s->http, on_http_closed, s);
}

static void sink_destroy(void *instance) {
  struct influx_sink *s = instance;
  if (s->http != NULL) {
    /* Never started (create failed later, or start was not called). */
    influx_http_close(s->http, NULL, NULL);
  }
  influx_body_free(&s->body);
  influx_config_free(&s->cfg);
  vq_secret_free(s->auth_header);
  free(s);
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "influx",
    .version = PACKAGE_VERSION,
    .description = "records to InfluxDB (v1 /write or v2 /api/v2/write) over HTTP(S)",
    .kinds = VQ_KIND_SINK,
    .options = influx_options,
    .check = influx_config_check,
    .create = sink_create,
    .start = sink_start,
    .stop = sink_stop,
    .destroy = sink_destroy,
    .write = sink_write,
};

VQ_PLUGIN_DECLARE(influx, descriptor)

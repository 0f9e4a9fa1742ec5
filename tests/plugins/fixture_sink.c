/* fixture-sink: a sink whose outcomes follow a script, for tests of the
 * queue (ok, retry, reject, partial, hang) and the control path; it
 * records what it received in a file the test reads back. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vicacq/plugin.h"

struct fixture_sink {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  char *script; /* remaining outcomes, comma-separated */
  char *cursor;
  uint64_t delay_ms;
  FILE *out;
  const struct vq_batch *batch;
  struct vq_timer *timer, *command_timer;
  int pending_status;
  uint32_t pending_done, pending_rejected;
  uint64_t writes;
};

static const struct vq_option options[] = {
    {"script", VQ_OPT_STRING, 0, "", NULL, 1, 0,
     "outcome per write, comma-separated: ok, retry, reject, partial:D:R, "
     "hang; then ok"},
    {"delay", VQ_OPT_DURATION, 0, "0", NULL, 0, 3600000,
     "complete writes after this long (0: at once)"},
    {"output", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "append what was delivered to this file"},
    {"command", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "submit SOURCE/DEVICE/QUANTITY=VALUE[:UNIT] at start"},
    {"command_after", VQ_OPT_DURATION, 0, "50ms", NULL, 0, 3600000,
     "when to submit the command"},
    {"fail_while", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "answer retry to every write while this file exists (a sink that is "
     "down, then recovers)"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

static int sink_create(const struct vq_host *host, struct vq_ctx *ctx,
                       void **instance) {
  struct fixture_sink *s = calloc(1, sizeof *s);
  const char *out;
  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  s->script = strdup(host->cfg_string(ctx, "script"));
  s->cursor = s->script;
  host->cfg_duration(ctx, "delay", &s->delay_ms);
  out = host->cfg_string(ctx, "output");
  if (out != NULL) {
    s->out = fopen(out, "a");
    if (s->out == NULL) {
      host->log(ctx, VQ_LOG_ERROR, "cannot open %s", out);
      free(s->script);
      free(s);
      return -errno;
    }
    setvbuf(s->out, NULL, _IOLBF, 0);
  }
  *instance = s;
  return 0;
}

static void submit_command(void *arg) {
  struct fixture_sink *s = arg;
  char spec[256], *eq, *parts[3], *unit, *save = NULL;
  struct vq_command cmd;
  const char *reason = NULL;
  int64_t ticket;
  int i;

  s->host->timer_stop(s->ctx, s->command_timer);
  s->command_timer = NULL;
  snprintf(spec, sizeof spec, "%s", s->host->cfg_string(s->ctx, "command"));
  eq = strchr(spec, '=');
  if (eq == NULL) return;
  *eq++ = '\0';
  unit = strchr(eq, ':');
  if (unit) *unit++ = '\0';
  parts[0] = strtok_r(spec, "/", &save);
  for (i = 1; i < 3; i++) parts[i] = strtok_r(NULL, "/", &save);
  memset(&cmd, 0, sizeof cmd);
  cmd.size = sizeof cmd;
  cmd.source = parts[0];
  cmd.device = parts[1];
  cmd.quantity = parts[2];
  cmd.value = strtod(eq, NULL);
  cmd.unit = unit;
  ticket = s->host->command_submit(s->ctx, &cmd, &reason);
  if (s->out)
    fprintf(s->out, "submitted %lld %s\n", (long long)ticket,
            ticket < 0 ? reason : "");
}

static int sink_start(void *instance) {
  struct fixture_sink *s = instance;
  uint64_t after;
  if (s->host->cfg_string(s->ctx, "command") != NULL) {
    s->host->cfg_duration(s->ctx, "command_after", &after);
    s->command_timer =
        s->host->timer_start(s->ctx, after, 0, submit_command, s);
  }
  return 0;
}

static void log_batch(struct fixture_sink *s, const struct vq_batch *b,
                      uint32_t upto) {
  uint32_t i, j;
  if (s->out == NULL) return;
  for (i = 0; i < upto; i++) {
    const struct vq_reading *r = b->readings[i];
    fprintf(s->out, "reading %s %s %llu", r->source, r->device,
            (unsigned long long)r->seq);
    for (j = 0; j < r->nrecords; j++) {
      const struct vq_record *rec = VQ_READING_RECORD(r, j);
      if (rec->flags & VQ_RECORD_NA)
        fprintf(s->out, " %s=NA", rec->quantity);
      else if (rec->type == VQ_VALUE_DOUBLE)
        fprintf(s->out, " %s=%g%s", rec->quantity, rec->value.f64,
                (rec->flags & VQ_RECORD_WRITABLE) ? "(w)" : "");
      else if (rec->type == VQ_VALUE_STRING)
        fprintf(s->out, " %s=%s", rec->quantity, rec->value.str);
      else
        fprintf(s->out, " %s=%lld", rec->quantity,
                (long long)rec->value.i64);
    }
    fputc('\n', s->out);
  }
}

static void complete(struct fixture_sink *s) {
  const struct vq_batch *b = s->batch;
  s->batch = NULL;
  if (s->pending_status == VQ_WRITE_OK) log_batch(s, b, b->nreadings);
  if (s->pending_status == VQ_WRITE_PARTIAL)
    log_batch(s, b, s->pending_done < b->nreadings ? s->pending_done
                                                   : b->nreadings);
  s->host->batch_done(s->ctx, b, s->pending_status, s->pending_done,
                      s->pending_rejected, "scripted outcome");
}

static void on_delay(void *arg) {
  struct fixture_sink *s = arg;
  s->host->timer_stop(s->ctx, s->timer);
  s->timer = NULL;
  complete(s);
}

static int sink_write(void *instance, const struct vq_batch *batch) {
  struct fixture_sink *s = instance;
  char word[64];
  size_t n = strcspn(s->cursor, ",");
  unsigned done = 0, rejected = 0;
  const char *down = s->host->cfg_string(s->ctx, "fail_while");

  if (down != NULL && access(down, F_OK) == 0) {
    s->writes++;
    if (s->out) fprintf(s->out, "write %llu down %u\n",
                        (unsigned long long)s->writes, batch->nreadings);
    s->host->batch_done(s->ctx, batch, VQ_WRITE_RETRY, 0, 0, "down");
    return 0;
  }
  if (n >= sizeof word) n = sizeof word - 1;
  memcpy(word, s->cursor, n);
  word[n] = '\0';
  s->cursor += n;
  if (*s->cursor == ',') s->cursor++;
  s->writes++;
  if (s->out) fprintf(s->out, "write %llu %s %u\n", (unsigned long long)s->writes,
                      *word ? word : "ok", batch->nreadings);
  s->batch = batch;
  s->pending_done = 0;
  s->pending_rejected = 0;
  if (strcmp(word, "retry") == 0) {
    s->pending_status = VQ_WRITE_RETRY;
  } else if (strcmp(word, "reject") == 0) {
    s->pending_status = VQ_WRITE_REJECT;
  } else if (sscanf(word, "partial:%u:%u", &done, &rejected) == 2) {
    s->pending_status = VQ_WRITE_PARTIAL;
    s->pending_done = done;
    s->pending_rejected = rejected;
  } else if (strcmp(word, "hang") == 0) {
    return 0; /* never completes: the daemon's shutdown timeout must cope */
  } else {
    s->pending_status = VQ_WRITE_OK;
  }
  if (s->delay_ms == 0) {
    complete(s);
    return 0;
  }
  s->timer = s->host->timer_start(s->ctx, s->delay_ms, 0, on_delay, s);
  return s->timer ? 0 : -ENOMEM;
}

static void sink_command_result(void *instance, uint64_t ticket, int status,
                                const char *message) {
  struct fixture_sink *s = instance;
  if (s->out)
    fprintf(s->out, "result %llu %d %s\n", (unsigned long long)ticket, status,
            message ? message : "");
}

static void sink_stop(void *instance, vq_stopped_cb done) {
  struct fixture_sink *s = instance;
  if (s->timer) {
    /* A delayed completion still owes its batch: complete it now. */
    s->host->timer_stop(s->ctx, s->timer);
    s->timer = NULL;
    complete(s);
  }
  done(s->ctx);
}

static void sink_destroy(void *instance) {
  struct fixture_sink *s = instance;
  if (s->out) fclose(s->out);
  free(s->script);
  free(s);
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "fixture-sink",
    .version = "1.0",
    .description = "scripted sink (tests)",
    .kinds = VQ_KIND_SINK,
    .options = options,
    .create = sink_create,
    .start = sink_start,
    .stop = sink_stop,
    .destroy = sink_destroy,
    .write = sink_write,
    .command_result = sink_command_result,
};

VQ_PLUGIN_DECLARE(fixture_sink, descriptor)

/* fixture-source: a source that makes up readings, for tests and
 * benchmarks.  Each reading carries `records` records fixture.value.N (a
 * double counting up) plus, when asked, the writable fixture.setpoint. */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "vicacq/plugin.h"

#define MAX_RECORDS 64
#define NO_BOUNDS_ 1, 0

struct fixture_source {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  int64_t count, records, burst;
  uint64_t interval_ms;
  int finish, kinds;
  const char *device;
  const char *fail;
  double setpoint;
  int64_t sent;
  uint64_t command_delay_ms;
  int command_fail;
  struct vq_timer *timer;
  uv_idle_t idle; /* as-fast-as-possible mode */
  int idle_active;
  vq_stopped_cb stopped;
  char names[MAX_RECORDS][32];
  /* Commands being "carried out". */
  uint64_t ticket;
  double target;
  struct vq_timer *command_timer;
  int busy; /* a command is being carried out */
  /* worker = yes: a thread that posts to the loop all along, also after
   * the stop has completed (plugin.h: refused with -ESHUTDOWN, and nothing
   * posted runs after done). */
  int worker;
  uv_thread_t worker_thread;
  int worker_running;
  atomic_int worker_quit, posted, refused, other_errors;
  int ran, ran_after_done, done_called;
  int flush_on_stop;
};

static const struct vq_option options[] = {
    {"count", VQ_OPT_INT, 0, "10", NULL, 0, 1e12,
     "readings to emit, then finish (0: forever)"},
    {"records", VQ_OPT_INT, 0, "1", NULL, 1, MAX_RECORDS,
     "records per reading"},
    {"interval", VQ_OPT_DURATION, 0, "0", NULL, 0, 3600000,
     "time between bursts (0: as fast as the loop allows)"},
    {"burst", VQ_OPT_INT, 0, "100", NULL, 1, 1e6,
     "readings per burst"},
    {"device", VQ_OPT_STRING, 0, "fixture1", NULL, 1, 0, "device id"},
    {"names", VQ_OPT_STRING, VQ_OPT_LIST, NULL, NULL, 1, 0,
     "quantities of the records, in turn (default fixture.value.N)"},
    {"finish", VQ_OPT_BOOL, 0, "yes", NULL, 1, 0,
     "tell the daemon when count readings are out"},
    {"flush_on_stop", VQ_OPT_BOOL, 0, "no", NULL, 1, 0,
     "emit one reading of fixture.flushed in stop(), as a source holding "
     "values back does, and one of fixture.after_done after done()"},
    {"kinds", VQ_OPT_BOOL, 0, "no", NULL, 1, 0,
     "add one record of every value type (enum, bitmask, bool, string, NA)"},
    {"command_delay", VQ_OPT_DURATION, 0, "10ms", NULL, 0, 3600000,
     "how long a command takes"},
    {"command_fail", VQ_OPT_BOOL, 0, "no", NULL, 1, 0,
     "fail every command (the device says no)"},
    {"secret", VQ_OPT_SECRET, 0, NULL, NULL, 1, 0,
     "a secret that must never be logged"},
    {"worker", VQ_OPT_BOOL, 0, "no", NULL, NO_BOUNDS_,
     "run a thread that calls post() every millisecond until destroy"},
    {"fail", VQ_OPT_ENUM, 0, "none", "none|check|create|create_silent|start",
     NO_BOUNDS_, "where to fail on purpose: check() and create() say why "
     "with cfg_error, create_silent and start return -EIO without a word"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

static const struct vq_writable writables[] = {
    {"fixture.setpoint", "A", 0, 100, 0.1, "a setting that can be written"},
    {NULL, NULL, 0, 0, 0, NULL}};

/* Every option lands in the struct through cfg_bind: the defaults live
 * only in the schema above. */
static const struct vq_cfg_bind bindings[] = {
    VQ_CFG_BIND(struct fixture_source, count, "count", VQ_OPT_INT),
    VQ_CFG_BIND(struct fixture_source, records, "records", VQ_OPT_INT),
    VQ_CFG_BIND(struct fixture_source, burst, "burst", VQ_OPT_INT),
    VQ_CFG_BIND(struct fixture_source, interval_ms, "interval",
                VQ_OPT_DURATION),
    VQ_CFG_BIND(struct fixture_source, finish, "finish", VQ_OPT_BOOL),
    VQ_CFG_BIND(struct fixture_source, kinds, "kinds", VQ_OPT_BOOL),
    VQ_CFG_BIND(struct fixture_source, flush_on_stop, "flush_on_stop", VQ_OPT_BOOL),
    VQ_CFG_BIND(struct fixture_source, command_delay_ms, "command_delay",
                VQ_OPT_DURATION),
    VQ_CFG_BIND(struct fixture_source, command_fail, "command_fail",
                VQ_OPT_BOOL),
    VQ_CFG_BIND(struct fixture_source, device, "device", VQ_OPT_STRING),
    VQ_CFG_BIND(struct fixture_source, fail, "fail", VQ_OPT_ENUM),
    VQ_CFG_BIND(struct fixture_source, worker, "worker", VQ_OPT_BOOL),
    {NULL, 0, 0}};

static int src_check(const struct vq_host *host, struct vq_ctx *ctx) {
  const char *fail = host->cfg_string(ctx, "fail");
  if (strcmp(fail, "check") != 0) return 0;
  host->cfg_error(ctx, "fail", "refused by check() on purpose (device '%s')",
                  host->cfg_string(ctx, "device"));
  return -EINVAL;
}

static int src_create(const struct vq_host *host, struct vq_ctx *ctx,
                      void **instance) {
  struct fixture_source *s = calloc(1, sizeof *s);
  int64_t i;
  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  if (host->cfg_bind(ctx, bindings, s) != 0) {
    free(s);
    return -EINVAL;
  }
  if (strcmp(s->fail, "create") == 0) {
    host->cfg_error(ctx, "fail", "refused by create() on purpose");
    free(s);
    return -EINVAL;
  }
  if (strcmp(s->fail, "create_silent") == 0) {
    free(s);
    return -EIO;
  }
  s->setpoint = 10;
  {
    /* names = a, b: the records' quantities in turn (the processors'
     * benchmark feeds battery.power and friends). */
    const char *names = host->cfg_string(ctx, "names");
    char list[1024], *save = NULL, *tok, *given[MAX_RECORDS];
    size_t n = 0;
    if (names) {
      snprintf(list, sizeof list, "%s", names);
      for (tok = strtok_r(list, ", ", &save); tok && n < MAX_RECORDS;
           tok = strtok_r(NULL, ", ", &save))
        given[n++] = tok;
    }
    for (i = 0; i < s->records; i++) {
      if (n > 0) snprintf(s->names[i], sizeof s->names[i], "%s", given[i % n]);
      else snprintf(s->names[i], sizeof s->names[i], "fixture.value.%d", (int)i);
    }
  }
  *instance = s;
  return 0;
}

static void emit_one(struct fixture_source *s) {
  struct vq_record recs[MAX_RECORDS + 8];
  struct vq_tag tags[2] = {{"product", "Fixture, the \"test\" device"},
                           {"firmware", "1.00"}};
  struct vq_reading r = VQ_READING_INIT;
  int64_t i, n = 0;
  memset(recs, 0, sizeof recs);
  for (i = 0; i < s->records; i++, n++) {
    recs[n].quantity = s->names[i];
    recs[n].unit = "V";
    recs[n].type = VQ_VALUE_DOUBLE;
    recs[n].value.f64 = (double)s->sent + (double)i / 100.0;
  }
  if (s->kinds) {
    recs[n].quantity = "device.state";
    recs[n].type = VQ_VALUE_ENUM;
    recs[n].value.i64 = 3;
    recs[n++].text = "Bulk";
    recs[n].quantity = "device.alarm_reason";
    recs[n].type = VQ_VALUE_BITMASK;
    recs[n].value.i64 = 5;
    recs[n++].text = "Low voltage,Low SOC";
    recs[n].quantity = "load.state";
    recs[n].type = VQ_VALUE_BOOL;
    recs[n++].value.i64 = 1;
    recs[n].quantity = "fixture.note";
    recs[n].type = VQ_VALUE_STRING;
    recs[n++].value.str = "a \"quoted\", text";
    recs[n].quantity = "battery.temperature";
    recs[n].type = VQ_VALUE_DOUBLE;
    recs[n++].flags = VQ_RECORD_NA;
    recs[n].quantity = "fixture.setpoint";
    recs[n].unit = "A";
    recs[n].type = VQ_VALUE_DOUBLE;
    recs[n++].value.f64 = s->setpoint;
  }
  r.device = s->device;
  r.tags = tags;
  r.ntags = 2;
  r.records = recs;
  r.nrecords = (uint32_t)n;
  s->host->emit(s->ctx, &r);
  s->sent++;
}

/* One reading of one record of `quantity` (flush_on_stop). */
static void emit_marker(struct fixture_source *s, const char *quantity) {
  struct vq_record rec;
  struct vq_reading r = VQ_READING_INIT;
  memset(&rec, 0, sizeof rec);
  rec.quantity = quantity;
  rec.type = VQ_VALUE_DOUBLE;
  rec.value.f64 = (double)s->sent;
  r.device = s->device;
  r.records = &rec;
  r.nrecords = 1;
  s->host->emit(s->ctx, &r);
}

static void stop_emitting(struct fixture_source *s) {
  if (s->timer) {
    s->host->timer_stop(s->ctx, s->timer);
    s->timer = NULL;
  }
  if (s->idle_active) {
    uv_idle_stop(&s->idle);
    s->idle_active = 0;
  }
}

static void burst(void *arg) {
  struct fixture_source *s = arg;
  int64_t i;
  for (i = 0; i < s->burst && (s->count == 0 || s->sent < s->count); i++)
    emit_one(s);
  if (s->count != 0 && s->sent >= s->count) {
    stop_emitting(s);
    if (s->finish) s->host->finished(s->ctx);
  }
}

static void on_idle(uv_idle_t *h) { burst(h->data); }

/* Runs on the loop thread, posted by the worker. */
static void worker_posted(void *arg) {
  struct fixture_source *s = arg;
  s->ran++;
  if (s->done_called) s->ran_after_done++;
}

static void worker_main(void *arg) {
  struct fixture_source *s = arg;
  while (!atomic_load(&s->worker_quit)) {
    int rc = s->host->post(s->ctx, worker_posted, s);
    if (rc == 0) atomic_fetch_add(&s->posted, 1);
    else if (rc == -ESHUTDOWN) atomic_fetch_add(&s->refused, 1);
    else atomic_fetch_add(&s->other_errors, 1);
    uv_sleep(1);
  }
}

static int src_start(void *instance) {
  struct fixture_source *s = instance;
  uv_loop_t *loop = s->host->loop(s->ctx);
  int rc;
  if (strcmp(s->fail, "start") == 0) return -EIO;
  if (s->worker) {
    if (uv_thread_create(&s->worker_thread, worker_main, s) != 0) return -EAGAIN;
    s->worker_running = 1;
  }
  if (s->interval_ms > 0) {
    s->timer = s->host->timer_start(s->ctx, 0, s->interval_ms, burst, s);
    return s->timer ? 0 : -ENOMEM;
  }
  rc = uv_idle_init(loop, &s->idle);
  if (rc != 0) return rc;
  s->idle.data = s;
  s->idle_active = 1;
  return uv_idle_start(&s->idle, on_idle);
}

static void report_done(struct fixture_source *s) {
  s->done_called = 1;
  s->stopped(s->ctx);
  if (s->flush_on_stop) emit_marker(s, "fixture.after_done");
}

static void on_idle_closed(uv_handle_t *h) { report_done(h->data); }

static void src_stop(void *instance, vq_stopped_cb done) {
  struct fixture_source *s = instance;
  s->stopped = done;
  stop_emitting(s);
  if (s->flush_on_stop) emit_marker(s, "fixture.flushed");
  if (s->command_timer) {
    s->host->timer_stop(s->ctx, s->command_timer);
    s->command_timer = NULL;
  }
  s->busy = 0;
  if (s->interval_ms == 0) {
    uv_close((uv_handle_t *)&s->idle, on_idle_closed);
    return;
  }
  report_done(s);
}

static void src_destroy(void *instance) {
  struct fixture_source *s = instance;
  if (s->worker_running) {
    int waited;
    /* Let the worker meet the closed post queue before it is told to end
     * (bounded: a test fixture may block the loop this long). */
    for (waited = 0; waited < 2000 && atomic_load(&s->refused) == 0; waited++)
      uv_sleep(1);
    atomic_store(&s->worker_quit, 1);
    uv_thread_join(&s->worker_thread);
    s->host->log(s->ctx, VQ_LOG_INFO,
                 "worker: %d posted, %d ran, %d ran after stop, %d refused "
                 "after stop, %d other errors",
                 atomic_load(&s->posted), s->ran, s->ran_after_done,
                 atomic_load(&s->refused), atomic_load(&s->other_errors));
  }
  free(s);
}

static void command_finish(void *arg) {
  struct fixture_source *s = arg;
  s->busy = 0;
  if (s->command_fail) {
    s->host->command_done(s->ctx, s->ticket, -EIO, "the device said no");
    return;
  }
  s->setpoint = s->target;
  {
    struct vq_record rec;
    struct vq_reading r = VQ_READING_INIT;
    memset(&rec, 0, sizeof rec);
    rec.quantity = "fixture.setpoint";
    rec.unit = "A";
    rec.type = VQ_VALUE_DOUBLE;
    rec.value.f64 = s->setpoint;
    r.device = s->device;
    r.records = &rec;
    r.nrecords = 1;
    s->host->emit(s->ctx, &r);
  }
  s->host->command_done(s->ctx, s->ticket, 0, "read back");
}

static int src_command(void *instance, const struct vq_command *cmd) {
  struct fixture_source *s = instance;
  if (strcmp(cmd->device, s->device) != 0) return -ENODEV;
  if (s->busy) return -EBUSY;
  s->ticket = cmd->ticket;
  s->target = cmd->value;
  /* One timer for every command, re-armed with timer_again. */
  if (s->command_timer == NULL) {
    s->command_timer = s->host->timer_start(s->ctx, s->command_delay_ms, 0,
                                            command_finish, s);
    if (s->command_timer == NULL) return -ENOMEM;
  } else if (s->host->timer_again(s->ctx, s->command_timer,
                                  s->command_delay_ms, 0) != 0) {
    return -EIO;
  }
  s->busy = 1;
  return 0;
}

/* A tool of the same name as plugin-hello's, that needs a key: `vicacq
 * greet` without a plugin runs it only when --device is given.  learn
 * takes its device and quantities from -c FILE (from_config, and
 * from_config_more naming its plugin); learn-broken has a malformed spec. */
static const struct vq_tool tools[] = {
    {.name = "greet",
     .summary = "emit one reading of device DEVICE",
     .preset = "count=1",
     .options = "device,count",
     .required = "device"},
    {.name = "learn",
     .summary = "emit one reading as -c FILE's sources with a secret say",
     .preset = "count=1",
     .from_config = "device=device+secret",
     .from_config_more = "names=fixture-source:names"},
    {.name = "learn-broken",
     .summary = "a from_config the host must refuse",
     .preset = "count=1",
     .from_config = "device=device",
     .from_config_more = "names"},
    {.name = NULL}};

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "fixture-source",
    .version = "1.0",
    .description = "makes up readings (tests and benchmarks)",
    .kinds = VQ_KIND_SOURCE,
    .options = options,
    .writables = writables,
    .create = src_create,
    .start = src_start,
    .stop = src_stop,
    .destroy = src_destroy,
    .command = src_command,
    .check = src_check,
    .tools = tools,
};

VQ_PLUGIN_DECLARE(fixture_source, descriptor)

/* The test host against two small plugins defined here: that it parses
 * options as the core does, runs check(), create() and start() with the
 * core's failure rules, records readings, and feeds readings to a sink. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "vqt_host.h"
#include "vqt_reading.h"
#include "vqtest.h"

/* ---- a source: emits one reading per tick, re-arms with timer_again ---- */

struct probe {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  struct vq_timer *timer;
  uint64_t wait_ms;
  int64_t ticks, count;
  const char *name;
  int flag;
};

static const struct vq_cfg_bind probe_bind[] = {
    VQ_CFG_BIND(struct probe, wait_ms, "wait", VQ_OPT_DURATION),
    VQ_CFG_BIND(struct probe, count, "count", VQ_OPT_INT),
    VQ_CFG_BIND(struct probe, name, "name", VQ_OPT_STRING),
    VQ_CFG_BIND(struct probe, flag, "flag", VQ_OPT_BOOL),
    {NULL, 0, 0}};

static const struct vq_cfg_bind bad_bind[] = {
    VQ_CFG_BIND(struct probe, count, "wait", VQ_OPT_INT), /* wrong type */
    {NULL, 0, 0}};

static const struct vq_option probe_options[] = {
    {"name", VQ_OPT_STRING, VQ_OPT_REQUIRED, NULL, NULL, 1, 0, "a name"},
    {"flag", VQ_OPT_BOOL, 0, "no", NULL, 1, 0, "a boolean"},
    {"wait", VQ_OPT_DURATION, 0, "10ms", NULL, 1, 7200000, "a duration"},
    {"count", VQ_OPT_INT, 0, "3", NULL, 0, 10, "readings to emit"},
    {"token", VQ_OPT_SECRET, 0, NULL, NULL, 1, 0, "a secret"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

static int probe_check(const struct vq_host *host, struct vq_ctx *ctx) {
  const char *name = host->cfg_string(ctx, "name");
  if (name != NULL && strchr(name, ':') != NULL) {
    host->cfg_error(ctx, "name", "'%s' has a ':'", name);
    return -EINVAL;
  }
  return 0;
}

static int probe_create(const struct vq_host *host, struct vq_ctx *ctx,
                        void **instance) {
  struct probe *p = calloc(1, sizeof *p);
  if (p == NULL) return -ENOMEM;
  p->host = host;
  p->ctx = ctx;
  if (host->cfg_bind(ctx, probe_bind, p) != 0) {
    free(p);
    return -EINVAL;
  }
  *instance = p;
  return 0;
}

static void probe_tick(void *arg) {
  struct probe *p = arg;
  struct vqt_builder b;
  vqt_build(&b, "dev1", 1000000000LL * (p->ticks + 1));
  vqt_build_tag(&b, "product", p->ticks < 2 ? "Probe" : "Probe 2");
  vqt_build_double(&b, "battery.voltage", 12.5 + (double)p->ticks);
  vqt_build_na(&b, "battery.current", VQ_VALUE_DOUBLE);
  p->host->emit(p->ctx, &b.reading);
  p->host->stat_add(p->ctx, "ticks", 1);
  if (++p->ticks < p->count) {
    p->host->timer_again(p->ctx, p->timer, p->wait_ms, 0);
  } else {
    p->host->timer_stop(p->ctx, p->timer);
    p->timer = NULL;
    p->host->finished(p->ctx);
  }
}

static int probe_start(void *instance) {
  struct probe *p = instance;
  p->timer = p->host->timer_start(p->ctx, p->wait_ms, 0, probe_tick, p);
  return p->timer ? 0 : -ENOMEM;
}

static void probe_stop(void *instance, vq_stopped_cb done) {
  struct probe *p = instance;
  if (p->timer) p->host->timer_stop(p->ctx, p->timer);
  p->timer = NULL;
  done(p->ctx);
}

static void probe_destroy(void *instance) { free(instance); }

static const struct vq_plugin probe_plugin = {
    VQ_PLUGIN_HEADER,
    .name = "probe",
    .version = "1",
    .description = "test source",
    .kinds = VQ_KIND_SOURCE,
    .options = probe_options,
    .create = probe_create,
    .start = probe_start,
    .stop = probe_stop,
    .destroy = probe_destroy,
    .check = probe_check,
};

/* ---- a sink: completes each batch from another thread via post() ---- */

struct catcher {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  const struct vq_batch *batch;
  uv_thread_t thread;
  double sum;
  uint32_t readings;
};

static const struct vq_option no_options[] = {
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

static int catcher_create(const struct vq_host *host, struct vq_ctx *ctx,
                          void **instance) {
  struct catcher *c = calloc(1, sizeof *c);
  if (c == NULL) return -ENOMEM;
  c->host = host;
  c->ctx = ctx;
  *instance = c;
  return 0;
}

static int catcher_start(void *instance) { return 0; }

static void catcher_complete(void *arg) {
  struct catcher *c = arg;
  uv_thread_join(&c->thread);
  c->host->batch_done(c->ctx, c->batch, VQ_WRITE_OK, c->batch->nreadings, 0,
                      NULL);
}

static void catcher_thread(void *arg) {
  struct catcher *c = arg;
  c->host->post(c->ctx, catcher_complete, c);
}

static int catcher_write(void *instance, const struct vq_batch *batch) {
  struct catcher *c = instance;
  uint32_t i;
  for (i = 0; i < batch->nreadings; i++) {
    const struct vq_record *r = vqt_record(batch->readings[i], "battery.voltage");
    if (r != NULL) c->sum += r->value.f64;
    c->readings++;
  }
  c->batch = batch;
  return uv_thread_create(&c->thread, catcher_thread, c);
}

static void catcher_stop(void *instance, vq_stopped_cb done) {
  struct catcher *c = instance;
  done(c->ctx);
}

static const struct vq_plugin catcher_plugin = {
    VQ_PLUGIN_HEADER,
    .name = "catcher",
    .version = "1",
    .description = "test sink",
    .kinds = VQ_KIND_SINK,
    .options = no_options,
    .create = catcher_create,
    .start = catcher_start,
    .stop = catcher_stop,
    .destroy = probe_destroy,
    .write = catcher_write,
};

/* ---- tests ---- */

static int bad_bind_check(const struct vq_host *host, struct vq_ctx *ctx) {
  struct probe p;
  return host->cfg_bind(ctx, bad_bind, &p);
}

static int check_kv(uv_loop_t *loop, const char *const *kv, const char *err) {
  struct vqt_host *h = vqt_host_new(loop, &probe_plugin, VQ_KIND_SOURCE, "p",
                                    kv);
  int rc = vqt_host_check(h);
  if (err != NULL) CHECK_INT(vqt_host_errors(h, err), 1);
  CHECK_INT(vqt_host_bugs(h), 0);
  vqt_host_free(h);
  return rc;
}

/* The core's parsers: what the old per-plugin stubs got wrong. */
static void test_options(uv_loop_t *loop) {
  const char *hours[] = {"name", "a", "wait", "1h", NULL};
  const char *garbage_bool[] = {"name", "a", "flag", "maybe", NULL};
  const char *too_long[] = {"name", "a", "wait", "3h", NULL};
  const char *unknown[] = {"name", "a", "colour", "red", NULL};
  const char *missing[] = {"flag", "yes", NULL};
  const char *range[] = {"name", "a", "count", "11", NULL};
  const char *checked[] = {"name", "a:b", NULL};
  struct vqt_host *h;
  uint64_t ms = 0;
  int b = -1;
  char path[] = "/tmp/vqtsecretXXXXXX";
  int fd;

  CHECK_INT(check_kv(loop, hours, NULL), 0);
  CHECK_INT(check_kv(loop, garbage_bool, "key 'flag': 'maybe' is not a boolean"),
            -EINVAL);
  CHECK_INT(check_kv(loop, too_long, "key 'wait'"), -EINVAL);
  CHECK_INT(check_kv(loop, unknown, "key 'colour': unknown key"), -EINVAL);
  CHECK_INT(check_kv(loop, missing, "key 'name': is required"), -EINVAL);
  CHECK_INT(check_kv(loop, range, "key 'count'"), -EINVAL);
  CHECK_INT(check_kv(loop, checked, "key 'name': 'a:b' has a ':'"), -EINVAL);

  {
    /* a bind table whose type differs from the schema's: a plugin bug; a
     * failed check() without a cfg_error still fails, naming the section */
    struct vq_plugin bad = probe_plugin;
    bad.check = bad_bind_check;
    h = vqt_host_new(loop, &bad, VQ_KIND_SOURCE, "p", hours);
    CHECK_INT(vqt_host_check(h), -EINVAL);
    CHECK_INT(vqt_host_bugs(h), 1);
    CHECK_INT(vqt_host_errors(h, "check failed"), 1);
    vqt_host_free(h);
  }

  h = vqt_host_new(loop, &probe_plugin, VQ_KIND_SOURCE, "p", hours);
  CHECK_INT(vqt_host_create(h), 0);
  CHECK_INT(((struct probe *)vqt_host_instance(h))->wait_ms, 3600000);
  vqt_host_free(h);

  /* Secrets from KEY_file; the getters' answers for missing keys. */
  fd = mkstemp(path);
  CHECK(fd >= 0);
  CHECK_INT(write(fd, "s3cret \n", 8), 8);
  close(fd);
  {
    const char *kv[] = {"name", "a", "token_file", path, "flag", "on", NULL};
    struct vq_ctx *ctx;
    const struct vq_host *host;
    h = vqt_host_new(loop, &probe_plugin, VQ_KIND_SOURCE, "p", kv);
    CHECK_INT(vqt_host_create(h), 0);
    host = ((struct probe *)vqt_host_instance(h))->host;
    ctx = ((struct probe *)vqt_host_instance(h))->ctx;
    CHECK_STR(host->cfg_string(ctx, "token"), "s3cret");
    CHECK_INT(host->cfg_bool(ctx, "flag", &b), 0);
    CHECK_INT(b, 1);
    CHECK_INT(host->cfg_duration(ctx, "wait", &ms), 0);
    CHECK_INT(ms, 10);
    CHECK_INT(((struct probe *)vqt_host_instance(h))->flag, 1);
    CHECK_STR(((struct probe *)vqt_host_instance(h))->name, "a");
    CHECK_INT(host->cfg_int(ctx, "nosuchkey", NULL), -EINVAL);
    CHECK_INT(vqt_host_bugs(h), 1); /* asking for an undeclared key */
    CHECK_INT(host->cfg_bind(ctx, probe_bind, vqt_host_instance(h)), -EINVAL);
    CHECK_INT(vqt_host_bugs(h), 2); /* cfg_bind after create() */
    CHECK_STR(host->instance_id(ctx), "p");
    CHECK(host->state_dir(ctx) == NULL);
    vqt_host_set_state_dir(h, "/tmp/vqt-state");
    CHECK_STR(host->state_dir(ctx), "/tmp/vqt-state");
    CHECK(VQ_HOST_HAS(host, backlog));
    CHECK_INT(host->backlog(ctx), 0);
    vqt_host_set_backlog(h, 85);
    CHECK_INT(host->backlog(ctx), 85);
    CHECK(host->quantity_info(ctx, "battery.voltage") != NULL);
    CHECK(host->quantity_info(ctx, "no.such.quantity") == NULL);
    vqt_host_free(h);
  }
  unlink(path);
}

static void test_source(uv_loop_t *loop) {
  const char *kv[] = {"name", "a", "wait", "5ms", "count", "4", NULL};
  struct vqt_host *h = vqt_host_new(loop, &probe_plugin, VQ_KIND_SOURCE, "p",
                                    kv);
  const struct vq_reading *r;
  CHECK_INT(vqt_host_start(h), 0);
  CHECK_INT(vqt_host_run_until_finished(h, 5000), 1);
  CHECK_INT(vqt_host_nreadings(h), 4);
  CHECK_INT(vqt_host_distinct_times(h), 4);
  CHECK_INT(vqt_host_stat(h, "ticks"), 4);
  CHECK_INT(vqt_host_ntimers(h), 0);
  r = vqt_host_reading(h, 3);
  CHECK(r != NULL);
  if (r != NULL) {
    CHECK_INT(r->seq, 4);
    CHECK_INT(r->time_ns, 4000000000LL);
    CHECK_STR(r->source, "p");
    CHECK_STR(vqt_record(r, "battery.voltage")->unit, "V");
  }
  CHECK_INT(vqt_host_count(h, "dev1 battery.voltage=", NULL), 4);
  CHECK_INT(vqt_host_count(h, "dev1 battery.voltage=15.5", NULL), 1);
  CHECK_INT(vqt_host_count(h, "dev1 battery.current=NA", NULL), 4);
  /* a tag line when the value changes, not per reading */
  CHECK_INT(vqt_host_count(h, "dev1 tag product=", NULL), 2);
  CHECK_INT(vqt_host_stop(h), 0);
  CHECK_INT(vqt_host_bugs(h), 0);
  vqt_host_free(h);
}

static void test_sink(uv_loop_t *loop) {
  struct vqt_host *sink = vqt_host_new(loop, &catcher_plugin, VQ_KIND_SINK,
                                       "c", NULL);
  struct vqt_list list = {0};
  struct vqt_builder b;
  struct vqt_batch_result res;
  struct catcher *c;
  int i;
  for (i = 0; i < 5; i++) {
    vqt_build(&b, "dev2", 1000 + i);
    vqt_build_double(&b, "battery.voltage", 1.0 + i);
    CHECK_INT(vqt_list_add(&list, &b.reading, "src", 0, (uint64_t)i + 1), 0);
  }
  vqt_build(&b, "", 0); /* no device: refused like the core refuses it */
  vqt_build_double(&b, "battery.voltage", 1);
  CHECK_INT(vqt_list_add(&list, &b.reading, "src", 0, 9), -EINVAL);
  CHECK_INT(list.n, 5);
  CHECK_INT(vqt_host_start(sink), 0);
  c = vqt_host_instance(sink);
  CHECK_INT(vqt_feed(vqt_list_readings(&list), list.n, 2, vqt_host_write_fn,
                     sink),
            0);
  CHECK_INT(c->readings, 5);
  CHECK_DBL(c->sum, 15.0);
  CHECK_INT(vqt_host_write(sink, vqt_list_readings(&list), 1, 1, 5000, &res),
            VQ_WRITE_OK);
  CHECK_INT(res.done, 1);
  {
    const struct vq_host *table = c->host;
    struct vq_ctx *ctx = c->ctx;
    CHECK_INT(vqt_host_stop(sink), 0); /* frees c */
    CHECK_INT(table->post(ctx, catcher_complete, NULL), -ESHUTDOWN);
  }
  CHECK_INT(vqt_host_bugs(sink), 0);
  vqt_host_free(sink);
  vqt_list_clear(&list);
}

int main(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  test_options(&loop);
  test_source(&loop);
  test_sink(&loop);
  uv_run(&loop, UV_RUN_NOWAIT);
  CHECK_INT(uv_loop_close(&loop), 0);
  VQTEST_END();
}

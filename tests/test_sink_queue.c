/* The per-sink queue: bounds in records and bytes with the oldest dropped
 * first and counted, batching, OK / RETRY (back-off with jitter) / REJECT /
 * PARTIAL, and synchronous and later completion. */
#include "config.h"

#include <stdlib.h>

#include "sink_rt.h"
#include "vqtest.h"

static struct {
  int status;   /* what the next write answers */
  uint32_t done, rejected;
  int defer;    /* complete later (from the test) instead of inside write */
  int writes;
  uint64_t seqs[4096]; /* seq of every reading delivered OK, in order */
  int nseqs;
  const struct vq_batch *last;
  uint32_t last_n;
} sink;

static struct vq_sink_rt *the_rt;
static int kicks;

static void on_kick(struct vq_sink_rt *rt) { (void)rt; kicks++; }

static void record_delivered(const struct vq_batch *b, uint32_t n) {
  uint32_t i;
  for (i = 0; i < n; i++) sink.seqs[sink.nseqs++] = b->readings[i]->seq;
}

static int test_write(void *instance, const struct vq_batch *b) {
  (void)instance;
  sink.writes++;
  sink.last = b;
  sink.last_n = b->nreadings;
  if (sink.defer) return 0;
  if (sink.status == VQ_WRITE_OK) record_delivered(b, b->nreadings);
  if (sink.status == VQ_WRITE_PARTIAL) record_delivered(b, sink.done);
  vq_sink_rt_batch_done(the_rt, b, sink.status, sink.done, sink.rejected,
                        "test");
  return 0;
}

static struct vq_item *make_item(uint64_t seq, uint32_t nrecords) {
  struct vq_record recs[8];
  struct vq_reading r = VQ_READING_INIT;
  uint32_t i;
  int err;
  memset(recs, 0, sizeof recs);
  for (i = 0; i < nrecords; i++) {
    recs[i].quantity = "battery.voltage";
    recs[i].type = VQ_VALUE_DOUBLE;
    recs[i].value.f64 = (double)seq;
  }
  r.device = "dev";
  r.records = recs;
  r.nrecords = nrecords;
  return vq_item_copy(&r, "src", 1, seq, NULL, NULL, &err);
}

static void push(struct vq_sink_rt *rt, uint64_t seq, uint32_t nrecords) {
  struct vq_item *it = make_item(seq, nrecords);
  vq_sink_rt_push(rt, it);
  vq_item_unref(it);
}

static struct vq_section section;
static struct vq_kv kvs[8];
static struct vq_plugin plugin;
static struct vq_ctx ctx;

static void setup(struct vq_sink_rt *rt, uv_loop_t *loop, const char *max_records,
                  const char *max_bytes, const char *batch) {
  size_t n = 0;
  memset(&section, 0, sizeof section);
  memset(kvs, 0, sizeof kvs);
  kvs[n].key = "queue_max_records"; kvs[n++].value = (char *)max_records;
  kvs[n].key = "queue_max_bytes"; kvs[n++].value = (char *)max_bytes;
  kvs[n].key = "batch_max_records"; kvs[n++].value = (char *)batch;
  kvs[n].key = "retry_initial"; kvs[n++].value = "100ms";
  kvs[n].key = "retry_max"; kvs[n++].value = "400ms";
  section.kv = kvs;
  section.nkv = n;
  memset(&plugin, 0, sizeof plugin);
  plugin.write = test_write;
  memset(&ctx, 0, sizeof ctx);
  ctx.section = &section;
  ctx.plugin = &plugin;
  ctx.state = VQ_INST_STARTED;
  snprintf(ctx.label, sizeof ctx.label, "sink.test");
  ctx.id = "test";
  memset(&sink, 0, sizeof sink);
  CHECK_INT(vq_sink_rt_init(rt, &ctx, loop, on_kick), 0);
  ctx.sink = rt;
  the_rt = rt;
}

static void teardown(struct vq_sink_rt *rt, uv_loop_t *loop) {
  vq_sink_rt_close(rt, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  vq_sink_rt_free(rt);
}

static void drain_all(struct vq_sink_rt *rt) {
  while (vq_sink_rt_drain(rt)) {}
}

int main(void) {
  uv_loop_t loop;
  struct vq_sink_rt rt;
  int i;

  uv_loop_init(&loop);

  /* Overflow by records: the oldest go first, every drop counted. */
  setup(&rt, &loop, "10", "1M", "4");
  for (i = 1; i <= 25; i++) push(&rt, (uint64_t)i, 1);
  CHECK_INT(rt.n.accepted, 25);
  CHECK_INT(rt.n.dropped, 15);
  CHECK_INT(vq_sink_rt_pending(&rt), 10);
  CHECK(kicks > 0);
  sink.status = VQ_WRITE_OK;
  drain_all(&rt);
  CHECK_INT(sink.writes, 3); /* 4 + 4 + 2 */
  CHECK_INT(sink.nseqs, 10);
  CHECK_INT(sink.seqs[0], 16);
  CHECK_INT(sink.seqs[9], 25);
  CHECK_INT(rt.n.written, 10);
  CHECK_INT(vq_sink_rt_pending(&rt), 0);
  teardown(&rt, &loop);

  /* Overflow by bytes. */
  setup(&rt, &loop, "1000", "1k", "1000");
  for (i = 1; i <= 100; i++) push(&rt, (uint64_t)i, 1);
  CHECK(rt.bytes <= 1024);
  CHECK(rt.n.dropped > 0);
  CHECK_INT(rt.n.dropped + vq_sink_rt_pending(&rt), 100);
  sink.status = VQ_WRITE_OK;
  drain_all(&rt);
  CHECK_INT(sink.seqs[sink.nseqs - 1], 100);
  teardown(&rt, &loop);

  /* Multi-record readings count by records; a batch never splits one. */
  setup(&rt, &loop, "100", "1M", "5");
  for (i = 1; i <= 4; i++) push(&rt, (uint64_t)i, 3);
  sink.status = VQ_WRITE_OK;
  drain_all(&rt);
  CHECK_INT(sink.writes, 4); /* 3 records each, batch of 5 fits one */
  CHECK_INT(rt.n.written, 12);
  teardown(&rt, &loop);

  /* RETRY: the batch stays at the head, is retried after a back-off
   * (100ms +-25%, then doubling up to 400ms), and nothing is lost or
   * reordered while new readings arrive. */
  setup(&rt, &loop, "100", "1M", "3");
  for (i = 1; i <= 5; i++) push(&rt, (uint64_t)i, 1);
  sink.status = VQ_WRITE_RETRY;
  CHECK_INT(vq_sink_rt_drain(&rt), 0);
  CHECK_INT(sink.writes, 1);
  CHECK(rt.backing_off);
  CHECK_INT(vq_sink_rt_drain(&rt), 0); /* backing off: no write */
  CHECK_INT(sink.writes, 1);
  CHECK_INT(rt.backoff_ms, 200);
  {
    uint64_t due = uv_timer_get_due_in(&rt.retry_timer);
    CHECK(due >= 75 && due <= 125);
  }
  push(&rt, 6, 1);
  uv_run(&loop, UV_RUN_ONCE); /* the back-off timer fires */
  CHECK(!rt.backing_off);
  CHECK_INT(rt.batch.attempt, 1);
  sink.status = VQ_WRITE_RETRY;
  vq_sink_rt_drain(&rt);
  CHECK_INT(rt.backoff_ms, 400);
  uv_run(&loop, UV_RUN_ONCE);
  vq_sink_rt_drain(&rt);
  CHECK_INT(rt.backoff_ms, 400); /* capped at retry_max */
  uv_run(&loop, UV_RUN_ONCE);
  sink.status = VQ_WRITE_OK;
  drain_all(&rt);
  CHECK_INT(sink.nseqs, 6);
  for (i = 0; i < 6; i++) CHECK_INT(sink.seqs[i], i + 1);
  CHECK_INT(rt.n.retries, 3);
  CHECK_INT(rt.backoff_ms, 100); /* reset after success */
  teardown(&rt, &loop);

  /* REJECT: dropped and counted, the next batch goes on. */
  setup(&rt, &loop, "100", "1M", "2");
  for (i = 1; i <= 4; i++) push(&rt, (uint64_t)i, 1);
  sink.status = VQ_WRITE_REJECT;
  CHECK_INT(vq_sink_rt_drain(&rt), 1);
  CHECK_INT(rt.n.rejected, 2);
  sink.status = VQ_WRITE_OK;
  drain_all(&rt);
  CHECK_INT(sink.nseqs, 2);
  CHECK_INT(sink.seqs[0], 3);
  teardown(&rt, &loop);

  /* PARTIAL: the first `done` readings finish (with `rejected` records
   * counted), the rest is retried first. */
  setup(&rt, &loop, "100", "1M", "4");
  for (i = 1; i <= 6; i++) push(&rt, (uint64_t)i, 1);
  sink.status = VQ_WRITE_PARTIAL;
  sink.done = 3;
  sink.rejected = 1;
  vq_sink_rt_drain(&rt);
  CHECK_INT(rt.n.rejected, 1);
  CHECK_INT(rt.n.written, 2);
  CHECK_INT(rt.batch.nreadings, 1);
  CHECK(rt.backing_off);
  uv_run(&loop, UV_RUN_ONCE);
  sink.status = VQ_WRITE_OK;
  sink.done = 0;
  sink.rejected = 0;
  vq_sink_rt_drain(&rt);
  CHECK_INT(sink.last_n, 1); /* the remainder alone */
  drain_all(&rt);
  CHECK_INT(sink.nseqs, 6);
  CHECK_INT(sink.seqs[3], 4);
  CHECK_INT(sink.seqs[5], 6);
  CHECK_INT(rt.n.written, 5);
  /* PARTIAL with done == all ends the batch. */
  push(&rt, 7, 1);
  sink.status = VQ_WRITE_PARTIAL;
  sink.done = 1;
  vq_sink_rt_drain(&rt);
  CHECK(!rt.backing_off);
  CHECK_INT(vq_sink_rt_pending(&rt), 0);
  teardown(&rt, &loop);

  /* Completion after write returned; one batch in flight at a time; a
   * completion for another batch is refused. */
  setup(&rt, &loop, "100", "1M", "2");
  for (i = 1; i <= 3; i++) push(&rt, (uint64_t)i, 1);
  sink.defer = 1;
  vq_sink_rt_drain(&rt);
  CHECK(rt.in_flight);
  vq_sink_rt_drain(&rt);
  CHECK_INT(sink.writes, 1);
  {
    struct vq_batch other;
    memset(&other, 0, sizeof other);
    vq_sink_rt_batch_done(&rt, &other, VQ_WRITE_OK, 0, 0, NULL);
    CHECK(rt.in_flight);
  }
  /* The queue bound covers readings in flight: 100 more drop the oldest
   * queued, never the batch in flight. */
  for (i = 4; i <= 103; i++) push(&rt, (uint64_t)i, 1);
  CHECK_INT(rt.n.dropped, 3);
  vq_sink_rt_batch_done(&rt, sink.last, VQ_WRITE_OK, 0, 0, NULL);
  CHECK(!rt.in_flight);
  CHECK_INT(rt.n.written, 2);
  vq_sink_rt_abandon(&rt);
  CHECK_INT(rt.n.lost, 98);
  CHECK_INT(vq_sink_rt_pending(&rt), 0); /* lost, not still queued */
  teardown(&rt, &loop);

  /* Stopping with a batch in flight: it is lost, not also still queued;
   * if it completes after all, it is written, not lost. */
  setup(&rt, &loop, "100", "1M", "4");
  for (i = 1; i <= 10; i++) push(&rt, (uint64_t)i, 1);
  sink.defer = 1;
  vq_sink_rt_drain(&rt);
  CHECK(rt.in_flight);
  vq_sink_rt_abandon(&rt);
  CHECK_INT(rt.n.lost, 10);
  CHECK_INT(vq_sink_rt_pending(&rt), 0);
  CHECK_INT(rt.n.accepted, rt.n.written + rt.n.lost + vq_sink_rt_pending(&rt));
  vq_sink_rt_batch_done(&rt, sink.last, VQ_WRITE_OK, 0, 0, NULL);
  CHECK_INT(rt.n.written, 4);
  CHECK_INT(rt.n.lost, 6);
  CHECK_INT(vq_sink_rt_pending(&rt), 0);
  teardown(&rt, &loop);

  /* The back-off jitter: each sink has its own generator, seeded by the
   * kernel, so two sinks (or two daemons) do not retry in step. */
  {
    struct vq_sink_rt other;
    uint64_t a, b;
    setup(&rt, &loop, "100", "1M", "4");
    a = rt.jitter_state;
    CHECK_INT(vq_sink_rt_init(&other, &ctx, &loop, on_kick), 0);
    b = other.jitter_state;
    CHECK(a != b);
    CHECK(a != 0 && b != 0);
    vq_sink_rt_close(&other, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    vq_sink_rt_free(&other);
    /* Delays spread within +-25% of the nominal 100 ms. */
    {
      uint64_t lo = UINT64_MAX, hi = 0, due;
      for (i = 0; i < 64; i++) {
        push(&rt, (uint64_t)i, 1);
        sink.status = VQ_WRITE_RETRY;
        rt.backoff_ms = 100;
        vq_sink_rt_drain(&rt);
        CHECK(rt.backing_off);
        due = uv_timer_get_due_in(&rt.retry_timer);
        if (due < lo) lo = due;
        if (due > hi) hi = due;
        uv_timer_stop(&rt.retry_timer);
        rt.backing_off = 0;
      }
      CHECK(lo >= 75 && hi <= 125);
      CHECK(hi - lo >= 10);
    }
    teardown(&rt, &loop);
  }

  uv_loop_close(&loop);
  VQTEST_END();
}

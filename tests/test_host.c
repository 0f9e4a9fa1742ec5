/* The host table's ABI 1.2 calls on a real section: cfg_bind (values,
 * schema defaults, untouched fields, plugin bugs refused), cfg_error
 * (counted, the key's line), timer_again of a foreign timer. */
#include "config.h"

#include <errno.h>

#include "daemon.h"
#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "vqtest.h"

struct bound {
  int64_t count;
  uint64_t interval_ms;
  int finish;
  const char *device;
  const char *fail;
  const char *secret; /* no value, no default: stays as set */
};

int main(void) {
  static const char text[] =
      "[source.fix]\n"
      "plugin = fixture-source\n"
      "count = 7\n"
      "device = d1\n"
      "[sink.out]\n"
      "plugin = fixture-sink\n"
      "[route.r]\n"
      "from = fix\n"
      "to = out\n";
  static const struct vq_cfg_bind good[] = {
      VQ_CFG_BIND(struct bound, count, "count", VQ_OPT_INT),
      VQ_CFG_BIND(struct bound, interval_ms, "interval", VQ_OPT_DURATION),
      VQ_CFG_BIND(struct bound, finish, "finish", VQ_OPT_BOOL),
      VQ_CFG_BIND(struct bound, device, "device", VQ_OPT_STRING),
      VQ_CFG_BIND(struct bound, fail, "fail", VQ_OPT_ENUM),
      VQ_CFG_BIND(struct bound, secret, "secret", VQ_OPT_SECRET),
      {NULL, 0, 0}};
  static const struct vq_cfg_bind wrong_type[] = {
      VQ_CFG_BIND(struct bound, device, "count", VQ_OPT_STRING), {NULL, 0, 0}};
  static const struct vq_cfg_bind unknown_key[] = {
      VQ_CFG_BIND(struct bound, count, "nosuch", VQ_OPT_INT), {NULL, 0, 0}};
  const struct vq_host *h = &vq_host_table;
  struct vq_pipeline *p;
  struct vq_ctx ctx;
  struct bound b;
  struct vq_timer *foreign = (struct vq_timer *)&b;

  vq_log_setup(VQ_LOG_ERROR, VQ_LOG_STDERR);
  if (vq_loader_init(NULL) != 0) return 99;
  p = vq_pipeline_load_text("t.ini", text);
  if (p == NULL) return 99;
  memset(&ctx, 0, sizeof ctx);
  ctx.pipeline = p;
  ctx.section = vq_pipeline_find(p, VQ_SECTION_SOURCE, "fix");
  ctx.plugin = ctx.section->plugin;
  ctx.kind = VQ_KIND_SOURCE;
  ctx.id = "fix";
  snprintf(ctx.label, sizeof ctx.label, "source.fix");

  /* Given values, schema defaults ("10ms" is not written: interval "0",
   * finish "yes", fail "none"), and a key with neither. */
  memset(&b, 0, sizeof b);
  b.secret = "untouched";
  CHECK_INT(h->cfg_bind(&ctx, good, &b), 0);
  CHECK_INT(b.count, 7);
  CHECK_INT(b.interval_ms, 0);
  CHECK_INT(b.finish, 1);
  CHECK_STR(b.device, "d1");
  CHECK_STR(b.fail, "none");
  CHECK_STR(b.secret, "untouched");
  /* The string is the section's own: it lives as long as the pipeline. */
  CHECK(b.device == h->cfg_string(&ctx, "device"));

  /* Plugin bugs are refused, nothing written. */
  memset(&b, 0, sizeof b);
  CHECK_INT(h->cfg_bind(&ctx, wrong_type, &b), -EINVAL);
  CHECK(b.device == NULL);
  CHECK_INT(h->cfg_bind(&ctx, unknown_key, &b), -EINVAL);
  CHECK_INT(b.count, 0);

  /* cfg_error counts; check and create fail on it. */
  h->cfg_error(&ctx, "count", "too %s", "many");
  h->cfg_error(&ctx, NULL, "the whole section");
  CHECK_INT(ctx.cfg_errors, 2);

  /* A timer the instance does not own. */
  CHECK_INT(h->timer_again(&ctx, foreign, 10, 0), -EINVAL);

  vq_pipeline_free(p);
  vq_loader_shutdown();
  VQTEST_END();
}

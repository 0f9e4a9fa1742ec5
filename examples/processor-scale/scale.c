/*
 * scale: an out-of-tree processor for vicacq, built against the installed
 * header only (pkg-config --cflags vicacq).  It multiplies every number
 * its `match` selects by `factor` and passes the reading on; a reading it
 * does not change goes on as it is, without a copy.
 *
 *   [process.double]
 *   plugin = scale
 *   match = battery.current
 *   factor = 2
 *
 *   [source.shunt]
 *   ...
 *   process = double
 *
 * A processor (plugin ABI 1.3) is a plugin of kind VQ_KIND_PROCESSOR with
 * a process() callback.  The daemon calls it on the loop thread for each
 * reading of its chain with only the records its `match` selects; what it
 * passes on it hands to host->emit, keeping the reading's source, device
 * and time.  It must never block.
 */
#include <errno.h>
#include <stdlib.h>

#include <vicacq/plugin.h>

#define MAX_RECORDS 256

struct scale {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  double factor;
  struct vq_record out[MAX_RECORDS];
};

static const struct vq_option options[] = {
    {.key = "factor", .type = VQ_OPT_DOUBLE, .default_value = "1",
     .min = 1, .max = 0, /* no bounds */
     .help = "the numbers are multiplied by it"},
    {.key = NULL}};

static int scale_create(const struct vq_host *host, struct vq_ctx *ctx,
                        void **instance) {
  struct scale *s = calloc(1, sizeof *s);
  if (s == NULL) return -ENOMEM;
  s->host = host;
  s->ctx = ctx;
  if (host->cfg_double(ctx, "factor", &s->factor) != 0) {
    free(s);
    return -EINVAL;
  }
  *instance = s;
  return 0;
}

static int scale_start(void *instance) {
  (void)instance;
  return 0;
}

/* Nothing held back: done at once. */
static void scale_stop(void *instance, vq_stopped_cb done) {
  struct scale *s = instance;
  done(s->ctx);
}

static void scale_destroy(void *instance) { free(instance); }

static int scale_process(void *instance, const struct vq_reading *r) {
  struct scale *s = instance;
  struct vq_reading copy;
  uint32_t i;
  if (s->factor == 1 || r->nrecords > MAX_RECORDS)
    return s->host->emit(s->ctx, r); /* unchanged: no copy */
  for (i = 0; i < r->nrecords; i++) {
    /* VQ_READING_RECORD: whatever record size the reading was built with. */
    s->out[i] = *VQ_READING_RECORD(r, i);
    if (s->out[i].flags & VQ_RECORD_NA) continue;
    if (s->out[i].type == VQ_VALUE_DOUBLE) s->out[i].value.f64 *= s->factor;
  }
  copy = *r;
  copy.size = sizeof copy;
  copy.record_size = sizeof s->out[0];
  copy.records = s->out;
  return s->host->emit(s->ctx, &copy);
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "scale",
    .version = "1.0.0",
    .description = "example out-of-tree processor: multiplies numbers",
    .kinds = VQ_KIND_PROCESSOR,
    .options = options,
    .create = scale_create,
    .start = scale_start,
    .stop = scale_stop,
    .destroy = scale_destroy,
    .process = scale_process,
};

VQ_PLUGIN_DECLARE(scale, descriptor)

/* One small source built three ways (tests/Makefile.am):
 *  - fixture-quantity (ABI 1.2): declares two quantities of its own,
 *    fixture.frequency and the enum fixture.mode, and emits one reading of
 *    them;
 *  - fixture-clash (ABI 1.2, FIXTURE_CLASH): declares battery.voltage,
 *    which the core vocabulary has, so the host must refuse to load it;
 *  - fixture-abi11: compiled against the frozen 1.1 header
 *    (tests/abi-1.1/vicacq/plugin.h), which has no declared quantities;
 *    it emits core quantities and must load and run on this host.
 * The reading goes out from a post() callback after start, then the
 * source says it has finished. */
#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"

#ifndef FIXTURE_MODULE
#error "build with -DFIXTURE_MODULE=<module> -DFIXTURE_NAME=\"<name>\""
#endif

struct fixture {
  const struct vq_host *host;
  struct vq_ctx *ctx;
};

static struct fixture the_instance;

#if VQ_ABI_MINOR >= 2
#ifndef FIXTURE_CLASH
static const struct vq_label mode_labels[] = {
    {0, "idle"}, {1, "running"}, {2, "fault"}};
#endif

static const struct vq_quantity_info declared[] = {
#ifdef FIXTURE_CLASH
    {.size = sizeof(struct vq_quantity_info),
     .type = VQ_VALUE_DOUBLE,
     .name = "battery.voltage",
     .unit = "V",
     .description = "a clash"},
#else
    {.size = sizeof(struct vq_quantity_info),
     .type = VQ_VALUE_DOUBLE,
     .name = "fixture.frequency",
     .unit = "Hz",
     .description = "Frequency of the fixture's made-up grid",
     .ha_device_class = "frequency",
     .ha_state_class = "measurement",
     .short_name = "Grid frequency"},
    {.size = sizeof(struct vq_quantity_info),
     .type = VQ_VALUE_ENUM,
     .name = "fixture.mode",
     .unit = "",
     .description = "Fixture mode",
     .ha_device_class = "enum",
     .diagnostic = 1,
     .short_name = "Mode",
     .label_set = "fixture_mode",
     .labels = mode_labels,
     .nlabels = 3},
#endif
    {.name = NULL}};
#endif

static void emit_one(void *arg) {
  struct fixture *f = arg;
  struct vq_reading r = VQ_READING_INIT;
  struct vq_record rec[2] = {{0}};
#if VQ_ABI_MINOR >= 2
  rec[0].quantity = "fixture.frequency";
  rec[0].type = VQ_VALUE_DOUBLE;
  rec[0].value.f64 = 50.02;
  rec[1].quantity = "fixture.mode";
  rec[1].type = VQ_VALUE_ENUM;
  rec[1].value.i64 = 1;
  rec[1].text = "running";
#else
  rec[0].quantity = "battery.voltage";
  rec[0].type = VQ_VALUE_DOUBLE;
  rec[0].value.f64 = 12.5;
  rec[1].quantity = "device.state";
  rec[1].type = VQ_VALUE_ENUM;
  rec[1].value.i64 = 3;
  rec[1].text = "bulk";
#endif
  r.device = "dev1";
  r.records = rec;
  r.nrecords = 2;
  if (f->host->emit(f->ctx, &r) != 0)
    f->host->log(f->ctx, VQ_LOG_ERROR, "emit refused the reading");
  f->host->finished(f->ctx);
}

static int fx_create(const struct vq_host *host, struct vq_ctx *ctx,
                     void **instance) {
  the_instance.host = host;
  the_instance.ctx = ctx;
  *instance = &the_instance;
  return 0;
}

static int fx_start(void *instance) {
  struct fixture *f = instance;
  return f->host->post(f->ctx, emit_one, f);
}

static void fx_stop(void *instance, vq_stopped_cb done) {
  struct fixture *f = instance;
  done(f->ctx);
}

static void fx_destroy(void *instance) {
  (void)instance;
}

static const struct vq_option options[] = {{.key = NULL}};

static const struct vq_plugin descriptor = {
    .magic = VQ_PLUGIN_MAGIC,
    .abi_major = VQ_ABI_MAJOR,
    .abi_minor = VQ_ABI_MINOR,
    .size = sizeof(struct vq_plugin),
    .name = FIXTURE_NAME,
    .version = "1.0",
    .description = "emits one reading (declared-quantity and ABI tests)",
    .kinds = VQ_KIND_SOURCE,
    .options = options,
    .create = fx_create,
    .start = fx_start,
    .stop = fx_stop,
    .destroy = fx_destroy,
#if VQ_ABI_MINOR >= 2
    .quantities = declared,
#endif
};

VQ_PLUGIN_DECLARE(FIXTURE_MODULE, descriptor)

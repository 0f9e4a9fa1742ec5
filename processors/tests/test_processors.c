/* The processor plugins on the shared test host (tests/lib): calibrate,
 * deadband, energy (records, V x I, the state file across a restart, a
 * corrupt file), average (windows, flush at stop) and group (members,
 * staleness).  Readings are handed to process() as the daemon's chain
 * would. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vqtest.h"
#include "vqt_host.h"

#define S 1000000000LL

const struct vq_plugin *calibrate_LTX_vq_plugin_entry(const uint16_t *, size_t);
const struct vq_plugin *deadband_LTX_vq_plugin_entry(const uint16_t *, size_t);
const struct vq_plugin *energy_LTX_vq_plugin_entry(const uint16_t *, size_t);
const struct vq_plugin *average_LTX_vq_plugin_entry(const uint16_t *, size_t);
const struct vq_plugin *group_LTX_vq_plugin_entry(const uint16_t *, size_t);

static uv_loop_t loop;
static const uint16_t majors[] = {VQ_ABI_MAJOR};

static struct vqt_host *host(const struct vq_plugin *p, uint32_t kind,
                             const char *id, const char *const *kv) {
  struct vqt_host *h = vqt_host_new(&loop, p, kind, id, kv);
  CHECK(h != NULL);
  return h;
}

/* Hand a reading of `source` to the instance's process(). */
static int feed(struct vqt_host *h, const char *source, struct vqt_builder *b) {
  b->reading.source = source;
  return vqt_host_plugin(h)->process(vqt_host_instance(h), &b->reading);
}

static void test_calibrate(void) {
  const struct vq_plugin *p = calibrate_LTX_vq_plugin_entry(majors, 1);
  struct vqt_host *h = host(p, VQ_KIND_PROCESSOR, "cal", (const char *[]){
      "scale.battery.current", "-1", "offset.battery.voltage", "0.02",
      "scale.battery.power", "1.5", NULL});
  struct vqt_builder b;
  CHECK_INT(vqt_host_start(h), 0);
  vqt_build(&b, "d1", 100 * S);
  vqt_build_double(&b, "battery.current", 12.5);
  vqt_build_double(&b, "battery.voltage", 13.0);
  vqt_build_double(&b, "battery.power", -100);
  vqt_build_double(&b, "battery.soc", 80);
  CHECK_INT(feed(h, "shunt", &b), 0);
  CHECK_INT(vqt_host_count(h, "d1 battery.current=-12.5", NULL), 1);
  CHECK_INT(vqt_host_count(h, "d1 battery.voltage=13.02", NULL), 1);
  CHECK_INT(vqt_host_count(h, "d1 battery.power=-150", NULL), 1);
  CHECK_INT(vqt_host_count(h, "d1 battery.soc=80", NULL), 1);
  /* The reading keeps its source and time. */
  CHECK_STR(vqt_host_reading(h, 0)->source, "shunt");
  CHECK_INT(vqt_host_reading(h, 0)->time_ns, 100 * S);
  CHECK_INT(vqt_host_stop(h), 0);
  CHECK_INT(vqt_host_bugs(h), 0);
  vqt_host_free(h);

  /* Not a number: refused at --check, naming the key. */
  h = host(p, VQ_KIND_PROCESSOR, "cal", (const char *[]){
      "scale.device.state", "2", NULL});
  CHECK_INT(vqt_host_check(h), -EINVAL);
  CHECK_INT(vqt_host_errors(h, "scale.device.state"), 1);
  vqt_host_free(h);
}

static void test_deadband(void) {
  const struct vq_plugin *p = deadband_LTX_vq_plugin_entry(majors, 1);
  struct vqt_host *h = host(p, VQ_KIND_PROCESSOR, "db", (const char *[]){
      "threshold", "0.02", "max_interval", "300s", NULL});
  struct vqt_builder b;
  static const double v[] = {12.50, 12.51, 12.519, 12.52, 12.55, 12.549};
  size_t i;
  CHECK_INT(vqt_host_start(h), 0);
  for (i = 0; i < 6; i++) {
    vqt_build(&b, "d", (int64_t)(i + 1) * S);
    vqt_build_double(&b, "battery.voltage", v[i]);
    feed(h, "s", &b);
  }
  /* 12.50 (first), 12.52 (moved 0.02), 12.55 (moved 0.03). */
  CHECK_INT(vqt_host_nreadings(h), 3);
  /* The heartbeat: unchanged, but max_interval has passed. */
  vqt_build(&b, "d", 400 * S);
  vqt_build_double(&b, "battery.voltage", 12.55);
  feed(h, "s", &b);
  CHECK_INT(vqt_host_nreadings(h), 4);
  /* Enums on change only. */
  vqt_build(&b, "d", 401 * S);
  vqt_build_enum(&b, "device.state", 3, "bulk");
  feed(h, "s", &b);
  vqt_build(&b, "d", 402 * S);
  vqt_build_enum(&b, "device.state", 3, "bulk");
  feed(h, "s", &b);
  vqt_build(&b, "d", 403 * S);
  vqt_build_enum(&b, "device.state", 5, "float");
  feed(h, "s", &b);
  CHECK_INT(vqt_host_nreadings(h), 6);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);

  /* Percent of the last value sent. */
  h = host(p, VQ_KIND_PROCESSOR, "db", (const char *[]){"threshold", "10%", NULL});
  CHECK_INT(vqt_host_start(h), 0);
  for (i = 0; i < 4; i++) {
    static const double w[] = {100, 109, 111, 123};
    vqt_build(&b, "d", (int64_t)(i + 1) * S);
    vqt_build_double(&b, "pv.power", w[i]);
    feed(h, "s", &b);
  }
  CHECK_INT(vqt_host_nreadings(h), 3); /* 100, 111, 123 (not 109) */
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);
  h = host(p, VQ_KIND_PROCESSOR, "db", (const char *[]){"threshold", "x", NULL});
  CHECK_INT(vqt_host_check(h), -EINVAL);
  vqt_host_free(h);
}

static double value_of(struct vqt_host *h, const char *q) {
  size_t i;
  double v = -1;
  for (i = 0; i < vqt_host_nreadings(h); i++) {
    const struct vq_record *r = vqt_record(vqt_host_reading(h, i), q);
    if (r) v = r->value.f64;
  }
  return v;
}

/* Flip a byte of a file at offset off. */
static void corrupt_at(const char *path, long off) {
  FILE *f = fopen(path, "r+");
  int c;
  CHECK(f != NULL);
  if (f == NULL) return;
  fseek(f, off, SEEK_SET);
  c = fgetc(f);
  fseek(f, off, SEEK_SET);
  fputc(c ^ 0x5a, f);
  fclose(f);
}

static void test_energy(const char *dir) {
  const struct vq_plugin *p = energy_LTX_vq_plugin_entry(majors, 1);
  const char *kv[] = {"input", "battery.power, pv.power", "max_gap", "60s", NULL};
  struct vqt_host *h = host(p, VQ_KIND_PROCESSOR, "meters", kv);
  struct vqt_builder b;
  char path[512], live[512];
  int i;
  vqt_host_set_state_dir(h, dir);
  CHECK_INT(vqt_host_start(h), 0);
  /* 360 W for an hour from V x I (no battery.power in the readings):
   * 0.36 kWh in; pv.power 1 kW for an hour: 1 kWh. */
  for (i = 0; i <= 360; i++) {
    vqt_build(&b, "shunt1", (int64_t)i * 10 * S);
    vqt_build_double(&b, "battery.voltage", 12);
    vqt_build_double(&b, "battery.current", 30);
    vqt_build_double(&b, "pv.power", 1000);
    vqt_build_double(&b, "battery.soc", i <= 180 ? 100 - i / 1.8 : (i - 180) / 1.8);
    CHECK_INT(feed(h, "shunt", &b), 0);
  }
  CHECK_DBL(value_of(h, "battery.energy_in"), 0.36);
  CHECK_DBL(value_of(h, "battery.energy_out"), 0);
  CHECK_DBL(value_of(h, "battery.energy_net"), 0.36);
  CHECK_DBL(value_of(h, "pv.energy_in"), 1.0);
  CHECK(fabs(value_of(h, "battery.cycles") - 1.0) < 1e-9);
  /* The input records go on with the meters. */
  CHECK(vqt_host_count(h, "shunt1 battery.voltage=12", NULL) == 361);
  CHECK_INT(vqt_host_stop(h), 0);
  CHECK_INT(vqt_host_bugs(h), 0);
  vqt_host_free(h);
  snprintf(path, sizeof path, "%s/energy.meters.state", dir);
  CHECK(access(path, R_OK) == 0);

  /* Restarted: the counters resume; a sample within max_gap of the last
   * one before the stop is bridged, and nothing goes back. */
  h = host(p, VQ_KIND_PROCESSOR, "meters", kv);
  vqt_host_set_state_dir(h, dir);
  CHECK_INT(vqt_host_start(h), 0);
  vqt_build(&b, "shunt1", 3610 * S);
  vqt_build_double(&b, "battery.power", 360);
  feed(h, "shunt", &b);
  CHECK_DBL(value_of(h, "battery.energy_in"), 0.361);
  /* After a gap longer than max_gap: not bridged. */
  vqt_build(&b, "shunt1", 4000 * S);
  vqt_build_double(&b, "battery.power", 360);
  feed(h, "shunt", &b);
  CHECK_DBL(value_of(h, "battery.energy_in"), 0.361);
  CHECK_INT(vqt_host_stat(h, "gaps"), 1);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);

  /* A corrupt state file is kept aside under another name, with an error
   * naming it; the live copy (intact) still has the counters. */
  corrupt_at(path, 20);
  h = host(p, VQ_KIND_PROCESSOR, "meters", kv);
  vqt_host_set_state_dir(h, dir);
  CHECK_INT(vqt_host_start(h), 0);
  CHECK(vqt_host_log_count(h, VQ_LOG_ERROR, "is corrupt") == 1);
  CHECK(vqt_host_log_count(h, VQ_LOG_ERROR, ".corrupt-") == 1);
  CHECK(vqt_host_log_count(h, VQ_LOG_WARN, "from the live copy") == 1);
  vqt_build(&b, "shunt1", 4010 * S);
  vqt_build_double(&b, "battery.power", 360);
  feed(h, "shunt", &b);
  CHECK_DBL(value_of(h, "battery.energy_in"), 0.361 + 0.001);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);
  /* Both copies corrupt: the counters start from zero, said as such. */
  corrupt_at(path, 20);
  snprintf(live, sizeof live, "%s/energy.meters.live", dir);
  for (i = 0; i < 4; i++) corrupt_at(live, 40 + 256 * i);
  h = host(p, VQ_KIND_PROCESSOR, "meters", kv);
  vqt_host_set_state_dir(h, dir);
  CHECK_INT(vqt_host_start(h), 0);
  CHECK(vqt_host_log_count(h, VQ_LOG_ERROR, "start again from zero") == 1);
  vqt_build(&b, "shunt1", 5000 * S);
  vqt_build_double(&b, "battery.power", 10);
  feed(h, "shunt", &b);
  CHECK_DBL(value_of(h, "battery.energy_in"), 0);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);
  h = host(p, VQ_KIND_PROCESSOR, "meters", (const char *[]){"input", "battery.voltage", NULL});
  CHECK_INT(vqt_host_check(h), -EINVAL);
  vqt_host_free(h);
}

static void test_average(void) {
  const struct vq_plugin *p = average_LTX_vq_plugin_entry(majors, 1);
  struct vqt_host *h = host(p, VQ_KIND_PROCESSOR, "smooth", (const char *[]){
      "period", "10s", NULL});
  struct vqt_builder b;
  int i;
  CHECK_INT(vqt_host_start(h), 0);
  for (i = 0; i < 25; i++) {
    vqt_build(&b, "d", (int64_t)(1000 + i) * S);
    vqt_build_double(&b, "battery.voltage", i);
    feed(h, "s", &b);
  }
  /* Windows 1000..1010 and 1010..1020 are done: 4.5 and 14.5. */
  CHECK_INT(vqt_host_nreadings(h), 2);
  CHECK_INT(vqt_host_reading(h, 0)->time_ns, 1010 * S);
  CHECK_INT(vqt_host_count(h, "d battery.voltage=4.5", NULL), 1);
  CHECK_INT(vqt_host_count(h, "d battery.voltage=14.5", NULL), 1);
  /* The partial window is flushed at stop, timed at its end. */
  CHECK_INT(vqt_host_stop(h), 0);
  CHECK_INT(vqt_host_nreadings(h), 3);
  CHECK_INT(vqt_host_count(h, "d battery.voltage=22", NULL), 1);
  CHECK_INT(vqt_host_bugs(h), 0);
  vqt_host_free(h);
}

static void test_group(void) {
  const struct vq_plugin *p = group_LTX_vq_plugin_entry(majors, 1);
  struct vqt_host *h = host(p, VQ_KIND_SOURCE, "bank", (const char *[]){
      "members", "shunt1, shunt2", "sum", "battery.current, battery.power",
      "mean", "battery.voltage", "min", "battery.soc", NULL});
  struct vqt_builder b;
  int i;
  CHECK_INT(vqt_host_start(h), 0);
  for (i = 0; i < 5; i++) {
    vqt_build(&b, "a", (int64_t)(100 + 2 * i) * S);
    vqt_build_double(&b, "battery.current", 10);
    vqt_build_double(&b, "battery.power", 130);
    vqt_build_double(&b, "battery.voltage", 13.0);
    vqt_build_double(&b, "battery.soc", 80);
    feed(h, "shunt1", &b);
    vqt_build(&b, "b", (int64_t)(101 + 2 * i) * S);
    vqt_build_double(&b, "battery.current", -4);
    vqt_build_double(&b, "battery.power", -52);
    vqt_build_double(&b, "battery.voltage", 13.2);
    vqt_build_double(&b, "battery.soc", 70);
    feed(h, "shunt2", &b);
  }
  /* One group reading per round once the intervals are known. */
  CHECK(vqt_host_nreadings(h) >= 3);
  CHECK(vqt_host_count(h, "bank battery.current=6", NULL) >= 3);
  CHECK(vqt_host_count(h, "bank battery.power=78", NULL) >= 3);
  CHECK(vqt_host_count(h, "bank battery.voltage=13.1", NULL) >= 3);
  CHECK(vqt_host_count(h, "bank battery.soc=70", NULL) >= 3);
  /* shunt2 goes silent: after the window the group is not available. */
  vqt_host_clear(h);
  for (i = 0; i < 6; i++) {
    vqt_build(&b, "a", (int64_t)(120 + 2 * i) * S);
    vqt_build_double(&b, "battery.current", 10);
    vqt_build_double(&b, "battery.power", 130);
    vqt_build_double(&b, "battery.voltage", 13.0);
    vqt_build_double(&b, "battery.soc", 80);
    feed(h, "shunt1", &b);
  }
  CHECK(vqt_host_count(h, "bank battery.current=NA", NULL) >= 1);
  CHECK_INT(vqt_host_count(h, "bank battery.current=10", NULL), 0);
  CHECK_INT(vqt_host_stop(h), 0);
  CHECK_INT(vqt_host_bugs(h), 0);
  vqt_host_free(h);
}

int main(void) {
  char dir[] = "/tmp/vicacq-test-processors.XXXXXX";
  char cmd[600];
  uv_loop_init(&loop);
  CHECK(mkdtemp(dir) != NULL);
  test_calibrate();
  test_deadband();
  test_energy(dir);
  test_average();
  test_group();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
  uv_loop_close(&loop);
  VQTEST_END();
}

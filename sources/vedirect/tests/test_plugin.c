/* The plugin through a test host: file: replays of the captures, held
 * blocks, real-time pacing, loop, dump mode, bad options. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "ved_test.h"
#include "vqt_host.h"

static char path_buf[1100];
static const char *data_path(const char *name) {
  char file[1024];
  snprintf(path_buf, sizeof path_buf, "file:%s",
           ved_test_path(name, file, sizeof file));
  return path_buf;
}

static struct vqt_host *host(uv_loop_t *loop, const char *const *kv) {
  return vqt_host_new(loop, ved_test_plugin(), VQ_KIND_SOURCE, "test", kv);
}

static int finished_or(struct vqt_host *h, void *arg) {
  return vqt_host_finished(h) ||
         vqt_host_nreadings(h) >= *(const size_t *)arg;
}

/* Run until the replay finishes (or `max_readings`, or 10 s), then stop. */
static void run(struct vqt_host *h, size_t max_readings) {
  size_t max = max_readings ? max_readings : (size_t)-1;
  vqt_host_run_until(h, finished_or, &max, 10000);
  CHECK_INT(vqt_host_stop(h), 0);
  CHECK_INT(vqt_host_bugs(h), 0);
}

static void test_bmv(uv_loop_t *loop) {
  struct vqt_host *h;
  const char *kv[] = {"port", data_path("bmv-700_fw3.08.dump"), NULL};
  const char *last = NULL;
  h = host(loop, kv);
  CHECK_INT(vqt_host_start(h), 0);
  run(h, 0);
  CHECK_INT(vqt_host_finished(h), 1);
  /* every block is valid: 453 main + 453 history readings */
  CHECK_INT(vqt_host_nreadings(h), 906 + 1 /* link.online */);
  CHECK_INT(vqt_host_count(h, "pid-0203 battery.voltage=", NULL), 453);
  CHECK_INT(vqt_host_count(h, "pid-0203 history.charged_energy=", NULL), 453);
  CHECK_INT(vqt_host_count(h, "pid-0203 link.online=1", NULL), 1);
  CHECK_INT(vqt_host_count(h, "pid-0203 tag product=BMV-700", NULL), 1);
  CHECK_INT(vqt_host_count(h, "pid-0203 tag product_id=0x0203", NULL), 1);
  CHECK_INT(vqt_host_count(h, "pid-0203 tag firmware=3.08", NULL), 1);
  CHECK_INT(vqt_host_count(h, "pid-0203 battery.voltage=12.065", NULL) >= 1, 1);
  CHECK_INT(vqt_host_count(h, "pid-0203 battery.consumed_ah=-65.473", NULL) >= 1, 1);
  CHECK_INT(vqt_host_count(h, "pid-0203 monitor.alarm=0", &last) , 453);
  vqt_host_free(h);
}

static void test_bluesolar(uv_loop_t *loop) {
  struct vqt_host *h;
  const char *kv[] = {"port", data_path("bluesolar-mppt-75-15_fw1.23.dump"),
                      NULL};
  h = host(loop, kv);
  CHECK_INT(vqt_host_start(h), 0);
  run(h, 0);
  CHECK_INT(vqt_host_finished(h), 1);
  CHECK_INT(vqt_host_nreadings(h), 247 + 1);
  CHECK_INT(vqt_host_count(h, "HQ1411MYIKN battery.voltage=", NULL), 247);
  CHECK_INT(vqt_host_count(h, "HQ1411MYIKN tag product=BlueSolar MPPT 75|15", NULL), 1);
  CHECK_INT(vqt_host_count(h, "HQ1411MYIKN tag serial=HQ1411MYIKN", NULL), 1);
  CHECK_INT(vqt_host_count(h, "HQ1411MYIKN device.state=3 [bulk]", NULL) >= 1, 1);
  CHECK_INT(vqt_host_count(h, "HQ1411MYIKN load.state=1", NULL), 247);
  vqt_host_free(h);
}

/* Blocks without identity are held until the identifying block. */
static void test_held(uv_loop_t *loop) {
  struct vqt_host *h;
  size_t len, i;
  char tmp[] = "/tmp/vedtestXXXXXX", port[64];
  unsigned char *buf = ved_test_read("smartshunt-500a-50mv_fw4.05_read1.dump", &len);
  int fd = mkstemp(tmp);
  const char *kv[] = {"port", port, NULL};
  /* read1 = history block without its leading CR LF, then the main block:
   * put the CR LF in front and both pass. */
  CHECK(fd >= 0);
  CHECK_INT(write(fd, "\r\n", 2), 2);
  CHECK_INT(write(fd, buf, len), (long long)len);
  close(fd);
  snprintf(port, sizeof port, "file:%s", tmp);
  h = host(loop, kv);
  CHECK_INT(vqt_host_start(h), 0);
  run(h, 0);
  CHECK_INT(vqt_host_nreadings(h), 2 + 1);
  /* The history reading comes first, under the device of the main block. */
  i = vqt_host_find_line(h, 0, " history.");
  CHECK(i < vqt_host_find_line(h, 0, "battery.voltage"));
  CHECK_STR(vqt_host_line(h, i), "pid-a389 history.deepest_discharge=-32.914");
  CHECK_INT(vqt_host_count(h, "pid-a389 battery.time_to_go=NA", NULL), 1);
  CHECK_INT(vqt_host_count(h, "pid-a389 tag product=SmartShunt 500A/50mV", NULL), 1);
  unlink(tmp);
  free(buf);
  vqt_host_free(h);
}

static void test_loop(uv_loop_t *loop) {
  struct vqt_host *h;
  const char *kv[] = {"port", data_path("blue-smart-ip22-24-8_fw3.42.dump"),
                      "loop", "yes", NULL};
  h = host(loop, kv);
  CHECK_INT(vqt_host_start(h), 0);
  run(h, 6);
  CHECK_INT(vqt_host_finished(h), 0);
  CHECK(vqt_host_nreadings(h) >= 6);
  CHECK(vqt_host_count(h, "HQ2249TNFVM battery.voltage=26.87", NULL) >= 5);
  CHECK(vqt_host_count(h, "HQ2249TNFVM battery.temperature=NA", NULL) >= 5);
  CHECK_INT(vqt_host_count(h, "HQ2249TNFVM tag hc=57825", NULL), 1);
  CHECK_INT(vqt_host_count(h, "HQ2249TNFVM tag firmware=3.42", NULL), 1);
  vqt_host_free(h);
}

static void test_realtime(uv_loop_t *loop) {
  struct vqt_host *h;
  /* 6 valid blocks, one cycle each, at 20x real time: 50 ms apart. */
  const char *kv[] = {"port", data_path("smartsolar-mppt-75-15_fw1.56.dump"),
                      "speed", "20", NULL};
  uint64_t t0;
  uv_update_time(loop);
  t0 = uv_now(loop);
  h = host(loop, kv);
  CHECK_INT(vqt_host_start(h), 0);
  run(h, 0);
  uv_update_time(loop);
  CHECK_INT(vqt_host_nreadings(h), 6 + 1);
  CHECK(uv_now(loop) - t0 >= 250);
  CHECK(uv_now(loop) - t0 < 3000);
  CHECK_INT(vqt_host_count(h, "HQ1942K7LJ8 device.off_reason=1 [no_input_power]", NULL), 6);
  vqt_host_free(h);
}

static void test_dump(uv_loop_t *loop) {
  struct vqt_host *h;
  char out[] = "/tmp/veddumpXXXXXX";
  int fd = mkstemp(out);
  size_t len, len2;
  const char *kv[] = {"port", data_path("bmv-700_fw3.08.dump"), "mode", "dump",
                      "output", out, NULL};
  unsigned char *a, *b;
  FILE *f;
  CHECK(fd >= 0);
  close(fd);
  h = host(loop, kv);
  CHECK_INT(vqt_host_start(h), 0);
  run(h, 0);
  CHECK_INT(vqt_host_finished(h), 1);
  CHECK_INT(vqt_host_nreadings(h), 0);
  a = ved_test_read("bmv-700_fw3.08.dump", &len);
  f = fopen(out, "rb");
  CHECK(f != NULL);
  if (f) {
    b = malloc(len + 10);
    len2 = fread(b, 1, len + 10, f);
    fclose(f);
    CHECK_INT(len2, len);
    CHECK(memcmp(a, b, len) == 0);
    free(b);
  }
  free(a);
  unlink(out);
  vqt_host_free(h);
}

static void test_bad_options(uv_loop_t *loop) {
  const char *kv1[] = {"port", "file:/nonexistent/vedirect.dump", NULL};
  const char *kv2[] = {"port", "tcp://localhost", NULL};
  const char *kv3[] = {"port", "tcp://localhost:99999", NULL};
  const char *kv4[] = {"port", "/dev/null", "mode", "dump", "output",
                       "/nonexistent/dir/dump", NULL};
  const char *const *kvs[] = {kv1, kv2, kv3, kv4};
  const int want[] = {-ENOENT, -EINVAL, -EINVAL,
                      -ENOENT /* dump file cannot be created */};
  size_t i;
  for (i = 0; i < sizeof kvs / sizeof kvs[0]; i++) {
    struct vqt_host *h = host(loop, kvs[i]);
    CHECK_INT(vqt_host_start(h), want[i]);
    CHECK_INT(vqt_host_bugs(h), 0);
    vqt_host_free(h);
  }
}

static const struct vqt_done *last_done(const struct vqt_host *h) {
  static const struct vqt_done none = {0, 1, "(no completion)"};
  size_t n = vqt_host_ndone(h);
  return n ? vqt_host_done(h, n - 1) : &none;
}

static void command(struct vqt_host *h, double value) {
  vqt_host_command(h, NULL, "charger.current_limit", value, "A", 5000);
}

/* Commands on a replay are refused with a reason (grant and range are
 * the core's: daemon/control.c). */
static void test_command_on_file(uv_loop_t *loop) {
  struct vqt_host *h;
  const char *kv[] = {"port", data_path("bmv-700_fw3.08.dump"), "speed", "1",
                      "write.charger.current_limit", "3..25", NULL};
  h = host(loop, kv);
  CHECK_INT(vqt_host_start(h), 0);
  command(h, 10);
  CHECK_INT(vqt_host_ndone(h), 1);
  CHECK_INT(last_done(h)->status, -ENOTSUP);
  CHECK(strstr(last_done(h)->message, "replay") != NULL);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);
}

static void walk(uv_handle_t *h, void *arg) {
  (void)arg;
  fprintf(stderr, "handle left open: %s closing=%d active=%d data=%p\n", uv_handle_type_name(h->type), uv_is_closing(h), uv_is_active(h), h->data);
}

int main(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  test_bmv(&loop);
  test_bluesolar(&loop);
  test_held(&loop);
  test_loop(&loop);
  test_realtime(&loop);
  test_dump(&loop);
  test_bad_options(&loop);
  test_command_on_file(&loop);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_walk(&loop, walk, NULL);
  CHECK_INT(uv_loop_close(&loop), 0);
  VQTEST_END();
}

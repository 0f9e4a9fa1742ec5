/* The plugin through a test host: file: replays of the captures, held
 * blocks, real-time pacing, loop, dump mode, bad options. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "host_stub.h"
#include "ved_test.h"

static char path_buf[1024];
static const char *data_path(const char *name) {
  const char *dir = getenv("VED_TESTDATA");
  snprintf(path_buf, sizeof path_buf, "file:%s/%s", dir ? dir : VED_TESTDATA,
           name);
  return path_buf;
}

struct stop_when {
  struct stub *s;
  uint64_t readings;
};

static void check_stop(uv_timer_t *t) {
  struct stop_when *w = t->data;
  if (w->s->readings >= w->readings) uv_stop(t->loop);
}

/* Run until the replay finishes (or `max_readings`, or 10 s). */
static void run(struct stub *s, uv_loop_t *loop, uint64_t max_readings) {
  uv_timer_t t, guard;
  struct stop_when w = {s, max_readings ? max_readings : UINT64_MAX};
  uint64_t start = uv_now(loop);
  uv_timer_init(loop, &t);
  t.data = &w;
  uv_timer_start(&t, check_stop, 5, 5);
  uv_timer_init(loop, &guard);
  while (!s->finished && s->readings < w.readings &&
         uv_now(loop) - start < 10000)
    uv_run(loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&t, NULL);
  uv_close((uv_handle_t *)&guard, NULL);
  uv_run(loop, UV_RUN_NOWAIT); /* the handles live on this stack */
  stub_stop(s);
  uv_run(loop, UV_RUN_NOWAIT);
}

static void test_bmv(uv_loop_t *loop) {
  static struct stub s;
  const char *kv[] = {"port", data_path("bmv-700_fw3.08.dump"), NULL};
  const char *last = NULL;
  CHECK_INT(stub_start(&s, loop, kv), 0);
  run(&s, loop, 0);
  CHECK_INT(s.finished, 1);
  /* every block is valid: 453 main + 453 history readings */
  CHECK_INT(s.readings, 906 + 1 /* link.online */);
  CHECK_INT(stub_count(&s, "pid-0203 battery.voltage=", NULL), 453);
  CHECK_INT(stub_count(&s, "pid-0203 history.charged_energy=", NULL), 453);
  CHECK_INT(stub_count(&s, "pid-0203 link.online=1", NULL), 1);
  CHECK_INT(stub_count(&s, "pid-0203 tag product=BMV-700", NULL), 1);
  CHECK_INT(stub_count(&s, "pid-0203 tag product_id=0x0203", NULL), 1);
  CHECK_INT(stub_count(&s, "pid-0203 tag firmware=3.08", NULL), 1);
  CHECK_INT(stub_count(&s, "pid-0203 battery.voltage=12.065", NULL) >= 1, 1);
  CHECK_INT(stub_count(&s, "pid-0203 battery.consumed_ah=-65.473", NULL) >= 1, 1);
  CHECK_INT(stub_count(&s, "device.alarm=0 [OFF]", &last) , 453);
  stub_free(&s);
}

static void test_bluesolar(uv_loop_t *loop) {
  static struct stub s;
  const char *kv[] = {"port", data_path("bluesolar-mppt-75-15_fw1.23.dump"),
                      NULL};
  CHECK_INT(stub_start(&s, loop, kv), 0);
  run(&s, loop, 0);
  CHECK_INT(s.finished, 1);
  CHECK_INT(s.readings, 247 + 1);
  CHECK_INT(stub_count(&s, "HQ1411MYIKN battery.voltage=", NULL), 247);
  CHECK_INT(stub_count(&s, "HQ1411MYIKN tag product=BlueSolar MPPT 75|15", NULL), 1);
  CHECK_INT(stub_count(&s, "HQ1411MYIKN tag serial=HQ1411MYIKN", NULL), 1);
  CHECK_INT(stub_count(&s, "HQ1411MYIKN device.state=3 [Bulk]", NULL) >= 1, 1);
  CHECK_INT(stub_count(&s, "HQ1411MYIKN load.state=1", NULL), 247);
  stub_free(&s);
}

/* Blocks without identity are held until the identifying block. */
static void test_held(uv_loop_t *loop) {
  static struct stub s;
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
  CHECK_INT(stub_start(&s, loop, kv), 0);
  run(&s, loop, 0);
  CHECK_INT(s.readings, 2 + 1);
  /* The history reading comes first, under the device of the main block. */
  for (i = 0; i < s.nlines; i++)
    if (strstr(s.lines[i], "history.") || strstr(s.lines[i], "battery.voltage"))
      break;
  CHECK(i < s.nlines && strstr(s.lines[i], "pid-a389 history.deepest_discharge=-32.914"));
  CHECK_INT(stub_count(&s, "pid-a389 battery.time_to_go=NA", NULL), 1);
  CHECK_INT(stub_count(&s, "pid-a389 tag product=SmartShunt 500A/50mV", NULL), 1);
  unlink(tmp);
  free(buf);
  stub_free(&s);
}

static void test_loop(uv_loop_t *loop) {
  static struct stub s;
  const char *kv[] = {"port", data_path("blue-smart-ip22-24-8_fw3.42.dump"),
                      "loop", "yes", NULL};
  CHECK_INT(stub_start(&s, loop, kv), 0);
  run(&s, loop, 6);
  CHECK_INT(s.finished, 0);
  CHECK(s.readings >= 6);
  CHECK(stub_count(&s, "HQ2249TNFVM battery.voltage=26.87", NULL) >= 5);
  CHECK(stub_count(&s, "HQ2249TNFVM battery.temperature=NA", NULL) >= 5);
  CHECK_INT(stub_count(&s, "HQ2249TNFVM tag hc=57825", NULL), 1);
  CHECK_INT(stub_count(&s, "HQ2249TNFVM tag firmware=3.42", NULL), 1);
  stub_free(&s);
}

static void test_realtime(uv_loop_t *loop) {
  static struct stub s;
  /* 6 valid blocks, one cycle each, at 20x real time: 50 ms apart. */
  const char *kv[] = {"port", data_path("smartsolar-mppt-75-15_fw1.56.dump"),
                      "speed", "20", NULL};
  uint64_t t0;
  uv_update_time(loop);
  t0 = uv_now(loop);
  CHECK_INT(stub_start(&s, loop, kv), 0);
  run(&s, loop, 0);
  uv_update_time(loop);
  CHECK_INT(s.readings, 6 + 1);
  CHECK(uv_now(loop) - t0 >= 250);
  CHECK(uv_now(loop) - t0 < 3000);
  CHECK_INT(stub_count(&s, "HQ1942K7LJ8 device.off_reason=1 [No input power]", NULL), 6);
  stub_free(&s);
}

static void test_dump(uv_loop_t *loop) {
  static struct stub s;
  char out[] = "/tmp/veddumpXXXXXX";
  int fd = mkstemp(out);
  size_t len, len2;
  const char *kv[] = {"port", data_path("bmv-700_fw3.08.dump"), "mode", "dump",
                      "output", out, NULL};
  unsigned char *a, *b;
  FILE *f;
  CHECK(fd >= 0);
  close(fd);
  CHECK_INT(stub_start(&s, loop, kv), 0);
  run(&s, loop, 0);
  CHECK_INT(s.finished, 1);
  CHECK_INT(s.readings, 0);
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
  stub_free(&s);
}

static void test_bad_options(uv_loop_t *loop) {
  static struct stub s;
  const char *kv1[] = {"port", "file:/nonexistent/vedirect.dump", NULL};
  const char *kv2[] = {"port", "tcp://localhost", NULL};
  const char *kv3[] = {"port", "tcp://localhost:99999", NULL};
  const char *kv4[] = {"port", "/dev/null", "mode", "dump", NULL};
  CHECK_INT(stub_start(&s, loop, kv1), -ENOENT);
  s.plugin->destroy(s.instance);
  CHECK_INT(stub_start(&s, loop, kv2), -EINVAL);
  s.plugin->destroy(s.instance);
  CHECK_INT(stub_start(&s, loop, kv3), -EINVAL);
  s.plugin->destroy(s.instance);
  CHECK_INT(stub_start(&s, loop, kv4), -EINVAL); /* dump without output */
  uv_run(loop, UV_RUN_NOWAIT);
}

/* Commands on a replay are refused with a reason. */
static void test_command_on_file(uv_loop_t *loop) {
  static struct stub s;
  const char *kv[] = {"port", data_path("bmv-700_fw3.08.dump"), "speed", "1",
                      "write.charger.current_limit", "3..25", NULL};
  CHECK_INT(stub_start(&s, loop, kv), 0);
  stub_command(&s, NULL, 10, 5000);
  CHECK_INT(s.done_count, 1);
  CHECK_INT(s.done_status, -ENOTSUP);
  stub_command(&s, NULL, 30, 5000);
  CHECK_INT(s.done_status, -ERANGE);
  stub_command(&s, NULL, 7000, 5000);
  CHECK_INT(s.done_status, -ERANGE);
  CHECK(strstr(s.done_msg, "protocol") != NULL);
  stub_stop(&s);
  uv_run(loop, UV_RUN_NOWAIT);
  stub_free(&s);
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
  TEST_END();
}

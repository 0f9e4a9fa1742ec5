/* The ble-adv source on the shared test host (tests/lib): the check pass,
 * captures read once for many sources, long capture lines, and decodes
 * from a key wrong after its first byte. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <uv.h>

#include "ble_adv_source.h"
#include "vqt_host.h"
#include "vqtest.h"

const struct vq_plugin *ble_adv_LTX_vq_plugin_entry(const uint16_t *majors, size_t n);

#define SHUNT_KEY "aff4d0995b7d1e176c0c33ecb9e70dcd"
#define SOLAR_KEY "adeccb947395801a4dd45a2eaa44bf17"
#define SENSE_KEY "0da694539597f9cf6c613cde60d7bf05"
#define CAPTURE BLE_ADV_TESTDATA "/replay.capture"
/* Lines of replay.capture (comments, a blank line and a bad line included). */
#define CAPTURE_LINES 27

static uv_loop_t loop;
static const struct vq_plugin *plugin;

static struct vqt_host *host(const char *const *kv) {
  struct vqt_host *h = vqt_host_new(&loop, plugin, VQ_KIND_SOURCE, "t", kv);
  if (h == NULL) abort();
  return h;
}

/* --check finds every option that would fail at start, naming its key. */
static void test_check(void) {
  static const char *const bad[] = {"key", "aff4d0995b7d1e176c0c33ecb9e70dzz",
                                    "address", "C0:3B:98:00:01",
                                    "capture", "/nonexistent/capture", NULL};
  static const char *const bad_known[] = {"mode", "scan", "known_addresses",
                                          "C0:3B:98:00:00:01, nope", NULL};
  static const char *const no_key[] = {"capture", CAPTURE, NULL};
  static const char *const live_pacing[] = {"key", SHUNT_KEY, "speed", "2", "loop", "yes", NULL};
  static const char *const good[] = {"key", SHUNT_KEY, "address", "C0:3B:98:00:00:01",
                                     "capture", CAPTURE, NULL};
  struct vqt_host *h = host(bad);
  CHECK_INT(vqt_host_check(h), -EINVAL);
  CHECK_INT(vqt_host_errors(h, "key 'key': not 32 hexadecimal digits"), 1);
  CHECK_INT(vqt_host_errors(h, "dzz"), 0); /* a secret is never printed */
  CHECK_INT(vqt_host_errors(h, "key 'address': 'C0:3B:98:00:01' is not a Bluetooth"), 1);
  CHECK_INT(vqt_host_errors(h, "key 'capture': cannot read /nonexistent/capture"), 1);
  CHECK_INT(vqt_host_errors(h, NULL), 3);
  vqt_host_free(h);
  h = host(bad_known);
  CHECK_INT(vqt_host_check(h), -EINVAL);
  CHECK_INT(vqt_host_errors(h, "key 'known_addresses': 'nope'"), 1);
  vqt_host_free(h);
  h = host(no_key);
  CHECK_INT(vqt_host_check(h), -EINVAL);
  CHECK_INT(vqt_host_errors(h, "key 'key': key (or key_file) is required"), 1);
  vqt_host_free(h);
  h = host(live_pacing);
  CHECK_INT(vqt_host_check(h), -EINVAL);
  CHECK_INT(vqt_host_errors(h, "key 'speed': only a replay"), 1);
  CHECK_INT(vqt_host_errors(h, "key 'loop': only a replay"), 1);
  vqt_host_free(h);
  h = host(good);
  CHECK_INT(vqt_host_check(h), 0);
  CHECK_INT(vqt_host_errors(h, NULL), 0);
  CHECK_INT(vqt_host_bugs(h), 0);
  vqt_host_free(h);
}

static int all_finished(struct vqt_host *h, void *arg) {
  struct vqt_host **hs = arg;
  (void)h;
  return vqt_host_finished(hs[0]) && vqt_host_finished(hs[1]) && vqt_host_finished(hs[2]);
}

/* Three sources on one capture: the file is parsed once, each source gets
 * its device's advertisements. */
static void test_shared_capture(void) {
  static const char *const kv[3][7] = {
    {"capture", CAPTURE, "key", SHUNT_KEY, "address", "C0:3B:98:00:00:01", NULL},
    {"capture", CAPTURE, "key", SOLAR_KEY, "address", "C0:3B:98:00:00:02", NULL},
    {"capture", CAPTURE, "key", SENSE_KEY, "address", "C0:3B:98:00:00:04", NULL},
  };
  struct vqt_host *hs[3];
  uint64_t before = ble_replay_lines_parsed();
  int i;
  for (i = 0; i < 3; i++) {
    hs[i] = host(kv[i]);
    CHECK_INT(vqt_host_start(hs[i]), 0);
  }
  CHECK(vqt_host_run_until(hs[0], all_finished, hs, 5000));
  CHECK_INT(ble_replay_lines_parsed() - before, CAPTURE_LINES);
  CHECK_INT(vqt_host_stat(hs[0], "capture_lines") + vqt_host_stat(hs[1], "capture_lines") +
                vqt_host_stat(hs[2], "capture_lines"),
            CAPTURE_LINES);
  CHECK_INT(vqt_host_stat(hs[0], "capture_bad_line"), 1);
  CHECK_INT(vqt_host_nreadings(hs[0]), 4); /* 5 shunt lines, one a repeat */
  CHECK_INT(vqt_host_nreadings(hs[1]), 1);
  CHECK_INT(vqt_host_nreadings(hs[2]), 1);
  CHECK_INT(vqt_host_count(hs[1], "c03b98000002 pv.power=19", NULL), 1);
  for (i = 0; i < 3; i++) {
    CHECK_INT(vqt_host_finished(hs[i]), 1);
    CHECK_INT(vqt_host_stop(hs[i]), 0);
    CHECK_INT(vqt_host_bugs(hs[i]), 0);
    vqt_host_free(hs[i]);
  }
}

static char *write_capture(const char *text) {
  static char path[64];
  int fd;
  FILE *f;
  snprintf(path, sizeof path, "/tmp/ble-adv-test-XXXXXX");
  if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL) abort();
  fputs(text, f);
  fclose(f);
  return path;
}

/* A line over 511 bytes is one bad line; the line numbers after it stay
 * right.  (It was split into two bad lines, and line 4 was reported as 5.) */
static void test_long_line(void) {
  char text[2048], *path;
  const char *kv[] = {"capture", NULL, "key", SHUNT_KEY, NULL};
  struct vqt_host *h;
  int n = snprintf(text, sizeof text, "# capture\n1700000000.1 C0:3B:98:00:00:01 -70 ");
  int i;
  for (i = 0; i < 300; i++) n += snprintf(text + n, sizeof text - (size_t)n, "10");
  snprintf(text + n, sizeof text - (size_t)n,
           "\n1700000000.250000 C0:3B:98:00:00:01 -71 "
           "100289a302b040af925d09a4d89aa0128bdef48c6298a9\nnot a line\n");
  path = write_capture(text);
  kv[1] = path;
  h = host(kv);
  CHECK_INT(vqt_host_start(h), 0);
  CHECK(vqt_host_run_until_finished(h, 5000));
  CHECK_INT(vqt_host_stat(h, "capture_bad_line"), 2);
  CHECK_INT(vqt_host_stat(h, "capture_lines"), 4);
  CHECK_INT(vqt_host_log_count(h, VQ_LOG_WARN, ":2: line too long"), 1);
  CHECK_INT(vqt_host_log_count(h, VQ_LOG_WARN, ":4: not a capture line"), 1);
  CHECK_INT(vqt_host_nreadings(h), 1);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);
  unlink(path);
}

/* The shunt's key with its last byte changed passes the key check; its
 * decodes are refused, counted and warned about once. */
static void test_wrong_key(void) {
  const char *kv[] = {"capture", CAPTURE, "key", "aff4d0995b7d1e176c0c33ecb9e70dcc",
                      "address", "C0:3B:98:00:00:01", NULL};
  struct vqt_host *h = host(kv);
  CHECK_INT(vqt_host_start(h), 0);
  CHECK(vqt_host_run_until_finished(h, 5000));
  CHECK_INT(vqt_host_nreadings(h), 0);
  CHECK_INT(vqt_host_stat(h, "implausible"), 4); /* 5 lines, one a repeat */
  CHECK_INT(vqt_host_stat(h, "repeat"), 1);
  CHECK_INT(vqt_host_stat(h, "decoded"), 0);
  CHECK_INT(vqt_host_log_count(h, VQ_LOG_WARN, "probably wrong after its first byte"), 1);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);
}

/* The tools the core's tool runner runs: their presets and options are
 * keys of the schema. */
static void test_tools(void) {
  const struct vq_tool *t = plugin->tools;
  int n = 0;
  for (; t != NULL && t->name != NULL; t++, n++) {
    const struct vq_option *o;
    int preset_known = 0;
    for (o = plugin->options; o->key != NULL; o++)
      if (t->preset != NULL && strncmp(t->preset, o->key, strlen(o->key)) == 0 &&
          t->preset[strlen(o->key)] == '=')
        preset_known = 1;
    CHECK(preset_known);
  }
  CHECK_INT(n, 2);
  CHECK_STR(plugin->tools[0].name, "scan");
  CHECK_STR(plugin->tools[1].name, "dump");
}

int main(void) {
  static const uint16_t majors[] = {VQ_ABI_MAJOR};
  plugin = ble_adv_LTX_vq_plugin_entry(majors, 1);
  if (plugin == NULL || uv_loop_init(&loop) != 0) return 99;
  test_check();
  test_shared_capture();
  test_long_line();
  test_wrong_key();
  test_tools();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(uv_loop_close(&loop), 0);
  VQTEST_END();
}

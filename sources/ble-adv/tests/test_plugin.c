/* The plugin through its descriptor, on the shared test host (tests/lib): capture
 * replay in decode, scan and dump modes, address filter, key check
 * warnings, repeats, loop and real-time speed, option errors. */
#include <fcntl.h>
#include <unistd.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "vqt_host.h"
#include "vqt_reading.h"
#include "vqtest.h"

const struct vq_plugin *ble_adv_LTX_vq_plugin_entry(const uint16_t *majors, size_t n);

static const struct vq_plugin *P;
static uv_loop_t loop;
static char capture[4096];

#define SHUNT_KEY "aff4d0995b7d1e176c0c33ecb9e70dcd"

static struct vqt_host *run(const char *const *kv, uint64_t timeout_ms, int *finished) {
  struct vqt_host *h = vqt_host_new(&loop, P, VQ_KIND_SOURCE, "t", kv);
  int rc = vqt_host_start(h);
  CHECK(rc == 0);
  *finished = rc == 0 ? vqt_host_run_until_finished(h, timeout_ms) : 0;
  return h;
}

/* A whole file, NUL-terminated (caller frees), or NULL. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;
  if (f == NULL) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)n + 1)) != NULL) {
    if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
      buf[n] = '\0';
    } else {
      free(buf);
      buf = NULL;
    }
  }
  fclose(f);
  return buf;
}

static void test_descriptor(void) {
  static const uint16_t majors[] = {7, VQ_ABI_MAJOR};
  static const uint16_t other[] = {VQ_ABI_MAJOR + 1};
  const struct vq_option *o;
  int n = 0;
  CHECK(P != NULL && P->magic == VQ_PLUGIN_MAGIC && P->size == sizeof *P);
  CHECK(ble_adv_LTX_vq_plugin_entry(majors, 2) == P);
  CHECK(ble_adv_LTX_vq_plugin_entry(other, 1) == NULL);
  CHECK(strcmp(P->name, "ble-adv") == 0 && P->kinds == VQ_KIND_SOURCE);
  for (o = P->options; o->key != NULL; o++) {
    n++;
    CHECK(o->help != NULL && o->help[0] != '\0');
    if (strcmp(o->key, "key") == 0) CHECK(o->type == VQ_OPT_SECRET);
    if (strcmp(o->key, "known_addresses") == 0 || strcmp(o->key, "gatt_addresses") == 0)
      CHECK(o->flags & VQ_OPT_LIST);
  }
  CHECK(n == 11);
}

static void test_decode_all(void) {
  const char *kv[] = {"capture", capture, "key", SHUNT_KEY, NULL};
  int fin;
  struct vqt_host *h = run(kv, 5000, &fin);
  const struct vq_reading *r;
  const struct vq_record *rec;
  CHECK(fin == 1);
  CHECK((int)vqt_host_nreadings(h) == 4);
  if ((int)vqt_host_nreadings(h) == 4) {
    r = vqt_host_reading(h, 0);
    CHECK(strcmp(r->device, "c03b98000001") == 0);
    CHECK(strcmp(vqt_tag(r, "product"), "SmartShunt 500A/50mV") == 0);
    CHECK(strcmp(vqt_tag(r, "product_id"), "0xA389") == 0);
    CHECK(r->time_ns == 1700000000250000000LL);
    rec = vqt_record(r, "link.rssi");
    CHECK(rec != NULL && rec->type == VQ_VALUE_INT && rec->value.i64 == -71);
    rec = vqt_record(r, "battery.voltage");
    CHECK(rec != NULL && fabs(rec->value.f64 - 12.53) < 1e-9 && rec->flags == 0);
    rec = vqt_record(r, "battery.time_to_go");
    CHECK(rec != NULL && (rec->flags & VQ_RECORD_NA));
    rec = vqt_record(r, "device.alarm_reason");
    CHECK(rec != NULL && rec->type == VQ_VALUE_BITMASK && rec->text != NULL && strcmp(rec->text, "none") == 0);
    r = vqt_host_reading(h, 2);
    rec = vqt_record(r, "monitor.mode");
    CHECK(rec != NULL && rec->type == VQ_VALUE_ENUM && strcmp(rec->text, "dc_dc_charger") == 0);
    r = vqt_host_reading(h, 3);
    rec = vqt_record(r, "battery.temperature");
    CHECK(rec != NULL && (rec->flags & VQ_RECORD_NA));
  }
  CHECK(vqt_host_stat(h, "repeat") == 1);
  CHECK(vqt_host_stat(h, "decoded") == 4);
  CHECK(vqt_host_stat(h, "capture_bad_line") == 1);
  CHECK(vqt_host_stat(h, "key_mismatch") == 3);
  CHECK((int)vqt_host_log_count(h, VQ_LOG_WARN, "key check failed") == 0);
  CHECK(vqt_host_stop(h) == 0);
  vqt_host_free(h);
}

static void test_wrong_key(void) {
  const char *kv[] = {"capture", capture, "address", "C0:3B:98:00:00:01",
                      "key", "ff" "f4d0995b7d1e176c0c33ecb9e70dcd", NULL};
  int fin;
  struct vqt_host *h = run(kv, 5000, &fin);
  CHECK(fin == 1);
  CHECK((int)vqt_host_nreadings(h) == 0);
  CHECK((int)vqt_host_log_count(h, VQ_LOG_WARN, "key check failed") == 1);
  CHECK((int)vqt_host_log_count(h, VQ_LOG_WARN, "0xaf") == 1 && (int)vqt_host_log_count(h, VQ_LOG_WARN, "0xff") == 1 &&
            (int)vqt_host_log_count(h, VQ_LOG_WARN, "VictronConnect") == 1);
  CHECK((int)vqt_host_log_count(h, VQ_LOG_WARN, "f4d0995b") == 0 && (int)vqt_host_log_count(h, VQ_LOG_INFO, "f4d0995b") == 0);
  CHECK(vqt_host_stat(h, "key_mismatch") == 5);
  CHECK(vqt_host_stop(h) == 0);
  vqt_host_free(h);
}

static void test_filter(void) {
  const char *kv[] = {"capture", capture, "address", "c03b98000002",
                      "key", "adeccb947395801a4dd45a2eaa44bf17", NULL};
  int fin;
  struct vqt_host *h = run(kv, 5000, &fin);
  CHECK(fin == 1 && (int)vqt_host_nreadings(h) == 1);
  if ((int)vqt_host_nreadings(h) == 1) {
    const struct vq_reading *r = vqt_host_reading(h, 0);
    CHECK(strcmp(r->device, "c03b98000002") == 0);
    CHECK(vqt_record(r, "link.rssi") == NULL);
    CHECK(vqt_record(r, "pv.power") != NULL && vqt_record(r, "pv.power")->value.f64 == 19);
  }
  CHECK(vqt_host_stat(h, "key_mismatch") == 0);
  CHECK(vqt_host_stop(h) == 0);
  vqt_host_free(h);
}

static void test_loop_and_speed(void) {
  const char *kv[] = {"capture", capture, "key", SHUNT_KEY, "loop", "yes", NULL};
  const char *kv2[] = {"capture", capture, "key", SHUNT_KEY, "speed", "20", NULL};
  struct vqt_host *h = vqt_host_new(&loop, P, VQ_KIND_SOURCE, "t", kv);
  uint64_t t0;
  int fin;
  CHECK(vqt_host_start(h) == 0);
  vqt_host_run_for(h, 100);
  CHECK(!vqt_host_finished(h));
  CHECK((int)vqt_host_nreadings(h) > 8);
  CHECK((int)vqt_host_nreadings(h) > 0 && vqt_host_reading(h, 0)->time_ns > 1700000100000000000LL);
  CHECK(vqt_host_stop(h) == 0);
  vqt_host_free(h);

  uv_update_time(&loop);
  t0 = uv_now(&loop);
  h = run(kv2, 5000, &fin);
  /* The capture spans 5.75 s: 20x is about 290 ms. */
  CHECK(fin == 1 && uv_now(&loop) - t0 >= 250 && uv_now(&loop) - t0 < 2000);
  CHECK((int)vqt_host_nreadings(h) == 4);
  CHECK(vqt_host_stop(h) == 0);
  vqt_host_free(h);
}

static char *capture_stdout(void (*fn)(void)) {
  char path[] = "/tmp/ble-adv-test-XXXXXX";
  int fd = mkstemp(path), saved;
  char *out;
  CHECK(fd >= 0);
  fflush(stdout);
  saved = dup(1);
  dup2(fd, 1);
  fn();
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  close(fd);
  out = slurp(path);
  unlink(path);
  return out;
}

static void scan_run(void) {
  const char *kv[] = {"capture", capture, "mode", "scan", "known_addresses",
                      "C0:3B:98:00:00:01, c0:3b:98:00:00:09", "gatt_addresses",
                      "c0:3b:98:00:00:02", NULL};
  int fin;
  struct vqt_host *h = run(kv, 5000, &fin);
  CHECK(fin == 1);
  CHECK((int)vqt_host_nreadings(h) == 0);
  CHECK(vqt_host_stop(h) == 0);
  vqt_host_free(h);
}

/* The word of the scan table's row for `addr` in the column whose heading
 * is `col` (the columns are aligned under their headings), or "". */
static const char *scan_cell(const char *out, const char *addr, const char *col, char *cell,
                             size_t size) {
  const char *eol = strchr(out, '\n'), *head = strstr(out, col), *row = strstr(out, addr);
  size_t at;
  cell[0] = '\0';
  if (eol == NULL || head == NULL || head > eol || row == NULL) return cell;
  at = (size_t)(head - out);
  if (strcspn(row, "\n") <= at) return cell;
  row += at;
  snprintf(cell, size, "%.*s", (int)strcspn(row, " \n"), row);
  return cell;
}

static void test_scan(void) {
  char *out = capture_stdout(scan_run), c[16];
  CHECK(out != NULL);
  if (out == NULL) return;
  CHECK(strstr(out, "ADDRESS") != NULL);
  CHECK(strstr(out, "4 Victron devices in range") != NULL);
  CHECK(strstr(out, "SmartShunt 500A/50mV") != NULL && strstr(out, "Smart Battery Sense") != NULL);
  CHECK(strstr(out, "0x0C ve.bus") != NULL);
  {
    const char *line = strstr(out, "C0:3B:98:00:00:01");
    CHECK(line && strstr(line, "-68") != NULL && strstr(line, "0x02 battery monitor") != NULL);
  }
  /* KEY from known_addresses, GATT from gatt_addresses; a capture knows no
   * bond. */
  CHECK_STR(scan_cell(out, "C0:3B:98:00:00:01", "KEY", c, sizeof c), "yes");
  CHECK_STR(scan_cell(out, "C0:3B:98:00:00:01", "GATT", c, sizeof c), "no");
  CHECK_STR(scan_cell(out, "C0:3B:98:00:00:01", "BONDED", c, sizeof c), "-");
  CHECK_STR(scan_cell(out, "C0:3B:98:00:00:02", "KEY", c, sizeof c), "no");
  CHECK_STR(scan_cell(out, "C0:3B:98:00:00:02", "GATT", c, sizeof c), "yes");
  CHECK_STR(scan_cell(out, "C0:3B:98:00:00:02", "BONDED", c, sizeof c), "-");
  free(out);
}

static void test_dump(void) {
  char path[] = "/tmp/ble-adv-dump-XXXXXX";
  int fd = mkstemp(path), fin;
  const char *kv[] = {"capture", capture, "mode", "dump", "output", path,
                      "address", "C0:3B:98:00:00:01", NULL};
  const char *kv2[] = {"capture", path, "key", SHUNT_KEY, NULL};
  struct vqt_host *h;
  char *text;
  CHECK(fd >= 0);
  close(fd);
  h = run(kv, 5000, &fin);
  CHECK(fin == 1);
  CHECK(vqt_host_stop(h) == 0);
  vqt_host_free(h);
  text = slurp(path);
  CHECK(text != NULL && text[0] == '#');
  if (text != NULL) {
    int lines = 0;
    const char *p;
    for (p = text; (p = strstr(p, "\n1700")) != NULL; p++) lines++;
    CHECK(lines == 5);
    CHECK(strstr(text, "1700000000.250000 C0:3B:98:00:00:01 -71 100289a302b040af925d09a4d89aa0128bdef48c6298a9\n") != NULL);
    free(text);
  }
  /* The dump replays to the same readings. */
  h = run(kv2, 5000, &fin);
  CHECK(fin == 1 && (int)vqt_host_nreadings(h) == 4);
  CHECK(vqt_host_stop(h) == 0);
  vqt_host_free(h);
  unlink(path);
}

static void test_errors(void) {
  static const char *const no_key[] = {"adapter", "hci0", NULL};
  static const char *const bad_addr[] = {"key", SHUNT_KEY, "address", "C0:3B:98", NULL};
  static const char *const bad_key[] = {"key", "zzf4d0995b7d1e176c0c33ecb9e70dcd", NULL};
  static const char *const bad_known[] = {"mode", "scan", "known_addresses", "nope", NULL};
  static const char *const bad_gatt[] = {"mode", "scan", "gatt_addresses",
                                         "C0:3B:98:00:00:01,C0:3B", NULL};
  static const char *const missing[] = {"key", SHUNT_KEY, "capture", "/nonexistent/x", NULL};
  const char *const *cases[] = {no_key, bad_addr, bad_key, bad_known, bad_gatt};
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct vqt_host *h = vqt_host_new(&loop, P, VQ_KIND_SOURCE, "t", cases[i]);
    CHECK(vqt_host_start(h) == -EINVAL);
    CHECK_INT(vqt_host_errors(h, NULL), 1);
    CHECK_INT(vqt_host_errors(h, "zzf4") + vqt_host_log_count(h, VQ_LOG_DEBUG, "zzf4"), 0);
    vqt_host_free(h);
  }
  {
    struct vqt_host *h = vqt_host_new(&loop, P, VQ_KIND_SOURCE, "t", missing);
    /* Found by the option check (also at --check), before anything starts. */
    CHECK(vqt_host_start(h) == -EINVAL);
    CHECK_INT(vqt_host_errors(h, "/nonexistent/x"), 1);
    vqt_host_stop(h);
    vqt_host_free(h);
  }
}

int main(void) {
  static const uint16_t majors[] = {VQ_ABI_MAJOR};
  const char *dir = getenv("BLE_ADV_TESTDATA");
  snprintf(capture, sizeof capture, "%s/replay.capture", dir ? dir : BLE_ADV_TESTDATA);
  P = ble_adv_LTX_vq_plugin_entry(majors, 1);
  if (P == NULL || uv_loop_init(&loop) != 0) return 99;
  test_descriptor();
  test_decode_all();
  test_wrong_key();
  test_filter();
  test_loop_and_speed();
  test_scan();
  test_dump();
  test_errors();
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(uv_loop_close(&loop), 0);
  VQTEST_END();
}

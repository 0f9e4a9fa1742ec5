/* The plugin through its descriptor, against a stand-in host: capture
 * replay in decode, scan and dump modes, address filter, key check
 * warnings, repeats, loop and real-time speed, option errors. */
#include <fcntl.h>
#include <unistd.h>

#include "fake_host.h"
#include "testutil.h"

const struct vq_plugin *ble_adv_LTX_vq_plugin_entry(const uint16_t *majors, size_t n);

static const struct vq_plugin *P;
static char capture[4096];

#define SHUNT_KEY "aff4d0995b7d1e176c0c33ecb9e70dcd"

static struct fh *run(const char *const *kv, uint64_t timeout_ms, int *finished) {
  struct fh *h = fh_new(P, "t", kv);
  int rc = fh_create_start(h);
  CHECK(rc == 0, "create/start: %d", rc);
  *finished = rc == 0 ? fh_run_until_finished(h, timeout_ms) : 0;
  return h;
}

static void test_descriptor(void) {
  static const uint16_t majors[] = {7, VQ_ABI_MAJOR};
  static const uint16_t other[] = {VQ_ABI_MAJOR + 1};
  const struct vq_option *o;
  int n = 0;
  CHECK(P != NULL && P->magic == VQ_PLUGIN_MAGIC && P->size == sizeof *P, "descriptor");
  CHECK(ble_adv_LTX_vq_plugin_entry(majors, 2) == P, "speaks major 1");
  CHECK(ble_adv_LTX_vq_plugin_entry(other, 1) == NULL, "refuses another major");
  CHECK(strcmp(P->name, "ble-adv") == 0 && P->kinds == VQ_KIND_SOURCE, "name/kind");
  for (o = P->options; o->key != NULL; o++) {
    n++;
    CHECK(o->help != NULL && o->help[0] != '\0', "help for %s", o->key);
    if (strcmp(o->key, "key") == 0) CHECK(o->type == VQ_OPT_SECRET, "key is a secret");
    if (strcmp(o->key, "known_addresses") == 0) CHECK(o->flags & VQ_OPT_LIST, "list");
  }
  CHECK(n == 10, "%d options", n);
}

static void test_decode_all(void) {
  const char *kv[] = {"capture", capture, "key", SHUNT_KEY, NULL};
  int fin;
  struct fh *h = run(kv, 5000, &fin);
  const struct fh_reading *r;
  const struct fh_record *rec;
  CHECK(fin == 1, "replay finished once");
  CHECK(fh_nreadings(h) == 4, "%d readings (4 shunt advertisements, 1 repeat)", fh_nreadings(h));
  if (fh_nreadings(h) == 4) {
    r = fh_reading_at(h, 0);
    CHECK(strcmp(r->device, "c03b98000001") == 0, "device id %s", r->device);
    CHECK(strcmp(r->product, "SmartShunt 500A/50mV") == 0, "product %s", r->product);
    CHECK(strcmp(r->product_id, "0xA389") == 0, "product id %s", r->product_id);
    CHECK(r->time_ns == 1700000000250000000LL, "capture time %lld", (long long)r->time_ns);
    rec = fh_find(r, "link.rssi");
    CHECK(rec != NULL && rec->type == VQ_VALUE_INT && rec->i64 == -71, "rssi");
    rec = fh_find(r, "battery.voltage");
    CHECK(rec != NULL && fabs(rec->f64 - 12.53) < 1e-9 && rec->flags == 0, "voltage");
    rec = fh_find(r, "battery.time_to_go");
    CHECK(rec != NULL && (rec->flags & VQ_RECORD_NA), "ttg NA");
    rec = fh_find(r, "device.alarm_reason");
    CHECK(rec != NULL && rec->type == VQ_VALUE_BITMASK && rec->has_text && strcmp(rec->text, "none") == 0,
          "no bit set: none");
    r = fh_reading_at(h, 2);
    rec = fh_find(r, "monitor.mode");
    CHECK(rec != NULL && rec->type == VQ_VALUE_ENUM && strcmp(rec->text, "dc_dc_charger") == 0,
          "dc meter mode");
    r = fh_reading_at(h, 3);
    rec = fh_find(r, "battery.temperature");
    CHECK(rec != NULL && (rec->flags & VQ_RECORD_NA), "no-sensor temperature NA");
  }
  CHECK(fh_stat(h, "repeat") == 1, "repeat counted %lld", (long long)fh_stat(h, "repeat"));
  CHECK(fh_stat(h, "decoded") == 4, "decoded counted");
  CHECK(fh_stat(h, "capture_bad_line") == 1, "bad line counted");
  CHECK(fh_stat(h, "key_mismatch") == 3, "other devices fail the key check: %lld",
        (long long)fh_stat(h, "key_mismatch"));
  CHECK(fh_log_count(h, VQ_LOG_WARN, "key check failed") == 0,
        "no key warning without an address filter");
  CHECK(fh_stop_destroy(h) == 0, "stopped");
  fh_free(h);
}

static void test_wrong_key(void) {
  const char *kv[] = {"capture", capture, "address", "C0:3B:98:00:00:01",
                      "key", "ff" "f4d0995b7d1e176c0c33ecb9e70dcd", NULL};
  int fin;
  struct fh *h = run(kv, 5000, &fin);
  CHECK(fin == 1, "finished");
  CHECK(fh_nreadings(h) == 0, "nothing emitted with a wrong key");
  CHECK(fh_log_count(h, VQ_LOG_WARN, "key check failed") == 1, "one warning");
  CHECK(fh_log_count(h, VQ_LOG_WARN, "0xaf") == 1 && fh_log_count(h, VQ_LOG_WARN, "0xff") == 1 &&
            fh_log_count(h, VQ_LOG_WARN, "VictronConnect") == 1,
        "the warning names both bytes and VictronConnect");
  CHECK(fh_log_count(h, VQ_LOG_WARN, "f4d0995b") == 0 && fh_log_count(h, VQ_LOG_INFO, "f4d0995b") == 0,
        "the key is never logged");
  CHECK(fh_stat(h, "key_mismatch") == 5, "5 shunt lines rejected: %lld",
        (long long)fh_stat(h, "key_mismatch"));
  CHECK(fh_stop_destroy(h) == 0, "stopped");
  fh_free(h);
}

static void test_filter(void) {
  const char *kv[] = {"capture", capture, "address", "c03b98000002",
                      "key", "adeccb947395801a4dd45a2eaa44bf17", NULL};
  int fin;
  struct fh *h = run(kv, 5000, &fin);
  CHECK(fin == 1 && fh_nreadings(h) == 1, "one solar reading: %d", fh_nreadings(h));
  if (fh_nreadings(h) == 1) {
    const struct fh_reading *r = fh_reading_at(h, 0);
    CHECK(strcmp(r->device, "c03b98000002") == 0, "lowercase address in the capture matched");
    CHECK(fh_find(r, "link.rssi") == NULL, "no rssi record when the capture has none");
    CHECK(fh_find(r, "pv.power") != NULL && fh_find(r, "pv.power")->f64 == 19, "pv power");
  }
  CHECK(fh_stat(h, "key_mismatch") == 0, "other devices filtered before the key check");
  CHECK(fh_stop_destroy(h) == 0, "stopped");
  fh_free(h);
}

static void test_loop_and_speed(void) {
  const char *kv[] = {"capture", capture, "key", SHUNT_KEY, "loop", "yes", NULL};
  const char *kv2[] = {"capture", capture, "key", SHUNT_KEY, "speed", "20", NULL};
  struct fh *h = fh_new(P, "t", kv);
  uint64_t t0;
  int fin;
  CHECK(fh_create_start(h) == 0, "start loop");
  fh_run_for(100);
  CHECK(!fh_finished(h), "a looping replay does not finish");
  CHECK(fh_nreadings(h) > 8, "readings keep coming: %d", fh_nreadings(h));
  CHECK(fh_nreadings(h) > 0 && fh_reading_at(h, 0)->time_ns > 1700000100000000000LL,
        "loop readings carry the current time");
  CHECK(fh_stop_destroy(h) == 0, "looping replay stopped");
  fh_free(h);

  uv_update_time(fh_loop());
  t0 = uv_now(fh_loop());
  h = run(kv2, 5000, &fin);
  /* The capture spans 5.75 s: 20x is about 290 ms. */
  CHECK(fin == 1 && uv_now(fh_loop()) - t0 >= 250 && uv_now(fh_loop()) - t0 < 2000,
        "speed 20 took %llu ms", (unsigned long long)(uv_now(fh_loop()) - t0));
  CHECK(fh_nreadings(h) == 4, "speed replay readings %d", fh_nreadings(h));
  CHECK(fh_stop_destroy(h) == 0, "stopped");
  fh_free(h);
}

static char *capture_stdout(void (*fn)(void)) {
  char path[] = "/tmp/ble-adv-test-XXXXXX";
  int fd = mkstemp(path), saved;
  char *out;
  CHECK(fd >= 0, "mkstemp");
  fflush(stdout);
  saved = dup(1);
  dup2(fd, 1);
  fn();
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  close(fd);
  out = tu_slurp(path, NULL);
  unlink(path);
  return out;
}

static void scan_run(void) {
  const char *kv[] = {"capture", capture, "mode", "scan", "known_addresses",
                      "C0:3B:98:00:00:01, c0:3b:98:00:00:09", NULL};
  int fin;
  struct fh *h = run(kv, 5000, &fin);
  CHECK(fin == 1, "scan finished");
  CHECK(fh_nreadings(h) == 0, "scan emits nothing");
  CHECK(fh_stop_destroy(h) == 0, "stopped");
  fh_free(h);
}

static void test_scan(void) {
  char *out = capture_stdout(scan_run);
  CHECK(out != NULL, "scan output");
  if (out == NULL) return;
  CHECK(strstr(out, "ADDRESS") != NULL, "header: %s", out);
  CHECK(strstr(out, "4 Victron devices in range") != NULL, "count: %s", out);
  CHECK(strstr(out, "SmartShunt 500A/50mV") != NULL && strstr(out, "Smart Battery Sense") != NULL,
        "products: %s", out);
  CHECK(strstr(out, "0x0C ve.bus") != NULL, "record type: %s", out);
  {
    const char *line = strstr(out, "C0:3B:98:00:00:01");
    const char *eol = line ? strchr(line, '\n') : NULL;
    CHECK(line && eol && eol - line > 4 && strncmp(eol - 3, "yes", 3) == 0 &&
              strstr(line, "-68") != NULL && strstr(line, "0x02 battery monitor") != NULL,
          "shunt line: key yes, rssi -68, last record type");
    line = strstr(out, "C0:3B:98:00:00:02");
    eol = line ? strchr(line, '\n') : NULL;
    CHECK(line && eol && strncmp(eol - 2, "no", 2) == 0, "solar: no key");
  }
  free(out);
}

static void test_dump(void) {
  char path[] = "/tmp/ble-adv-dump-XXXXXX";
  int fd = mkstemp(path), fin;
  const char *kv[] = {"capture", capture, "mode", "dump", "output", path,
                      "address", "C0:3B:98:00:00:01", NULL};
  const char *kv2[] = {"capture", path, "key", SHUNT_KEY, NULL};
  struct fh *h;
  char *text;
  CHECK(fd >= 0, "mkstemp");
  close(fd);
  h = run(kv, 5000, &fin);
  CHECK(fin == 1, "dump finished");
  CHECK(fh_stop_destroy(h) == 0, "stopped");
  fh_free(h);
  text = tu_slurp(path, NULL);
  CHECK(text != NULL && text[0] == '#', "dump has a header");
  if (text != NULL) {
    int lines = 0;
    const char *p;
    for (p = text; (p = strstr(p, "\n1700")) != NULL; p++) lines++;
    CHECK(lines == 5, "5 shunt advertisements dumped (repeat included): %d", lines);
    CHECK(strstr(text, "1700000000.250000 C0:3B:98:00:00:01 -71 100289a302b040af925d09a4d89aa0128bdef48c6298a9\n") != NULL,
          "exact line");
    free(text);
  }
  /* The dump replays to the same readings. */
  h = run(kv2, 5000, &fin);
  CHECK(fin == 1 && fh_nreadings(h) == 4, "dump replays: %d readings", fh_nreadings(h));
  CHECK(fh_stop_destroy(h) == 0, "stopped");
  fh_free(h);
  unlink(path);
}

static void test_errors(void) {
  static const char *const no_key[] = {"speed", "1", NULL};
  static const char *const bad_addr[] = {"key", SHUNT_KEY, "address", "C0:3B:98", NULL};
  static const char *const bad_key[] = {"key", "zzf4d0995b7d1e176c0c33ecb9e70dcd", NULL};
  static const char *const bad_known[] = {"mode", "scan", "known_addresses", "nope", NULL};
  static const char *const missing[] = {"key", SHUNT_KEY, "capture", "/nonexistent/x", NULL};
  const char *const *cases[] = {no_key, bad_addr, bad_key, bad_known};
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct fh *h = fh_new(P, "t", cases[i]);
    CHECK(fh_create_start(h) == -EINVAL, "case %zu refused", i);
    CHECK(fh_log_count(h, VQ_LOG_ERROR, "") == 1, "case %zu logged once", i);
    CHECK(fh_log_count(h, VQ_LOG_ERROR, "zzf4") == 0, "secret not logged");
    fh_free(h);
  }
  {
    struct fh *h = fh_new(P, "t", missing);
    /* Found by the option check (also at --check), before anything starts. */
    CHECK(fh_create_start(h) == -EINVAL, "missing capture");
    CHECK(fh_log_count(h, VQ_LOG_ERROR, "/nonexistent/x") == 1, "names the file");
    fh_stop_destroy(h);
    fh_free(h);
  }
}

int main(void) {
  static const uint16_t majors[] = {VQ_ABI_MAJOR};
  const char *dir = getenv("BLE_ADV_TESTDATA");
  snprintf(capture, sizeof capture, "%s/replay.capture", dir ? dir : BLE_ADV_TESTDATA);
  fh_quiet(getenv("BLE_ADV_VERBOSE") == NULL);
  P = ble_adv_LTX_vq_plugin_entry(majors, 1);
  test_descriptor();
  test_decode_all();
  test_wrong_key();
  test_filter();
  test_loop_and_speed();
  test_scan();
  test_dump();
  test_errors();
  uv_loop_close(fh_loop());
  if (tu_failures) fprintf(stderr, "%d failures\n", tu_failures);
  return tu_failures ? 1 : 0;
}

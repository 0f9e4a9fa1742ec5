/* Runs ble-adv sources against BlueZ on the (system) bus with the stand-in
 * host, for tests/test_bluez_mock.py:
 *   bluez_probe SECONDS key=value... [-- key=value...]...
 * Each "--" starts another source; they share the process's scanner.
 * Prints "READING <source> <device> <quantity>=<value|NA>..." per reading
 * (stdout) and the log lines (stderr); ends after SECONDS or on SIGTERM,
 * stopping every source, and prints "STOPPED <n>". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"

const struct vq_plugin *ble_adv_LTX_vq_plugin_entry(const uint16_t *majors, size_t n);

#define MAX_SOURCES 4

static int done;

static void on_reading(const char *id, const struct fh_reading *r) {
  int i;
  printf("READING %s %s", id, r->device);
  for (i = 0; i < r->nrecords; i++) {
    const struct fh_record *x = &r->records[i];
    if (x->flags & VQ_RECORD_NA)
      printf(" %s=NA", x->quantity);
    else if (x->type == VQ_VALUE_DOUBLE)
      printf(" %s=%g", x->quantity, x->f64);
    else
      printf(" %s=%lld", x->quantity, (long long)x->i64);
  }
  printf("\n");
  fflush(stdout);
}

static void on_signal(uv_signal_t *s, int sig) {
  (void)sig;
  done = 1;
  uv_signal_stop(s);
}

static void on_end(uv_timer_t *t) {
  done = 1;
  uv_timer_stop(t);
}

int main(int argc, char **argv) {
  static const uint16_t majors[] = {VQ_ABI_MAJOR};
  const struct vq_plugin *p = ble_adv_LTX_vq_plugin_entry(majors, 1);
  const char *kv[MAX_SOURCES][40];
  struct fh *h[MAX_SOURCES];
  int ns = 1, nkv[MAX_SOURCES] = {0}, i, stopped = 0;
  uv_signal_t sig;
  uv_timer_t end;
  if (argc < 2) {
    fprintf(stderr, "usage: bluez_probe SECONDS key=value... [-- key=value...]\n");
    return 2;
  }
  for (i = 2; i < argc; i++) {
    char *eq;
    if (strcmp(argv[i], "--") == 0) {
      if (ns == MAX_SOURCES) return 2;
      ns++;
      continue;
    }
    eq = strchr(argv[i], '=');
    if (eq == NULL || nkv[ns - 1] >= 38) return 2;
    *eq = '\0';
    kv[ns - 1][nkv[ns - 1]++] = argv[i];
    kv[ns - 1][nkv[ns - 1]++] = eq + 1;
  }
  setvbuf(stderr, NULL, _IOLBF, 0);
  fh_on_emit(on_reading);
  for (i = 0; i < ns; i++) {
    char id[8];
    int rc;
    kv[i][nkv[i]] = NULL;
    snprintf(id, sizeof id, "s%d", i + 1);
    h[i] = fh_new(p, id, kv[i]);
    if ((rc = fh_create_start(h[i])) != 0) {
      fprintf(stderr, "source %s did not start: %d\n", id, rc);
      return 1;
    }
  }
  uv_signal_init(fh_loop(), &sig);
  uv_signal_start(&sig, on_signal, SIGTERM);
  uv_timer_init(fh_loop(), &end);
  uv_timer_start(&end, on_end, (uint64_t)(atof(argv[1]) * 1000), 0);
  while (!done) uv_run(fh_loop(), UV_RUN_ONCE);
  for (i = 0; i < ns; i++) {
    if (fh_stop_destroy(h[i]) == 0) stopped++;
    fh_free(h[i]);
  }
  uv_close((uv_handle_t *)&sig, NULL);
  uv_close((uv_handle_t *)&end, NULL);
  uv_run(fh_loop(), UV_RUN_DEFAULT);
  printf("STOPPED %d\n", stopped);
  /* Every handle is closed: the loop closes cleanly. */
  return uv_loop_close(fh_loop()) == 0 && stopped == ns ? 0 : 1;
}

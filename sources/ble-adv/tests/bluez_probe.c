/* Runs ble-adv sources against BlueZ on the (system) bus on the shared
 * test host (tests/lib), for tests/test_bluez_mock.py:
 *   bluez_probe SECONDS key=value... [-- key=value...]...
 * Each "--" starts another source; they share the process's scanner.
 * Prints "READING <source> <device> <quantity>=<value|NA>..." per reading
 * (stdout) and the log lines (stderr); ends after SECONDS or on SIGTERM,
 * stopping every source, and prints "STOPPED <n>". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "vqt_host.h"

const struct vq_plugin *ble_adv_LTX_vq_plugin_entry(const uint16_t *majors, size_t n);

#define MAX_SOURCES 4

static int done;

static void on_reading(void *arg, const struct vq_reading *r) {
  uint32_t i;
  printf("READING %s %s", (const char *)arg, r->device);
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *x = VQ_READING_RECORD(r, i);
    if (x->flags & VQ_RECORD_NA)
      printf(" %s=NA", x->quantity);
    else if (x->type == VQ_VALUE_DOUBLE)
      printf(" %s=%g", x->quantity, x->value.f64);
    else
      printf(" %s=%lld", x->quantity, (long long)x->value.i64);
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
  static char ids[MAX_SOURCES][8];
  struct vqt_host *h[MAX_SOURCES];
  uv_loop_t loop;
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
  /* The test reads the sources' log lines from stderr. */
  setenv("VQT_VERBOSE", "1", 0);
  if (p == NULL || uv_loop_init(&loop) != 0) return 1;
  for (i = 0; i < ns; i++) {
    int rc;
    kv[i][nkv[i]] = NULL;
    snprintf(ids[i], sizeof ids[i], "s%d", i + 1);
    if ((h[i] = vqt_host_new(&loop, p, VQ_KIND_SOURCE, ids[i], kv[i])) == NULL) return 1;
    vqt_host_on_emit(h[i], on_reading, ids[i]);
    if ((rc = vqt_host_start(h[i])) != 0) {
      fprintf(stderr, "source %s did not start: %d\n", ids[i], rc);
      return 1;
    }
  }
  uv_signal_init(&loop, &sig);
  uv_signal_start(&sig, on_signal, SIGTERM);
  uv_timer_init(&loop, &end);
  uv_timer_start(&end, on_end, (uint64_t)(atof(argv[1]) * 1000), 0);
  while (!done) uv_run(&loop, UV_RUN_ONCE);
  for (i = 0; i < ns; i++) {
    if (vqt_host_stop(h[i]) == 0) stopped++;
    vqt_host_free(h[i]);
  }
  uv_close((uv_handle_t *)&sig, NULL);
  uv_close((uv_handle_t *)&end, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  printf("STOPPED %d\n", stopped);
  /* Every handle is closed: the loop closes cleanly. */
  return uv_loop_close(&loop) == 0 && stopped == ns ? 0 : 1;
}

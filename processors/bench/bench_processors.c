/* Processors benchmark, the parts a daemon run does not show:
 *  - memory per tracked (device, quantity) series of the average and the
 *    energy processors (what their maps allocate, and the process's RSS
 *    growth);
 *  - the state file's cost: formatting N meters, and writing + fsync'ing
 *    the file (what a save does in libuv's thread pool).
 *   processors/bench/bench_processors [DEVICES]
 * Numbers go to the issue note. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../average/avg_window.h"
#include "../energy/energy_state.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
  if (f) fclose(f);
  return kb;
}

static void ignore(void *arg, const char *s, const char *d, int64_t t,
                   const struct vq_record *r, size_t n) {
  (void)arg, (void)s, (void)d, (void)t, (void)r, (void)n;
}

int main(int argc, char **argv) {
  static const char *const q[10] = {
      "battery.power", "battery.voltage", "battery.current", "battery.soc",
      "pv.power", "pv.voltage", "pv.current", "battery.temperature",
      "aux.voltage", "load.current"};
  int devices = argc > 1 ? atoi(argv[1]) : 10000, d, i;
  struct avg_windows *w = avg_new(60000000000LL, AVG_MEAN);
  struct vq_series_map *meters = vq_series_new(sizeof(struct energy_series));
  struct vq_series_map *cycles = vq_series_new(sizeof(struct cycle_series));
  long before = rss_kb(), after;
  char dev[32], *text;
  size_t len;
  double t0, t1, t2;
  char path[] = "/tmp/vicacq-bench-stateXXXXXX";
  int fd;
  for (d = 0; d < devices; d++) {
    snprintf(dev, sizeof dev, "c03b98%06d", d);
    for (i = 0; i < 10; i++) {
      struct vq_record r;
      memset(&r, 0, sizeof r);
      r.quantity = q[i];
      r.type = VQ_VALUE_DOUBLE;
      r.value.f64 = i;
      avg_add(w, "bench", dev, 1000000000LL, &r, ignore, NULL);
    }
    for (i = 0; i < 2; i++) {
      struct energy_series *s = vq_series_get(meters, "bench", dev,
                                              i ? "pv.power" : "battery.power", NULL);
      s->meter.in_kwh = 1234.5678 + d;
      s->meter.have_last = 1;
      s->meter.last_ns = 1700000000000000000LL;
    }
    ((struct cycle_series *)vq_series_get(cycles, "bench", dev, NULL, NULL))
        ->counter.cycles = 12.5;
  }
  after = rss_kb();
  printf("average: %zu series, %zu bytes in its maps = %.0f bytes per series\n",
         avg_series(w), avg_bytes(w), (double)avg_bytes(w) / (double)avg_series(w));
  printf("energy: %zu meters + %zu cycle counters, %zu bytes = %.0f bytes per meter\n",
         vq_series_count(meters), vq_series_count(cycles),
         vq_series_bytes(meters) + vq_series_bytes(cycles),
         (double)(vq_series_bytes(meters) + vq_series_bytes(cycles)) /
             (double)(vq_series_count(meters) + vq_series_count(cycles)));
  printf("RSS growth for both: %ld kB (%.0f bytes per average series)\n",
         after - before, (double)(after - before) * 1024.0 / avg_series(w));
  t0 = now();
  energy_state_format(meters, cycles, &text, &len);
  t1 = now();
  fd = mkstemp(path);
  if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) return 1;
  close(fd);
  t2 = now();
  unlink(path);
  printf("state file: %zu meters, %zu bytes: format %.2f ms, write + fsync %.2f ms\n",
         vq_series_count(meters) + vq_series_count(cycles), len,
         (t1 - t0) * 1e3, (t2 - t1) * 1e3);
  free(text);
  avg_free(w);
  vq_series_free(meters);
  vq_series_free(cycles);
  return 0;
}

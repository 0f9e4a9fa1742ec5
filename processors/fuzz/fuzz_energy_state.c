/* libFuzzer target: the energy processor's files, which a crash, a full
 * disk or a user may have left in any state: the state file's text
 * (energy_state_parse, then format and parse again must agree) and the
 * live copy's slots (energy_live_each over arbitrary bytes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../energy/energy_live.h"
#include "../energy/energy_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void seen(void *arg, int slot, const char *source, const char *device,
                 const char *input, const struct energy_meter *m,
                 const struct cycle_counter *c) {
  (void)arg, (void)slot;
  if (strlen(source) + strlen(device) + strlen(input) > 168) abort();
  if (m == NULL && c == NULL) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct vq_series_map *m = vq_series_new(sizeof(struct energy_series));
  struct vq_series_map *c = vq_series_new(sizeof(struct cycle_series));
  char err[160];
  if (energy_state_parse((const char *)data, size, m, c, err, sizeof err) == 0) {
    /* What was read writes back to text that reads the same. */
    char *text;
    size_t len;
    struct vq_series_map *m2 = vq_series_new(sizeof(struct energy_series));
    struct vq_series_map *c2 = vq_series_new(sizeof(struct cycle_series));
    if (energy_state_format(m, c, &text, &len) == 0) {
      if (energy_state_parse(text, len, m2, c2, err, sizeof err) != 0 ||
          vq_series_count(m2) != vq_series_count(m) ||
          vq_series_count(c2) != vq_series_count(c))
        abort();
      free(text);
    }
    vq_series_free(m2);
    vq_series_free(c2);
  }
  vq_series_free(m);
  vq_series_free(c);
  {
    char path[] = "/tmp/fuzz_energy_liveXXXXXX";
    int fd = mkstemp(path), e;
    if (fd >= 0) {
      if (write(fd, data, size) == (ssize_t)size) {
        struct energy_live *l = energy_live_open(path, &e);
        if (l) {
          energy_live_each(l, seen, NULL);
          energy_live_close(l);
        }
      }
      close(fd);
      unlink(path);
    }
  }
  return 0;
}

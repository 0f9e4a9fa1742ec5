/* The announced set kept across runs (mqtt_ghosts.c): what an earlier run
 * published and this one did not is swept, the rest kept, the file
 * follows. */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "vqtest.h"
#include "../mqtt_ghosts.h"

static char cleared[8][128];
static int ncleared, refuse;

static int clear(void *arg, const char *topic) {
  (void)arg;
  if (refuse) return -1;
  if (ncleared < 8) snprintf(cleared[ncleared++], 128, "%s", topic);
  return 0;
}

int main(void) {
  char dir[] = "/tmp/vicacq-ghosts.XXXXXX", sub[128], path[160];
  struct mqtt_ghosts g;
  FILE *f;

  CHECK(mkdtemp(dir) != NULL);
  snprintf(sub, sizeof sub, "%s/state", dir); /* does not exist yet */

  /* First run: nothing before; three topics announced. */
  CHECK_INT(mqtt_ghosts_open(&g, sub, "mq"), 0);
  CHECK_INT(g.n, 0);
  mqtt_ghosts_seen(&g, "ha/sensor/vicacq_n/a_d_x/config");
  mqtt_ghosts_seen(&g, "ha/sensor/vicacq_n/b_d_x/config");
  mqtt_ghosts_seen(&g, "vicacq/b/d/availability");
  mqtt_ghosts_seen(&g, "vicacq/b/d/availability"); /* once */
  CHECK_INT(g.n, 3);
  CHECK_INT(mqtt_ghosts_stale(&g), 0);
  CHECK_INT(mqtt_ghosts_save(&g), 0);
  mqtt_ghosts_free(&g);
  snprintf(path, sizeof path, "%s/mqtt-mq.announced", sub);
  CHECK(access(path, R_OK) == 0);

  /* Second run: source b is gone. */
  CHECK_INT(mqtt_ghosts_open(&g, sub, "mq"), 0);
  CHECK_INT(g.n, 3);
  CHECK_INT(mqtt_ghosts_stale(&g), 3);
  mqtt_ghosts_seen(&g, "ha/sensor/vicacq_n/a_d_x/config");
  CHECK_INT(mqtt_ghosts_stale(&g), 2);
  /* Not connected (clear fails): nothing is forgotten. */
  refuse = 1;
  CHECK_INT(mqtt_ghosts_sweep(&g, clear, NULL), 0);
  CHECK_INT(g.n, 3);
  refuse = 0;
  CHECK_INT(mqtt_ghosts_sweep(&g, clear, NULL), 2);
  CHECK_INT(ncleared, 2);
  CHECK_STR(cleared[0], "ha/sensor/vicacq_n/b_d_x/config");
  CHECK_STR(cleared[1], "vicacq/b/d/availability");
  CHECK_INT(g.n, 1);
  mqtt_ghosts_free(&g);

  /* Third run: only a is remembered. */
  CHECK_INT(mqtt_ghosts_open(&g, sub, "mq"), 0);
  CHECK_INT(g.n, 1);
  CHECK_STR(g.items[0].topic, "ha/sensor/vicacq_n/a_d_x/config");
  mqtt_ghosts_free(&g);

  /* A damaged file: an overlong line is skipped, the rest read. */
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (f != NULL) {
    int i;
    fputs("good/1\n", f);
    for (i = 0; i < 5000; i++) fputc('x', f);
    fputs("\n\ngood/2\npartial", f);
    fclose(f);
  }
  CHECK_INT(mqtt_ghosts_open(&g, sub, "mq"), 0);
  CHECK_INT(g.n, 2);
  if (g.n == 2) {
    CHECK_STR(g.items[0].topic, "good/1");
    CHECK_STR(g.items[1].topic, "good/2");
  }
  mqtt_ghosts_free(&g);

  /* A state_dir that cannot be made: an error, no crash. */
  CHECK(mqtt_ghosts_open(&g, "/proc/no/such/dir", "mq") < 0);
  CHECK(g.path == NULL);
  mqtt_ghosts_free(&g);

  remove(path);
  rmdir(sub);
  rmdir(dir);
  VQTEST_END();
}

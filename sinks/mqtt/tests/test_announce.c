/* The announcer (mqtt_announce.c) against a recording publisher and a
 * minimal host: an entity's config is the same every time it is sent,
 * ids that clash after sanitising are refused with a warning naming
 * both, a sensor that becomes writable leaves no sensor config behind,
 * and what an earlier run announced and this one did not is cleared. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "vqtest.h"
#include "../mqtt_announce.h"

struct vq_ctx {
  int unused;
};
static struct vq_ctx ctx;
static char state_dir[64];
static char logs[4096];
static struct {
  char topic[160];
  char payload[2048];
  int retain;
} pub[256];
static int npub, connected = 1;
static int grant; /* command_range grants 0..50 */

static void h_log(struct vq_ctx *c, int level, const char *fmt, ...) {
  va_list ap;
  size_t n = strlen(logs);
  (void)c;
  (void)level;
  va_start(ap, fmt);
  vsnprintf(logs + n, sizeof logs - n, fmt, ap);
  va_end(ap);
  n = strlen(logs);
  if (n + 1 < sizeof logs) strcat(logs, "\n");
}
static const struct vq_quantity_info *h_info(struct vq_ctx *c, const char *q) {
  static const struct vq_label labels[] = {{0, "off"}, {3, "bulk"}};
  static const struct vq_quantity_info state = {
      .size = sizeof(struct vq_quantity_info), .type = VQ_VALUE_ENUM,
      .name = "device.state", .unit = "", .description = "Charger state",
      .ha_device_class = "enum", .short_name = "Charger state",
      .label_set = "charger_state", .labels = labels, .nlabels = 2};
  (void)c;
  return strcmp(q, "device.state") == 0 ? &state : NULL;
}
static int h_range(struct vq_ctx *c, const char *src, const char *q,
                   double *min, double *max, double *step) {
  (void)c;
  (void)src;
  (void)q;
  if (!grant) return -ENOENT;
  *min = 0;
  *max = 50;
  *step = 0.1;
  return 0;
}
static const char *h_state_dir(struct vq_ctx *c) {
  (void)c;
  return state_dir;
}
static const char *h_id(struct vq_ctx *c) {
  (void)c;
  return "mq";
}
static int o_connected(void *arg) {
  (void)arg;
  return connected;
}
static int o_publish(void *arg, const char *topic, const void *payload,
                     size_t len, int qos, int retain) {
  (void)arg;
  (void)qos;
  if (!connected) return -ENOTCONN;
  if (npub < 256) {
    snprintf(pub[npub].topic, sizeof pub[0].topic, "%s", topic);
    snprintf(pub[npub].payload, sizeof pub[0].payload, "%.*s", (int)len,
             (const char *)payload);
    pub[npub++].retain = retain;
  }
  return 0;
}
static int o_subscribe(void *arg, const char *topic) {
  (void)arg;
  (void)topic;
  return 0;
}

/* Index of the last publish on topic, or -1. */
static int last_on(const char *topic) {
  int i;
  for (i = npub - 1; i >= 0; i--)
    if (strcmp(pub[i].topic, topic) == 0) return i;
  return -1;
}

static struct vq_reading reading(const char *source, const char *device,
                                 struct vq_record *rec, uint32_t n) {
  struct vq_reading r = VQ_READING_INIT;
  r.source = source;
  r.device = device;
  r.records = rec;
  r.nrecords = n;
  return r;
}

static void run(struct mqtt_announcer *a, struct mqtt_registry *g,
                const char *source, const char *device,
                struct vq_record *rec) {
  struct vq_reading r = reading(source, device, rec, 1);
  int created, changed;
  struct mqtt_device *d = mqtt_registry_device(g, &r, &created, &changed);
  CHECK(d != NULL);
  if (d != NULL) CHECK(mqtt_announce_record(a, d, rec) != NULL);
}

int main(void) {
  struct vq_host host;
  struct mqtt_out out = {o_connected, o_publish, o_subscribe, NULL};
  struct mqtt_disc_options disc = {"homeassistant", "vicacq", "n", "9", 0, 0, 1};
  struct mqtt_registry g;
  struct mqtt_announcer a;
  struct vq_record state = {.quantity = "device.state", .type = VQ_VALUE_ENUM,
                            .value.i64 = 3, .text = "bulk"};
  struct vq_record v = {.quantity = "fixture.value", .type = VQ_VALUE_DOUBLE,
                        .unit = "V", .value.f64 = 1};
  static const char state_cfg[] =
      "homeassistant/sensor/vicacq_n/s1_a_b_device_state/config";
  char first[2048];
  int i;

  snprintf(state_dir, sizeof state_dir, "/tmp/vicacq-announce.XXXXXX");
  CHECK(mkdtemp(state_dir) != NULL);
  memset(&host, 0, sizeof host);
  host.size = sizeof host;
  host.log = h_log;
  host.quantity_info = h_info;
  host.command_range = h_range;
  host.state_dir = h_state_dir;
  host.instance_id = h_id;

  /* Run 1. */
  mqtt_registry_init(&g, "vicacq");
  mqtt_announcer_init(&a, &host, &ctx, &out, &g, &disc, 1, 0, 1, 0);
  run(&a, &g, "s1", "a.b", &state);
  i = last_on(state_cfg);
  CHECK(i >= 0);
  if (i >= 0) {
    CHECK(strstr(pub[i].payload, "\"options\":[\"off\",\"bulk\"]") != NULL);
    CHECK(pub[i].retain);
    snprintf(first, sizeof first, "%s", pub[i].payload);
  }
  /* A new value, a reconnect, an HA restart: the same config. */
  state.value.i64 = 0;
  state.text = "off";
  run(&a, &g, "s1", "a.b", &state);
  mqtt_announce_all(&a, 0);
  mqtt_announce_all(&a, 1);
  for (i = 0; i < npub; i++)
    if (strcmp(pub[i].topic, state_cfg) == 0) CHECK_STR(pub[i].payload, first);

  /* a_b sanitises like a.b: refused, both named. */
  run(&a, &g, "s1", "a_b", &state);
  CHECK(strstr(logs, "s1/a.b device.state and s1/a_b device.state have the "
                     "same Home Assistant unique id") != NULL);

  /* A sensor that becomes writable: the number replaces it. */
  run(&a, &g, "s1", "dev", &v);
  CHECK(last_on("homeassistant/sensor/vicacq_n/s1_dev_fixture_value/config") >= 0);
  grant = 1;
  v.flags = VQ_RECORD_WRITABLE;
  run(&a, &g, "s1", "dev", &v);
  i = last_on("homeassistant/sensor/vicacq_n/s1_dev_fixture_value/config");
  CHECK(i >= 0 && pub[i].payload[0] == '\0' && pub[i].retain);
  CHECK(last_on("homeassistant/number/vicacq_n/s1_dev_fixture_value/config") > i);
  mqtt_announcer_free(&a);
  mqtt_registry_free(&g);

  /* Run 2: only s1/dev comes back; the rest is cleared once swept, and
   * not while disconnected. */
  npub = 0;
  mqtt_registry_init(&g, "vicacq");
  mqtt_announcer_init(&a, &host, &ctx, &out, &g, &disc, 1, 0, 1, 0);
  CHECK(mqtt_ghosts_stale(&a.ghosts) >= 2);
  run(&a, &g, "s1", "dev", &v);
  connected = 0;
  CHECK_INT(mqtt_announce_sweep_ghosts(&a), 0);
  connected = 1;
  CHECK(mqtt_announce_sweep_ghosts(&a) >= 2);
  i = last_on(state_cfg);
  CHECK(i >= 0 && pub[i].payload[0] == '\0' && pub[i].retain);
  i = last_on("homeassistant/number/vicacq_n/s1_dev_fixture_value/config");
  CHECK(i >= 0 && pub[i].payload[0] != '\0');
  CHECK_INT(mqtt_ghosts_stale(&a.ghosts), 0);
  mqtt_announcer_free(&a);
  mqtt_registry_free(&g);

  {
    char path[128];
    snprintf(path, sizeof path, "%s/mqtt-mq.announced", state_dir);
    remove(path);
    rmdir(state_dir);
  }
  VQTEST_END();
}

/* How fast the influx sink turns readings into a request body: the
 * shared line-protocol formatter with the sink's fixed field types, per
 * record and per reading, and the optional gzip.  Target: >= 1,000,000
 * records/s on one core. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "influx_body.h"

#define READINGS 5000 /* one default batch_size */
#define ROUNDS 60

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Stands in for the vocabulary lookup the sink makes per record. */
static uint32_t vocab(void *arg, const char *q) {
  static const char *const doubles[] = {"battery.voltage", "battery.current",
                                        "battery.power", "battery.soc",
                                        "battery.consumed_ah", "aux.voltage",
                                        "battery.temperature"};
  size_t i;
  (void)arg;
  for (i = 0; i < sizeof doubles / sizeof doubles[0]; i++)
    if (strcmp(q, doubles[i]) == 0) return 1;
  return 0;
}

int main(void) {
  /* A SmartShunt-like reading: 10 records of mixed types. */
  static struct vq_record recs[READINGS][10];
  static struct vq_reading rd[READINGS];
  static const struct vq_reading *rs[READINGS];
  struct vq_tag tags[2] = {{"product", "SmartShunt 500A/50mV"},
                           {"product_id", "0xA389"}};
  struct vq_lp_options lp = {"victron", VQ_LP_NS, 1};
  struct vq_lp_types types = {vocab, NULL, 0};
  struct vq_batch batch;
  struct influx_body b;
  double t0, t1, sec, records = 0, bytes = 0;
  int i, round;

  for (i = 0; i < READINGS; i++) {
    struct vq_record *r = recs[i];
    memset(r, 0, sizeof recs[i]);
    r[0] = (struct vq_record){"battery.voltage", "V", VQ_VALUE_DOUBLE, 0, {.f64 = 12.87 + i * 0.01}, NULL};
    r[1] = (struct vq_record){"battery.current", "A", VQ_VALUE_DOUBLE, 0, {.f64 = -3.456}, NULL};
    r[2] = (struct vq_record){"battery.power", "W", VQ_VALUE_DOUBLE, 0, {.f64 = -44.0}, NULL};
    r[3] = (struct vq_record){"battery.soc", "%", VQ_VALUE_DOUBLE, 0, {.f64 = 87.5}, NULL};
    r[4] = (struct vq_record){"battery.consumed_ah", "Ah", VQ_VALUE_DOUBLE, 0, {.f64 = -12.3}, NULL};
    r[5] = (struct vq_record){"battery.time_to_go", "min", VQ_VALUE_INT, 0, {.i64 = 1234}, NULL};
    r[6] = (struct vq_record){"aux.voltage", "V", VQ_VALUE_DOUBLE, 0, {.f64 = 12.61}, NULL};
    r[7] = (struct vq_record){"device.alarm_reason", NULL, VQ_VALUE_BITMASK, 0, {.i64 = 0}, ""};
    r[8] = (struct vq_record){"battery.temperature", "°C", VQ_VALUE_DOUBLE, VQ_RECORD_NA, {.f64 = 0}, NULL};
    r[9] = (struct vq_record){"link.rssi", "dBm", VQ_VALUE_INT, 0, {.i64 = -71}, NULL};
    rd[i] = (struct vq_reading)VQ_READING_INIT;
    rd[i].source = "shunt";
    rd[i].device = "c03b98123456";
    rd[i].time_ns = 1795208703123456789LL + (int64_t)i * 1000000000;
    rd[i].tags = tags;
    rd[i].ntags = 2;
    rd[i].records = r;
    rd[i].nrecords = 10;
    rs[i] = &rd[i];
  }
  memset(&batch, 0, sizeof batch);
  batch.size = sizeof batch;
  batch.nreadings = READINGS;
  batch.readings = rs;
  batch.nrecords = READINGS * 10;
  influx_body_init(&b);

  t0 = now_s();
  for (round = 0; round < ROUNDS; round++) {
    if (influx_body_format(&b, &batch, &lp, &types) != 0) return 1;
    records += batch.nrecords;
    bytes += (double)b.text.len;
  }
  t1 = now_s();
  sec = t1 - t0;
  printf("format: %.0f records/s, %.0f lines/s, %.1f MB/s (%zu bytes per "
         "%d-line body, %.0f bytes/line)\n",
         records / sec, records / 10 / sec, bytes / sec / 1e6, b.text.len,
         READINGS, (double)b.text.len / READINGS);

  t0 = now_s();
  for (round = 0; round < ROUNDS / 4; round++)
    if (influx_body_gzip(&b, 0, READINGS) != 0) return 1;
  t1 = now_s();
  sec = t1 - t0;
  printf("gzip level 1: %.0f lines/s, %.1f MB/s in, ratio %.1f\n",
         (double)READINGS * (ROUNDS / 4) / sec,
         (double)b.text.len * (ROUNDS / 4) / sec / 1e6,
         (double)b.text.len / (double)b.gz.len);
  influx_body_free(&b);
  return 0;
}

/* Items: the core's copy of a reading (vocabulary units filled in,
 * filters, strings owned) and its spool encoding, including every
 * truncation of an encoded item. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "intern.h"
#include "item.h"
#include "vqtest.h"

static int drop_second(void *arg, const struct vq_record *r) {
  (void)arg;
  return strcmp(r->quantity, "battery.current") == 0 ? -1 : (int)r->flags | 0x2;
}

static int drop_all(void *arg, const struct vq_record *r) {
  (void)arg;
  (void)r;
  return -1;
}

int main(void) {
  struct vq_record recs[5];
  struct vq_tag tags[1] = {{"product", "SmartShunt 500A/50mV"}};
  struct vq_reading r = VQ_READING_INIT;
  struct vq_item *it, *back, *filtered;
  unsigned char buf[4096];
  size_t len, cut;
  int err = 0;
  char device[16] = "c03b98123456";

  memset(recs, 0, sizeof recs);
  recs[0].quantity = "battery.voltage";
  recs[0].type = VQ_VALUE_DOUBLE;
  recs[0].value.f64 = 12.87;
  recs[1].quantity = "battery.current";
  recs[1].unit = "A";
  recs[1].type = VQ_VALUE_DOUBLE;
  recs[1].value.f64 = -1.25;
  recs[2].quantity = "device.state";
  recs[2].type = VQ_VALUE_ENUM;
  recs[2].value.i64 = 3;
  recs[2].text = "Bulk";
  recs[3].quantity = "thirdparty.note";
  recs[3].unit = "x";
  recs[3].type = VQ_VALUE_STRING;
  recs[3].value.str = "hello";
  recs[4].quantity = "battery.temperature";
  recs[4].type = VQ_VALUE_DOUBLE;
  recs[4].flags = VQ_RECORD_NA;
  r.device = device;
  r.tags = tags;
  r.ntags = 1;
  r.records = recs;
  r.nrecords = 5;

  it = vq_item_copy(&r, "shunt", 1700000000123456789LL, 7, NULL, NULL, &err);
  CHECK(it != NULL);
  if (it == NULL) VQTEST_END();
  device[0] = 'X'; /* the copy must not point at the caller's memory */
  CHECK_STR(it->reading.device, "c03b98123456");
  CHECK_STR(it->reading.source, "shunt");
  CHECK_INT(it->reading.seq, 7);
  CHECK_INT(it->reading.time_ns, 1700000000123456789LL);
  CHECK_INT(it->reading.nrecords, 5);
  CHECK_STR(it->reading.records[0].unit, "V"); /* from the vocabulary */
  CHECK_STR(it->reading.records[1].unit, "A");
  CHECK_STR(it->reading.records[2].unit, "");
  CHECK_STR(it->reading.records[2].text, "Bulk");
  CHECK_STR(it->reading.records[3].unit, "x");
  CHECK_STR(it->reading.records[3].value.str, "hello");
  CHECK(it->reading.records[4].flags & VQ_RECORD_NA);
  CHECK_STR(it->reading.tags[0].value, "SmartShunt 500A/50mV");
  CHECK(it->bytes > sizeof *it);

  /* Round trip through the spool encoding. */
  len = vq_item_encode(it, NULL, 0);
  CHECK(len > 0 && len < sizeof buf);
  CHECK_INT(vq_item_encode(it, buf, sizeof buf), len);
  back = vq_item_decode(buf, len, vq_intern);
  CHECK(back != NULL);
  if (back != NULL) {
    CHECK_STR(back->reading.device, "c03b98123456");
    CHECK_STR(back->reading.source, "shunt");
    CHECK_INT(back->reading.seq, 7);
    CHECK_INT(back->reading.time_ns, 1700000000123456789LL);
    CHECK_INT(back->reading.nrecords, 5);
    CHECK_DBL(back->reading.records[0].value.f64, 12.87);
    CHECK_DBL(back->reading.records[1].value.f64, -1.25);
    CHECK_INT(back->reading.records[2].value.i64, 3);
    CHECK_STR(back->reading.records[2].text, "Bulk");
    CHECK_STR(back->reading.records[3].value.str, "hello");
    CHECK(back->reading.records[4].flags & VQ_RECORD_NA);
    CHECK(back->reading.records[0].text == NULL);
    vq_item_unref(back);
  }
  /* Every truncation is refused, never read past. */
  for (cut = 0; cut < len; cut++) {
    unsigned char *copy = malloc(cut ? cut : 1);
    memcpy(copy, buf, cut);
    back = vq_item_decode(copy, cut, vq_intern);
    if (back != NULL) {
      fprintf(stderr, "truncated at %zu accepted\n", cut);
      CHECK(0);
      vq_item_unref(back);
    }
    free(copy);
  }
  /* A huge record count in a short input must not allocate wildly. */
  {
    unsigned char bad[64];
    memcpy(bad, buf, sizeof bad);
    bad[20] = 0xff; bad[21] = 0xff; bad[22] = 0xff; bad[23] = 0x7f;
    CHECK(vq_item_decode(bad, sizeof bad, vq_intern) == NULL);
  }

  /* Filters drop and flag records. */
  filtered = vq_item_copy(&r, "shunt", 1, 1, drop_second, NULL, &err);
  CHECK(filtered != NULL);
  if (filtered != NULL) {
    CHECK_INT(filtered->reading.nrecords, 4);
    CHECK_STR(filtered->reading.records[1].quantity, "device.state");
    CHECK(filtered->reading.records[0].flags & VQ_RECORD_WRITABLE);
    vq_item_unref(filtered);
  }
  CHECK(vq_item_copy(&r, "shunt", 1, 1, drop_all, NULL, &err) == NULL);
  CHECK_INT(err, -ENODATA);

  /* Malformed readings are refused. */
  r.device = NULL;
  CHECK(vq_item_copy(&r, "s", 1, 1, NULL, NULL, &err) == NULL);
  CHECK_INT(err, -EINVAL);
  r.device = device;
  recs[0].type = 99;
  CHECK(vq_item_copy(&r, "s", 1, 1, NULL, NULL, &err) == NULL);
  recs[0].type = VQ_VALUE_DOUBLE;
  recs[3].value.str = NULL;
  CHECK(vq_item_copy(&r, "s", 1, 1, NULL, NULL, &err) == NULL);
  recs[3].value.str = "hello";
  recs[1].quantity = NULL;
  CHECK(vq_item_copy(&r, "s", 1, 1, NULL, NULL, &err) == NULL);
  recs[1].quantity = "battery.current";

  /* A producer built with an older, shorter record (no `text`). */
  {
    struct old_record {
      const char *quantity, *unit;
      uint32_t type, flags;
      union { double f64; int64_t i64; const char *str; } value;
    } old[2] = {{"battery.voltage", NULL, VQ_VALUE_DOUBLE, 0, {13.1}},
                {"battery.soc", NULL, VQ_VALUE_DOUBLE, 0, {88.5}}};
    struct vq_reading o = VQ_READING_INIT;
    struct vq_item *oi;
    o.record_size = sizeof old[0];
    o.device = "dev";
    o.records = (const struct vq_record *)(const void *)old;
    o.nrecords = 2;
    oi = vq_item_copy(&o, "s", 1, 1, NULL, NULL, &err);
    CHECK(oi != NULL);
    if (oi) {
      CHECK_DBL(oi->reading.records[1].value.f64, 88.5);
      CHECK_STR(oi->reading.records[1].unit, "%");
      CHECK(oi->reading.records[1].text == NULL);
      vq_item_unref(oi);
    }
  }

  vq_item_ref(it);
  CHECK_INT(it->refs, 2);
  vq_item_unref(it);
  vq_item_unref(it);
  vq_intern_free_all();
  VQTEST_END();
}

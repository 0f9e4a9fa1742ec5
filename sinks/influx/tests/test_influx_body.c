/* Line protocol as the influx sink writes it: the escaping rules of
 * doc/protocols/sinks.md §3.1 (with its examples), fixed field types, values
 * left out, precisions, and request bodies (ranges, gzip, tracing dropped
 * lines back to readings). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "influx_body.h"
#include "vqtest.h"

static struct vq_text t;

static const char *esc(void (*fn)(struct vq_text *, const char *), const char *s) {
  vq_text_clear(&t);
  fn(&t, s);
  return t.data ? t.data : "";
}

static uint32_t vocab(void *arg, const char *q) {
  (void)arg;
  if (strcmp(q, "battery.voltage") == 0) return VQ_VALUE_DOUBLE;
  if (strcmp(q, "device.state") == 0) return VQ_VALUE_ENUM;
  if (strcmp(q, "load.state") == 0) return VQ_VALUE_BOOL;
  return 0;
}

int main(void) {
  struct vq_record recs[8];
  struct vq_tag tags[1] = {{"product", "BMV-712 Smart"}};
  struct vq_reading r = VQ_READING_INIT, r2, r3;
  const struct vq_reading *rs[3];
  struct vq_batch batch;
  struct vq_lp_options lp = {"victron", VQ_LP_NS, 1};
  struct vq_lp_types types = {vocab, NULL, 0};
  struct influx_body b;
  uint32_t records;

  vq_text_init(&t);

  /* Escaping (§3.1): measurement comma and space only. */
  CHECK_STR(esc(vq_lp_escape_measurement, "cpu load,x=1"), "cpu\\ load\\,x=1");
  CHECK_STR(esc(vq_lp_escape_measurement, "a\"b"), "a\"b");
  /* Tag keys, tag values, field keys: comma, equals, space. */
  CHECK_STR(esc(vq_lp_escape_key, "a b,c=d"), "a\\ b\\,c\\=d");
  CHECK_STR(esc(vq_lp_escape_key, "\"quoted\""), "\"quoted\"");
  CHECK_STR(esc(vq_lp_escape_key, "tab\there"), "tab\there");
  /* String field values: double quote and backslash. */
  CHECK_STR(esc(vq_lp_escape_string, "a\"b\\c"), "a\\\"b\\\\c");
  CHECK_STR(esc(vq_lp_escape_string, "x, y=z"), "x, y=z");
  /* Backslashes that would escape a separator cannot be encoded: gone.
   * Others stay (InfluxDB reads "a\b" as it is). */
  CHECK_STR(esc(vq_lp_escape_key, "end\\"), "end");
  CHECK_STR(esc(vq_lp_escape_key, "end\\\\\\"), "end");
  CHECK_STR(esc(vq_lp_escape_key, "a\\,b"), "a\\,b");
  CHECK_STR(esc(vq_lp_escape_key, "a\\b"), "a\\b");
  CHECK_STR(esc(vq_lp_escape_key, "a\\\\b"), "a\\\\b");
  CHECK_STR(esc(vq_lp_escape_measurement, "m\\ x"), "m\\ x");
  CHECK_STR(esc(vq_lp_escape_measurement, "m\\=x"), "m\\=x");
  /* Line breaks cannot be carried: an escaped space. */
  CHECK_STR(esc(vq_lp_escape_key, "two\r\nlines"), "two\\ \\ lines");

  /* A reading: NaN, Inf and not-available left out; integers with i;
   * enums as code plus _text; types fixed by the vocabulary. */
  memset(recs, 0, sizeof recs);
  recs[0].quantity = "battery.voltage";
  recs[0].type = VQ_VALUE_INT; /* vocabulary: double -> written as float */
  recs[0].value.i64 = 13;
  recs[1].quantity = "battery.current";
  recs[1].type = VQ_VALUE_DOUBLE;
  recs[1].value.f64 = NAN;
  recs[2].quantity = "pv.power";
  recs[2].type = VQ_VALUE_DOUBLE;
  recs[2].value.f64 = INFINITY;
  recs[3].quantity = "battery.soc";
  recs[3].type = VQ_VALUE_DOUBLE;
  recs[3].flags = VQ_RECORD_NA;
  recs[4].quantity = "device.state";
  recs[4].type = VQ_VALUE_DOUBLE; /* vocabulary: enum -> 3i */
  recs[4].value.f64 = 3;
  recs[5].quantity = "load.state";
  recs[5].type = VQ_VALUE_DOUBLE; /* vocabulary: bool, 0.5 cannot be one */
  recs[5].value.f64 = 0.5;
  recs[6].quantity = "device.off_reason";
  recs[6].type = VQ_VALUE_BITMASK;
  recs[6].value.i64 = 0x11;
  recs[6].text = "No input power,Remote input";
  recs[7].quantity = "x.temp";
  recs[7].type = VQ_VALUE_DOUBLE;
  recs[7].value.f64 = -1.5e-7;
  r.source = "my shunt";
  r.device = "c03b98123456";
  r.time_ns = 1795208703123456789LL;
  r.tags = tags;
  r.ntags = 1;
  r.records = recs;
  r.nrecords = 8;
  vq_text_clear(&t);
  CHECK_INT(vq_format_line_protocol_typed(&t, &r, &lp, &types), 5);
  CHECK_STR(t.data,
            "victron,source=my\\ shunt,device=c03b98123456,product=BMV-712\\ Smart "
            "battery.voltage=13,device.state=3i,device.off_reason=17i,"
            "device.off_reason_text=\"No input power,Remote input\","
            "x.temp=-1.5e-07 1795208703123456789\n");
  CHECK_INT(types.skipped, 1);
  /* Without the vocabulary, a record keeps its own type. */
  vq_text_clear(&t);
  vq_format_line_protocol(&t, &r, &lp);
  CHECK(strstr(t.data, " battery.voltage=13i,") != NULL);
  CHECK(strstr(t.data, "load.state=0.5") != NULL);
  /* Precisions truncate. */
  lp.precision = VQ_LP_MS;
  vq_text_clear(&t);
  vq_format_line_protocol(&t, &r, &lp);
  CHECK(strstr(t.data, " 1795208703123\n") != NULL);
  lp.precision = VQ_LP_US;
  vq_text_clear(&t);
  vq_format_line_protocol(&t, &r, &lp);
  CHECK(strstr(t.data, " 1795208703123456\n") != NULL);
  lp.precision = VQ_LP_NS;
  /* An empty tag value (here, all backslashes) is left out. */
  tags[0].value = "\\\\";
  vq_text_clear(&t);
  vq_format_line_protocol(&t, &r, &lp);
  CHECK(strstr(t.data, "product") == NULL);
  tags[0].value = "BMV-712 Smart";

  /* Bodies: three readings, the middle one without any field. */
  r2 = r;
  r2.records = &recs[1];
  r2.nrecords = 3; /* NaN, Inf, NA: no line */
  r3 = r;
  r3.device = "dev2";
  r3.time_ns += 1000;
  rs[0] = &r;
  rs[1] = &r2;
  rs[2] = &r3;
  memset(&batch, 0, sizeof batch);
  batch.size = sizeof batch;
  batch.nreadings = 3;
  batch.readings = rs;
  batch.nrecords = 19;
  influx_body_init(&b);
  CHECK_INT(influx_body_format(&b, &batch, &lp, &types), 0);
  CHECK_INT(b.lines, 2);
  CHECK_INT(influx_body_lines(&b, 0, 3), 2);
  CHECK_INT(influx_body_lines(&b, 1, 2), 0);
  CHECK_INT(influx_body_lines(&b, 1, 3), 1);
  CHECK_INT(influx_body_offset(&b, 1), influx_body_offset(&b, 2));
  CHECK(strncmp(b.text.data + influx_body_offset(&b, 2),
                "victron,source=my\\ shunt,device=dev2,", 37) == 0);
  CHECK_INT(b.text.data[influx_body_offset(&b, 3) - 1], '\n');

  /* The line a server quotes, and the field it names, lead back to the
   * readings (and their records). */
  {
    size_t s = influx_body_offset(&b, 2), e = influx_body_offset(&b, 3) - 1;
    char *line = malloc(e - s + 1);
    memcpy(line, b.text.data + s, e - s);
    CHECK_INT(influx_body_find_line(&b, &batch, 0, 3, line, e - s, &records), 1);
    CHECK_INT(records, 8);
    CHECK_INT(influx_body_find_line(&b, &batch, 0, 2, line, e - s, &records), 0);
    free(line);
  }
  CHECK_INT(influx_body_find_field(&b, &batch, 0, 3, "x.temp", &records), 2);
  CHECK_INT(records, 16);
  CHECK_INT(influx_body_find_field(&b, &batch, 0, 3, "battery.soc", &records), 0);

  /* gzip of a range inflates back to exactly those bytes. */
  CHECK_INT(influx_body_gzip(&b, 1, 3), 0);
  {
    z_stream z;
    char out[4096];
    size_t s = influx_body_offset(&b, 1), len = influx_body_offset(&b, 3) - s;
    memset(&z, 0, sizeof z);
    CHECK_INT(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)b.gz.data;
    z.avail_in = (uInt)b.gz.len;
    z.next_out = (Bytef *)out;
    z.avail_out = sizeof out;
    CHECK_INT(inflate(&z, Z_FINISH), Z_STREAM_END);
    CHECK_INT(z.total_out, len);
    CHECK(memcmp(out, b.text.data + s, len) == 0);
    inflateEnd(&z);
  }
  influx_body_free(&b);
  vq_text_free(&t);
  VQTEST_END();
}

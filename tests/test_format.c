/* Record formats: the JSON line of doc/design.md §7 exactly, line protocol
 * escaping (doc/protocols/sinks.md §3.1
 * examples), and text. */
#include "config.h"

#include <stdlib.h>

#include "record_format.h"
#include "vqtest.h"

int main(void) {
  struct vq_text t;
  struct vq_record recs[6];
  struct vq_tag tags[1] = {{"product", "SmartShunt 500A, \"50mV\""}};
  struct vq_reading r = VQ_READING_INIT;
  struct vq_lp_options lp = {"victron", VQ_LP_NS, 1};

  vq_text_init(&t);
  memset(recs, 0, sizeof recs);
  recs[0].quantity = "battery.voltage";
  recs[0].unit = "V";
  recs[0].type = VQ_VALUE_DOUBLE;
  recs[0].value.f64 = 12.87;
  recs[1].quantity = "device.state";
  recs[1].unit = "";
  recs[1].type = VQ_VALUE_ENUM;
  recs[1].value.i64 = 3;
  recs[1].text = "Bulk";
  recs[2].quantity = "battery.temperature";
  recs[2].unit = "°C";
  recs[2].type = VQ_VALUE_DOUBLE;
  recs[2].flags = VQ_RECORD_NA;
  recs[3].quantity = "load.state";
  recs[3].unit = "";
  recs[3].type = VQ_VALUE_BOOL;
  recs[3].value.i64 = 1;
  recs[4].quantity = "link.rssi";
  recs[4].unit = "dBm";
  recs[4].type = VQ_VALUE_INT;
  recs[4].value.i64 = -71;
  recs[5].quantity = "x.note";
  recs[5].unit = "";
  recs[5].type = VQ_VALUE_STRING;
  recs[5].value.str = "say \"hi\"\\ now";
  r.source = "shunt";
  r.device = "c03b98123456";
  r.time_ns = 1795208703123456789LL; /* 2026-11-20T21:05:03.123456789Z */
  r.tags = tags;
  r.ntags = 1;
  r.records = recs;
  r.nrecords = 6;

  vq_format_json_record(&t, &r, &recs[0]);
  CHECK_STR(t.data,
            "{\"time\":\"2026-11-20T21:05:03.123456Z\",\"source\":\"shunt\","
            "\"device\":\"c03b98123456\",\"quantity\":\"battery.voltage\","
            "\"value\":12.87,\"unit\":\"V\"}\n");
  vq_text_clear(&t);
  vq_format_json_record(&t, &r, &recs[1]);
  CHECK_STR(t.data,
            "{\"time\":\"2026-11-20T21:05:03.123456Z\",\"source\":\"shunt\","
            "\"device\":\"c03b98123456\",\"quantity\":\"device.state\","
            "\"value\":3,\"text\":\"Bulk\"}\n");
  vq_text_clear(&t);
  vq_format_json_record(&t, &r, &recs[2]);
  CHECK(strstr(t.data, "\"value\":null,\"unit\":\"°C\"}") != NULL);
  vq_text_clear(&t);
  vq_format_json_record(&t, &r, &recs[5]);
  CHECK(strstr(t.data, "\"value\":\"say \\\"hi\\\"\\\\ now\"") != NULL);

  /* All records of a reading share one head. */
  vq_text_clear(&t);
  r.nrecords = 2;
  vq_format_json_records(&t, &r);
  {
    struct vq_text one;
    vq_text_init(&one);
    vq_format_json_record(&one, &r, &recs[0]);
    vq_format_json_record(&one, &r, &recs[1]);
    CHECK_STR(t.data, one.data);
    vq_text_free(&one);
  }
  r.nrecords = 6;

  /* Shortest round-trip doubles: the fast path for short decimals and the
   * general one agree with strtod. */
  {
    static const double values[] = {12.53, -0.64, 0.1, 100, 1e-7, 123456.789,
                                    -2097.15, 3.86, 1e20, 5e-324, 0.3};
    size_t i;
    for (i = 0; i < sizeof values / sizeof values[0]; i++) {
      vq_text_clear(&t);
      vq_text_add_double(&t, values[i]);
      CHECK(strtod(t.data, NULL) == values[i]);
    }
    vq_text_clear(&t);
    vq_text_add_double(&t, 12.53);
    CHECK_STR(t.data, "12.53");
    vq_text_clear(&t);
    vq_text_add_double(&t, -0.64);
    CHECK_STR(t.data, "-0.64");
    vq_text_clear(&t);
    vq_text_add_double(&t, 1253 * 0.01); /* 12.530000000000001 */
    CHECK_STR(t.data, "12.530000000000001");
    vq_text_clear(&t);
    vq_text_add_double(&t, -0.0);
    CHECK_STR(t.data, "-0");
    vq_text_clear(&t);
    vq_text_add_double(&t, 100);
    CHECK_STR(t.data, "100");
    vq_text_clear(&t);
    vq_text_add_double(&t, -1.5e-7); /* exponent form, as %g writes it */
    CHECK_STR(t.data, "-1.5e-07");
  }
  vq_text_clear(&t);
  vq_text_add_double(&t, 0.1);
  CHECK_STR(t.data, "0.1");
  vq_text_clear(&t);
  vq_text_add_double(&t, 1.0 / 3.0);
  CHECK_STR(t.data, "0.3333333333333333");
  vq_text_clear(&t);
  vq_text_add_int(&t, INT64_MIN);
  CHECK_STR(t.data, "-9223372036854775808");
  vq_text_clear(&t);
  vq_text_add_json_string(&t, "a\x01\tb");
  CHECK_STR(t.data, "\"a\\u0001\\tb\"");

  /* Line protocol: one line per reading, NA left out, ints with i, enum
   * code plus _text, strings quoted and escaped. */
  vq_text_clear(&t);
  CHECK_INT(vq_format_line_protocol(&t, &r, &lp), 6);
  CHECK_STR(t.data,
            "victron,source=shunt,device=c03b98123456,"
            "product=SmartShunt\\ 500A\\,\\ \"50mV\" "
            "battery.voltage=12.87,device.state=3i,device.state_text=\"Bulk\","
            "load.state=true,link.rssi=-71i,x.note=\"say \\\"hi\\\"\\\\ now\" "
            "1795208703123456789\n");
  lp.precision = VQ_LP_S;
  lp.enum_text = 0;
  lp.measurement = "my meas,x";
  vq_text_clear(&t);
  vq_format_line_protocol(&t, &r, &lp);
  CHECK(strncmp(t.data, "my\\ meas\\,x,source=", 19) == 0);
  CHECK(strstr(t.data, "_text") == NULL);
  CHECK(strstr(t.data, " 1795208703\n") != NULL);

  /* A reading with nothing available writes no line at all. */
  r.records = &recs[2];
  r.nrecords = 1;
  vq_text_clear(&t);
  CHECK_INT(vq_format_line_protocol(&t, &r, &lp), 0);
  CHECK_INT(t.len, 0);

  /* Escaping rules. */
  vq_text_clear(&t);
  vq_lp_escape_key(&t, "a b,c=d");
  CHECK_STR(t.data, "a\\ b\\,c\\=d");
  vq_text_clear(&t);
  vq_lp_escape_measurement(&t, "cpu load,x=1");
  CHECK_STR(t.data, "cpu\\ load\\,x=1");
  vq_text_clear(&t);
  vq_lp_escape_string(&t, "a\"b\\c");
  CHECK_STR(t.data, "a\\\"b\\\\c");
  vq_text_clear(&t);
  vq_lp_escape_key(&t, "line\nbreak");
  CHECK_STR(t.data, "line\\ break");

  /* Text for people. */
  r.records = recs;
  r.nrecords = 2;
  vq_text_clear(&t);
  vq_format_text_record(&t, &r, &recs[1]);
  CHECK_STR(t.data,
            "2026-11-20T21:05:03.123456Z shunt c03b98123456 device.state 3 "
            "(Bulk)\n");
  CHECK_INT(vq_lp_precision_parse("ms"), VQ_LP_MS);
  CHECK_INT(vq_lp_precision_parse("m"), -1);
  vq_text_free(&t);
  VQTEST_END();
}

/* influx_classify and friends against the answers influxd 1.6.7 really
 * gives (doc/protocols/sinks.md §3.3) and the 2.x ones (§3.4). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "influx_response.h"
#include "vqtest.h"

static struct influx_verdict v;

static int classify(long status, const char *body) {
  influx_classify(status, body, body ? strlen(body) : 0, &v);
  return v.action;
}

int main(void) {
  char out[64];

  CHECK_INT(classify(204, ""), INFLUX_DONE);
  CHECK_INT(classify(200, "{}"), INFLUX_DONE);
  CHECK_INT(classify(0, NULL), INFLUX_RETRY);

  /* 1.6.7 type conflict: the other lines were written. */
  CHECK_INT(classify(400, "{\"error\":\"partial write: field type conflict: "
                          "input field \\\"soc\\\" on measurement \\\"battery\\\" "
                          "is type float, already exists as type integer "
                          "dropped=1\"}\n"),
            INFLUX_PARTIAL);
  CHECK_INT(v.dropped, 1);
  CHECK_STR(v.conflict_field, "soc");
  CHECK_INT(v.bad_line_len, 0);
  CHECK(strncmp(v.message, "partial write: field type conflict: input field \"soc\"", 53) == 0);

  /* 1.6.7 unparsable line amid good ones: dropped=0, the line quoted. */
  CHECK_INT(classify(400, "{\"error\":\"partial write: unable to parse "
                          "'victron,source=a x=tru 1': invalid boolean "
                          "dropped=0\"}"),
            INFLUX_PARTIAL);
  CHECK_INT(v.dropped, 0);
  CHECK_INT(v.bad_line_len, strlen("victron,source=a x=tru 1"));
  CHECK(memcmp(v.message + v.bad_line_off, "victron,source=a x=tru 1",
               v.bad_line_len) == 0);
  /* A quoted line that itself holds "': " still ends at the last one. */
  classify(400, "{\"error\":\"partial write: unable to parse 'm s=\\\"a': b\\\" "
                "1': bad dropped=0\"}");
  CHECK_INT(v.bad_line_len, strlen("m s=\"a': b\" 1"));

  /* 400 without "partial write" (one bad line alone, or 2.x): nothing
   * was written, the lines are at fault. */
  CHECK_INT(classify(400, "{\"error\":\"unable to parse 'x': missing fields\"}"),
            INFLUX_BAD_LINES);
  CHECK_INT(classify(400, "{\"code\":\"invalid\",\"message\":\"unable to parse "
                          "'x y': invalid field format\"}"),
            INFLUX_BAD_LINES);
  CHECK_STR(v.message, "unable to parse 'x y': invalid field format");

  /* 2.x: 422 partial write. */
  CHECK_INT(classify(422, "{\"code\":\"unprocessable entity\",\"message\":"
                          "\"failure writing points to database: partial "
                          "write: points beyond retention policy dropped=2\"}"),
            INFLUX_PARTIAL);
  CHECK_INT(v.dropped, 2);

  /* Too large, busy, set-up errors, server errors. */
  CHECK_INT(classify(413, "Request Entity Too Large"), INFLUX_SPLIT);
  CHECK_STR(v.message, "Request Entity Too Large");
  CHECK_INT(classify(429, "{\"code\":\"too many requests\"}"), INFLUX_THROTTLE);
  CHECK_INT(classify(503, ""), INFLUX_THROTTLE);
  CHECK_INT(classify(404, "{\"error\":\"database not found: \\\"nodb\\\"\"}"),
            INFLUX_CONFIG);
  CHECK_INT(v.db_not_found, 1);
  CHECK_STR(v.message, "database not found: \"nodb\"");
  CHECK_INT(classify(404, "{\"code\":\"not found\",\"message\":\"bucket "
                          "\\\"b\\\" not found\"}"),
            INFLUX_CONFIG);
  CHECK_INT(v.db_not_found, 0);
  CHECK_INT(classify(401, "{\"error\":\"authorization failed\"}"), INFLUX_CONFIG);
  CHECK_INT(classify(403, "{\"error\":\"user is required to write to database "
                          "\\\"victron\\\"\"}"),
            INFLUX_CONFIG);
  CHECK_INT(classify(500, "{\"error\":\"retention policy not found: nope\"}"),
            INFLUX_CONFIG);
  CHECK_INT(classify(500, "{\"error\":\"timeout\"}"), INFLUX_RETRY);
  CHECK_INT(classify(502, "<html>Bad Gateway</html>"), INFLUX_RETRY);

  /* JSON text: escapes and \u, truncation. */
  {
    const char *j = "{\"error\": \"a\\tb\\u00e9\\\\\"}";
    influx_error_text(j, strlen(j), out, sizeof out);
  }
  CHECK_STR(out, "a\tb\xc3\xa9\\");
  influx_error_text("{\"error\":\"0123456789\"}", 22, out, 5);
  CHECK_STR(out, "0123");
  influx_error_text("line1\nline2", 11, out, sizeof out);
  CHECK_STR(out, "line1 line2");

  /* Retry-After: seconds, HTTP date, cap, garbage. */
  CHECK_INT(influx_retry_after_ms("2", 0, 600000), 2000);
  CHECK_INT(influx_retry_after_ms(" 0 ", 0, 600000), 0);
  CHECK_INT(influx_retry_after_ms("86400", 0, 600000), 600000);
  CHECK_INT(influx_retry_after_ms("99999999999999999999999", 0, 600000), 600000);
  CHECK_INT(influx_retry_after_ms(NULL, 0, 600000), -1);
  CHECK_INT(influx_retry_after_ms("", 0, 600000), -1);
  CHECK_INT(influx_retry_after_ms("soon", 0, 600000), -1);
  /* Wed, 21 Oct 2015 07:28:00 GMT is 1445412480. */
  CHECK_INT(influx_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470,
                                  600000),
            10000);
  CHECK_INT(influx_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490,
                                  600000),
            0);
  /* A date so far ahead that its milliseconds overflow int64: the cap,
   * not a wrapped negative (0) or undefined behaviour. */
  CHECK_INT(influx_retry_after_ms("Sun, 06 Nov 999999999 08:49:37 GMT",
                                  1445412470, 600000),
            600000);
  CHECK_INT(influx_retry_after_ms("Sun, 06 Nov 2147483647 08:49:37 GMT",
                                  1445412470, 600000),
            600000);

  /* Request size: a 413 halves it, a run of good answers grows it back
   * to batch_size (it stayed small for ever before). */
  {
    struct influx_chunk c;
    int i;
    influx_chunk_init(&c, 5000);
    CHECK_INT(c.size, 5000);
    influx_chunk_update(&c, INFLUX_SPLIT, 5000);
    CHECK_INT(c.size, 2500);
    influx_chunk_update(&c, INFLUX_SPLIT, 2500);
    CHECK_INT(c.size, 1250);
    for (i = 0; i < INFLUX_CHUNK_GROW_AFTER - 1; i++)
      influx_chunk_update(&c, INFLUX_DONE, 1250);
    CHECK_INT(c.size, 1250);
    influx_chunk_update(&c, INFLUX_DONE, 1250);
    CHECK_INT(c.size, 2500);
    for (i = 0; i < 2 * INFLUX_CHUNK_GROW_AFTER; i++)
      influx_chunk_update(&c, i % 2 ? INFLUX_DONE : INFLUX_PARTIAL, 2500);
    CHECK_INT(c.size, 5000); /* back, and never above */
    for (i = 0; i < 3 * INFLUX_CHUNK_GROW_AFTER; i++)
      influx_chunk_update(&c, INFLUX_DONE, 5000);
    CHECK_INT(c.size, 5000);
    /* Other answers change nothing. */
    influx_chunk_update(&c, INFLUX_SPLIT, 3);
    CHECK_INT(c.size, 1);
    influx_chunk_update(&c, INFLUX_RETRY, 1);
    influx_chunk_update(&c, INFLUX_THROTTLE, 1);
    CHECK_INT(c.size, 1);
    influx_chunk_init(&c, 3);
    influx_chunk_update(&c, INFLUX_SPLIT, 3);
    for (i = 0; i < INFLUX_CHUNK_GROW_AFTER; i++)
      influx_chunk_update(&c, INFLUX_DONE, 1);
    CHECK_INT(c.size, 2);
    for (i = 0; i < INFLUX_CHUNK_GROW_AFTER; i++)
      influx_chunk_update(&c, INFLUX_DONE, 2);
    CHECK_INT(c.size, 3);
  }
  VQTEST_END();
}

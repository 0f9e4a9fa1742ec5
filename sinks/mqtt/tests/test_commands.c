/* The /set payload parser (mqtt_commands.c): a JSON number, or an object
 * that holds only that number as "value", or for an enum quantity exactly
 * one of its labels; everything else is refused. */
#include "config.h"

#include <errno.h>

#include "vqtest.h"
#include "../mqtt_commands.h"

static int parse(const char *p, size_t len, double *v) {
  return mqtt_command_parse_value(p, len, v);
}
#define OK(str, want)                                                        \
  do {                                                                       \
    double v_ = -1;                                                          \
    CHECK_INT(parse(str, strlen(str), &v_), 0);                              \
    CHECK_DBL(v_, want);                                                     \
  } while (0)
#define BAD(str) CHECK_INT(parse(str, strlen(str), &v), -EINVAL)

int main(void) {
  double v = 0;
  OK("12", 12);
  OK(" 12.5 \n", 12.5);
  OK("-3", -3);
  OK("0", 0);
  OK("1e2", 100);
  OK("2.5E-1", 0.25);
  OK("{\"value\": 12}", 12);
  OK(" { \"value\" : -0.5 } ", -0.5);
  OK("{\"value\":7}\r\n", 7);

  BAD("");
  BAD("   ");
  BAD("0x5");      /* strtod would read hex */
  BAD("5junk");
  BAD("+5");       /* not JSON */
  BAD(".5");
  BAD("5.");
  BAD("01");
  BAD("1e");
  BAD("inf");
  BAD("nan");
  BAD("1e999");    /* out of range */
  BAD("lots");
  BAD("{\"value\": \"12\"}");
  BAD("{\"value\": 12, \"x\": 1}");
  BAD("{\"other\": {\"value\": 12}}"); /* nested: not ours */
  BAD("{\"x\": 1, \"value\": 12}");
  BAD("{\"value\": 12");
  BAD("{\"value\": 12}}");
  BAD("[12]");
  /* Bytes after a NUL are still bytes of the payload. */
  CHECK_INT(parse("5\0junk", 6, &v), -EINVAL);
  CHECK_INT(parse("5\0", 2, &v), -EINVAL);
  CHECK_INT(parse(NULL, 0, &v), -EINVAL);
  /* Length is respected: "12" of "123". */
  OK("12", 12);
  CHECK_INT(parse("123", 2, &v), 0);
  CHECK_DBL(v, 12);
  /* A number longer than any sane setting. */
  BAD("1.0000000000000000000000000000000000000000000000000000000000000000001");

  /* Labels of an enum quantity (what HA's select sends). */
  {
    static const struct vq_label modes[] = {
        {1, "ess_with_phase_compensation"},
        {2, "ess_without_phase_compensation"},
        {3, "disabled_external_control"}};
    const char *ext = "disabled_external_control";
    v = 0;
    CHECK_INT(mqtt_command_parse(ext, strlen(ext), modes, 3, &v), 0);
    CHECK_DBL(v, 3);
    CHECK_INT(mqtt_command_parse("ess_with_phase_compensation", 27, modes, 3,
                                 &v), 0);
    CHECK_DBL(v, 1);
    CHECK_INT(mqtt_command_parse("2", 1, modes, 3, &v), 0); /* a code */
    CHECK_DBL(v, 2);
    CHECK_INT(mqtt_command_parse("{\"value\": 3}", 12, modes, 3, &v), 0);
    CHECK_DBL(v, 3);
    /* Exact bytes only: no quotes, case, spaces, prefixes or NULs. */
    CHECK_INT(mqtt_command_parse("\"disabled_external_control\"", 27, modes, 3,
                                 &v), -EINVAL);
    CHECK_INT(mqtt_command_parse("Disabled_external_control", 25, modes, 3,
                                 &v), -EINVAL);
    CHECK_INT(mqtt_command_parse(" disabled_external_control", 26, modes, 3,
                                 &v), -EINVAL);
    CHECK_INT(mqtt_command_parse("disabled", 8, modes, 3, &v), -EINVAL);
    CHECK_INT(mqtt_command_parse(ext, strlen(ext) - 1, modes, 3, &v), -EINVAL);
    CHECK_INT(mqtt_command_parse("disabled_external_control\0", 26, modes, 3,
                                 &v), -EINVAL);
    CHECK_INT(mqtt_command_parse("", 0, modes, 3, &v), -EINVAL);
    CHECK_INT(mqtt_command_parse("bulk", 4, modes, 3, &v), -EINVAL);
    /* No label set (a number quantity): a label is just bad input. */
    CHECK_INT(mqtt_command_parse(ext, strlen(ext), NULL, 0, &v), -EINVAL);
  }
  VQTEST_END();
}

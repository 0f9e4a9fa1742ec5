#include "config.h"

#include <errno.h>

#include "value_parse.h"
#include "vqtest.h"

int main(void) {
  int b = -1;
  int64_t i = 0;
  double d = 0, lo = 0, hi = 0;
  uint64_t u = 0;

  CHECK_INT(vq_parse_bool("yes", &b), 0); CHECK_INT(b, 1);
  CHECK_INT(vq_parse_bool("Off", &b), 0); CHECK_INT(b, 0);
  CHECK_INT(vq_parse_bool("1", &b), 0); CHECK_INT(b, 1);
  CHECK_INT(vq_parse_bool("maybe", &b), -EINVAL); CHECK_INT(b, 1);
  CHECK_INT(vq_parse_bool("", &b), -EINVAL);

  CHECK_INT(vq_parse_int("42", &i), 0); CHECK_INT(i, 42);
  CHECK_INT(vq_parse_int("-7", &i), 0); CHECK_INT(i, -7);
  CHECK_INT(vq_parse_int("0x2E1", &i), 0); CHECK_INT(i, 0x2e1);
  CHECK_INT(vq_parse_int("12abc", &i), -EINVAL);
  CHECK_INT(vq_parse_int(" 1", &i), -EINVAL);
  CHECK_INT(vq_parse_int("", &i), -EINVAL);
  CHECK_INT(vq_parse_int("99999999999999999999", &i), -ERANGE);

  CHECK_INT(vq_parse_double("12.87", &d), 0); CHECK_DBL(d, 12.87);
  CHECK_INT(vq_parse_double("-1e3", &d), 0); CHECK_DBL(d, -1000);
  CHECK_INT(vq_parse_double("nan", &d), -ERANGE);
  CHECK_INT(vq_parse_double("1.2.3", &d), -EINVAL);

  CHECK_INT(vq_parse_duration_ms("250ms", &u), 0); CHECK_INT(u, 250);
  CHECK_INT(vq_parse_duration_ms("2s", &u), 0); CHECK_INT(u, 2000);
  CHECK_INT(vq_parse_duration_ms("1.5", &u), 0); CHECK_INT(u, 1500);
  CHECK_INT(vq_parse_duration_ms("5m", &u), 0); CHECK_INT(u, 300000);
  CHECK_INT(vq_parse_duration_ms("1h", &u), 0); CHECK_INT(u, 3600000);
  CHECK_INT(vq_parse_duration_ms("-1s", &u), -EINVAL);
  CHECK_INT(vq_parse_duration_ms("3 days", &u), -EINVAL);
  CHECK_INT(vq_parse_duration_ms("s", &u), -EINVAL);

  CHECK_INT(vq_parse_range("3..25", &lo, &hi), 0);
  CHECK_DBL(lo, 3); CHECK_DBL(hi, 25);
  CHECK_INT(vq_parse_range("-1.5..0", &lo, &hi), 0);
  CHECK_DBL(lo, -1.5); CHECK_DBL(hi, 0);
  CHECK_INT(vq_parse_range("25..3", &lo, &hi), -ERANGE);
  CHECK_INT(vq_parse_range("3-25", &lo, &hi), -EINVAL);
  CHECK_INT(vq_parse_range("..25", &lo, &hi), -EINVAL);
  CHECK_INT(vq_parse_range("3..", &lo, &hi), -EINVAL);

  CHECK_INT(vq_parse_size("65536", &u), 0); CHECK_INT(u, 65536);
  CHECK_INT(vq_parse_size("512k", &u), 0); CHECK_INT(u, 512 * 1024);
  CHECK_INT(vq_parse_size("64M", &u), 0); CHECK_INT(u, 64 << 20);
  CHECK_INT(vq_parse_size("1G", &u), 0); CHECK_INT(u, 1LL << 30);
  CHECK_INT(vq_parse_size("12T", &u), -EINVAL);
  CHECK_INT(vq_parse_size("-1", &u), -EINVAL);
  VQTEST_END();
}

/* Capture lines: parse, format, round trip, and lines that must be
 * refused. */
#include <errno.h>

#include "ble_capture.h"
#include "testutil.h"

int main(void) {
  struct ble_capture_line l;
  char buf[256];
  int n;
  static const char good[] =
      "1700000000.250000 C0:3B:98:12:34:56 -71 100289a302b040af925d09a4d89aa0128bdef48c6298a9\n";
  CHECK_MSG(ble_capture_parse_line(good, &l) == 0, "good line");
  CHECK_MSG(l.time_ns == 1700000000250000000LL, "time %lld", (long long)l.time_ns);
  CHECK_MSG(l.addr[0] == 0xC0 && l.addr[5] == 0x56, "address");
  CHECK_MSG(l.has_rssi && l.rssi == -71, "rssi");
  CHECK_MSG(l.len == 23 && l.data[0] == 0x10 && l.data[22] == 0xa9, "data %zu", l.len);
  n = ble_capture_format_line(buf, sizeof buf, l.time_ns, l.addr, l.has_rssi, l.rssi, l.data, l.len);
  CHECK_MSG(n > 0 && strcmp(buf, good) == 0, "round trip: %s", buf);

  CHECK_MSG(ble_capture_parse_line("1 c0:3b:98:12:34:56 - 10aa", &l) == 0 && !l.has_rssi &&
            l.time_ns == 1000000000LL && l.len == 2,
        "minimal line, lowercase address, no rssi");
  n = ble_capture_format_line(buf, sizeof buf, l.time_ns, l.addr, 0, 0, l.data, l.len);
  CHECK_MSG(n > 0 && strcmp(buf, "1.000000 C0:3B:98:12:34:56 - 10aa\n") == 0, "format: %s", buf);
  CHECK_MSG(ble_capture_parse_line("1.123456789123 C0:3B:98:12:34:56 -5 10\r\n", &l) == 0 &&
            l.time_ns == 1123456789LL && l.rssi == -5,
        "nanoseconds, CRLF");

  CHECK_MSG(ble_capture_parse_line("# comment", &l) == 1, "comment");
  CHECK_MSG(ble_capture_parse_line("   \n", &l) == 1, "blank");
  CHECK_MSG(ble_capture_parse_line("", &l) == 1, "empty");

  {
    static const char *const bad[] = {
      "x C0:3B:98:12:34:56 - 10",
      "1 C0:3B:98:12:34 - 10",
      "1 C0-3B-98-12-34-56 - 10",
      "1 C0:3B:98:12:34:56 10",
      "1 C0:3B:98:12:34:56 - ",
      "1 C0:3B:98:12:34:56 - 1",
      "1 C0:3B:98:12:34:56 - 10zz",
      "1 C0:3B:98:12:34:56 abc 10",
      "1 C0:3B:98:12:34:56 - 10 trailing",
      "99999999999999999999 C0:3B:98:12:34:56 - 10",
      "1 C0:3B:98:12:34:56 - "
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00",
      "1C0:3B:98:12:34:56 - 10",
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
      CHECK_MSG(ble_capture_parse_line(bad[i], &l) == -EINVAL, "bad line %zu accepted", i);
  }
  {
    uint8_t addr[6] = {1, 2, 3, 4, 5, 6}, data[64] = {0};
    char small[20];
    CHECK_MSG(ble_capture_format_line(small, sizeof small, 1, addr, 0, 0, data, 4) == -ENOSPC, "small buffer");
    CHECK_MSG(ble_capture_format_line(buf, 60, 1, addr, 0, 0, data, 64) == -ENOSPC, "long data");
  }
  VQTEST_END();
}

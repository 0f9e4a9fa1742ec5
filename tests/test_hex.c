/* lib/util/vq_hex.h: the one hex decoder, and the Bluetooth address parser
 * and device id that ble-adv, ble-gatt and lib/bluez share. */
#include "config.h"

#include <string.h>

#include "vq_hex.h"
#include "vqtest.h"

int main(void) {
  uint8_t b[6] = {0}, want[6] = {0xC7, 0x12, 0x34, 0x56, 0x78, 0x9A};
  char id[13];

  CHECK_INT(vq_hex_digit('0'), 0);
  CHECK_INT(vq_hex_digit('f'), 15);
  CHECK_INT(vq_hex_digit('F'), 15);
  CHECK_INT(vq_hex_digit('g'), -1);
  CHECK_INT(vq_hex_bytes("e102", 2, b), 0);
  CHECK_INT(b[0], 0xE1); CHECK_INT(b[1], 0x02);
  CHECK_INT(vq_hex_bytes("e1x2", 2, b), -1);

  CHECK_INT(vq_mac_parse("C7:12:34:56:78:9A", b), 0);
  CHECK(memcmp(b, want, 6) == 0);
  CHECK_INT(vq_mac_parse("c7:12:34:56:78:9a", b), 0);
  CHECK(memcmp(b, want, 6) == 0);
  /* What sscanf's %2x let through, and every wrong shape: refused, and
   * the output is left as it was. */
  memset(b, 0xAA, sizeof b);
  CHECK_INT(vq_mac_parse(" 7:12:34:56:78:9A", b), -1);
  CHECK_INT(vq_mac_parse("+7:12:34:56:78:9A", b), -1);
  CHECK_INT(vq_mac_parse("0x:12:34:56:78:9A", b), -1);
  CHECK_INT(vq_mac_parse("C7-12-34-56-78-9A", b), -1);
  CHECK_INT(vq_mac_parse("C7:12:34:56:78:9", b), -1);
  CHECK_INT(vq_mac_parse("C7:12:34:56:78:9A:", b), -1);
  CHECK_INT(vq_mac_parse("C7:12:34:56:78:9AB", b), -1);
  CHECK_INT(vq_mac_parse("", b), -1);
  CHECK_INT(b[0], 0xAA); CHECK_INT(b[5], 0xAA);

  vq_mac_device_id(want, id);
  CHECK_STR(id, "c7123456789a");
  VQTEST_END();
}

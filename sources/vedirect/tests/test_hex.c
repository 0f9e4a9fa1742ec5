/* HEX codec: the worked examples of doc/protocols/vedirect.md §3.1 (from
 * Victron's HEX documents), round trips, bad check bytes, odd lengths. */
#include <errno.h>
#include <stdint.h>

#include "../vedirect_hex.h"
#include "ved_test.h"

static int dec(const char *frame, struct ved_hex_frame *f) {
  /* frames are written as on the wire, ':' .. without '\n' */
  return ved_hex_decode(frame + 1, strlen(frame + 1), f);
}

static void test_examples(void) {
  /* Every worked example except ":452" passes the 0x55 rule. */
  static const char *good[] = {
      ":154", ":51641F9", ":352", ":11641FD", ":451", ":1000351",
      ":181A330", ":64F", ":7F0ED0071", ":7F0ED009600DB", ":8F0ED0064000C",
      ":4AAAAFD", ":253", ":3020050", ":A0102000543", ":70010003E",
      ":7001000C80076", ":8001000F40148", ":800100000003D", ":8001004010038",
      ":70010007800C6",
  };
  size_t i;
  struct ved_hex_frame f;
  char out[VED_HEX_FRAME_MAX];
  for (i = 0; i < sizeof good / sizeof good[0]; i++) {
    int rc = dec(good[i], &f);
    if (rc != 0) fprintf(stderr, "example %s: %d\n", good[i], rc);
    CHECK_INT(rc, 0);
    /* Round trip: re-encoding gives the same text plus '\n'. */
    CHECK_INT(ved_hex_encode(f.cmd, f.payload, f.len, out, sizeof out),
              (int)strlen(good[i]) + 1);
    CHECK(strncmp(out, good[i], strlen(good[i])) == 0);
    CHECK_INT(out[strlen(good[i])], '\n');
  }
  CHECK_INT(dec(":452", &f), -EILSEQ);
}

static void test_requests(void) {
  char out[VED_HEX_FRAME_MAX];
  struct ved_hex_frame f;
  struct ved_hex_reg r;
  uint16_t v16;
  uint32_t v32;
  char ver[32];

  CHECK(ved_hex_encode(VED_CMD_PING, NULL, 0, out, sizeof out) > 0);
  CHECK_STR(out, ":154\n");
  CHECK(ved_hex_encode(VED_CMD_APP_VERSION, NULL, 0, out, sizeof out) > 0);
  CHECK_STR(out, ":352\n");
  CHECK(ved_hex_encode(VED_CMD_PRODUCT_ID, NULL, 0, out, sizeof out) > 0);
  CHECK_STR(out, ":451\n");
  CHECK(ved_hex_get(0xEDF0, out, sizeof out) > 0);
  CHECK_STR(out, ":7F0ED0071\n");
  CHECK(ved_hex_get(0x1000, out, sizeof out) > 0);
  CHECK_STR(out, ":70010003E\n");
  /* 10.0 A = 0x0064: Victron's own example. */
  CHECK(ved_hex_set_u16(0xEDF0, 100, out, sizeof out) > 0);
  CHECK_STR(out, ":8F0ED0064000C\n");
  CHECK(ved_hex_set_u16(0x1000, 500, out, sizeof out) > 0);
  CHECK_STR(out, ":8001000F40148\n");
  /* Above 25.5 A the high byte is not 0: 30.0 A = 0x012C, and the check
   * covers it (public scripts hard-code HH = 00 and CC = 0x70 - LL). */
  CHECK(ved_hex_set_u16(0xEDF0, 300, out, sizeof out) > 0);
  CHECK_STR(out, ":8F0ED002C0143\n");
  CHECK_INT(dec(":8F0ED002C0143", &f), 0);
  /* 0.5 A = 0x0005: two digits "05", never "50". */
  CHECK(ved_hex_set_u16(0xEDF0, 5, out, sizeof out) > 0);
  CHECK_STR(out, ":8F0ED0005006B\n");
  CHECK(ved_hex_set_u16(0xEDF0, 0xFFFF, out, sizeof out) > 0);
  CHECK_STR(out, ":8F0ED00FFFF72\n"); /* 6553.5 A, the protocol limit */

  /* Replies: register, flags, value. */
  CHECK_INT(dec(":7F0ED009600DB", &f), 0);
  CHECK_INT(f.cmd, VED_RSP_GET);
  CHECK_INT(ved_hex_reg_parse(&f, &r), 0);
  CHECK_INT(r.id, 0xEDF0);
  CHECK_INT(r.flags, 0);
  CHECK_INT(ved_hex_u16(&r, &v16), 0);
  CHECK_INT(v16, 150); /* 15.0 A */
  CHECK_INT(ved_hex_u32(&r, &v32), -EBADMSG);
  CHECK_INT(dec(":8001004010038", &f), 0);
  CHECK_INT(ved_hex_reg_parse(&f, &r), 0);
  CHECK_INT(r.flags, VED_FLAG_PARAM_ERROR);
  CHECK_INT(ved_hex_u16(&r, &v16), 0);
  CHECK_INT(v16, 1);
  CHECK_STR(ved_hex_flags_text(r.flags), "parameter error (value out of range)");
  CHECK(ved_hex_flags_text(0) == NULL);
  CHECK(ved_hex_flags_text(VED_FLAG_UNKNOWN_ID) != NULL);
  CHECK_INT(dec(":A0102000543", &f), 0);
  CHECK_INT(f.cmd, VED_RSP_ASYNC);
  CHECK_INT(ved_hex_reg_parse(&f, &r), 0);
  CHECK_INT(r.id, 0x0201);
  CHECK_INT(r.value[0], 5);
  /* 0xED8C as sent by the IP22: sn32 0.001 A, 0x00001C7A = 7.290 A. */
  CHECK_INT(dec(":A8CED007A1C00003C", &f), 0);
  CHECK_INT(ved_hex_reg_parse(&f, &r), 0);
  CHECK_INT(ved_hex_u32(&r, &v32), 0);
  CHECK_INT(v32, 7290);
  /* Not a register frame: too short. */
  CHECK_INT(dec(":51641F9", &f), 0);
  CHECK_INT(ved_hex_reg_parse(&f, &r), -EBADMSG);
  /* Ping reply 0x4116 = application v1.16. */
  CHECK_INT(f.cmd, VED_RSP_PING);
  ved_hex_version_text((uint16_t)(f.payload[0] | f.payload[1] << 8), ver,
                       sizeof ver);
  CHECK_STR(ver, "1.16");
  ved_hex_version_text(0xD101, ver, sizeof ver);
  CHECK_STR(ver, "1.01-rcD");
  ved_hex_version_text(0x0116, ver, sizeof ver);
  CHECK_STR(ver, "1.16-boot");
  /* Product id reply :181A330 = 0xA381 (BMV-712). */
  CHECK_INT(dec(":181A330", &f), 0);
  CHECK_INT(f.len, 2);
  CHECK_INT(f.payload[0] | f.payload[1] << 8, 0xA381);
}

static void test_bad(void) {
  struct ved_hex_frame f;
  char out[VED_HEX_FRAME_MAX];
  char longf[2 * VED_HEX_PAYLOAD_MAX + 20];
  size_t i;
  CHECK_INT(ved_hex_decode("", 0, &f), -EINVAL);
  CHECK_INT(ved_hex_decode(":", 1, &f), -EINVAL);
  /* Odd number of digits after the command: no whole bytes. */
  CHECK_INT(dec(":15", &f), -EBADMSG);
  CHECK_INT(dec(":7F0ED007", &f), -EBADMSG);
  CHECK_INT(dec(":1", &f), -EBADMSG);
  /* Bad check bytes: every wrong value fails. */
  for (i = 0; i < 256; i++) {
    char fr[16];
    snprintf(fr, sizeof fr, ":7F0ED00%02X", (unsigned)i);
    CHECK_INT(dec(fr, &f), i == 0x71 ? 0 : -EILSEQ);
  }
  /* Characters that are not hex digits. */
  CHECK_INT(dec(":7F0ED0G71", &f), -EINVAL);
  CHECK_INT(dec(":7F0ED 0071", &f), -EINVAL);
  CHECK_INT(ved_hex_decode("7F0ED0071\r", 10, &f), -EINVAL);
  /* Lower case is accepted on input (devices send upper case). */
  CHECK_INT(dec(":7f0ed0071", &f), 0);
  /* Too long for the payload buffer. */
  longf[0] = ':';
  longf[1] = 'A';
  for (i = 0; i < 2 * (VED_HEX_PAYLOAD_MAX + 1) + 2; i++) longf[2 + i] = '0';
  longf[2 + i] = '\0';
  CHECK_INT(dec(longf, &f), -EMSGSIZE);
  /* The longest payload still fits and round-trips. */
  {
    uint8_t p[VED_HEX_PAYLOAD_MAX];
    for (i = 0; i < sizeof p; i++) p[i] = (uint8_t)(i * 7);
    CHECK(ved_hex_encode(VED_CMD_ASYNC, p, sizeof p, out, sizeof out) > 0);
    CHECK_INT(ved_hex_decode(out + 1, strlen(out) - 2, &f), 0);
    CHECK_INT(f.len, sizeof p);
    CHECK(memcmp(f.payload, p, sizeof p) == 0);
    CHECK_INT(ved_hex_encode(VED_CMD_ASYNC, p, sizeof p, out, 10), -ENOSPC);
    CHECK_INT(ved_hex_encode(0x10, p, 1, out, sizeof out), -EMSGSIZE);
  }
  /* Random round trips. */
  {
    uint32_t seed = 1;
    int k;
    for (k = 0; k < 2000; k++) {
      uint8_t p[VED_HEX_PAYLOAD_MAX];
      size_t len, j;
      uint8_t cmd;
      seed = seed * 1664525u + 1013904223u;
      len = (seed >> 8) % (VED_HEX_PAYLOAD_MAX + 1);
      cmd = (uint8_t)(seed >> 28);
      for (j = 0; j < len; j++) {
        seed = seed * 1664525u + 1013904223u;
        p[j] = (uint8_t)(seed >> 24);
      }
      CHECK(ved_hex_encode(cmd, p, len, out, sizeof out) > 0);
      CHECK_INT(ved_hex_decode(out + 1, strlen(out) - 2, &f), 0);
      CHECK_INT(f.cmd, cmd);
      CHECK_INT(f.len, len);
      CHECK(memcmp(f.payload, p, len) == 0);
      /* Flip one digit: the check catches it (a single changed digit
       * changes the byte sum by a non-zero amount < 256). */
      if (len > 0) {
        size_t pos = 2 + (seed % (2 * len));
        out[pos] = out[pos] == '0' ? '1' : '0';
        CHECK_INT(ved_hex_decode(out + 1, strlen(out) - 2, &f), -EILSEQ);
      }
    }
  }
}

int main(void) {
  test_examples();
  test_requests();
  test_bad();
  VQTEST_END();
}

/* VE.Direct HEX frame codec; see vedirect_hex.h. */
#include "vedirect_hex.h"

#include "vq_hex.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char digits[] = "0123456789ABCDEF";


uint8_t ved_hex_check(uint8_t cmd, const uint8_t *payload, size_t len) {
  uint8_t sum = cmd;
  size_t i;
  for (i = 0; i < len; i++) sum = (uint8_t)(sum + payload[i]);
  return (uint8_t)(0x55 - sum);
}

int ved_hex_decode(const char *line, size_t len, struct ved_hex_frame *f) {
  size_t i, nbytes;
  int c;
  uint8_t sum;
  if (len > 0 && line[0] == ':') { /* tolerate the start marker */
    line++;
    len--;
  }
  if (len == 0) return -EINVAL;
  for (i = 0; i < len; i++)
    if (vq_hex_digit(line[i]) < 0) return -EINVAL;
  /* After the command digit come whole bytes, the last being the check. */
  if ((len - 1) % 2 != 0 || len < 3) return -EBADMSG;
  nbytes = (len - 1) / 2;
  if (nbytes - 1 > VED_HEX_PAYLOAD_MAX) return -EMSGSIZE;
  c = vq_hex_digit(line[0]);
  f->cmd = (uint8_t)c;
  sum = (uint8_t)c;
  for (i = 0; i < nbytes; i++) {
    uint8_t b = 0;
    vq_hex_bytes(line + 1 + 2 * i, 1, &b); /* all digits checked above */
    sum = (uint8_t)(sum + b);
    if (i + 1 < nbytes) f->payload[i] = b;
  }
  f->len = nbytes - 1;
  return sum == 0x55 ? 0 : -EILSEQ;
}

int ved_hex_encode(uint8_t cmd, const uint8_t *payload, size_t len, char *out,
                   size_t outsz) {
  size_t i, n = 0;
  uint8_t check;
  if (cmd > 0xF || len > VED_HEX_PAYLOAD_MAX) return -EMSGSIZE;
  if (outsz < 1 + 1 + 2 * len + 2 + 1 + 1) return -ENOSPC;
  check = ved_hex_check(cmd, payload, len);
  out[n++] = ':';
  out[n++] = digits[cmd];
  for (i = 0; i < len; i++) {
    out[n++] = digits[payload[i] >> 4];
    out[n++] = digits[payload[i] & 0xF];
  }
  out[n++] = digits[check >> 4];
  out[n++] = digits[check & 0xF];
  out[n++] = '\n';
  out[n] = '\0';
  return (int)n;
}

int ved_hex_get(uint16_t reg, char *out, size_t outsz) {
  uint8_t p[3] = {(uint8_t)(reg & 0xFF), (uint8_t)(reg >> 8), 0};
  return ved_hex_encode(VED_CMD_GET, p, sizeof p, out, outsz);
}

int ved_hex_set(uint16_t reg, const uint8_t *value, size_t vlen, char *out,
                size_t outsz) {
  uint8_t p[VED_HEX_PAYLOAD_MAX];
  if (vlen + 3 > sizeof p) return -EMSGSIZE;
  p[0] = (uint8_t)(reg & 0xFF);
  p[1] = (uint8_t)(reg >> 8);
  p[2] = 0; /* flags are 0 in requests */
  if (vlen) memcpy(p + 3, value, vlen);
  return ved_hex_encode(VED_CMD_SET, p, vlen + 3, out, outsz);
}

int ved_hex_set_u16(uint16_t reg, uint16_t value, char *out, size_t outsz) {
  uint8_t v[2] = {(uint8_t)(value & 0xFF), (uint8_t)(value >> 8)};
  return ved_hex_set(reg, v, sizeof v, out, outsz);
}

int ved_hex_reg_parse(const struct ved_hex_frame *f, struct ved_hex_reg *r) {
  if (f->len < 3) return -EBADMSG;
  r->id = (uint16_t)(f->payload[0] | f->payload[1] << 8);
  r->flags = f->payload[2];
  r->value = f->payload + 3;
  r->vlen = f->len - 3;
  return 0;
}

int ved_hex_u16(const struct ved_hex_reg *r, uint16_t *out) {
  if (r->vlen < 2) return -EBADMSG;
  *out = (uint16_t)(r->value[0] | r->value[1] << 8);
  return 0;
}

int ved_hex_u32(const struct ved_hex_reg *r, uint32_t *out) {
  if (r->vlen < 4) return -EBADMSG;
  *out = (uint32_t)r->value[0] | (uint32_t)r->value[1] << 8 |
         (uint32_t)r->value[2] << 16 | (uint32_t)r->value[3] << 24;
  return 0;
}

int ved_hex_version_text(uint16_t word, char *out, size_t outsz) {
  /* The hex digits are the version; the top two bits its type:
   * 00 boot loader, 01 application, 10 tester, 11 release candidate
   * (the RC letter is the top nibble: 0xD101 = v1.01 RC "D"). */
  unsigned type = word >> 14;
  unsigned major = (word >> 8) & 0x3F, minor = word & 0xFF;
  char ver[12];
  /* Print the digits as written: 0x0116 -> "1.16". */
  snprintf(ver, sizeof ver, "%X.%02X", major, minor);
  switch (type) {
    case 0: snprintf(out, outsz, "%s-boot", ver); break;
    case 1: snprintf(out, outsz, "%s", ver); break;
    case 2: snprintf(out, outsz, "%s-tester", ver); break;
    default:
      snprintf(out, outsz, "%X.%02X-rc%c", (word >> 8) & 0x0F, minor,
               'A' + ((word >> 12) & 0xF) - 0xA);
      break;
  }
  return 0;
}

const char *ved_hex_flags_text(uint8_t flags) {
  if (flags & VED_FLAG_UNKNOWN_ID) return "unknown register";
  if (flags & VED_FLAG_NOT_SUPPORTED) return "not supported (read-only register?)";
  if (flags & VED_FLAG_PARAM_ERROR) return "parameter error (value out of range)";
  if (flags) return "error flags set";
  return NULL;
}

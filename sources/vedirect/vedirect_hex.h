/* VE.Direct HEX protocol: frame codec (doc/protocols/vedirect.md §3.1).
 *
 *   ':' <command: 1 hex digit> <payload: 2 hex digits per byte> <check> '\n'
 *
 * check = (0x55 - command - sum(payload)) & 0xFF.  Numbers are
 * little-endian; Get/Set/Async payloads are register id (u16), flags (u8),
 * value.  Pure code, no I/O. */
#ifndef VEDIRECT_HEX_H
#define VEDIRECT_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Longest payload accepted (history records are 52 bytes, strings 32). */
#define VED_HEX_PAYLOAD_MAX 140
/* ':' + cmd + 2 per payload byte + check + '\n' + NUL */
#define VED_HEX_FRAME_MAX (1 + 1 + 2 * VED_HEX_PAYLOAD_MAX + 2 + 1 + 1)

/* Commands, host -> device. */
enum ved_hex_cmd {
  VED_CMD_BOOT = 0x0,
  VED_CMD_PING = 0x1,
  VED_CMD_APP_VERSION = 0x3,
  VED_CMD_PRODUCT_ID = 0x4,
  VED_CMD_RESTART = 0x6,
  VED_CMD_GET = 0x7,
  VED_CMD_SET = 0x8,
  VED_CMD_ASYNC = 0xA /* device -> host only */
};

/* Response codes, device -> host. */
enum ved_hex_rsp {
  VED_RSP_DONE = 0x1,    /* app version, product id */
  VED_RSP_UNKNOWN = 0x3, /* unknown command; payload = the command */
  VED_RSP_ERROR = 0x4,   /* 0xAAAA framing error, 0 boot loader refused */
  VED_RSP_PING = 0x5,
  VED_RSP_GET = 0x7,
  VED_RSP_SET = 0x8,
  VED_RSP_ASYNC = 0xA
};

/* Flags of Get/Set replies. */
#define VED_FLAG_UNKNOWN_ID 0x01
#define VED_FLAG_NOT_SUPPORTED 0x02
#define VED_FLAG_PARAM_ERROR 0x04

struct ved_hex_frame {
  uint8_t cmd;
  size_t len; /* payload bytes, without the check byte */
  uint8_t payload[VED_HEX_PAYLOAD_MAX];
};

/* The check byte for a command and payload. */
uint8_t ved_hex_check(uint8_t cmd, const uint8_t *payload, size_t len);

/* Decode a frame given without ':' and '\n' (as ved_text delivers it).
 * 0, or -EINVAL (empty, a character that is not a hex digit), -EBADMSG
 * (odd number of digits: no whole bytes), -EMSGSIZE (too long), -EILSEQ
 * (check byte wrong). */
int ved_hex_decode(const char *line, size_t len, struct ved_hex_frame *f);

/* Encode ":<cmd><payload><check>\n" into out (NUL-terminated).  Returns the
 * length without the NUL, or -ENOSPC / -EMSGSIZE. */
int ved_hex_encode(uint8_t cmd, const uint8_t *payload, size_t len, char *out,
                   size_t outsz);

/* Requests. */
int ved_hex_get(uint16_t reg, char *out, size_t outsz);
int ved_hex_set(uint16_t reg, const uint8_t *value, size_t vlen, char *out,
                size_t outsz);
int ved_hex_set_u16(uint16_t reg, uint16_t value, char *out, size_t outsz);

/* Register part of a Get/Set/Async frame.  0, or -EBADMSG when the payload
 * is shorter than id + flags. */
struct ved_hex_reg {
  uint16_t id;
  uint8_t flags;
  const uint8_t *value;
  size_t vlen;
};
int ved_hex_reg_parse(const struct ved_hex_frame *f, struct ved_hex_reg *r);

/* Little-endian helpers: 0, or -EBADMSG when the value is too short. */
int ved_hex_u16(const struct ved_hex_reg *r, uint16_t *out);
int ved_hex_u32(const struct ved_hex_reg *r, uint32_t *out);

/* Ping / version word -> "1.16" (application), "1.16-boot", "1.16-tester",
 * "1.01-rcD".  Returns 0. */
int ved_hex_version_text(uint16_t word, char *out, size_t outsz);

/* Why a Get/Set reply flagged an error ("unknown register", ...), or NULL
 * when flags is 0. */
const char *ved_hex_flags_text(uint8_t flags);

#endif

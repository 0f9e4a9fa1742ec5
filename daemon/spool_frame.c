#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "spool_frame.h"

static void put_le32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

void vq_frame_header(unsigned char *header, const unsigned char *payload,
                     uint32_t len) {
  put_le32(header, VQ_FRAME_MAGIC);
  put_le32(header + 4, len);
  put_le32(header + 8, (uint32_t)crc32(0L, payload, (uInt)len));
}

size_t vq_frame_at(const unsigned char *buf, size_t len, size_t off) {
  uint32_t plen;
  if (off > len || len - off < VQ_FRAME_HEADER) return 0;
  if (get_le32(buf + off) != VQ_FRAME_MAGIC) return 0;
  plen = get_le32(buf + off + 4);
  /* A payload too short to hold the record count is not a frame we wrote,
   * whatever its checksum says. */
  if (plen < VQ_FRAME_MIN_PAYLOAD || plen > VQ_FRAME_MAX ||
      plen > len - off - VQ_FRAME_HEADER)
    return 0;
  if (crc32(0L, buf + off + VQ_FRAME_HEADER, plen) !=
      get_le32(buf + off + 8))
    return 0;
  return VQ_FRAME_HEADER + plen;
}

uint32_t vq_frame_records(const unsigned char *frame) {
  return get_le32(frame + VQ_FRAME_HEADER + 20);
}

size_t vq_frame_resync(const unsigned char *buf, size_t len, size_t off) {
  while (off < len) {
    /* Only the magic's first byte can start a frame: jump from one to the
     * next instead of checking every offset. */
    const unsigned char *m = memchr(buf + off, VQ_FRAME_MAGIC & 0xff, len - off);
    if (m == NULL) return len;
    off = (size_t)(m - buf);
    if (vq_frame_at(buf, len, off) > 0) return off;
    off++;
  }
  return len;
}

void vq_frame_walk(const unsigned char *buf, size_t len, size_t from,
                   size_t stop, struct vq_frame_walk *out,
                   vq_frame_damage_cb damage, void *arg) {
  size_t off = from;
  memset(out, 0, sizeof *out);
  out->good_end = from;
  out->boundary = from;
  while (off < len) {
    size_t n = vq_frame_at(buf, len, off), next;
    if (n > 0) {
      out->frames++;
      out->records += vq_frame_records(buf + off);
      off += n;
      out->good_end = off;
      if (off <= stop) out->boundary = off;
      continue;
    }
    next = vq_frame_resync(buf, len, off + 1);
    out->damaged++;
    if (damage != NULL) damage(arg, off, next - off, next == len);
    off = next;
    if (off < len && off <= stop) out->boundary = off;
  }
}

size_t vq_ack_format(char *out, size_t len, uint64_t seg, uint64_t off) {
  int n = snprintf(out, len, "%016" PRIx64 " %" PRIu64 "\n", seg, off);
  return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

int vq_ack_parse(const char *buf, size_t len, uint64_t *seg, uint64_t *off) {
  uint64_t s = 0, o = 0;
  size_t i;
  if (len < 19 || buf[16] != ' ' || buf[len - 1] != '\n') return -1;
  for (i = 0; i < 16; i++) {
    int c = (unsigned char)buf[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return -1;
    s = s << 4 | (uint64_t)d;
  }
  /* 1 to 19 decimal digits: never overflows 64 bits. */
  if (len - 18 > 19) return -1;
  for (i = 17; i < len - 1; i++) {
    if (buf[i] < '0' || buf[i] > '9') return -1;
    o = o * 10 + (uint64_t)(buf[i] - '0');
  }
  *seg = s;
  *off = o;
  return 0;
}

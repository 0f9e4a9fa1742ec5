/* Text framing and field decoding against every capture in
 * tests/data/vedirect (copied byte-exact from the project's reference
 * data).  Block counts are the ones the data README states; the values
 * were read by hand from the captures. */
#include <errno.h>
#include <stdint.h>

#include "../vedirect_fields.h"
#include "../vedirect_hex.h"
#include "../vedirect_text.h"
#include "ved_test.h"

#define KEEP 4

struct run {
  struct ved_text p;
  size_t nkept;
  struct ved_field kept[KEEP][VED_FIELDS_MAX];
  size_t nkept_fields[KEEP];
  size_t hex_ok, hex_bad;
  struct ved_hex_frame first_hex;
  size_t blocks_seen_by_end_cb;
};

static void on_block(void *arg, const struct ved_field *f, size_t n) {
  struct run *r = arg;
  if (r->nkept < KEEP) {
    memcpy(r->kept[r->nkept], f, n * sizeof *f);
    r->nkept_fields[r->nkept++] = n;
  }
}

static void on_hex(void *arg, const char *line, size_t len) {
  struct run *r = arg;
  struct ved_hex_frame fr;
  if (ved_hex_decode(line, len, &fr) == 0) {
    if (r->hex_ok++ == 0) r->first_hex = fr;
  } else {
    r->hex_bad++;
  }
}

static void on_end(void *arg, int valid) {
  struct run *r = arg;
  (void)valid;
  r->blocks_seen_by_end_cb++;
}

/* Feed `copies` copies of a buffer in chunks: 0 = whole, 1 = byte by
 * byte, else pseudo-random sizes 1..chunk. */
static void run_buf(struct run *r, const unsigned char *buf, size_t len,
                    int copies, size_t chunk) {
  uint32_t seed = 12345;
  int c;
  memset(r, 0, sizeof *r);
  ved_text_init(&r->p, on_block, on_hex, r);
  r->p.on_block_end = on_end;
  for (c = 0; c < copies; c++) {
    size_t off = 0;
    while (off < len) {
      size_t n = len - off;
      if (chunk == 1) n = 1;
      else if (chunk > 1) {
        seed = seed * 1103515245u + 12345u;
        n = 1 + (seed >> 16) % chunk;
        if (n > len - off) n = len - off;
      }
      CHECK_INT(ved_text_feed(&r->p, buf + off, n), n);
      off += n;
    }
  }
}

struct expect {
  const char *file;
  int copies;
  uint64_t blocks, valid, hex;
};

/* Counts: data README ("valid" = blocks passing the checksum).  The
 * fake-device files miss their first CR LF, so one copy has no valid
 * block; looped (2 copies) every block after the first passes. */
static const struct expect expects[] = {
  {"bluesolar-mppt-75-15_fw1.23.dump", 1, 248, 247, 7},
  {"smartsolar-mppt-100-20_fw1.39.dump", 1, 494, 493, 2},
  {"bmv-700_fw3.08.dump", 1, 906, 906, 0},
  {"smartsolar-mppt-75-15_fw1.56.dump", 1, 7, 6, 0},
  {"smartshunt-500a-50mv_fw4.05_read1.dump", 1, 2, 1, 0},
  {"smartshunt-500a-50mv_fw4.05_read2.dump", 1, 2, 1, 0},
  {"smartshunt-500a-50mv_fw4.05_read3.dump", 1, 2, 1, 0},
  {"smartshunt-500a-50mv_fw4.14_read4.dump", 1, 2, 1, 0},
  {"blue-smart-ip22-24-8_fw3.42.dump", 1, 1, 0, 36},
  {"blue-smart-ip22-24-8_fw3.42.dump", 2, 2, 1, 72},
  {"blue-smart-ip65-12-25_fw3.25.dump", 1, 2, 1, 10},
  {"blue-smart-ip65-12-25_fw3.25.dump", 2, 4, 3, 20},
  /* Lossy copies: no CR, TABs as spaces, checksum bytes replaced: no
   * block can pass, every HEX frame does. */
  {"blue-smart-ip22-24-12_fw3.42_terminal-copy.txt", 1, 0, 0, 1305},
  {"multi-rs-solar-48v-6000va_fw1.09_lossy.txt", 1, 1, 0, 7},
};

static void test_counts(void) {
  size_t i;
  static const size_t chunks[] = {0, 1, 7, 300};
  for (i = 0; i < sizeof expects / sizeof expects[0]; i++) {
    const struct expect *e = &expects[i];
    size_t len, k;
    unsigned char *buf = ved_test_read(e->file, &len);
    for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
      struct run *r = calloc(1, sizeof *r);
      run_buf(r, buf, len, e->copies, chunks[k]);
      if (r->p.stats.blocks != e->blocks || r->p.stats.blocks_valid != e->valid ||
          r->hex_ok != e->hex || r->hex_bad != 0)
        fprintf(stderr, "%s x%d chunk %zu: blocks %llu valid %llu hex %zu bad %zu\n",
                e->file, e->copies, chunks[k],
                (unsigned long long)r->p.stats.blocks,
                (unsigned long long)r->p.stats.blocks_valid, r->hex_ok,
                r->hex_bad);
      CHECK_INT(r->p.stats.blocks, e->blocks);
      CHECK_INT(r->p.stats.blocks_valid, e->valid);
      CHECK_INT(r->p.stats.blocks_bad, e->blocks - e->valid);
      CHECK_INT(r->blocks_seen_by_end_cb, e->blocks);
      CHECK_INT(r->hex_ok, e->hex);
      CHECK_INT(r->hex_bad, 0);
      free(r);
    }
    free(buf);
  }
}

static const struct vq_record *rec(const struct ved_block *b, const char *q) {
  size_t i;
  for (i = 0; i < b->nrecords; i++)
    if (strcmp(b->records[i].quantity, q) == 0) return &b->records[i];
  fprintf(stderr, "no record %s\n", q);
  vqtest_failures++;
  return NULL;
}

#define DBL(b, q, v)                                                  \
  do {                                                                \
    const struct vq_record *r_ = rec(b, q);                           \
    if (r_) {                                                         \
      CHECK_INT(r_->type, VQ_VALUE_DOUBLE);                           \
      CHECK_INT(r_->flags, 0);                                        \
      CHECK_DBL(r_->value.f64, v);                                    \
    }                                                                 \
  } while (0)
#define INTV(b, q, t, v)                                              \
  do {                                                                \
    const struct vq_record *r_ = rec(b, q);                           \
    if (r_) {                                                         \
      CHECK_INT(r_->type, t);                                         \
      CHECK_INT(r_->flags, 0);                                        \
      CHECK_INT(r_->value.i64, v);                                    \
    }                                                                 \
  } while (0)
#define TEXT(b, q, s)                                                 \
  do {                                                                \
    const struct vq_record *r_ = rec(b, q);                           \
    if (r_) CHECK_STR(r_->text, s);                                   \
  } while (0)
#define NA(b, q)                                                      \
  do {                                                                \
    const struct vq_record *r_ = rec(b, q);                           \
    if (r_) CHECK_INT(r_->flags, VQ_RECORD_NA);                       \
  } while (0)

static struct run *decode_file(const char *file, int copies,
                               struct ved_block *blocks) {
  size_t len, i;
  unsigned char *buf = ved_test_read(file, &len);
  struct run *r = calloc(1, sizeof *r);
  run_buf(r, buf, len, copies, 0);
  for (i = 0; i < r->nkept; i++)
    ved_block_decode(r->kept[i], r->nkept_fields[i], &blocks[i]);
  free(buf);
  return r;
}

static void test_bmv700(void) {
  static struct ved_block b[KEEP];
  struct run *r = decode_file("bmv-700_fw3.08.dump", 1, b);
  /* First block: PID 0x203, V 12065, I -7625, P -92, CE -65473, SOC 839,
   * TTG 942, Alarm OFF, Relay OFF, AR 0, BMV 700, FW 0308. */
  CHECK_INT(b[0].pid, 0x203);
  CHECK(b[0].serial == NULL);
  CHECK_STR(b[0].model, "700");
  CHECK_STR(b[0].firmware, "3.08");
  CHECK_INT(b[0].nrecords, 9);
  DBL(&b[0], "battery.voltage", 12.065);
  DBL(&b[0], "battery.current", -7.625);
  DBL(&b[0], "battery.power", -92);
  DBL(&b[0], "battery.consumed_ah", -65.473);
  DBL(&b[0], "battery.soc", 83.9);
  DBL(&b[0], "battery.time_to_go", 942);
  /* The BMV's Alarm ON/OFF is a bool of its own (not the VE.Bus level). */
  INTV(&b[0], "monitor.alarm", VQ_VALUE_BOOL, 0);
  INTV(&b[0], "relay.state", VQ_VALUE_BOOL, 0);
  INTV(&b[0], "device.alarm_reason", VQ_VALUE_BITMASK, 0);
  TEXT(&b[0], "device.alarm_reason", "none");
  /* History block: H1 -149322, H2 -82854, H4 0, H6 -5526294, H7 11733,
   * H8 16161, H9 368003, H10 26, H17 6843, H18 8527. */
  CHECK_INT(b[1].pid, -1);
  CHECK_INT(b[1].nrecords, 14);
  DBL(&b[1], "history.deepest_discharge", -149.322);
  DBL(&b[1], "history.last_discharge", -82.854);
  INTV(&b[1], "history.charge_cycles", VQ_VALUE_INT, 0);
  DBL(&b[1], "history.cumulative_ah", -5526.294);
  DBL(&b[1], "history.min_voltage", 11.733);
  DBL(&b[1], "history.max_voltage", 16.161);
  DBL(&b[1], "history.time_since_full_charge", 368003);
  INTV(&b[1], "history.auto_syncs", VQ_VALUE_INT, 26);
  DBL(&b[1], "history.discharged_energy", 68.43);
  DBL(&b[1], "history.charged_energy", 85.27);
  free(r);
}

static void test_bluesolar(void) {
  static struct ved_block b[KEEP];
  struct run *r = decode_file("bluesolar-mppt-75-15_fw1.23.dump", 1, b);
  /* The first valid block is the file's second: V 12530, I 640,
   * VPV 31390, PPV 8, CS 3, ERR 0, LOAD ON, IL 0, H19 8272, H20 0,
   * H21 11, H22 25, H23 119, HSDS 274. */
  CHECK_INT(b[0].pid, 0xA042);
  CHECK_STR(b[0].serial, "HQ1411MYIKN");
  CHECK_STR(b[0].firmware, "1.23");
  DBL(&b[0], "battery.voltage", 12.53);
  DBL(&b[0], "battery.current", 0.64);
  DBL(&b[0], "pv.voltage", 31.39);
  DBL(&b[0], "pv.power", 8);
  INTV(&b[0], "device.state", VQ_VALUE_ENUM, 3);
  TEXT(&b[0], "device.state", "bulk");
  INTV(&b[0], "device.error", VQ_VALUE_ENUM, 0);
  TEXT(&b[0], "device.error", "no_error");
  INTV(&b[0], "load.state", VQ_VALUE_BOOL, 1);
  DBL(&b[0], "load.current", 0);
  DBL(&b[0], "yield.total", 82.72);
  DBL(&b[0], "yield.today", 0);
  DBL(&b[0], "pv.max_power_today", 11);
  DBL(&b[0], "yield.yesterday", 0.25);
  DBL(&b[0], "pv.max_power_yesterday", 119);
  INTV(&b[0], "history.day_sequence", VQ_VALUE_INT, 274);
  CHECK_INT(b[0].nrecords, 14);
  /* The async HEX frames are for register 0x1050 (history "today"). */
  CHECK_INT(r->first_hex.cmd, VED_RSP_ASYNC);
  CHECK_INT(r->first_hex.payload[0] | r->first_hex.payload[1] << 8, 0x1050);
  free(r);
}

static void test_smartsolar_100_20(void) {
  static struct ved_block b[KEEP];
  struct run *r = decode_file("smartsolar-mppt-100-20_fw1.39.dump", 1, b);
  /* V 12810, I -10, VPV 10, PPV 0, CS 0, MPPT 0, ERR 0, LOAD ON. */
  CHECK_INT(b[0].pid, 0xA05F);
  CHECK_STR(b[0].serial, "HQ18486U2B4");
  CHECK_STR(b[0].firmware, "1.39");
  DBL(&b[0], "battery.voltage", 12.81);
  DBL(&b[0], "battery.current", -0.01);
  DBL(&b[0], "pv.voltage", 0.01);
  TEXT(&b[0], "device.state", "off");
  INTV(&b[0], "pv.tracker_mode", VQ_VALUE_ENUM, 0);
  TEXT(&b[0], "pv.tracker_mode", "off");
  free(r);
}

static void test_smartsolar_75_15(void) {
  static struct ved_block b[KEEP];
  struct run *r = decode_file("smartsolar-mppt-75-15_fw1.56.dump", 1, b);
  /* V 12450, OR 0x00000001, H19 3, H21 24, H22 1, H23 15, HSDS 3. */
  CHECK_INT(b[0].pid, 0xA053);
  CHECK_STR(b[0].serial, "HQ1942K7LJ8");
  CHECK_STR(b[0].firmware, "1.56");
  DBL(&b[0], "battery.voltage", 12.45);
  INTV(&b[0], "device.off_reason", VQ_VALUE_BITMASK, 1);
  TEXT(&b[0], "device.off_reason", "no_input_power");
  DBL(&b[0], "yield.total", 0.03);
  DBL(&b[0], "pv.max_power_today", 24);
  DBL(&b[0], "yield.yesterday", 0.01);
  INTV(&b[0], "history.day_sequence", VQ_VALUE_INT, 3);
  free(r);
}

static void test_smartshunt(void) {
  static struct ved_block b[KEEP];
  struct run *r;
  /* read1: main block V 12865, VS -14, I 0, P 0, CE 0, SOC 1000, TTG -1
   * (infinite: not available as a number), BMV SmartShunt 500A/50mV. */
  r = decode_file("smartshunt-500a-50mv_fw4.05_read1.dump", 1, b);
  CHECK_INT(r->nkept, 1);
  CHECK_INT(b[0].pid, 0xA389);
  CHECK_STR(b[0].model, "SmartShunt 500A/50mV");
  CHECK_STR(b[0].firmware, "4.05");
  DBL(&b[0], "battery.voltage", 12.865);
  DBL(&b[0], "aux.voltage", -0.014);
  DBL(&b[0], "battery.soc", 100);
  NA(&b[0], "battery.time_to_go");
  free(r);
  /* read2: V 12868, VS -12. */
  r = decode_file("smartshunt-500a-50mv_fw4.05_read2.dump", 1, b);
  CHECK_INT(r->nkept, 1);
  DBL(&b[0], "battery.voltage", 12.868);
  DBL(&b[0], "aux.voltage", -0.012);
  free(r);
  /* read3: V 12868, VS -13. */
  r = decode_file("smartshunt-500a-50mv_fw4.05_read3.dump", 1, b);
  CHECK_INT(r->nkept, 1);
  DBL(&b[0], "aux.voltage", -0.013);
  free(r);
  /* read4 (FW 0414): V 53509, I 23866, P 1277, CE -131099, SOC 548,
   * MON 0. */
  r = decode_file("smartshunt-500a-50mv_fw4.14_read4.dump", 1, b);
  CHECK_INT(r->nkept, 1);
  CHECK_STR(b[0].firmware, "4.14");
  DBL(&b[0], "battery.voltage", 53.509);
  DBL(&b[0], "battery.current", 23.866);
  DBL(&b[0], "battery.power", 1277);
  DBL(&b[0], "battery.consumed_ah", -131.099);
  DBL(&b[0], "battery.soc", 54.8);
  INTV(&b[0], "monitor.mode", VQ_VALUE_ENUM, 0);
  TEXT(&b[0], "monitor.mode", "battery_monitor");
  free(r);
}

static void test_blue_smart(void) {
  static struct ved_block b[KEEP];
  struct run *r;
  /* IP22 24|8 looped: PID 0xA332, FWE 0342FF, SER# HQ2249TNFVM,
   * V 26870, I 2000, T ---, ERR 0, CS 3, HC# 57825. */
  r = decode_file("blue-smart-ip22-24-8_fw3.42.dump", 2, b);
  CHECK_INT(r->nkept, 1);
  CHECK_INT(b[0].pid, 0xA332);
  CHECK_STR(b[0].serial, "HQ2249TNFVM");
  CHECK_STR(b[0].firmware, "3.42");
  CHECK_STR(b[0].hc, "57825");
  DBL(&b[0], "battery.voltage", 26.87);
  DBL(&b[0], "battery.current", 2.0);
  NA(&b[0], "battery.temperature");
  TEXT(&b[0], "device.state", "bulk");
  /* The checksum byte is directly followed by :A0920000022 (0x2009 = 0). */
  CHECK_INT(r->first_hex.payload[0] | r->first_hex.payload[1] << 8, 0x2009);
  free(r);
  /* IP65 12|25 looped: the valid blocks alternate V 14190 / 14200. */
  r = decode_file("blue-smart-ip65-12-25_fw3.25.dump", 2, b);
  CHECK_INT(r->nkept, 3);
  CHECK_INT(b[0].pid, 0xA30A);
  CHECK_STR(b[0].firmware, "3.25");
  DBL(&b[0], "battery.voltage", 14.19);
  DBL(&b[1], "battery.voltage", 14.2);
  DBL(&b[1], "battery.current", 1.0);
  TEXT(&b[1], "device.state", "absorption");
  free(r);
}

/* The lossy copies: HEX values, and the text block of the Multi RS once
 * its checksum byte (lost in publication) is recomputed. */
static void test_lossy(void) {
  size_t len, i;
  unsigned char *buf =
      ved_test_read("blue-smart-ip22-24-12_fw3.42_terminal-copy.txt", &len);
  struct run *r = calloc(1, sizeof *r);
  struct ved_hex_reg reg;
  static struct ved_block b[KEEP];
  run_buf(r, buf, len, 1, 0);
  /* First frame :A0E2000011C: 0x200E network mode = 0x01. */
  CHECK_INT(ved_hex_reg_parse(&r->first_hex, &reg), 0);
  CHECK_INT(reg.id, 0x200E);
  CHECK_INT(reg.vlen, 1);
  CHECK_INT(reg.value[0], 0x01);
  free(r);
  free(buf);

  buf = ved_test_read("multi-rs-solar-48v-6000va_fw1.09_lossy.txt", &len);
  {
    /* Replace the 3-byte glyph after "Checksum\t" with the right byte and
     * put the CR LF in front of the first field, as the device sends it. */
    unsigned char fixed[512];
    size_t at = 0, n = 0;
    uint8_t sum = 0;
    const char *cs = "\r\nChecksum\t";
    unsigned char *p = NULL;
    for (i = 0; i + strlen(cs) <= len; i++)
      if (memcmp(buf + i, cs, strlen(cs)) == 0) p = buf + i;
    CHECK(p != NULL);
    if (p) {
      at = (size_t)(p - buf) + strlen(cs);
      fixed[n++] = '\r';
      fixed[n++] = '\n';
      memcpy(fixed + n, buf, at);
      n += at;
      for (i = 0; i < n; i++) sum = (uint8_t)(sum + fixed[i]);
      fixed[n++] = (uint8_t)(0x100 - sum);
      memcpy(fixed + n, buf + at + 3, len - at - 3);
      n += len - at - 3;
      r = calloc(1, sizeof *r);
      run_buf(r, fixed, n, 1, 0);
      CHECK_INT(r->p.stats.blocks_valid, 1);
      CHECK_INT(r->hex_ok, 7);
      if (r->nkept == 1) {
        ved_block_decode(r->kept[0], r->nkept_fields[0], &b[0]);
        /* PID 0xA442, SER# HQ2206WVU9D, FWE 109FF, CS 6, AC_OUT_I 10,
         * AC_OUT_V 23001, H19 2551, I -3200, V 56650, VPV 190090. */
        CHECK_INT(b[0].pid, 0xA442);
        CHECK_STR(b[0].serial, "HQ2206WVU9D");
        CHECK_STR(b[0].firmware, "1.09");
        DBL(&b[0], "ac_out.current", 1.0);
        DBL(&b[0], "ac_out.voltage", 230.01);
        DBL(&b[0], "yield.total", 25.51);
        DBL(&b[0], "yield.today", 2.17);
        DBL(&b[0], "battery.current", -3.2);
        DBL(&b[0], "battery.voltage", 56.65);
        DBL(&b[0], "pv.voltage", 190.09);
        TEXT(&b[0], "device.state", "storage");
      }
      free(r);
    }
  }
  free(buf);
}

/* Hand-made streams for the edge cases. */
static size_t feed_str(struct run *r, const char *s) {
  return ved_text_feed(&r->p, (const uint8_t *)s, strlen(s));
}

/* Build "\r\nL\tV...\r\nChecksum\t<c>" with the right checksum byte. */
static size_t make_block(char *out, const char *fields) {
  size_t n = (size_t)sprintf(out, "%s\r\nChecksum\t", fields), i;
  uint8_t sum = 0;
  for (i = 0; i < n; i++) sum = (uint8_t)(sum + (uint8_t)out[i]);
  out[n++] = (char)(uint8_t)(0x100 - sum);
  out[n] = '\0';
  return n;
}

static void test_edges(void) {
  struct run *r = calloc(1, sizeof *r);
  char blk[512], blk2[512];
  size_t n;
  /* Checksum bytes that look like ':' (0x3A), CR, LF, TAB and NUL: pick
   * the characters of a text value so the block needs them, then check the
   * block passes and so does the next one (after an async HEX frame). */
  int want[] = {':', '\r', '\n', '\t', 0};
  size_t w;
  for (w = 0; w < sizeof want / sizeof want[0]; w++) {
    int a, b2, c, found = 0;
    size_t n2;
    for (a = 0x21; a < 0x7f && !found; a++)
      for (b2 = 0x21; b2 < 0x7f && !found; b2++)
        for (c = 0x21; c < 0x7f && !found; c++) {
          char f[64];
          snprintf(f, sizeof f, "\r\nV\t12800\r\nBMV\t%c%c%c", a, b2, c);
          n = make_block(blk, f);
          if ((uint8_t)blk[n - 1] == want[w]) found = 1;
        }
    CHECK(found);
    memset(r, 0, sizeof *r);
    ved_text_init(&r->p, on_block, on_hex, r);
    ved_text_feed(&r->p, (const uint8_t *)blk, n);
    n2 = make_block(blk2, "\r\nV\t1\r\nI\t2");
    feed_str(r, ":A0920000022\n");
    ved_text_feed(&r->p, (const uint8_t *)blk2, n2);
    CHECK_INT(r->p.stats.blocks_valid, 2);
    CHECK_INT(r->hex_ok, 1);
    CHECK_INT(r->nkept, 2);
    CHECK_STR(r->kept[1][1].value, "2");
  }

  /* A HEX frame in the middle of a block, between fields and inside a
   * value: the block still passes. */
  memset(r, 0, sizeof *r);
  ved_text_init(&r->p, on_block, on_hex, r);
  r->p.state = VED_S_IDLE;
  n = make_block(blk, "\r\nV\t12800\r\nI\t-500\r\nCS\t3");
  {
    char mixed[600];
    size_t k = 0, i;
    for (i = 0; i < n; i++) {
      if (i == 9) k += (size_t)sprintf(mixed + k, ":A0102000543\n");
      if (i == 15) k += (size_t)sprintf(mixed + k, ":4AAAAFD\n");
      mixed[k++] = blk[i];
    }
    ved_text_feed(&r->p, (const uint8_t *)mixed, k);
  }
  CHECK_INT(r->p.stats.blocks_valid, 1);
  CHECK_INT(r->hex_ok, 2);
  CHECK_INT(r->nkept_fields[0], 3);
  CHECK_STR(r->kept[0][1].value, "-500");

  /* Garbage: a bad block is dropped and counted, the next one passes. */
  memset(r, 0, sizeof *r);
  ved_text_init(&r->p, on_block, on_hex, r);
  n = make_block(blk, "\r\nV\t12800\r\nI\t-500");
  blk[5] = 'X'; /* corrupt one byte: checksum fails */
  ved_text_feed(&r->p, (const uint8_t *)blk, n);
  feed_str(r, "\x01\xff\xfe garbage without line ends ");
  ved_text_resync(&r->p);
  n = make_block(blk, "\r\nV\t12800\r\nI\t-500");
  ved_text_feed(&r->p, (const uint8_t *)blk, n);
  CHECK_INT(r->p.stats.blocks, 2);
  CHECK_INT(r->p.stats.blocks_valid, 1);
  CHECK_INT(r->p.stats.blocks_bad, 1);
  CHECK_INT(r->nkept, 1);

  /* Overlong label and value, too many fields: the block fails even if
   * the sum is right; the parser recovers for the next block. */
  {
    static const char *bad[] = {
        "\r\nVERYLONGLABEL\t1\r\nV\t2",
        "\r\nV\t123456789012345678901234567890123\r\nI\t1",
        "\r\nV\t1\x01\r\nI\t1",
        "\r\n\tnolabel\r\nI\t1",
        "\r\nV\t1\r\nI\t:ZZ\r\nP\t1",
    };
    size_t k;
    for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
      memset(r, 0, sizeof *r);
      ved_text_init(&r->p, on_block, on_hex, r);
      n = make_block(blk, bad[k]);
      ved_text_feed(&r->p, (const uint8_t *)blk, n);
      n = make_block(blk, "\r\nV\t12800");
      ved_text_feed(&r->p, (const uint8_t *)blk, n);
      if (r->p.stats.blocks_valid != 1) fprintf(stderr, "bad case %zu\n", k);
      CHECK_INT(r->p.stats.blocks_valid, 1);
      CHECK_INT(r->nkept, 1);
      CHECK_STR(r->kept[0][0].value, "12800");
    }
    {
      char many[2048];
      size_t m = 0;
      int f;
      for (f = 0; f < VED_FIELDS_MAX + 1; f++)
        m += (size_t)sprintf(many + m, "\r\nH%d\t%d", f, f);
      memset(r, 0, sizeof *r);
      ved_text_init(&r->p, on_block, on_hex, r);
      {
        static char big[2200];
        n = make_block(big, many);
        ved_text_feed(&r->p, (const uint8_t *)big, n);
      }
      n = make_block(blk, "\r\nV\t12800");
      ved_text_feed(&r->p, (const uint8_t *)blk, n);
      CHECK_INT(r->p.stats.blocks, 2);
      CHECK_INT(r->p.stats.blocks_valid, 1);
    }
  }

  free(r);
}

static int pause_count;
static void pause_end(void *arg, int valid) {
  struct run *r = arg;
  (void)valid;
  pause_count++;
  ved_text_pause(&r->p);
}

static void test_pause(void) {
  size_t len, off = 0, calls = 0;
  unsigned char *buf = ved_test_read("bmv-700_fw3.08.dump", &len);
  struct run *r = calloc(1, sizeof *r);
  ved_text_init(&r->p, on_block, on_hex, r);
  r->p.on_block_end = pause_end;
  while (off < len) {
    off += ved_text_feed(&r->p, buf + off, len - off);
    calls++;
  }
  CHECK_INT(pause_count, 906);
  CHECK_INT(calls, 906 + 1); /* the tail after the last block */
  CHECK_INT(r->p.stats.blocks_valid, 906);
  free(r);
  free(buf);
}

static void test_table(void) {
  size_t n, i;
  const struct ved_label_def *t = ved_label_all(&n);
  char out[64];
  int64_t v;
  for (i = 1; i < n; i++) CHECK(strcmp(t[i - 1].label, t[i].label) < 0);
  for (i = 0; i < n; i++) CHECK(ved_label_find(t[i].label) == &t[i]);
  CHECK(ved_label_find("Checksum") == NULL);
  CHECK(ved_label_find("PID") == NULL);
  /* Enums and bitmasks name their lib/victron label set. */
  CHECK(ved_label_find("AR")->set == &vic_alarm_reason);
  CHECK(ved_label_find("WARN")->set == &vic_alarm_reason);
  CHECK(ved_label_find("CS")->set == &vic_device_state);
  CHECK(ved_label_find("OR")->set == &vic_off_reason);
  for (i = 0; i < n; i++)
    CHECK((t[i].kind == VED_K_ENUM || t[i].kind == VED_K_BITS) ==
          (t[i].set != NULL));
  {
    /* Codes and bits no document names get the one fallback; a bitmask
     * with no bit set is "none" (doc/victron.md "Text"). */
    static struct ved_block b;
    static const struct ved_field f[] = {
        {"CS", "13"}, {"ERR", "0"}, {"AR", "1048577"}, {"OR", "0x00000000"},
        {"MON", "-10"}, {"WARN", "0"}};
    ved_block_decode(f, sizeof f / sizeof f[0], &b);
    TEXT(&b, "device.state", "unknown_13");
    TEXT(&b, "device.error", "no_error");
    TEXT(&b, "device.alarm_reason", "low_voltage,bit_20");
    TEXT(&b, "device.off_reason", "none");
    TEXT(&b, "monitor.mode", "unknown_-10");
    TEXT(&b, "device.warning_reason", "none");
  }
  CHECK_INT(ved_parse_int("-65473", &v), 0);
  CHECK_INT(v, -65473);
  CHECK_INT(ved_parse_int("0x00000001", &v), 0);
  CHECK_INT(v, 1);
  CHECK_INT(ved_parse_int("0x203", &v), 0);
  CHECK_INT(v, 0x203);
  CHECK_INT(ved_parse_int("12a", &v), -EINVAL);
  CHECK_INT(ved_parse_int("", &v), -EINVAL);
  CHECK_INT(ved_parse_int("-", &v), -EINVAL);
  CHECK_INT(ved_parse_int("0x", &v), -EINVAL);
  CHECK_INT(ved_format_fw("0308", 0, out, sizeof out), 0);
  CHECK_STR(out, "3.08");
  CHECK_INT(ved_format_fw("123", 0, out, sizeof out), 0);
  CHECK_STR(out, "1.23");
  CHECK_INT(ved_format_fw("C208", 0, out, sizeof out), 0);
  CHECK_STR(out, "2.08-rcC");
  CHECK_INT(ved_format_fw("0342FF", 1, out, sizeof out), 0);
  CHECK_STR(out, "3.42");
  CHECK_INT(ved_format_fw("316FF", 1, out, sizeof out), 0);
  CHECK_STR(out, "3.16");
  CHECK_INT(ved_format_fw("020801", 1, out, sizeof out), 0);
  CHECK_STR(out, "2.08-beta-01");
  CHECK_INT(ved_format_fw("x1", 1, out, sizeof out), -EINVAL);
  CHECK_STR(out, "x1");
  {
    /* On/Off of the BMV-600 (case), CS 255 and TTG -1 are not available,
     * a bad value is counted and skipped. */
    struct ved_field f[5] = {{"Relay", "On"}, {"CS", "255"}, {"TTG", "-1"},
                             {"V", "12x"}, {"XYZ", "1"}};
    static struct ved_block b;
    ved_block_decode(f, 5, &b);
    CHECK_INT(b.nrecords, 3);
    CHECK_INT(b.records[0].value.i64, 1);
    CHECK_INT(b.records[1].flags, VQ_RECORD_NA);
    CHECK_INT(b.records[2].flags, VQ_RECORD_NA);
    CHECK_INT(b.bad_values, 1);
    CHECK_INT(b.unknown_labels, 1);
  }
}

int main(void) {
  test_counts();
  test_bmv700();
  test_bluesolar();
  test_smartsolar_100_20();
  test_smartsolar_75_15();
  test_smartshunt();
  test_blue_smart();
  test_lossy();
  test_edges();
  test_pause();
  test_table();
  VQTEST_END();
}

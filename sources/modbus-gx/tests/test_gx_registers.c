/* The GX register map and the pure code on it: encodings, names, the
 * choice between registers of one path, block planning and splitting,
 * writes, and the discovery walk. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../../tests/vqtest.h"
#include "../gx_discover.h"
#include "../gx_plan.h"

static const struct gx_register *row(const char *service, int address) {
  const struct gx_register *r = gx_register_at(gx_service_index(service),
                                               (uint16_t)address);
  if (r == NULL) {
    fprintf(stderr, "no row %s %d\n", service, address);
    exit(1);
  }
  return r;
}

static const struct gx_point *point_of(const char *service, int address) {
  return &gx_points[row(service, address)->point];
}

static void test_table(void) {
  size_t i, reserved = 0, writable = 0;
  CHECK_INT(gx_nservices, 33);
  CHECK_INT(gx_nregisters, 1003);
  for (i = 0; i < gx_nregisters; i++) {
    reserved += gx_registers[i].kind == GX_RESERVED;
    writable += gx_registers[i].writable;
    CHECK(gx_registers[i].scale != 0);
    if (i > 0 && gx_registers[i].service == gx_registers[i - 1].service)
      CHECK(gx_registers[i].address > gx_registers[i - 1].address);
  }
  CHECK_INT(reserved, 54);
  CHECK_INT(writable, 154);
}

static void test_names(void) {
  CHECK_STR(point_of("vebus", 9)->quantity, "gx.vebus.ac.active_in.l1.f");
  CHECK_STR(point_of("settings", 2901)->quantity, "ess.min_soc");
  CHECK_STR(point_of("settings", 2900)->quantity,
            "gx.settings.settings.c_gwacs.battery_life.state");
  CHECK_STR(point_of("settings", 2902)->quantity, "ess.mode");
  CHECK_STR(point_of("hub4", 2716)->quantity, "ess.grid_setpoint_override");
  CHECK_STR(point_of("battery", 265)->quantity, "battery.consumed_ah");
  CHECK_STR(point_of("solarcharger", 777)->quantity, "pv.current");
  CHECK_STR(point_of("vebus", 3)->quantity, "ac_in.l1.voltage");
  CHECK_STR(point_of("vebus", 25)->quantity, "ac_out.l3.power");
  CHECK_STR(point_of("grid", 2644)->quantity, "grid.frequency");
  CHECK_STR(point_of("system", 908)->quantity, "grid.l1.power");
  /* AcInput1: no '_' before a digit. */
  {
    size_t p;
    int seen = 0;
    for (p = 0; p < gx_npoints; p++)
      if (strstr(gx_points[p].quantity, "ac_input1")) seen = 1;
    CHECK(seen);
  }
  /* Units as SI symbols; time to go in minutes. */
  CHECK_STR(point_of("battery", 262)->unit, "°C");
  CHECK_STR(point_of("battery", 303)->unit, "min");
  CHECK_STR(point_of("vebus", 26)->unit, "V");
}

static void test_encodings(void) {
  uint16_t w[4];
  double v;
  int64_t raw;
  /* int16 negative: battery current -12.3 A at scale 10. */
  w[0] = (uint16_t)-123;
  CHECK(gx_decode_value(row("battery", 261), w, &v) == 0);
  CHECK_DBL(v, -12.3);
  /* int32 high word first, negative: vebus L1 setpoint -40000 W. */
  w[0] = 0xFFFF;
  w[1] = 0x63C0;
  CHECK(gx_decode_value(row("vebus", 96), w, &v) == 0);
  CHECK_DBL(v, -40000);
  /* uint32 high word first: grid energy 1234567.89 kWh at scale 100. */
  w[0] = 0x075B;
  w[1] = 0xCD15;
  CHECK(gx_decode_value(row("grid", 2634), w, &v) == 0);
  CHECK_DBL(v, 123456789 / 100.0);
  /* Negative scale: consumed Ah, positive raw, negative value. */
  w[0] = 455;
  CHECK(gx_decode_value(row("battery", 265), w, &v) == 0);
  CHECK_DBL(v, -45.5);
  /* Scale 0.01: time to go, raw x 100 s, in minutes. */
  w[0] = 36;
  CHECK(gx_decode_value(row("battery", 303), w, &v) == 0);
  CHECK_DBL(v, 60);
  /* Scale 0.1: VE.Bus AC power in 10 W steps. */
  w[0] = (uint16_t)-25;
  CHECK(gx_decode_value(row("vebus", 12), w, &v) == 0);
  CHECK_DBL(v, -250);
  /* uint64: UTC time. */
  w[0] = 0;
  w[1] = 0;
  w[2] = 0x6930;
  w[3] = 0x0000;
  CHECK(gx_decode_raw(row("system", 830), w, &raw) == 0);
  CHECK_INT(raw, 0x69300000LL);
  /* Strings: high byte first, zero padded. */
  {
    const struct gx_register *r = row("system", 800);
    uint16_t s[6] = {0x6330, 0x3362, 0x3938, 0, 0, 0};
    char text[16];
    gx_decode_string(r, s, text);
    CHECK_STR(text, "c03b98");
  }
}

static void test_firmware(void) {
  uint16_t release[2] = {0x0367, 0}, beta[2] = {0x0370, 47};
  char text[32];
  gx_firmware_text(release, text, sizeof text);
  CHECK_STR(text, "3.67");
  gx_firmware_text(beta, text, sizeof text);
  CHECK_STR(text, "3.70~47");
}

static void test_encode_refuses(void) {
  uint16_t w[2];
  /* -45000 W cannot be an int16: refused, not wrapped. */
  CHECK_INT(gx_encode_value(row("settings", 2700), -45000, w), -ERANGE);
  CHECK_INT(gx_encode_value(row("settings", 2700), -3000, w), 0);
  CHECK_INT((int16_t)w[0], -3000);
  /* Two's complement of an int32 pair. */
  CHECK_INT(gx_encode_value(row("vebus", 96), -100, w), 0);
  CHECK_INT(w[0], 0xFFFF);
  CHECK_INT(w[1], 0xFF9C);
  /* uint16 refuses negatives. */
  CHECK_INT(gx_encode_value(row("system", 806), -1, w), -ERANGE);
}

static void test_write_row(void) {
  const struct gx_register *r;
  uint16_t w[2];
  int err = 0, settings = gx_service_index("settings");
  int point = row("settings", 2700)->point;
  /* Grid setpoint: 2700 when it fits an int16, 2703 (scale 0.01) beyond. */
  r = gx_write_row(settings, point, 5000, w, &err);
  CHECK(r != NULL && r->address == 2700);
  r = gx_write_row(settings, point, -45000, w, &err);
  CHECK(r != NULL && r->address == 2703);
  CHECK_INT((int16_t)w[0], -450);
  r = gx_write_row(settings, point, 5e6, w, &err);
  CHECK(r == NULL && err == -ERANGE);
  /* Read-only points have no row to write. */
  r = gx_write_row(gx_service_index("battery"), row("battery", 259)->point, 12,
                   w, &err);
  CHECK(r == NULL && err == -EPERM);
}

static void test_point_choice(void) {
  struct gx_image img;
  int sc = gx_service_index("solarcharger");
  struct gx_block b789 = {789, 1}, b792 = {792, 2}, b3730 = {3730, 1};
  uint16_t w789 = 12345, w792[2] = {0, 1234}, w3730 = 1234;
  const struct gx_register *used;
  double v;
  CHECK(gx_image_init(&img, sc) == 0);
  /* 789 (0.1 W) agrees with 792 (1 W): the finer one wins. */
  gx_image_store(&img, &b789, &w789);
  gx_image_store(&img, &b792, w792);
  gx_image_store(&img, &b3730, &w3730);
  CHECK(gx_point_value(&img, row("solarcharger", 789)->point, &v, &used) == 0);
  CHECK_DBL(v, 1234.5);
  CHECK_INT(used->address, 789);
  /* 70000 W: the 16-bit registers wrapped, the widest decides. */
  w789 = (uint16_t)(700000 % 65536);
  w792[0] = 1;
  w792[1] = 70000 - 65536;
  w3730 = (uint16_t)(70000 % 65536);
  gx_image_reset(&img);
  gx_image_store(&img, &b789, &w789);
  gx_image_store(&img, &b792, w792);
  gx_image_store(&img, &b3730, &w3730);
  CHECK(gx_point_value(&img, row("solarcharger", 789)->point, &v, &used) == 0);
  CHECK_DBL(v, 70000);
  CHECK_INT(used->address, 792);
  gx_image_free(&img);
}

static void test_blocks(void) {
  struct gx_image img;
  struct gx_block blocks[64], left, right;
  size_t n, i, covered = 0;
  int vebus = gx_service_index("vebus"), system = gx_service_index("system");
  CHECK(gx_image_init(&img, vebus) == 0);
  n = gx_plan_blocks(&img, blocks, 64);
  for (i = 0; i < n; i++) {
    CHECK(blocks[i].count <= GX_MAX_BLOCK);
    covered += blocks[i].count;
  }
  CHECK(n >= 3 && n <= 4); /* 3-147 in two reads, 200-247 in one */
  CHECK_INT(blocks[0].address, 3);
  gx_image_free(&img);

  CHECK(gx_image_init(&img, system) == 0);
  n = gx_plan_blocks(&img, blocks, 64);
  CHECK_INT(blocks[0].address, 800);
  CHECK_INT(blocks[0].count, 120); /* 800-919: the int32 at 918 ends it */
  /* Split at a row boundary near the middle. */
  CHECK(gx_block_split(system, &blocks[0], &left, &right) == 0);
  CHECK_INT(left.address, 800);
  CHECK_INT(left.count + right.count, blocks[0].count);
  CHECK(gx_register_at(system, right.address) != NULL);
  /* A row marked missing ends a block. */
  {
    struct gx_block one = {850, 1};
    gx_image_mark_missing(&img, &one);
    n = gx_plan_blocks(&img, blocks, 64);
    CHECK(n >= 2);
    CHECK_INT(blocks[0].address + blocks[0].count, 850);
  }
  gx_image_free(&img);
  (void)covered;
}

/* A fake system for the walk: which (unit, service) answer. */
static int fake_probe(void *arg, int unit, int service) {
  const char *const *have = arg;
  char key[64];
  int i;
  snprintf(key, sizeof key, "%d %s", unit, gx_services[service]);
  for (i = 0; have[i]; i++)
    if (strcmp(have[i], key) == 0) return 1;
  return 0;
}

static void test_discovery_walk(void) {
  static const char *const have[] = {
      "100 system", "100 settings", "100 hub4", "100 solarcharger",
      "30 grid",  "33 grid",  "204 battery", "223 solarcharger",
      "225 battery", "246 vebus", "215 solarcharger", NULL};
  struct gx_disc *d = calloc(1, sizeof *d);
  int rc, i;
  gx_disc_begin(d, NULL);
  while ((rc = gx_disc_step(d, fake_probe, (void *)have, 7)) == 0) {
  }
  CHECK_INT(rc, 1);
  CHECK_INT(d->nfound, 11);
  CHECK(d->probes <= 600);
  fprintf(stderr, "discovery walk: %u probes for %zu services\n", d->probes,
          d->nfound);
  for (i = 0; have[i]; i++) {
    size_t k;
    int seen = 0;
    for (k = 0; k < d->nfound; k++) {
      char key[64];
      snprintf(key, sizeof key, "%d %s", d->found[k].unit,
               gx_services[d->found[k].service]);
      seen |= strcmp(key, have[i]) == 0;
    }
    CHECK(seen);
  }
  free(d);
}

int main(void) {
  test_table();
  test_names();
  test_encodings();
  test_firmware();
  test_encode_refuses();
  test_write_row();
  test_point_choice();
  test_blocks();
  test_discovery_walk();
  VQTEST_END();
}

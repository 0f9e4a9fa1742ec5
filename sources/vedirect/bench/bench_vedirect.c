/* Parser benchmark: text framing + block decoding of captured VE.Direct
 * bytes (the BMV-700 and MPPT captures, concatenated and repeated), on one
 * core.  Prints MB/s, and the CPU time one device costs per hour at the
 * real rate (one block per second); then the same bytes through the
 * plugin's block assembly (vedirect_stream.c: a stop and a time per block,
 * 4 KiB reads as from a port) and device identity.  Usage:
 * bench_vedirect [MB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../vedirect_fields.h"
#include "../vedirect_hex.h"
#include "../vedirect_ident.h"
#include "../vedirect_stream.h"
#include "../vedirect_text.h"

static struct ved_block blk;
static unsigned long long records;

static void on_block(void *arg, const struct ved_field *f, size_t n) {
  (void)arg;
  ved_block_decode(f, n, &blk);
  records += blk.nrecords;
}

static void on_hex(void *arg, const char *line, size_t len) {
  struct ved_hex_frame fr;
  (void)arg;
  ved_hex_decode(line, len, &fr);
}

static struct ved_ident ident;

static void on_stream_block(void *arg, const struct ved_field *f, size_t n,
                            const struct ved_block_at *at) {
  (void)arg;
  (void)at;
  ved_ident_update(&ident, f, n);
  on_block(NULL, f, n);
}

static unsigned char *slurp(const char *name, size_t *len) {
  char path[1024];
  FILE *f;
  unsigned char *b;
  long n;
  snprintf(path, sizeof path, "%s/%s", VED_TESTDATA, name);
  if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) || (b = malloc((size_t)n)) == NULL ||
      fread(b, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  *len = (size_t)n;
  return b;
}

static double cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  static const char *files[] = {"bmv-700_fw3.08.dump",
                                "smartsolar-mppt-100-20_fw1.39.dump",
                                "bluesolar-mppt-75-15_fw1.23.dump"};
  size_t total = 0, len[3], i, mb = argc > 1 ? (size_t)atoi(argv[1]) : 200;
  unsigned char *buf[3];
  unsigned char *all;
  size_t off = 0, fed = 0;
  struct ved_text p;
  double t0, t, blocks_per_s, bytes_per_block;
  for (i = 0; i < 3; i++) {
    buf[i] = slurp(files[i], &len[i]);
    total += len[i];
  }
  all = malloc(total);
  for (i = 0; i < 3; i++) {
    memcpy(all + off, buf[i], len[i]);
    off += len[i];
  }
  ved_text_init(&p, on_block, on_hex, NULL);
  t0 = cpu_s();
  while (fed < mb * 1000000) {
    ved_text_feed(&p, all, total);
    fed += total;
  }
  t = cpu_s() - t0;
  blocks_per_s = (double)p.stats.blocks_valid / t;
  bytes_per_block = (double)fed / (double)p.stats.blocks;
  printf("parsed %.1f MB in %.3f s CPU: %.1f MB/s, %.0f valid blocks/s, "
         "%llu records\n", fed / 1e6, t, fed / 1e6 / t, blocks_per_s, records);
  printf("one device at 1 block/s (%.0f bytes/block): %.3f ms CPU per "
         "device-hour in the parser\n", bytes_per_block, 3600.0 / blocks_per_s * 1e3);
  {
    struct ved_stream_cb cb = {on_stream_block, NULL, on_hex, NULL};
    static struct ved_stream st;
    int64_t now_ns = 0;
    ved_stream_init(&st, 1, &cb);
    ved_ident_init(&ident, NULL);
    fed = 0;
    t0 = cpu_s();
    while (fed < mb * 1000000) {
      for (off = 0; off < total; off += 4096) {
        size_t n = total - off < 4096 ? total - off : 4096;
        now_ns += 2133333; /* 4 KiB at 19200 baud */
        ved_stream_feed(&st, all + off, n, (uint64_t)(now_ns / 1000000), now_ns);
      }
      fed += total;
    }
    t = cpu_s() - t0;
    printf("block assembly + identity: %.1f MB in %.3f s CPU: %.1f MB/s, "
           "%.0f valid blocks/s\n", fed / 1e6, t, fed / 1e6 / t,
           (double)st.text.stats.blocks_valid / t);
  }
  for (i = 0; i < 3; i++) free(buf[i]);
  free(all);
  return 0;
}

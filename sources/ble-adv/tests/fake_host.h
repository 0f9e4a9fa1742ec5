/* A stand-in for the vicacq core in plugin tests: struct vq_host on a
 * libuv loop, recording emitted readings, log lines, counters and the
 * finished() call. */
#ifndef BLE_FAKE_HOST_H
#define BLE_FAKE_HOST_H

#include <stdint.h>

#include <uv.h>

#include "vicacq/plugin.h"

struct fh_record {
  char quantity[48];
  uint32_t type, flags;
  double f64;
  int64_t i64;
  char text[512];
  int has_text;
};

struct fh_reading {
  char device[32];
  int64_t time_ns;
  char product[96];
  char product_id[16];
  int nrecords;
  struct fh_record records[32];
};

struct fh;

uv_loop_t *fh_loop(void);
/* kv: NULL-terminated key, value, key, value, ... (copied). */
struct fh *fh_new(const struct vq_plugin *plugin, const char *id, const char *const *kv);
int fh_create_start(struct fh *h);
/* Run the loop until finished() or timeout; 1 if finished. */
int fh_run_until_finished(struct fh *h, uint64_t timeout_ms);
/* Run the loop for ms. */
void fh_run_for(uint64_t ms);
/* Stop (waiting for the stopped callback) and destroy; 0 if it stopped. */
int fh_stop_destroy(struct fh *h);
void fh_free(struct fh *h);

int fh_nreadings(const struct fh *h);
const struct fh_reading *fh_reading_at(const struct fh *h, int i);
const struct fh_record *fh_find(const struct fh_reading *r, const char *quantity);
int64_t fh_stat(const struct fh *h, const char *name);
/* Number of log lines at `level` containing `needle`. */
int fh_log_count(const struct fh *h, int level, const char *needle);
int fh_finished(const struct fh *h);
void fh_quiet(int quiet);
/* Called for every emitted reading (after it is recorded). */
void fh_on_emit(void (*fn)(const char *id, const struct fh_reading *r));

#endif

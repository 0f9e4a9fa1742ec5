/* The test host: the whole struct vq_host of ABI 1.2 (cfg_bind included)
 * on a real libuv loop,
 * for running one plugin instance in a unit test.
 *
 * It behaves like the daemon where a plugin can tell: options are checked
 * against the plugin's schema and read with the core's own parsers (the
 * test links daemon/libvqcore.la), emitted readings are copied and
 * validated by the core's vq_item_copy, a reading emitted while the
 * instance is not started is dropped, cfg_error fails the check, create
 * or start that is running, check() gets a ctx of its own that dies when
 * it returns, timers are the instance's own, post() refuses with
 * -ESHUTDOWN once the instance stopped (pending posts are discarded).  What it
 * cannot decide (the sink queues' fill, the state directory) the test
 * sets.  Misuse of the ABI the core would log as "plugin bug" is counted
 * (vqt_host_bugs) and printed.
 *
 * Lifetimes: strings given to vqt_host_new are copied.  Pointers returned
 * by the getters stay valid until the next call that records something
 * (emit, log, ...) or vqt_host_free, whichever is first, unless said
 * otherwise. */
#ifndef VQT_HOST_H
#define VQT_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "vicacq/plugin.h"
#include "vqt_reading.h"

struct vqt_host;

/* A host for one instance of `plugin` as [source.ID] (kind VQ_KIND_SOURCE)
 * or [sink.ID] (VQ_KIND_SINK).  kv: "key", "value", ..., NULL: the
 * section's lines (write.QUANTITY = MIN..MAX grants a range, KEY_file a
 * secret, as in a pipeline file).  NULL only when out of memory. */
struct vqt_host *vqt_host_new(uv_loop_t *loop, const struct vq_plugin *plugin,
                              uint32_t kind, const char *id,
                              const char *const *kv);
/* Stop the instance if it runs (vqt_host_stop), destroy it, free all. */
void vqt_host_free(struct vqt_host *h);

/* The steps the daemon takes, each running the ones before it that have
 * not run yet: the schema and the plugin's check() (as --check does),
 * create(), start().  0, or the first failure (-EINVAL for a section that
 * fails its checks; the reasons are in vqt_host_errors). */
int vqt_host_check(struct vqt_host *h);
int vqt_host_create(struct vqt_host *h);
int vqt_host_start(struct vqt_host *h);
/* stop(), then run the loop until the plugin reports it stopped (at most
 * 5 s), then destroy().  0, or -ETIMEDOUT when it never reported.  Safe to
 * call when nothing was created. */
int vqt_host_stop(struct vqt_host *h);

/* Run the loop until pred(h, arg) is true (checked after every loop
 * iteration and every 5 ms) or timeout_ms has passed.  1 if pred became
 * true. */
int vqt_host_run_until(struct vqt_host *h,
                       int (*pred)(struct vqt_host *h, void *arg), void *arg,
                       uint64_t timeout_ms);
/* Until finished() was called, or at least n readings were recorded. */
int vqt_host_run_until_finished(struct vqt_host *h, uint64_t timeout_ms);
int vqt_host_run_until_readings(struct vqt_host *h, size_t n,
                                uint64_t timeout_ms);
/* Run the loop for ms milliseconds. */
void vqt_host_run_for(struct vqt_host *h, uint64_t ms);

/* What the test controls. */
void vqt_host_set_backlog(struct vqt_host *h, int percent);
/* NULL (the default) makes state_dir() return NULL. */
void vqt_host_set_state_dir(struct vqt_host *h, const char *dir);
/* Called for every recorded reading, right after it is recorded. */
void vqt_host_on_emit(struct vqt_host *h,
                      void (*fn)(void *arg, const struct vq_reading *r),
                      void *arg);

/* ---- What the plugin did ---- */

const struct vq_plugin *vqt_host_plugin(const struct vqt_host *h);
void *vqt_host_instance(const struct vqt_host *h);

/* Readings emitted while started, in order, as the core copied them
 * (time_ns 0 replaced by the time of emit, seq counting from 1, NULL
 * units filled from the vocabulary).  Valid until vqt_host_free or
 * vqt_host_clear. */
size_t vqt_host_nreadings(const struct vqt_host *h);
const struct vq_reading *vqt_host_reading(const struct vqt_host *h, size_t i);
/* All of them, for vqt_feed. */
const struct vq_reading *const *vqt_host_readings(const struct vqt_host *h);
/* Number of emitted readings whose time_ns differs from every earlier
 * one's (equal times are what a time-series database merges). */
size_t vqt_host_distinct_times(const struct vqt_host *h);

/* Every reading is also kept as text lines, one per record
 * ("DEVICE QUANTITY=VALUE", enums and bitmasks "CODE [LABEL]", "NA" for
 * not-available records) and one per tag whose value for the device
 * changed ("DEVICE tag KEY=VALUE").  Number of lines containing needle;
 * *last (if not NULL) gets the last of them. */
size_t vqt_host_count(const struct vqt_host *h, const char *needle,
                      const char **last);
/* Index of the first line containing needle at or after line `from`, or
 * (size_t)-1; and the line itself. */
size_t vqt_host_find_line(const struct vqt_host *h, size_t from,
                          const char *needle);
const char *vqt_host_line(const struct vqt_host *h, size_t i);
/* Forget the readings and lines recorded so far. */
void vqt_host_clear(struct vqt_host *h);

/* Number of finished() calls. */
int vqt_host_finished(const struct vqt_host *h);
/* Log lines at `level` or more severe containing needle (NULL: any). */
size_t vqt_host_log_count(const struct vqt_host *h, int level,
                          const char *needle);
/* cfg_error reports and schema failures: "key 'KEY': MESSAGE", or
 * "MESSAGE" for the section.  Number containing needle (NULL: all). */
size_t vqt_host_errors(const struct vqt_host *h, const char *needle);
/* Counter value (stat_add); 0 for one never added to. */
int64_t vqt_host_stat(const struct vqt_host *h, const char *name);
/* ABI misuse the core would log as a plugin bug. */
int vqt_host_bugs(const struct vqt_host *h);
/* Open timers of the instance. */
size_t vqt_host_ntimers(const struct vqt_host *h);

/* ---- Control path ---- */

/* A command_done call. */
struct vqt_done {
  uint64_t ticket;
  int status;
  char message[256];
};

/* Hand a command for `quantity` of `device` (NULL: the plugin picks) to
 * the plugin's command(), as the core does once it has checked the grant:
 * deadline `deadline_ms` from now.  Returns the ticket; when command()
 * itself returns an error, that is recorded as its completion. */
uint64_t vqt_host_command(struct vqt_host *h, const char *device,
                          const char *quantity, double value, const char *unit,
                          int64_t deadline_ms);
size_t vqt_host_ndone(const struct vqt_host *h);
/* The i-th completion, or NULL. */
const struct vqt_done *vqt_host_done(const struct vqt_host *h, size_t i);
/* The completion of ticket, or NULL while it has none. */
const struct vqt_done *vqt_host_done_of(const struct vqt_host *h,
                                        uint64_t ticket);
/* Commands a sink submitted (command_submit), in order. */
size_t vqt_host_nsubmitted(const struct vqt_host *h);
const struct vq_command *vqt_host_submitted(const struct vqt_host *h,
                                            size_t i);
/* Complete the i-th submitted command: the sink's command_result(). */
void vqt_host_submitted_result(struct vqt_host *h, size_t i, int status,
                               const char *message);

/* ---- Sinks ---- */

/* A batch_done call. */
struct vqt_batch_result {
  int status;
  uint32_t done, rejected;
  char reason[256];
};

/* Hand readings[0..n) to the sink's write() as one batch (attempt as
 * given) and run the loop until batch_done (at most timeout_ms).  Returns
 * the status (enum vq_write_status), -ETIMEDOUT when batch_done never
 * came, or write()'s negative errno; *res (may be NULL) gets the call. */
int vqt_host_write(struct vqt_host *h, const struct vq_reading *const *readings,
                   size_t n, uint32_t attempt, uint64_t timeout_ms,
                   struct vqt_batch_result *res);
/* vqt_host_write as a vqt_feed_fn (arg: the host; 5 s per batch; a
 * status other than VQ_WRITE_OK is returned). */
int vqt_host_write_fn(void *arg, const struct vq_reading *const *readings,
                      size_t n);

#endif

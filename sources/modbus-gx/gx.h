/* modbus-gx: one instance, shared by the loop side (gx_plugin.c) and the
 * worker thread that owns the libmodbus connection (gx_worker.c).
 *
 * Threading: libmodbus blocks, so each instance runs it on a thread of its
 * own (not libuv's pool, which file I/O and DNS also need).  The worker
 * touches only the fields marked "worker"; the loop only those marked
 * "loop"; the rest is under `mu`.  Results go to the loop with host->post
 * (the only thread-safe host call). */
#ifndef VQ_GX_H
#define VQ_GX_H

#include <modbus.h>
#include <stdint.h>
#include <uv.h>

#include <vicacq/plugin.h>

#include "gx_discover.h"
#include "gx_plan.h"

#define GX_MAX_FOUND 64   /* (unit, service) pairs of one system */
#define GX_MAX_REFRESH 8  /* setpoints re-written periodically */

/** A (unit, service) the GX answers for. */
struct gx_found {
  uint8_t unit;
  int service;
  int available;            /* worker: 0 after 0x0A until it answers again */
  struct gx_image image;    /* worker */
  struct gx_block *blocks;  /* worker: the plan, split on 0x02 */
  size_t nblocks;
};

/** A command waiting for the worker. */
struct gx_job {
  struct gx_job *next;
  uint64_t ticket;
  uint8_t unit;
  int service;
  int point;
  double value;
};

/** A setpoint the GX forgets after 10-60 s, re-written until replaced. */
struct gx_refresh {
  uint8_t unit;
  uint16_t address;
  uint16_t count;
  uint16_t words[2];
  uint64_t due_ms;
};

enum gx_mode { GX_MODE_POLL, GX_MODE_SCAN };

struct gx {
  const struct vq_host *host;
  struct vq_ctx *ctx;

  /* configuration (read-only after create) */
  const char *hostname;
  char port[8];
  uint64_t interval_ms, timeout_ms, refresh_ms;
  int mode;
  uint8_t units[256];       /* units = list: 1 for each; all 0 = auto */
  int units_auto;
  char cache_path[4096];    /* discovery result in state_dir, "" = none */

  /* shared, under mu */
  uv_mutex_t mu;
  uv_cond_t cv;
  int stopping;
  struct gx_job *jobs, **jobs_tail;

  /* worker */
  uv_thread_t thread;
  modbus_t *mb;
  int connected;
  unsigned timeouts;        /* in a row */
  int healthy;              /* the last poll cycle read data */
  int ever_healthy;
  int refused_logged;       /* "cannot connect" said since the last data */
  uint64_t backoff_ms;
  struct gx_found found[GX_MAX_FOUND];
  size_t nfound;
  int discovered;
  struct gx_disc *rediscovery; /* a background walk, a few probes a cycle */
  struct gx_refresh refresh[GX_MAX_REFRESH];
  size_t nrefresh;
  uint64_t requests;        /* sent since start (stat and tests) */

  /* loop */
  vq_stopped_cb stopped;
  int thread_started;
};

/** Start/stop the worker (gx_worker.c).  gx_worker_stop only asks; the
 *  worker posts gx_worker_exited when it is done. */
int gx_worker_start(struct gx *gx);
void gx_worker_stop(struct gx *gx);
/** Queue a command for the worker (loop thread). */
void gx_worker_submit(struct gx *gx, struct gx_job *job);

/* What the worker hands the loop (gx_plugin.c implements these; each takes
 * a heap object that the callee frees). */

/** One value of a point in a reading. */
struct gx_sample {
  int point;
  int na;
  double value;
  char *text;               /* strings */
};

/** One reading for one device. */
struct gx_out {
  struct gx *gx;
  char device[8];
  int service;              /* for the `service` tag */
  int64_t time_ns;
  int online;               /* -1: no link record, else link.online */
  struct gx_sample *samples;
  size_t nsamples;
  char *product, *product_id, *custom_name, *serial, *firmware;
};
void gx_post_reading(struct gx *gx, struct gx_out *out);
/** A log line (level, text) from the worker. */
void gx_post_log(struct gx *gx, int level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void gx_post_command_done(struct gx *gx, uint64_t ticket, int status,
                          const char *message);
void gx_post_stat(struct gx *gx, const char *name, int64_t delta);
/** Scan mode: discovery finished; `text` (malloc'd, taken) is printed. */
void gx_post_scan_done(struct gx *gx, char *text);
/** Free a reading that was not posted. */
void gx_out_free(struct gx_out *out);
/** The worker has returned; the loop joins it and completes stop. */
void gx_post_exited(struct gx *gx);

/** The device id of a (unit, service): system, settings and hub4 are "100",
 *  other instance-0 services "0", the rest the unit in decimal. */
void gx_device_id(int unit, int service, char out[8]);

#endif

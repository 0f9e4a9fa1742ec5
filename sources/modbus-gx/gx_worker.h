/* What the three parts of a modbus-gx worker thread share: the connection
 * and its requests (gx_worker.c), poll cycles and the readings they make
 * (gx_poll.c), commands and setpoint refresh (gx_write.c).  Everything
 * here runs on the instance's worker thread only (gx.h, "Threading"). */
#ifndef VQ_GX_WORKER_H
#define VQ_GX_WORKER_H

#include <stdint.h>

#include "gx.h"

/* gx_worker.c */
uint64_t gx_now_ms(void);
int64_t gx_wall_ns(void);
int gx_stopping(struct gx *gx);
/** One read: 0, the Modbus exception code (> 0), or -errno. */
int gx_read_block(struct gx *gx, int unit, uint16_t address, uint16_t count,
                  uint16_t *words);
/** A libmodbus errno that is a Modbus exception. */
int gx_is_exception(int err);
/** After a failed request: flush, or reconnect (doc/protocols/modbus-gx.md §9). */
void gx_request_failed(struct gx *gx, int err);
struct gx_found *gx_found_at(struct gx *gx, int unit, int service);
/** A unit stopped answering: walk the candidates again in the background. */
void gx_rediscover_begin(struct gx *gx);

/* gx_poll.c */
/** Read every block of a (unit, service): 1 data, 0 unavailable, -errno. */
int gx_poll_found(struct gx *gx, struct gx_found *f);
struct gx_out *gx_out_new(struct gx *gx, const struct gx_found *f);
void gx_tag_device(struct gx_out *out, const struct gx_image *img);
/** One poll cycle: every (unit, service), then one reading per device. */
int gx_poll_cycle(struct gx *gx);
/** Scan mode: what was found, with identities and the units line. */
void gx_scan_report(struct gx *gx);

/* gx_write.c */
void gx_run_jobs(struct gx *gx);
/** Commands still queued when the instance stops are failed, not sent. */
void gx_fail_jobs(struct gx *gx);
/** Setpoints the GX drops after 10-60 s, written again when due. */
void gx_run_refresh(struct gx *gx);

#endif

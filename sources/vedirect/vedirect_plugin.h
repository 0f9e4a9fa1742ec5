/* The vedirect plugin's instance, shared by the files that make it up:
 *   vedirect_plugin.c  descriptor, options, check(), tools, life cycle,
 *                      port callbacks
 *   vedirect_emit.c    readings: blocks to records, held blocks, link state,
 *                      replay pacing
 *   vedirect_link.c    the HEX side: request queue timers, probe, frames,
 *                      commands (through vedirect_write.c)
 * and the pure parts: vedirect_stream.c (block assembly), vedirect_ident.c
 * (device identity), vedirect_write.c (writable registers),
 * vedirect_dump.c (raw dump writer), the protocol files. */
#ifndef VEDIRECT_PLUGIN_H
#define VEDIRECT_PLUGIN_H

#include <stdint.h>
#include <uv.h>

#include "vicacq/plugin.h"
#include "vedirect_control.h"
#include "vedirect_dump.h"
#include "vedirect_fields.h"
#include "vedirect_ident.h"
#include "vedirect_port.h"
#include "vedirect_stream.h"
#include "vedirect_write.h"
#include "vq_replay.h"

#define VED_Q_ONLINE "link.online"

struct vd {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  uv_loop_t *loop;

  /* options (strings live until destroy: the host's) */
  const char *port_spec, *output;
  char *file_spec; /* "file:" + capture, when capture = FILE */
  double speed;
  int loop_file, dump, hex_probe;
  uint64_t seconds_ms, min_write_ms, hex_timeout_ms, stale_ms,
      reconnect_max_ms;
  int64_t hex_retries;

  struct ved_port *port;
  int port_kind, port_up;
  struct ved_stream stream;
  struct ved_ident ident;
  struct ved_ctl ctl;
  struct ved_writer writer;
  struct vq_timer *ctl_timer, *stale_timer, *pace_timer, *dump_timer;
  uint64_t last_block_ms;

  /* the newest block without identity, waiting for one */
  int held;
  size_t held_n;
  int64_t held_time;
  struct ved_field held_fields[VED_FIELDS_MAX];
  struct ved_block blk; /* decode space */

  int online, ever_online, writables_read;

  /* replay (file: ports) */
  struct vq_replay replay;
  int seen_pid;
  uint64_t cycle;     /* device cycles begun this pass */
  uint64_t cycle_pos; /* stream position where the cycle's first block ended */
  int pending;               /* a block waits for its time */
  size_t pending_n;
  int64_t pending_stamp;
  struct ved_field pending_fields[VED_FIELDS_MAX];

  /* dump */
  struct ved_dump dumpw;
  int dump_open;

  int stopping, finished_sent;
  vq_stopped_cb stopped;
};

/* vedirect_emit.c */
uint64_t vd_now_ms(struct vd *v);
int64_t vd_now_ns(void);
void vd_emit_one(struct vd *v, const char *quantity, int type, double f,
                 int64_t i);
void vd_set_online(struct vd *v, int online, const char *why, int err);
/* The stream's callbacks. */
void vd_on_block(void *arg, const struct ved_field *fields, size_t n,
                 const struct ved_block_at *at);
void vd_on_bad_block(void *arg);
/* A looping file replay started over. */
void vd_replay_rewound(struct vd *v);
/* The end of a replay: a block still held for identity is dropped. */
void vd_replay_end(struct vd *v);

/* vedirect_link.c */
void vd_link_init(struct vd *v);
void vd_on_hexline(void *arg, const char *line, size_t len);
/* The device became known on a live port: probe, publish writables. */
void vd_link_identified(struct vd *v);
/* The port went down, or the instance stops: fail what is in flight. */
void vd_link_cancel(struct vd *v, int status, const char *why);
int vd_command(void *instance, const struct vq_command *cmd);

#endif

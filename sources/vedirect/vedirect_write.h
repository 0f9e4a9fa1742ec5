/* VE.Direct writes: a table of writable HEX registers and the one machine
 * that carries out a command on any of them:
 *   Get -> same value?  done, not rewritten (non-volatile memory)
 *       -> wait for min_write_interval since the last write of the register
 *          (or refuse when that is past the command's deadline)
 *       -> Set -> Get to verify -> done.
 * The core has checked the grant, unit, finite value and range and sends
 * one command per quantity at a time (daemon/control.c); what is left here
 * is what only the device can say.  The next writable register is one
 * row of VED_WRITE_ROWS. */
#ifndef VEDIRECT_WRITE_H
#define VEDIRECT_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"
#include "vedirect_hex.h"

/* X(quantity, unit, register, width in bytes (unsigned, little-endian),
 *   scale (quantity units per raw unit), decimals, help) */
#define VED_WRITE_ROWS(X)                                                     \
  X("charger.current_limit", "A", 0xEDF0, 2, 0.1, 1,                          \
    "charge current limit, HEX register 0xEDF0 (non-volatile; same value "   \
    "is not rewritten, writes are spaced by min_write_interval)")

struct ved_write_reg {
  const char *quantity, *unit;
  uint16_t reg;
  uint8_t width;
  double scale;
  int decimals; /* for messages: "3.0 A" */
};

/* The rows, in table order; VED_WRITE_NREGS of them. */
extern const struct ved_write_reg ved_write_regs[];
/* The same rows as the descriptor's writables (limits: 0 .. the largest
 * raw value of the width times scale), ended by a NULL quantity. */
extern const struct vq_writable ved_writables[];

#define VED_WRITE_COUNT_(q, u, r, w, s, d, h) +1
#define VED_WRITE_NREGS (0 VED_WRITE_ROWS(VED_WRITE_COUNT_))

/* HEX request tags from here up belong to the writer. */
#define VED_WRITE_TAG0 0x100u

/* What the writer needs from the plugin. */
struct ved_write_ops {
  /* Queue a HEX Get (val NULL) or Set of reg; 0 or -errno. */
  int (*submit)(void *arg, int set, uint16_t reg, const uint8_t *val,
                size_t vlen, uint32_t tag);
  /* The value the device uses now (emit it). */
  void (*value)(void *arg, const struct ved_write_reg *r, double value);
  /* A command is finished (command_done). */
  void (*done)(void *arg, uint64_t ticket, int status, const char *msg);
  /* One-shot timer (host timer_start / timer_stop). */
  struct vq_timer *(*timer_start)(void *arg, uint64_t ms, vq_callback cb,
                                  void *cb_arg);
  void (*timer_stop)(void *arg, struct vq_timer *t);
  uint64_t (*now_ms)(void *arg); /* loop clock */
  int64_t (*now_ns)(void *arg);  /* wall clock, for deadlines */
  void *arg;
};

enum ved_write_phase { VED_W_IDLE = 0, VED_W_GET1, VED_W_WAIT, VED_W_SET,
                       VED_W_GET2 };

struct ved_writer;

struct ved_write_slot {
  struct ved_writer *w;
  const struct ved_write_reg *r;
  enum ved_write_phase phase;
  uint64_t ticket;
  uint32_t raw, tag, read_tag;
  int64_t deadline_ns;
  int have_written, known;
  uint64_t last_write_ms;
  uint32_t known_raw;
  struct vq_timer *timer;
};

struct ved_writer {
  struct ved_write_ops ops;
  uint64_t min_write_ms;
  uint32_t next_tag;
  struct ved_write_slot slots[VED_WRITE_NREGS];
};

void ved_writer_init(struct ved_writer *w, const struct ved_write_ops *ops,
                     uint64_t min_write_ms);
/* Start a command.  0 when it runs (ops.done follows), else -errno with
 * *why a static reason (nothing else happens). */
int ved_writer_command(struct ved_writer *w, const struct vq_command *cmd,
                       const char **why);
/* Publish the value in use of the row for `quantity` (a Get whose answer
 * goes to ops.value).  0 or -errno. */
int ved_writer_read(struct ved_writer *w, const char *quantity);
/* A HEX request with tag >= VED_WRITE_TAG0 finished (ved_ctl done). */
void ved_writer_reply(struct ved_writer *w, uint32_t tag, int status,
                      const struct ved_hex_frame *reply);
/* A register frame nobody asked for (async, or a Get of the app): keeps
 * the cached value true; emits it when it changed. */
void ved_writer_observe(struct ved_writer *w, const struct ved_hex_reg *reg);
/* Finish every command in flight with status (port lost, stopping). */
void ved_writer_cancel(struct ved_writer *w, int status, const char *msg);

#endif

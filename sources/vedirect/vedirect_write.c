/* VE.Direct writes (see vedirect_write.h). */
#include "vedirect_write.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define AS_REG_(q, u, r, w, s, d, h) {q, u, r, w, s, d},
#define AS_WRITABLE_(q, u, r, w, s, d, h) \
  {q, u, 0, (double)((1ull << (8 * (w))) - 1) * (s), s, h},

const struct ved_write_reg ved_write_regs[] = {VED_WRITE_ROWS(AS_REG_)};
const struct vq_writable ved_writables[] = {
    VED_WRITE_ROWS(AS_WRITABLE_){NULL, NULL, 0, 0, 0, NULL}};

void ved_writer_init(struct ved_writer *w, const struct ved_write_ops *ops,
                     uint64_t min_write_ms) {
  size_t i;
  memset(w, 0, sizeof *w);
  w->ops = *ops;
  w->min_write_ms = min_write_ms;
  w->next_tag = VED_WRITE_TAG0;
  for (i = 0; i < VED_WRITE_NREGS; i++) {
    w->slots[i].w = w;
    w->slots[i].r = &ved_write_regs[i];
  }
}

static struct ved_write_slot *slot_of(struct ved_writer *w, const char *q) {
  size_t i;
  for (i = 0; q != NULL && i < VED_WRITE_NREGS; i++)
    if (strcmp(w->slots[i].r->quantity, q) == 0) return &w->slots[i];
  return NULL;
}

static uint32_t new_tag(struct ved_writer *w) {
  uint32_t t = w->next_tag++;
  if (w->next_tag < VED_WRITE_TAG0) w->next_tag = VED_WRITE_TAG0; /* wrap */
  return t;
}

static double value_of(const struct ved_write_slot *s, uint32_t raw) {
  return (double)raw * s->r->scale;
}

static void finish(struct ved_write_slot *s, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void finish(struct ved_write_slot *s, int status, const char *fmt,
                   ...) {
  struct ved_writer *w = s->w;
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (s->timer) {
    w->ops.timer_stop(w->ops.arg, s->timer);
    s->timer = NULL;
  }
  s->phase = VED_W_IDLE;
  w->ops.done(w->ops.arg, s->ticket, status, msg);
}

static void learn(struct ved_write_slot *s, uint32_t raw) {
  s->known = 1;
  s->known_raw = raw;
  s->w->ops.value(s->w->ops.arg, s->r, value_of(s, raw));
}

static int submit(struct ved_write_slot *s, int set) {
  uint8_t val[4];
  unsigned i;
  for (i = 0; i < s->r->width; i++) val[i] = (uint8_t)(s->raw >> (8 * i));
  s->tag = new_tag(s->w);
  return s->w->ops.submit(s->w->ops.arg, set, s->r->reg, set ? val : NULL,
                          set ? s->r->width : 0, s->tag);
}

int ved_writer_command(struct ved_writer *w, const struct vq_command *cmd,
                       const char **why) {
  struct ved_write_slot *s = slot_of(w, cmd->quantity);
  double raw;
  int rc;
  if (s == NULL) {
    *why = "this quantity cannot be written";
    return -EOPNOTSUPP;
  }
  if (s->phase != VED_W_IDLE) {
    *why = "a command for this quantity is in flight";
    return -EBUSY;
  }
  raw = round(cmd->value / s->r->scale);
  if (!(raw >= 0 && raw <= (double)((1ull << (8 * s->r->width)) - 1))) {
    *why = "the value does not fit the register";
    return -ERANGE;
  }
  s->ticket = cmd->ticket;
  s->raw = (uint32_t)raw;
  s->deadline_ns = cmd->deadline_ns;
  s->phase = VED_W_GET1;
  if ((rc = submit(s, 0)) < 0) {
    s->phase = VED_W_IDLE;
    *why = "cannot queue the HEX Get";
    return rc;
  }
  return 0;
}

int ved_writer_read(struct ved_writer *w, const char *quantity) {
  struct ved_write_slot *s = slot_of(w, quantity);
  if (s == NULL) return -EOPNOTSUPP;
  s->read_tag = new_tag(w);
  return w->ops.submit(w->ops.arg, 0, s->r->reg, NULL, 0, s->read_tag);
}

static void do_set(void *arg) {
  struct ved_write_slot *s = arg;
  struct ved_writer *w = s->w;
  int rc;
  if (s->timer) { /* called from the spacing timer */
    w->ops.timer_stop(w->ops.arg, s->timer);
    s->timer = NULL;
  }
  if (s->deadline_ns && w->ops.now_ns(w->ops.arg) > s->deadline_ns) {
    finish(s, -ETIMEDOUT, "deadline passed before the write");
    return;
  }
  s->phase = VED_W_SET;
  s->have_written = 1;
  s->last_write_ms = w->ops.now_ms(w->ops.arg);
  if ((rc = submit(s, 1)) < 0)
    finish(s, rc, "cannot queue the Set: %s", strerror(-rc));
}

/* Writes go to non-volatile memory: keep them min_write_interval apart. */
static void schedule_set(struct ved_write_slot *s) {
  struct ved_writer *w = s->w;
  uint64_t now = w->ops.now_ms(w->ops.arg), wait = 0;
  if (s->have_written && now < s->last_write_ms + w->min_write_ms)
    wait = s->last_write_ms + w->min_write_ms - now;
  if (wait == 0) {
    do_set(s);
    return;
  }
  if (s->deadline_ns &&
      w->ops.now_ns(w->ops.arg) + (int64_t)wait * 1000000 > s->deadline_ns) {
    finish(s, -EBUSY,
           "the last write was %.1f s ago and writes are at least %.1f s "
           "apart (min_write_interval); try again later",
           (double)(now - s->last_write_ms) / 1000.0,
           (double)w->min_write_ms / 1000.0);
    return;
  }
  s->phase = VED_W_WAIT;
  s->timer = w->ops.timer_start(w->ops.arg, wait, do_set, s);
  if (s->timer == NULL) finish(s, -ENOMEM, "cannot start a timer");
}

static int raw_of(const struct ved_write_slot *s, const struct ved_hex_reg *reg,
                  uint32_t *raw) {
  unsigned i;
  if (reg->value == NULL || reg->vlen < s->r->width) return -EPROTO;
  *raw = 0;
  for (i = 0; i < s->r->width; i++) *raw |= (uint32_t)reg->value[i] << (8 * i);
  return 0;
}

static void on_reply(struct ved_write_slot *s, int status,
                     const struct ved_hex_frame *reply) {
  struct ved_hex_reg reg = {0, 0, NULL, 0};
  const int d = s->r->decimals;
  const char *u = s->r->unit;
  uint32_t raw = 0;
  int have = 0;
  if (status < 0) {
    finish(s, status, "%s of register 0x%04X failed: %s",
           s->phase == VED_W_SET ? "Set" : "Get", s->r->reg,
           status == -ETIMEDOUT ? "no answer from the device"
                                : strerror(-status));
    return;
  }
  if (ved_hex_reg_parse(reply, &reg) == 0 && raw_of(s, &reg, &raw) == 0)
    have = 1;
  if (reg.flags != 0) {
    if (have && !(reg.flags & VED_FLAG_UNKNOWN_ID)) learn(s, raw);
    if (have)
      finish(s, -EINVAL, "device refused %.*f %s: %s; it uses %.*f %s", d,
             value_of(s, s->raw), u, ved_hex_flags_text(reg.flags), d,
             value_of(s, raw), u);
    else
      finish(s, -EINVAL, "device refused %.*f %s: %s", d, value_of(s, s->raw),
             u, ved_hex_flags_text(reg.flags));
    return;
  }
  if (!have) {
    finish(s, -EPROTO, "short reply for register 0x%04X", s->r->reg);
    return;
  }
  switch (s->phase) {
  case VED_W_GET1:
    learn(s, raw);
    if (raw == s->raw) {
      finish(s, 0, "already %.*f %s; not rewritten (non-volatile memory)", d,
             value_of(s, raw), u);
      return;
    }
    schedule_set(s);
    break;
  case VED_W_SET:
    /* The device wrote by the time it replied: space the next write from
     * here, so a Set delayed on the way in cannot shorten the interval. */
    s->last_write_ms = s->w->ops.now_ms(s->w->ops.arg);
    /* The Set reply carries the value in use; confirm with a Get. */
    s->phase = VED_W_GET2;
    if ((status = submit(s, 0)) < 0)
      finish(s, status, "cannot queue the Get: %s", strerror(-status));
    break;
  case VED_W_GET2:
    learn(s, raw);
    if (raw == s->raw)
      finish(s, 0, "set to %.*f %s", d, value_of(s, raw), u);
    else
      finish(s, -EIO, "device reports %.*f %s after writing %.*f %s", d,
             value_of(s, raw), u, d, value_of(s, s->raw), u);
    break;
  default:
    break;
  }
}

void ved_writer_reply(struct ved_writer *w, uint32_t tag, int status,
                      const struct ved_hex_frame *reply) {
  size_t i;
  for (i = 0; i < VED_WRITE_NREGS; i++) {
    struct ved_write_slot *s = &w->slots[i];
    if (s->phase != VED_W_IDLE && s->phase != VED_W_WAIT && tag == s->tag) {
      on_reply(s, status, reply);
      return;
    }
    if (s->read_tag != 0 && tag == s->read_tag) {
      struct ved_hex_reg reg;
      uint32_t raw;
      s->read_tag = 0;
      if (status == 0 && ved_hex_reg_parse(reply, &reg) == 0 &&
          reg.flags == 0 && raw_of(s, &reg, &raw) == 0)
        learn(s, raw);
      return;
    }
  }
  /* a reply to a request whose command already finished: nothing to do */
}

void ved_writer_observe(struct ved_writer *w, const struct ved_hex_reg *reg) {
  size_t i;
  if (reg->flags != 0) return;
  for (i = 0; i < VED_WRITE_NREGS; i++) {
    struct ved_write_slot *s = &w->slots[i];
    uint32_t raw;
    if (s->r->reg != reg->id || raw_of(s, reg, &raw) != 0) continue;
    if (!s->known || raw != s->known_raw) learn(s, raw);
  }
}

void ved_writer_cancel(struct ved_writer *w, int status, const char *msg) {
  size_t i;
  for (i = 0; i < VED_WRITE_NREGS; i++) {
    w->slots[i].read_tag = 0;
    if (w->slots[i].phase != VED_W_IDLE) finish(&w->slots[i], status, "%s", msg);
  }
}

/* vedirect plugin: descriptor, options and the glue between the port, the
 * text/HEX protocol and the host.
 *
 * Device id: the SER# field; for devices without one (BMV, SmartShunt) the
 * serial number read over HEX (register 0x010A) when `hex_probe = yes`,
 * else "pid-" and the product id as four lowercase hex digits
 * ("pid-a389"); `device = NAME` overrides all of these.  A VE.Direct port
 * has exactly one device, so the fallback is stable.
 *
 * Readings: one per valid block, all its records with one time stamp.
 * Blocks that carry no identity (BMV history blocks, the second block of
 * split MPPT cycles) get the identity of the block before; when nothing is
 * known yet, the newest such block is held until an identifying block
 * comes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "vicacq/plugin.h"
#include "vedirect_control.h"
#include "vedirect_fields.h"
#include "vedirect_hex.h"
#include "vedirect_port.h"
#include "victron.h"
#include "vedirect_text.h"

#define Q_LIMIT "charger.current_limit"
#define Q_ONLINE "link.online"
#define REG_LIMIT 0xEDF0   /* battery maximum current, un16, 0.1 A */
#define REG_SERIAL 0x010A  /* serial number, string */
/* Silence inside a block: drop it (doc/protocols/vedirect.md §2.2 step 5). */
#define GAP_RESYNC_MS 500
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

/* ctl request tags below TAG_CMD0 are fixed; commands count up from it. */
enum { TAG_PING = 1, TAG_VERSION, TAG_PRODUCT, TAG_SERIAL, TAG_READ_LIMIT,
       TAG_CMD0 = 0x100 };

enum lim_phase { LIM_IDLE = 0, LIM_GET1, LIM_WAIT, LIM_SET, LIM_GET2 };

struct dump_chunk {
  struct dump_chunk *next;
  size_t len;
  uint8_t data[];
};

struct vd {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  uv_loop_t *loop;

  /* options */
  char *port_spec, *device_opt, *output;
  double speed, seconds;
  int loop_file, dump, hex_probe;
  uint64_t min_write_ms, hex_timeout_ms, stale_ms, reconnect_max_ms;
  int64_t hex_retries;

  struct ved_port *port;
  int port_kind, port_up;
  struct ved_text text;
  struct ved_ctl ctl;
  struct vq_timer *ctl_timer, *stale_timer, *pace_timer, *dump_timer,
      *lim_timer;
  uint64_t last_byte_ms, last_block_ms;
  int64_t chunk_time_ns;

  /* identity */
  char serial[VED_VALUE_MAX + 1], hex_serial[VED_VALUE_MAX + 1];
  char model[VED_VALUE_MAX + 1], hc[VED_VALUE_MAX + 1];
  char firmware[24], device[48], pid_text[8];
  const char *product;
  char product_buf[48];
  int32_t pid;

  /* the newest block without identity, waiting for one */
  int held;
  size_t held_n;
  int64_t held_time;
  struct ved_field held_fields[VED_FIELDS_MAX];
  struct ved_block blk; /* decode space */

  int online, ever_online, limit_read;
  int limit_known;
  uint16_t limit_raw;

  /* replay pacing */
  int blk_has_pid, seen_pid;

  /* current-limit command */
  struct {
    enum lim_phase phase;
    uint64_t ticket;
    uint16_t raw;
    int64_t deadline_ns;
    uint32_t gen;
  } lim;
  uint32_t gen;
  int have_written;
  uint64_t last_write_ms;

  /* dump */
  uv_file out_fd;
  struct dump_chunk *dq_head, *dq_tail;
  int dq_busy, dump_ending;
  uint64_t dump_bytes;
  uv_fs_t out_req;

  int stopping, finished_sent;
  vq_stopped_cb stopped;
};

static int64_t now_realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t now_ms(struct vd *v) {
  uv_update_time(v->loop);
  return uv_now(v->loop);
}

/* ------------------------------------------------------------------ */
/* Emitting                                                            */
/* ------------------------------------------------------------------ */

static int identified(const struct vd *v) {
  return v->device_opt || v->serial[0] || v->hex_serial[0] || v->pid >= 0;
}

static void update_device_id(struct vd *v) {
  if (v->device_opt)
    snprintf(v->device, sizeof v->device, "%s", v->device_opt);
  else if (v->serial[0])
    snprintf(v->device, sizeof v->device, "%s", v->serial);
  else if (v->hex_serial[0])
    snprintf(v->device, sizeof v->device, "%s", v->hex_serial);
  else if (v->pid >= 0)
    snprintf(v->device, sizeof v->device, "pid-%04x", (unsigned)v->pid);
  else
    v->device[0] = '\0';
}

static void emit_records(struct vd *v, const struct vq_record *recs, size_t n,
                         int64_t time_ns) {
  struct vq_reading r = VQ_READING_INIT;
  struct vq_tag tags[5];
  uint32_t nt = 0;
  int rc;
  if (v->product) tags[nt++] = (struct vq_tag){"product", v->product};
  if (v->pid >= 0) tags[nt++] = (struct vq_tag){"product_id", v->pid_text};
  if (v->firmware[0]) tags[nt++] = (struct vq_tag){"firmware", v->firmware};
  if (v->serial[0] || v->hex_serial[0])
    tags[nt++] = (struct vq_tag){"serial", v->serial[0] ? v->serial : v->hex_serial};
  /* HC#: undocumented Blue Smart field, passed on as sent */
  if (v->hc[0]) tags[nt++] = (struct vq_tag){"hc", v->hc};
  r.device = v->device;
  r.time_ns = time_ns;
  r.tags = tags;
  r.ntags = nt;
  r.records = recs;
  r.nrecords = (uint32_t)n;
  rc = v->host->emit(v->ctx, &r);
  if (rc < 0) {
    v->host->stat_add(v->ctx, "emit_failed", 1);
    v->host->log(v->ctx, VQ_LOG_DEBUG, "emit: %s", strerror(-rc));
  }
}

static void emit_one(struct vd *v, const char *quantity, int type, double f,
                     int64_t i) {
  struct vq_record rec;
  if (!identified(v)) return;
  memset(&rec, 0, sizeof rec);
  rec.quantity = quantity;
  rec.type = (uint32_t)type;
  if (type == VQ_VALUE_DOUBLE) rec.value.f64 = f;
  else rec.value.i64 = i;
  emit_records(v, &rec, 1, 0);
}

static void emit_limit(struct vd *v, uint16_t raw) {
  v->limit_known = 1;
  v->limit_raw = raw;
  emit_one(v, Q_LIMIT, VQ_VALUE_DOUBLE, raw / 10.0, 0);
}

static void set_online(struct vd *v, int online, const char *why, int err) {
  if (online == v->online) return;
  v->online = online;
  if (online) {
    if (v->ever_online)
      v->host->log(v->ctx, VQ_LOG_INFO, "data flows again from %s",
                   v->port_spec);
    v->ever_online = 1;
  } else if (v->ever_online) {
    v->host->log(v->ctx, VQ_LOG_WARN, "link lost (%s%s%s); reconnecting",
                 why, err ? ": " : "", err ? uv_strerror(err) : "");
  }
  emit_one(v, Q_ONLINE, VQ_VALUE_BOOL, 0, online);
}

static void emit_block(struct vd *v, const struct ved_field *fields, size_t n,
                       int64_t time_ns) {
  ved_block_decode(fields, n, &v->blk);
  if (v->blk.bad_values)
    v->host->stat_add(v->ctx, "bad_values", (int64_t)v->blk.bad_values);
  if (v->blk.unknown_labels)
    v->host->stat_add(v->ctx, "unknown_labels", (int64_t)v->blk.unknown_labels);
  if (v->blk.nrecords > 0) emit_records(v, v->blk.records, v->blk.nrecords, time_ns);
}

static void start_limit_read(struct vd *v);
static void hex_probe_start(struct vd *v);

/* A valid text block. */
static void on_block(void *arg, const struct ved_field *fields, size_t n) {
  struct vd *v = arg;
  int was_identified = identified(v);
  size_t i;

  v->last_block_ms = v->last_byte_ms;
  v->host->stat_add(v->ctx, "blocks_valid", 1);
  if (v->dump) return;

  /* Identity fields first: they apply to this block's records. */
  for (i = 0; i < n; i++) {
    const char *l = fields[i].label, *val = fields[i].value;
    if (strcmp(l, "PID") == 0) {
      int64_t pid;
      v->blk_has_pid = 1;
      if (ved_parse_int(val, &pid) == 0 && pid >= 0 && pid <= 0xFFFF &&
          pid != v->pid) {
        v->pid = (int32_t)pid;
        snprintf(v->pid_text, sizeof v->pid_text, "0x%04X", (unsigned)pid);
        v->product = vic_product_name((unsigned)pid);
      }
    } else if (strcmp(l, "SER#") == 0 && val[0]) {
      snprintf(v->serial, sizeof v->serial, "%s", val);
    } else if (strcmp(l, "FWE") == 0 ||
               (strcmp(l, "FW") == 0 && !v->firmware[0])) {
      ved_format_fw(val, l[2] == 'E', v->firmware, sizeof v->firmware);
    } else if (strcmp(l, "BMV") == 0) {
      snprintf(v->model, sizeof v->model, "%s", val);
    } else if (strcmp(l, "HC#") == 0) {
      snprintf(v->hc, sizeof v->hc, "%s", val);
    }
  }
  if (v->product == NULL && v->model[0]) {
    /* the BMV-60x has no PID; its BMV field names the model */
    snprintf(v->product_buf, sizeof v->product_buf, "BMV-%s", v->model);
    v->product = v->product_buf;
  }
  if (v->product == NULL && v->pid >= 0) {
    snprintf(v->product_buf, sizeof v->product_buf, "VE.Direct product %s",
             v->pid_text);
    v->product = v->product_buf;
  }
  update_device_id(v);

  if (!identified(v)) {
    /* keep the newest one until we know whose it is */
    memcpy(v->held_fields, fields, n * sizeof *fields);
    v->held_n = n;
    v->held_time = v->chunk_time_ns;
    if (v->held) v->host->stat_add(v->ctx, "blocks_unidentified", 1);
    v->held = 1;
    return;
  }
  if (!v->online) set_online(v, 1, NULL, 0);
  if (v->held) {
    v->held = 0;
    emit_block(v, v->held_fields, v->held_n, v->held_time);
  }
  emit_block(v, fields, n, v->chunk_time_ns);
  if (!was_identified && v->port_kind != VED_PORT_FILE) {
    if (v->hex_probe) hex_probe_start(v);
    start_limit_read(v);
  }
}

#define REPLAY_BACKLOG_PAUSE 50
#define REPLAY_BACKLOG_WAIT_MS 1 /* a 0 ms timer re-armed in its callback would spin */

static void pace_resume(void *arg) {
  struct vd *v = arg;
  /* one-shot timers are freed here, or they would pile up in the host */
  v->host->timer_stop(v->ctx, v->pace_timer);
  v->pace_timer = NULL;
  if (!v->stopping) ved_port_resume(v->port);
}

static void on_block_end(void *arg, int valid) {
  struct vd *v = arg;
  if (!valid) {
    v->host->stat_add(v->ctx, "blocks_bad", 1);
    return;
  }
  /* Real-time replay: one device cycle per second.  A cycle starts with
   * the PID block (history blocks and split halves follow it), or is
   * every block for devices without PID. */
  if (v->port_kind == VED_PORT_FILE && v->speed > 0) {
    int cycle = v->blk_has_pid || !v->seen_pid;
    if (v->blk_has_pid) v->seen_pid = 1;
    if (cycle && v->pace_timer == NULL) {
      ved_text_pause(&v->text);
      v->pace_timer = v->host->timer_start(
          v->ctx, (uint64_t)llround(1000.0 / v->speed), 0, pace_resume, v);
      if (v->pace_timer == NULL) v->text.pause = 0; /* go on unpaced */
    }
  } else if (v->port_kind == VED_PORT_FILE && v->pace_timer == NULL &&
             VQ_HOST_HAS(v->host, backlog) &&
             v->host->backlog(v->ctx) >= REPLAY_BACKLOG_PAUSE) {
    /* A full-speed replay can wait: pause while the sinks it feeds are
     * more than half full rather than have their queues drop records. */
    ved_text_pause(&v->text);
    v->pace_timer = v->host->timer_start(v->ctx, REPLAY_BACKLOG_WAIT_MS, 0,
                                         pace_resume, v);
    if (v->pace_timer == NULL) v->text.pause = 0;
  }
  v->blk_has_pid = 0;
}

/* ------------------------------------------------------------------ */
/* HEX                                                                 */
/* ------------------------------------------------------------------ */

static void ctl_tick(void *arg);

static void ctl_rearm(struct vd *v) {
  uint64_t dl = ved_ctl_deadline(&v->ctl), now = now_ms(v);
  if (v->ctl_timer) {
    v->host->timer_stop(v->ctx, v->ctl_timer);
    v->ctl_timer = NULL;
  }
  if (dl == UINT64_MAX || v->stopping) return;
  v->ctl_timer = v->host->timer_start(v->ctx, dl > now ? dl - now : 0, 0,
                                      ctl_tick, v);
}

static void ctl_tick(void *arg) {
  struct vd *v = arg;
  v->host->timer_stop(v->ctx, v->ctl_timer);
  v->ctl_timer = NULL;
  ved_ctl_tick(&v->ctl, now_ms(v));
  ctl_rearm(v);
}

static int ctl_send(void *arg, const char *frame, size_t len) {
  struct vd *v = arg;
  v->host->log(v->ctx, VQ_LOG_DEBUG, "HEX out %.*s", (int)(len - 1), frame);
  return ved_port_write(v->port, frame, len);
}

static void on_ctl_done(void *arg, uint32_t tag, int status,
                        const struct ved_hex_frame *reply);

static int submit(struct vd *v, uint8_t cmd, uint16_t reg, const uint8_t *val,
                  size_t vlen, uint32_t tag) {
  struct ved_ctl_req r;
  int rc;
  memset(&r, 0, sizeof r);
  r.cmd = cmd;
  r.reg = reg;
  if (vlen > sizeof r.value) return -EINVAL;
  if (vlen) memcpy(r.value, val, vlen);
  r.vlen = vlen;
  r.done = on_ctl_done;
  r.arg = v;
  r.tag = tag;
  rc = ved_ctl_submit(&v->ctl, &r, now_ms(v));
  ctl_rearm(v);
  return rc;
}

static void hex_probe_start(struct vd *v) {
  submit(v, VED_CMD_PING, 0, NULL, 0, TAG_PING);
  submit(v, VED_CMD_APP_VERSION, 0, NULL, 0, TAG_VERSION);
  submit(v, VED_CMD_PRODUCT_ID, 0, NULL, 0, TAG_PRODUCT);
  submit(v, VED_CMD_GET, REG_SERIAL, NULL, 0, TAG_SERIAL);
}

/* With a write grant, publish the limit in use once the device is known,
 * so a user interface shows the current setting before the first write. */
static void start_limit_read(struct vd *v) {
  double mn, mx, st;
  if (v->limit_read || v->dump) return;
  if (v->host->command_range(v->ctx, v->host->instance_id(v->ctx), Q_LIMIT,
                             &mn, &mx, &st) < 0)
    return;
  v->limit_read = 1;
  submit(v, VED_CMD_GET, REG_LIMIT, NULL, 0, TAG_READ_LIMIT);
}

static void on_hexline(void *arg, const char *line, size_t len) {
  struct vd *v = arg;
  struct ved_hex_frame f;
  struct ved_hex_reg reg;
  int rc = ved_hex_decode(line, len, &f);
  if (rc < 0) {
    v->host->stat_add(v->ctx, "hex_bad", 1);
    v->host->log(v->ctx, VQ_LOG_DEBUG, "bad HEX frame :%.*s (%s)", (int)len,
                 line, strerror(-rc));
    return;
  }
  v->host->stat_add(v->ctx, "hex_frames", 1);
  if (v->dump) return;
  if (ved_ctl_on_frame(&v->ctl, &f, now_ms(v))) {
    ctl_rearm(v);
    return;
  }
  /* Async (or unsolicited) register frames: follow the limit register so
   * the cached value stays true when it is changed elsewhere (app). */
  if ((f.cmd == VED_RSP_ASYNC || f.cmd == VED_RSP_GET) &&
      ved_hex_reg_parse(&f, &reg) == 0 && reg.id == REG_LIMIT &&
      reg.flags == 0) {
    uint16_t raw;
    if (ved_hex_u16(&reg, &raw) == 0 && (!v->limit_known || raw != v->limit_raw))
      emit_limit(v, raw);
  }
}

/* ------------------------------------------------------------------ */
/* charger.current_limit commands                                      */
/* ------------------------------------------------------------------ */

static void lim_finish(struct vd *v, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void lim_finish(struct vd *v, int status, const char *fmt, ...) {
  char msg[200];
  va_list ap;
  uint64_t ticket = v->lim.ticket;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (v->lim_timer) {
    v->host->timer_stop(v->ctx, v->lim_timer);
    v->lim_timer = NULL;
  }
  v->lim.phase = LIM_IDLE;
  v->host->log(v->ctx, status ? VQ_LOG_WARN : VQ_LOG_INFO, "%s: %s", Q_LIMIT,
               msg);
  v->host->command_done(v->ctx, ticket, status, msg);
}

static void lim_do_set(void *arg) {
  struct vd *v = arg;
  uint8_t val[2] = {(uint8_t)(v->lim.raw & 0xFF), (uint8_t)(v->lim.raw >> 8)};
  int rc;
  if (v->lim_timer) { /* called from the spacing timer */
    v->host->timer_stop(v->ctx, v->lim_timer);
    v->lim_timer = NULL;
  }
  if (v->lim.deadline_ns && now_realtime_ns() > v->lim.deadline_ns) {
    lim_finish(v, -ETIMEDOUT, "deadline passed before the write");
    return;
  }
  v->lim.phase = LIM_SET;
  v->have_written = 1;
  v->last_write_ms = now_ms(v);
  rc = submit(v, VED_CMD_SET, REG_LIMIT, val, sizeof val, v->lim.gen);
  if (rc < 0) lim_finish(v, rc, "cannot queue the Set: %s", strerror(-rc));
}

/* Writes go to non-volatile memory: keep them min_write_interval apart. */
static void lim_schedule_set(struct vd *v) {
  uint64_t now = now_ms(v), wait = 0;
  if (v->have_written && now < v->last_write_ms + v->min_write_ms)
    wait = v->last_write_ms + v->min_write_ms - now;
  if (wait == 0) {
    lim_do_set(v);
    return;
  }
  if (v->lim.deadline_ns &&
      now_realtime_ns() + (int64_t)wait * 1000000 > v->lim.deadline_ns) {
    lim_finish(v, -EBUSY,
               "the last write was %.1f s ago and writes are at least %.1f s "
               "apart (min_write_interval); try again later",
               (now - v->last_write_ms) / 1000.0, v->min_write_ms / 1000.0);
    return;
  }
  v->lim.phase = LIM_WAIT;
  v->lim_timer = v->host->timer_start(v->ctx, wait, 0, lim_do_set, v);
  if (v->lim_timer == NULL) lim_finish(v, -ENOMEM, "cannot start a timer");
}

static void lim_reply(struct vd *v, int status,
                      const struct ved_hex_frame *reply) {
  struct ved_hex_reg reg = {0, 0, NULL, 0};
  uint16_t raw = 0;
  int have = 0;
  if (status < 0) {
    lim_finish(v, status, "%s of register 0xEDF0 failed: %s",
               v->lim.phase == LIM_SET ? "Set" : "Get",
               status == -ETIMEDOUT ? "no answer from the device"
                                    : strerror(-status));
    return;
  }
  if (ved_hex_reg_parse(reply, &reg) == 0 && ved_hex_u16(&reg, &raw) == 0)
    have = 1;
  if (reg.flags != 0) {
    if (have && !(reg.flags & VED_FLAG_UNKNOWN_ID)) emit_limit(v, raw);
    if (have)
      lim_finish(v, -EINVAL, "device refused %.1f A: %s; it uses %.1f A",
                 v->lim.raw / 10.0, ved_hex_flags_text(reg.flags), raw / 10.0);
    else
      lim_finish(v, -EINVAL, "device refused %.1f A: %s", v->lim.raw / 10.0,
                 ved_hex_flags_text(reg.flags));
    return;
  }
  if (!have) {
    lim_finish(v, -EPROTO, "short reply for register 0xEDF0");
    return;
  }
  switch (v->lim.phase) {
    case LIM_GET1:
      emit_limit(v, raw);
      if (raw == v->lim.raw) {
        lim_finish(v, 0, "already %.1f A; not rewritten (non-volatile memory)",
                   raw / 10.0);
        return;
      }
      lim_schedule_set(v);
      break;
    case LIM_SET:
      /* The Set reply carries the value in use; confirm with a Get. */
      v->lim.phase = LIM_GET2;
      if ((status = submit(v, VED_CMD_GET, REG_LIMIT, NULL, 0, v->lim.gen)) < 0)
        lim_finish(v, status, "cannot queue the Get: %s", strerror(-status));
      break;
    case LIM_GET2:
      emit_limit(v, raw);
      if (raw == v->lim.raw)
        lim_finish(v, 0, "set to %.1f A", raw / 10.0);
      else
        lim_finish(v, -EIO, "device reports %.1f A after writing %.1f A",
                   raw / 10.0, v->lim.raw / 10.0);
      break;
    default:
      break;
  }
}

static void on_ctl_done(void *arg, uint32_t tag, int status,
                        const struct ved_hex_frame *reply) {
  struct vd *v = arg;
  struct ved_hex_reg reg;
  char text[40];
  if (tag >= TAG_CMD0) {
    /* replies to a superseded command are ignored */
    if (v->lim.phase != LIM_IDLE && tag == v->lim.gen) lim_reply(v, status, reply);
    return;
  }
  if (status < 0) {
    v->host->log(v->ctx, VQ_LOG_DEBUG, "HEX request %u: %s", tag,
                 strerror(-status));
    return;
  }
  switch (tag) {
    case TAG_PING:
    case TAG_VERSION:
      if (reply->len >= 2) {
        ved_hex_version_text((uint16_t)(reply->payload[0] | reply->payload[1] << 8),
                             text, sizeof text);
        v->host->log(v->ctx, VQ_LOG_INFO, "HEX %s: firmware %s",
                     tag == TAG_PING ? "ping" : "version", text);
      }
      break;
    case TAG_PRODUCT:
      if (reply->len >= 2) {
        unsigned pid = (unsigned)(reply->payload[0] | reply->payload[1] << 8);
        const char *name = vic_product_name(pid);
        v->host->log(v->ctx, VQ_LOG_INFO, "HEX product id 0x%04X (%s)", pid,
                     name ? name : "unknown");
      }
      break;
    case TAG_SERIAL:
      if (ved_hex_reg_parse(reply, &reg) == 0 && reg.flags == 0 && reg.vlen) {
        size_t n = strnlen((const char *)reg.value, reg.vlen), i;
        int ok = n > 0 && n < sizeof v->hex_serial;
        for (i = 0; ok && i < n; i++)
          if (reg.value[i] < 0x21 || reg.value[i] > 0x7e) ok = 0;
        if (ok && !v->serial[0] && !v->device_opt) {
          memcpy(v->hex_serial, reg.value, n);
          v->hex_serial[n] = '\0';
          v->host->log(v->ctx, VQ_LOG_INFO, "serial number %s (HEX)",
                       v->hex_serial);
          update_device_id(v);
        }
      }
      break;
    case TAG_READ_LIMIT:
      if (ved_hex_reg_parse(reply, &reg) == 0 && reg.flags == 0) {
        uint16_t raw;
        if (ved_hex_u16(&reg, &raw) == 0) emit_limit(v, raw);
      }
      break;
    default:
      break;
  }
}

static int vd_command(void *instance, const struct vq_command *cmd) {
  struct vd *v = instance;
  double mn, mx, st, raw_d;
  const char *id = v->host->instance_id(v->ctx);
  if (cmd->quantity == NULL || strcmp(cmd->quantity, Q_LIMIT) != 0) {
    v->host->command_done(v->ctx, cmd->ticket, -EOPNOTSUPP,
                          "only charger.current_limit can be written");
    return 0;
  }
  if (!isfinite(cmd->value)) {
    v->host->command_done(v->ctx, cmd->ticket, -EINVAL, "value is not a number");
    return 0;
  }
  if (v->host->command_range(v->ctx, id, Q_LIMIT, &mn, &mx, &st) < 0) {
    v->host->command_done(v->ctx, cmd->ticket, -EPERM,
                          "writes are off (no write.charger.current_limit range)");
    return 0;
  }
  raw_d = round(cmd->value * 10.0);
  if (raw_d < 0 || raw_d > 65535.0) {
    char msg[120];
    snprintf(msg, sizeof msg,
             "%.1f A is beyond the protocol's limit (0..6553.5 A, register "
             "0xEDF0 in 0.1 A)", cmd->value);
    v->host->command_done(v->ctx, cmd->ticket, -ERANGE, msg);
    return 0;
  }
  if (cmd->value < mn - 1e-9 || cmd->value > mx + 1e-9) {
    char msg[120];
    snprintf(msg, sizeof msg, "%.2f A is outside the granted range %g..%g A",
             cmd->value, mn, mx);
    v->host->command_done(v->ctx, cmd->ticket, -ERANGE, msg);
    return 0;
  }
  if (cmd->device && v->device[0] && strcmp(cmd->device, v->device) != 0) {
    v->host->command_done(v->ctx, cmd->ticket, -ENODEV,
                          "no such device on this source");
    return 0;
  }
  if (v->port_kind == VED_PORT_FILE || v->dump) {
    v->host->command_done(v->ctx, cmd->ticket, -ENOTSUP,
                          "a replay (file:) port cannot be written");
    return 0;
  }
  if (!v->port_up) {
    v->host->command_done(v->ctx, cmd->ticket, -ENOTCONN,
                          "the VE.Direct port is not connected");
    return 0;
  }
  /* Only the newest command per quantity is in flight (doc/design.md §5). */
  if (v->lim.phase != LIM_IDLE)
    lim_finish(v, -ECANCELED, "superseded by a newer value");
  v->lim.ticket = cmd->ticket;
  v->lim.raw = (uint16_t)raw_d;
  v->lim.deadline_ns = cmd->deadline_ns;
  v->lim.gen = v->gen++;
  if (v->gen < TAG_CMD0) v->gen = TAG_CMD0;
  v->lim.phase = LIM_GET1;
  {
    int rc = submit(v, VED_CMD_GET, REG_LIMIT, NULL, 0, v->lim.gen);
    if (rc < 0) lim_finish(v, rc, "cannot queue the Get: %s", strerror(-rc));
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Dump                                                                */
/* ------------------------------------------------------------------ */

static void dump_finish(struct vd *v);

static void dump_written(uv_fs_t *req) {
  struct vd *v = req->data;
  struct dump_chunk *c = v->dq_head;
  ssize_t n = req->result;
  uv_fs_req_cleanup(req);
  v->dq_busy = 0;
  if (n < 0) {
    v->host->log(v->ctx, VQ_LOG_ERROR, "dump: cannot write %s: %s", v->output,
                 uv_strerror((int)n));
    v->host->stat_add(v->ctx, "dump_write_failed", 1);
  } else if ((size_t)n < c->len) {
    /* short write: keep the rest at the head */
    memmove(c->data, c->data + n, c->len - (size_t)n);
    c->len -= (size_t)n;
    v->dump_bytes += (uint64_t)n;
    goto next;
  } else {
    v->dump_bytes += (uint64_t)n;
  }
  v->dq_head = c->next;
  if (v->dq_head == NULL) v->dq_tail = NULL;
  free(c);
next:
  if (v->dq_head) {
    uv_buf_t b = uv_buf_init((char *)v->dq_head->data, (unsigned)v->dq_head->len);
    v->out_req.data = v;
    if (uv_fs_write(v->loop, &v->out_req, v->out_fd, &b, 1, -1, dump_written) == 0) {
      v->dq_busy = 1;
      return;
    }
  }
  if (v->dump_ending) dump_finish(v);
}

static void dump_bytes(struct vd *v, const uint8_t *buf, size_t len) {
  struct dump_chunk *c = malloc(sizeof *c + len);
  if (c == NULL) {
    v->host->stat_add(v->ctx, "dump_dropped_bytes", (int64_t)len);
    return;
  }
  c->next = NULL;
  c->len = len;
  memcpy(c->data, buf, len);
  if (v->dq_tail) v->dq_tail->next = c;
  else v->dq_head = c;
  v->dq_tail = c;
  if (!v->dq_busy) {
    uv_buf_t b = uv_buf_init((char *)c->data, (unsigned)c->len);
    v->out_req.data = v;
    if (uv_fs_write(v->loop, &v->out_req, v->out_fd, &b, 1, -1, dump_written) == 0)
      v->dq_busy = 1;
  }
}

/* All queued bytes are written (or failed): close and report. */
static void dump_finish(struct vd *v) {
  uv_fs_t req;
  if (v->dq_busy || v->out_fd < 0) return;
  while (v->dq_head) { /* only left after a failed write */
    struct dump_chunk *c = v->dq_head;
    v->dq_head = c->next;
    free(c);
  }
  v->dq_tail = NULL;
  uv_fs_fsync(NULL, &req, v->out_fd, NULL);
  uv_fs_req_cleanup(&req);
  uv_fs_close(NULL, &req, v->out_fd, NULL);
  uv_fs_req_cleanup(&req);
  v->out_fd = -1;
  v->host->log(v->ctx, VQ_LOG_INFO,
               "dump: %" PRIu64 " bytes written to %s (%" PRIu64
               " valid text blocks, %" PRIu64 " failed, %" PRIu64 " HEX frames)",
               v->dump_bytes, v->output, v->text.stats.blocks_valid,
               v->text.stats.blocks_bad, v->text.stats.hex_lines);
  if (!v->finished_sent && !v->stopping) {
    v->finished_sent = 1;
    v->host->finished(v->ctx);
  }
}

static void dump_timeout(void *arg) {
  struct vd *v = arg;
  v->host->timer_stop(v->ctx, v->dump_timer);
  v->dump_timer = NULL;
  v->dump_ending = 1;
  dump_finish(v);
}

/* ------------------------------------------------------------------ */
/* Port callbacks                                                      */
/* ------------------------------------------------------------------ */

static size_t on_data(void *arg, const uint8_t *buf, size_t len) {
  struct vd *v = arg;
  uint64_t now = now_ms(v);
  size_t used;
  if (v->stopping) return len;
  if (v->dump) {
    if (!v->dump_ending) dump_bytes(v, buf, len);
  }
  /* A pause inside a block on a live line means lost bytes
   * (doc/protocols/vedirect.md §2.2). */
  if (v->port_kind != VED_PORT_FILE && v->last_byte_ms &&
      now - v->last_byte_ms > GAP_RESYNC_MS && !ved_text_idle(&v->text))
    ved_text_resync(&v->text);
  v->last_byte_ms = now;
  v->chunk_time_ns = now_realtime_ns();
  v->host->stat_add(v->ctx, "bytes", (int64_t)len);
  used = ved_text_feed(&v->text, buf, len);
  return v->port_kind == VED_PORT_FILE ? used : len;
}

static void on_port_state(void *arg, int up, int err, const char *what) {
  struct vd *v = arg;
  v->port_up = up;
  if (up) {
    v->host->log(v->ctx, VQ_LOG_DEBUG, "port %s open", v->port_spec);
    /* whatever was half received before belongs to no block now */
    ved_text_resync(&v->text);
    v->last_byte_ms = 0;
    v->last_block_ms = now_ms(v);
    return;
  }
  ved_ctl_cancel_all(&v->ctl, -ENOTCONN);
  ctl_rearm(v);
  if (v->lim.phase != LIM_IDLE)
    lim_finish(v, -ENOTCONN, "the VE.Direct port was lost");
  if (v->online) {
    set_online(v, 0, what, err);
  } else if (!v->ever_online) {
    v->host->log(v->ctx, VQ_LOG_WARN, "%s %s%s%s; retrying", what,
                 v->port_spec, err ? ": " : "", err ? uv_strerror(err) : "");
  }
}

static void on_eof(void *arg) {
  struct vd *v = arg;
  if (v->dump) {
    v->dump_ending = 1;
    dump_finish(v);
    return;
  }
  if (v->held) v->host->stat_add(v->ctx, "blocks_unidentified", 1);
  v->held = 0;
  v->host->log(v->ctx, VQ_LOG_INFO,
               "replay of %s done: %" PRIu64 " valid blocks, %" PRIu64
               " failed, %" PRIu64 " HEX frames",
               v->port_spec, v->text.stats.blocks_valid,
               v->text.stats.blocks_bad, v->text.stats.hex_lines);
  if (!v->finished_sent) {
    v->finished_sent = 1;
    v->host->finished(v->ctx);
  }
}

/* No valid block for stale_timeout on a live port: the link is lost even
 * if the port is still open (a bridge whose serial side went quiet). */
static void stale_check(void *arg) {
  struct vd *v = arg;
  uint64_t now = now_ms(v);
  if (!v->port_up || v->stale_ms == 0) return;
  if (now - v->last_block_ms > v->stale_ms) {
    if (v->online) set_online(v, 0, "no valid data", 0);
    v->last_block_ms = now;
    ved_port_reconnect(v->port);
  }
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

static char *dup_opt(const struct vq_host *h, struct vq_ctx *ctx,
                     const char *key) {
  const char *s = h->cfg_string(ctx, key);
  return s ? strdup(s) : NULL;
}

static void vd_free(struct vd *v) {
  free(v->port_spec);
  free(v->device_opt);
  free(v->output);
  free(v);
}

static int vd_create(const struct vq_host *host, struct vq_ctx *ctx,
                     void **instance) {
  struct vd *v = calloc(1, sizeof *v);
  const char *mode;
  int64_t retries = 2;
  if (v == NULL) return -ENOMEM;
  v->host = host;
  v->ctx = ctx;
  v->loop = host->loop(ctx);
  v->pid = -1;
  v->out_fd = -1;
  v->gen = TAG_CMD0;
  v->port_spec = dup_opt(host, ctx, "port");
  v->device_opt = dup_opt(host, ctx, "device");
  v->output = dup_opt(host, ctx, "output");
  if (v->port_spec == NULL || v->port_spec[0] == '\0') {
    host->log(ctx, VQ_LOG_ERROR, "port is required");
    vd_free(v);
    return -EINVAL;
  }
  if (v->device_opt && v->device_opt[0] == '\0') {
    free(v->device_opt);
    v->device_opt = NULL;
  }
  mode = host->cfg_string(ctx, "mode");
  v->dump = mode && strcmp(mode, "dump") == 0;
  if (host->cfg_double(ctx, "speed", &v->speed) < 0) v->speed = 0;
  if (host->cfg_bool(ctx, "loop", &v->loop_file) < 0) v->loop_file = 0;
  if (host->cfg_bool(ctx, "hex_probe", &v->hex_probe) < 0) v->hex_probe = 0;
  if (host->cfg_double(ctx, "seconds", &v->seconds) < 0) v->seconds = 0;
  if (host->cfg_duration(ctx, "min_write_interval", &v->min_write_ms) < 0)
    v->min_write_ms = 30000;
  if (host->cfg_duration(ctx, "hex_timeout", &v->hex_timeout_ms) < 0)
    v->hex_timeout_ms = 1000;
  if (host->cfg_duration(ctx, "stale_timeout", &v->stale_ms) < 0)
    v->stale_ms = 10000;
  if (host->cfg_duration(ctx, "reconnect_max", &v->reconnect_max_ms) < 0)
    v->reconnect_max_ms = 30000;
  if (host->cfg_int(ctx, "hex_retries", &retries) < 0) retries = 2;
  v->hex_retries = retries < 0 ? 0 : retries;
  if (v->speed < 0) v->speed = 0;
  if (v->dump && (v->output == NULL || v->output[0] == '\0')) {
    host->log(ctx, VQ_LOG_ERROR, "mode = dump needs output = FILE");
    vd_free(v);
    return -EINVAL;
  }
  ved_text_init(&v->text, on_block, on_hexline, v);
  v->text.on_block_end = on_block_end;
  ved_ctl_init(&v->ctl, v->hex_timeout_ms, (unsigned)v->hex_retries, ctl_send, v);
  *instance = v;
  return 0;
}

static int vd_start(void *instance) {
  struct vd *v = instance;
  struct ved_port_opts po = {v->loop_file && !v->dump, 1000, v->reconnect_max_ms};
  struct ved_port_cb cb = {on_data, on_port_state, on_eof, v};
  const char *why = NULL;
  int rc = ved_port_new(v->loop, v->port_spec, &po, &cb, &v->port, &why);
  if (rc < 0) {
    v->host->log(v->ctx, VQ_LOG_ERROR, "port %s: %s", v->port_spec,
                 why ? why : strerror(-rc));
    return rc;
  }
  v->port_kind = ved_port_kind(v->port);
  if (v->dump) {
    uv_fs_t req;
    rc = uv_fs_open(NULL, &req, v->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                    0644, NULL);
    uv_fs_req_cleanup(&req);
    if (rc < 0) {
      v->host->log(v->ctx, VQ_LOG_ERROR, "dump: cannot create %s: %s",
                   v->output, uv_strerror(rc));
      ved_port_close(v->port, NULL, NULL);
      v->port = NULL;
      return rc;
    }
    v->out_fd = rc;
    if (v->seconds > 0)
      v->dump_timer = v->host->timer_start(
          v->ctx, (uint64_t)llround(v->seconds * 1000.0), 0, dump_timeout, v);
  }
  rc = ved_port_start(v->port);
  if (rc < 0) {
    v->host->log(v->ctx, VQ_LOG_ERROR, "port %s: %s", v->port_spec,
                 uv_strerror(rc));
    ved_port_close(v->port, NULL, NULL);
    v->port = NULL;
    return rc;
  }
  if (v->port_kind != VED_PORT_FILE)
    v->stale_timer = v->host->timer_start(v->ctx, 1000, 1000, stale_check, v);
  return 0;
}

static void port_closed(void *arg) {
  struct vd *v = arg;
  v->port = NULL;
  if (v->dump) {
    v->dump_ending = 1;
    dump_finish(v);
    if (v->dq_busy) return; /* dump_written finishes */
  }
  if (v->stopped) v->stopped(v->ctx);
}

static void vd_stop(void *instance, vq_stopped_cb done) {
  struct vd *v = instance;
  struct vq_timer **timers[] = {&v->ctl_timer, &v->stale_timer, &v->pace_timer,
                                &v->dump_timer, &v->lim_timer};
  size_t i;
  v->stopping = 1;
  v->stopped = done;
  if (v->lim.phase != LIM_IDLE) lim_finish(v, -ECANCELED, "source is stopping");
  ved_ctl_cancel_all(&v->ctl, -ECANCELED);
  for (i = 0; i < sizeof timers / sizeof timers[0]; i++)
    if (*timers[i]) {
      v->host->timer_stop(v->ctx, *timers[i]);
      *timers[i] = NULL;
    }
  if (v->port) ved_port_close(v->port, port_closed, v);
  else port_closed(v);
}

static void vd_destroy(void *instance) {
  struct vd *v = instance;
  struct dump_chunk *c;
  while ((c = v->dq_head) != NULL) {
    v->dq_head = c->next;
    free(c);
  }
  vd_free(v);
}

static const struct vq_option options[] = {
  {"port", VQ_OPT_STRING, VQ_OPT_REQUIRED, NULL, NULL, 0, -1,
   "serial device (/dev/ttyUSB0; 19200 8N1), tcp://HOST:PORT (ser2net, "
   "ESP-Link) or file:PATH (replay of raw bytes)"},
  {"speed", VQ_OPT_DOUBLE, 0, "0", NULL, 0, 1000,
   "file: replay speed: 0 = as fast as possible, 1 = real time (one device "
   "cycle per second), N = N times real time"},
  {"loop", VQ_OPT_BOOL, 0, "no", NULL, 0, -1,
   "file: start over at the end instead of finishing"},
  {"device", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "device id to use instead of SER# (or of pid-XXXX for devices without a "
   "serial number in their text output)"},
  {"mode", VQ_OPT_ENUM, 0, "decode", "decode|dump", 0, -1,
   "decode: emit readings; dump: record the raw bytes to `output` (for bug "
   "reports and replay with port = file:)"},
  {"output", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "mode = dump: file the raw bytes are written to (replaced)"},
  {"seconds", VQ_OPT_DOUBLE, 0, "0", NULL, 0, 1e9,
   "mode = dump: stop after this many seconds (0 = until stopped or the end "
   "of a file: port)"},
  {"min_write_interval", VQ_OPT_DURATION, 0, "30s", NULL, 0, 86400000,
   "least time between two writes of a setting (they go to non-volatile "
   "memory); a command that would wait past its deadline is refused"},
  {"hex_timeout", VQ_OPT_DURATION, 0, "1s", NULL, 50, 60000,
   "time to wait for the answer to a HEX request before sending it again"},
  {"hex_retries", VQ_OPT_INT, 0, "2", NULL, 0, 10,
   "HEX requests are sent again this many times when unanswered"},
  {"stale_timeout", VQ_OPT_DURATION, 0, "10s", NULL, 0, 3600000,
   "live ports: no valid block for this long = link lost (link.online "
   "false) and reconnect; 0 = off"},
  {"reconnect_max", VQ_OPT_DURATION, 0, "30s", NULL, 1000, 3600000,
   "longest wait between reconnect attempts (the wait starts at 1 s and "
   "doubles)"},
  {"hex_probe", VQ_OPT_BOOL, 0, "no", NULL, 0, -1,
   "on connect, ask the device for its firmware, product id and serial "
   "number over HEX (gives BMV/SmartShunt their real serial as device id; "
   "older firmware pauses text output for a few seconds)"},
  {NULL, 0, 0, NULL, NULL, 0, 0, NULL},
};

static const struct vq_writable writables[] = {
  {Q_LIMIT, "A", 0, 6553.5, 0.1,
   "charge current limit, HEX register 0xEDF0 (non-volatile; same value is "
   "not rewritten, writes are spaced by min_write_interval)"},
  {NULL, NULL, 0, 0, 0, NULL},
};

/* vicacq dump vedirect (the core builds the pipeline). */
static const struct vq_tool tools[] = {
  {.name = "dump",
   .summary = "record the raw bytes of a port to a file (replay it with "
              "port = file:PATH)",
   .preset = "mode=dump",
   .options = "port,seconds,output",
   .required = "port,output"},
  {.name = NULL},
};

static const struct vq_plugin descriptor = {
  VQ_PLUGIN_HEADER,
  "vedirect",
  PACKAGE_VERSION,
  "Victron VE.Direct (text and HEX protocol) over serial, TCP or a replay file",
  VQ_KIND_SOURCE,
  options,
  writables,
  vd_create,
  vd_start,
  vd_stop,
  vd_destroy,
  NULL,
  vd_command,
  NULL,
  NULL, NULL, tools, {NULL}, /* check, quantities, tools, reserved */
};

VQ_PLUGIN_DECLARE(vedirect, descriptor)

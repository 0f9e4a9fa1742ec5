/* The HEX side of a vedirect port: the request queue's timer, the probe
 * of a new device, frames from the device, and commands through the
 * writable-register machine (vedirect_write.c).  See vedirect_plugin.h. */
#include <errno.h>
#include <string.h>

#include "vedirect_plugin.h"
#include "victron.h"

/* ved_ctl tags below VED_WRITE_TAG0 that are not the writer's. */
enum { TAG_PING = 1, TAG_VERSION, TAG_PRODUCT, TAG_SERIAL };
#define REG_SERIAL 0x010A /* serial number, string */

static void ctl_tick(void *arg);

static void ctl_rearm(struct vd *v) {
  uint64_t dl = ved_ctl_deadline(&v->ctl), now = vd_now_ms(v);
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
  ved_ctl_tick(&v->ctl, vd_now_ms(v));
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
  rc = ved_ctl_submit(&v->ctl, &r, vd_now_ms(v));
  ctl_rearm(v);
  return rc;
}

/* ---- what the writer needs ---- */

static int w_submit(void *arg, int set, uint16_t reg, const uint8_t *val,
                    size_t vlen, uint32_t tag) {
  return submit(arg, set ? VED_CMD_SET : VED_CMD_GET, reg, val, vlen, tag);
}

static void w_value(void *arg, const struct ved_write_reg *r, double value) {
  vd_emit_one(arg, r->quantity, VQ_VALUE_DOUBLE, value, 0);
}

static void w_done(void *arg, uint64_t ticket, int status, const char *msg) {
  struct vd *v = arg;
  v->host->log(v->ctx, status ? VQ_LOG_WARN : VQ_LOG_INFO, "command %llu: %s",
               (unsigned long long)ticket, msg);
  v->host->command_done(v->ctx, ticket, status, msg);
}

static struct vq_timer *w_timer_start(void *arg, uint64_t ms, vq_callback cb,
                                      void *cb_arg) {
  struct vd *v = arg;
  return v->host->timer_start(v->ctx, ms, 0, cb, cb_arg);
}

static void w_timer_stop(void *arg, struct vq_timer *t) {
  struct vd *v = arg;
  v->host->timer_stop(v->ctx, t);
}

static uint64_t w_now_ms(void *arg) { return vd_now_ms(arg); }
static int64_t w_now_ns(void *arg) { return vd_now_ns(); }

void vd_link_init(struct vd *v) {
  struct ved_write_ops ops = {w_submit,      w_value,  w_done,   w_timer_start,
                              w_timer_stop, w_now_ms, w_now_ns, v};
  ved_ctl_init(&v->ctl, v->hex_timeout_ms, (unsigned)v->hex_retries, ctl_send,
               v);
  ved_writer_init(&v->writer, &ops, v->min_write_ms);
}

/* ---- the device's side ---- */

void vd_link_identified(struct vd *v) {
  const struct ved_write_reg *r;
  size_t i;
  if (v->hex_probe) {
    submit(v, VED_CMD_PING, 0, NULL, 0, TAG_PING);
    submit(v, VED_CMD_APP_VERSION, 0, NULL, 0, TAG_VERSION);
    submit(v, VED_CMD_PRODUCT_ID, 0, NULL, 0, TAG_PRODUCT);
    submit(v, VED_CMD_GET, REG_SERIAL, NULL, 0, TAG_SERIAL);
  }
  /* With a write grant, publish the value in use once the device is
   * known, so a user interface shows the setting before the first write. */
  if (v->writables_read) return;
  v->writables_read = 1;
  for (i = 0; i < VED_WRITE_NREGS; i++) {
    double mn, mx, st;
    r = &ved_write_regs[i];
    if (v->host->command_range(v->ctx, v->host->instance_id(v->ctx),
                               r->quantity, &mn, &mx, &st) == 0)
      ved_writer_read(&v->writer, r->quantity);
  }
}

void vd_on_hexline(void *arg, const char *line, size_t len) {
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
  if (ved_ctl_on_frame(&v->ctl, &f, vd_now_ms(v))) {
    ctl_rearm(v);
    return;
  }
  /* Async (or unsolicited) register frames keep the writables' cached
   * values true when they are changed elsewhere (the app). */
  if ((f.cmd == VED_RSP_ASYNC || f.cmd == VED_RSP_GET) &&
      ved_hex_reg_parse(&f, &reg) == 0)
    ved_writer_observe(&v->writer, &reg);
}

static void on_ctl_done(void *arg, uint32_t tag, int status,
                        const struct ved_hex_frame *reply) {
  struct vd *v = arg;
  struct ved_hex_reg reg;
  char text[40];
  if (tag >= VED_WRITE_TAG0) {
    ved_writer_reply(&v->writer, tag, status, reply);
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
      ved_hex_version_text(
          (uint16_t)(reply->payload[0] | reply->payload[1] << 8), text,
          sizeof text);
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
    if (ved_hex_reg_parse(reply, &reg) == 0 && reg.flags == 0 && reg.vlen &&
        ved_ident_hex_serial(&v->ident, reg.value, reg.vlen))
      v->host->log(v->ctx, VQ_LOG_INFO, "serial number %s (HEX)",
                   v->ident.hex_serial);
    break;
  default:
    break;
  }
}

void vd_link_cancel(struct vd *v, int status, const char *why) {
  ved_writer_cancel(&v->writer, status, why);
  ved_ctl_cancel_all(&v->ctl, status);
  ctl_rearm(v);
}

/* The core has checked grant, unit, value and range and sends one command
 * per quantity at a time; what is left depends on this port and device. */
int vd_command(void *instance, const struct vq_command *cmd) {
  struct vd *v = instance;
  const char *why = NULL;
  int rc;
  if (cmd->device && v->ident.device[0] &&
      strcmp(cmd->device, v->ident.device) != 0) {
    rc = -ENODEV;
    why = "no such device on this source";
  } else if (v->port_kind == VED_PORT_FILE || v->dump) {
    rc = -ENOTSUP;
    why = "a replay (file:) port cannot be written";
  } else if (!v->port_up) {
    rc = -ENOTCONN;
    why = "the VE.Direct port is not connected";
  } else {
    rc = ved_writer_command(&v->writer, cmd, &why);
  }
  if (rc < 0) v->host->command_done(v->ctx, cmd->ticket, rc, why);
  return 0;
}

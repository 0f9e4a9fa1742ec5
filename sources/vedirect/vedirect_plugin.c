/* vedirect plugin: descriptor, options, check(), tools, the life cycle and
 * the port callbacks (see vedirect_plugin.h for the other parts). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vedirect_plugin.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

/* ---- port callbacks ---- */

static size_t on_data(void *arg, const uint8_t *buf, size_t len) {
  struct vd *v = arg;
  size_t used;
  if (v->stopping) return len;
  if (v->dump) ved_dump_bytes(&v->dumpw, buf, len);
  used = ved_stream_feed(&v->stream, buf, len, vd_now_ms(v), vd_now_ns());
  /* A held replay gets the rest again later: count bytes once. */
  v->host->stat_add(v->ctx, "bytes", (int64_t)used);
  return v->port_kind == VED_PORT_FILE ? used : len;
}

static void on_port_state(void *arg, int up, int err, const char *what) {
  struct vd *v = arg;
  v->port_up = up;
  if (up) {
    v->host->log(v->ctx, VQ_LOG_DEBUG, "port %s open", v->port_spec);
    /* whatever was half received before belongs to no block now */
    ved_stream_reset(&v->stream);
    v->last_block_ms = vd_now_ms(v);
    return;
  }
  vd_link_cancel(v, -ENOTCONN, "the VE.Direct port was lost");
  if (v->online) {
    vd_set_online(v, 0, what, err);
  } else if (!v->ever_online) {
    v->host->log(v->ctx, VQ_LOG_WARN, "%s %s%s%s; retrying", what,
                 v->port_spec, err ? ": " : "", err ? uv_strerror(err) : "");
  }
}

static void finish(struct vd *v) {
  if (v->finished_sent || v->stopping) return;
  v->finished_sent = 1;
  v->host->finished(v->ctx);
}

static void dump_closed(void *arg) {
  struct vd *v = arg;
  struct ved_dump *d = &v->dumpw;
  v->dump_open = 0;
  if (d->write_errors)
    v->host->log(v->ctx, VQ_LOG_ERROR,
                 "dump: %" PRIu64 " writes to %s failed (%" PRIu64
                 " bytes lost)",
                 d->write_errors, v->output, d->dropped);
  v->host->stat_add(v->ctx, "dump_dropped_bytes", (int64_t)d->dropped);
  v->host->log(v->ctx, VQ_LOG_INFO,
               "dump: %" PRIu64 " bytes written to %s (%" PRIu64
               " valid text blocks, %" PRIu64 " failed, %" PRIu64
               " HEX frames)",
               d->written, v->output, v->stream.text.stats.blocks_valid,
               v->stream.text.stats.blocks_bad,
               v->stream.text.stats.hex_lines);
  finish(v);
  if (v->stopping && v->port == NULL && v->stopped) v->stopped(v->ctx);
}

static void on_eof(void *arg) {
  struct vd *v = arg;
  if (v->dump) {
    ved_dump_end(&v->dumpw);
    return;
  }
  vd_replay_end(v);
  v->host->log(v->ctx, VQ_LOG_INFO,
               "replay of %s done: %" PRIu64 " valid blocks, %" PRIu64
               " failed, %" PRIu64 " HEX frames",
               v->port_spec, v->stream.text.stats.blocks_valid,
               v->stream.text.stats.blocks_bad,
               v->stream.text.stats.hex_lines);
  finish(v);
}

static void on_rewound(void *arg) { vd_replay_rewound(arg); }

static void dump_timeout(void *arg) {
  struct vd *v = arg;
  v->host->timer_stop(v->ctx, v->dump_timer);
  v->dump_timer = NULL;
  ved_dump_end(&v->dumpw);
}

/* No valid block for stale_timeout on a live port: the link is lost even
 * if the port is still open (a bridge whose serial side went quiet). */
static void stale_check(void *arg) {
  struct vd *v = arg;
  uint64_t now = vd_now_ms(v);
  if (!v->port_up || v->stale_ms == 0) return;
  if (now - v->last_block_ms > v->stale_ms) {
    if (v->online) vd_set_online(v, 0, "no valid data", 0);
    v->last_block_ms = now;
    ved_port_reconnect(v->port);
  }
}

/* ---- options and their check ---- */

/* The port to open: port = SPEC, or capture = FILE as file:FILE. */
static const char *input_spec(const struct vq_host *host, struct vq_ctx *ctx,
                              char *buf, size_t len) {
  const char *capture = host->cfg_string(ctx, "capture");
  if (capture != NULL && capture[0] != '\0') {
    snprintf(buf, len, "file:%s", capture);
    return buf;
  }
  return host->cfg_string(ctx, "port");
}

/* What start() would refuse, found without opening anything. */
static int vd_check(const struct vq_host *host, struct vq_ctx *ctx) {
  const char *port = host->cfg_string(ctx, "port");
  const char *capture = host->cfg_string(ctx, "capture");
  const char *why = NULL;
  int has_port = port != NULL && port[0] != '\0';
  int has_capture = capture != NULL && capture[0] != '\0';
  int rc = 0, loop = 0, kind = 0;
  double speed = 0;
  if (has_port && has_capture) {
    host->cfg_error(ctx, "capture", "give either port or capture, not both");
    return -EINVAL;
  }
  if (!has_port && !has_capture) {
    host->cfg_error(ctx, "port",
                    "is required (or capture = FILE for a replay)");
    return -EINVAL;
  }
  if (has_port && ved_port_check(port, &kind, &why) < 0) {
    host->cfg_error(ctx, "port", "'%s': %s", port, why);
    rc = -EINVAL;
  }
  if (has_capture) kind = VED_PORT_FILE;
  if (host->cfg_bool(ctx, "loop", &loop) == 0 && loop && kind != 0 &&
      kind != VED_PORT_FILE) {
    host->cfg_error(ctx, "loop", "only a replay (capture = FILE) can loop");
    rc = -EINVAL;
  }
  if (host->cfg_double(ctx, "speed", &speed) == 0 && speed > 0 && kind != 0 &&
      kind != VED_PORT_FILE) {
    host->cfg_error(ctx, "speed", "only a replay (capture = FILE) has a speed");
    rc = -EINVAL;
  }
  return rc;
}

/* ---- life cycle ---- */

static int vd_create(const struct vq_host *host, struct vq_ctx *ctx,
                     void **instance) {
  struct vd *v = calloc(1, sizeof *v);
  char buf[4096];
  const char *mode, *spec;
  int64_t retries = 2;
  if (v == NULL) return -ENOMEM;
  v->host = host;
  v->ctx = ctx;
  v->loop = host->loop(ctx);
  spec = input_spec(host, ctx, buf, sizeof buf);
  if (spec == buf && (v->file_spec = strdup(buf)) == NULL) {
    free(v);
    return -ENOMEM;
  }
  v->port_spec = v->file_spec ? v->file_spec : spec;
  v->output = host->cfg_string(ctx, "output");
  if (v->port_spec == NULL || v->port_spec[0] == '\0') {
    host->log(ctx, VQ_LOG_ERROR, "port or capture is required");
    free(v);
    return -EINVAL;
  }
  mode = host->cfg_string(ctx, "mode");
  v->dump = mode && strcmp(mode, "dump") == 0;
  if (v->output == NULL || v->output[0] == '\0') v->output = "-";
  /* The schema has a default for each of these, so the getters succeed. */
  if (host->cfg_double(ctx, "speed", &v->speed) < 0) v->speed = 0;
  if (host->cfg_bool(ctx, "loop", &v->loop_file) < 0) v->loop_file = 0;
  if (host->cfg_bool(ctx, "hex_probe", &v->hex_probe) < 0) v->hex_probe = 0;
  if (host->cfg_duration(ctx, "seconds", &v->seconds_ms) < 0)
    v->seconds_ms = 0;
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
  ved_ident_init(&v->ident, host->cfg_string(ctx, "device"));
  vq_replay_init(&v->replay, v->speed);
  vd_link_init(v);
  *instance = v;
  return 0;
}

static int vd_start(void *instance) {
  struct vd *v = instance;
  struct ved_port_opts po = {v->loop_file && !v->dump, 1000,
                             v->reconnect_max_ms};
  struct ved_port_cb cb = {on_data, on_port_state, on_eof, on_rewound, v};
  struct ved_stream_cb scb = {vd_on_block, vd_on_bad_block, vd_on_hexline, v};
  const char *why = NULL;
  int rc = ved_port_new(v->loop, v->port_spec, &po, &cb, &v->port, &why);
  if (rc < 0) {
    v->host->log(v->ctx, VQ_LOG_ERROR, "port %s: %s", v->port_spec,
                 why ? why : strerror(-rc));
    return rc;
  }
  v->port_kind = ved_port_kind(v->port);
  ved_stream_init(&v->stream, v->port_kind != VED_PORT_FILE, &scb);
  if (v->dump) {
    if ((rc = ved_dump_open(&v->dumpw, v->loop, v->output, dump_closed, v)) <
        0) {
      v->host->log(v->ctx, VQ_LOG_ERROR, "dump: cannot create %s: %s",
                   v->output, uv_strerror(rc));
      ved_port_close(v->port, NULL, NULL);
      v->port = NULL;
      return rc;
    }
    v->dump_open = 1;
    if (v->seconds_ms > 0)
      v->dump_timer =
          v->host->timer_start(v->ctx, v->seconds_ms, 0, dump_timeout, v);
  }
  rc = ved_port_start(v->port);
  if (rc < 0) {
    v->host->log(v->ctx, VQ_LOG_ERROR, "port %s: %s", v->port_spec,
                 uv_strerror(rc));
    ved_port_close(v->port, NULL, NULL);
    v->port = NULL;
    if (v->dump_open) {
      ved_dump_free(&v->dumpw);
      v->dump_open = 0;
    }
    return rc;
  }
  if (v->port_kind != VED_PORT_FILE)
    v->stale_timer = v->host->timer_start(v->ctx, 1000, 1000, stale_check, v);
  return 0;
}

static void port_closed(void *arg) {
  struct vd *v = arg;
  v->port = NULL;
  if (v->dump_open) {
    ved_dump_end(&v->dumpw); /* dump_closed reports the stop */
    return;
  }
  if (v->stopped) v->stopped(v->ctx);
}

static void vd_stop(void *instance, vq_stopped_cb done) {
  struct vd *v = instance;
  struct vq_timer **timers[] = {&v->ctl_timer, &v->stale_timer, &v->pace_timer,
                                &v->dump_timer};
  size_t i;
  v->stopping = 1;
  v->stopped = done;
  vd_link_cancel(v, -ECANCELED, "source is stopping");
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
  if (v->dump_open) ved_dump_free(&v->dumpw);
  free(v->file_spec);
  free(v);
}

static const struct vq_option options[] = {
  {"port", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "serial device (/dev/ttyUSB0; 19200 8N1), tcp://HOST:PORT (ser2net, "
   "ESP-Link) or file:PATH (a replay, as capture = PATH)"},
  {"capture", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "replay this recording of raw bytes (a `vicacq dump vedirect` output) "
   "instead of reading a port"},
  {"speed", VQ_OPT_DOUBLE, 0, "0", NULL, 0, 1000,
   "replay speed: 0 = as fast as the sinks take it, 1 = real time (one "
   "device cycle per second), N = N times real time"},
  {"loop", VQ_OPT_BOOL, 0, "no", NULL, 0, -1,
   "replay: start over at the end instead of finishing"},
  {"device", VQ_OPT_STRING, 0, NULL, NULL, 0, -1,
   "device id to use instead of SER# (or of pid-XXXX for devices without a "
   "serial number in their text output)"},
  {"mode", VQ_OPT_ENUM, 0, "decode", "decode|dump", 0, -1,
   "decode: emit readings; dump: record the raw bytes to `output` (for bug "
   "reports and replay with capture = FILE)"},
  {"output", VQ_OPT_STRING, 0, "-", NULL, 0, -1,
   "mode = dump: file the raw bytes are written to (replaced; - = standard "
   "output)"},
  {"seconds", VQ_OPT_DURATION, 0, "0", NULL, 0, 31536000000.0,
   "mode = dump: stop after this long (0 = until stopped or the end of a "
   "replay)"},
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

static const struct vq_tool tools[] = {
  {.name = "dump",
   .summary = "record the raw bytes of a VE.Direct port to a file (replay "
              "it with capture = FILE)",
   .preset = "mode=dump",
   .options = "port,capture,output,seconds",
   .required = NULL},
  {.name = NULL},
};

static const struct vq_plugin descriptor = {
  VQ_PLUGIN_HEADER,
  .name = "vedirect",
  .version = PACKAGE_VERSION,
  .description = "Victron VE.Direct (text and HEX protocol) over serial, TCP "
                 "or a replay file",
  .kinds = VQ_KIND_SOURCE,
  .options = options,
  .writables = ved_writables,
  .create = vd_create,
  .start = vd_start,
  .stop = vd_stop,
  .destroy = vd_destroy,
  .command = vd_command,
  .check = vd_check,
  .tools = tools,
};

VQ_PLUGIN_DECLARE(vedirect, descriptor)

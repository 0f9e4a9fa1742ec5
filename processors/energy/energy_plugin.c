/* energy: energy meters for the Home Assistant Energy dashboard that
 * never jump back after a restart.  Per (source, device) and input power
 * quantity: <prefix>.energy_in, .energy_out (kWh, total_increasing; for
 * battery.power "in" is charging) and .energy_net; battery.cycles from the
 * state of charge.  The counters are kept in state_dir, written atomically
 * (temp file, fsync, rename, fsync of the directory) through libuv's file
 * requests, so the loop never waits on the disk.  processors/README.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include <vicacq/plugin.h>
#include "vq_mkdirs.h"
#include "vq_reading_copy.h"

#include "energy_live.h"
#include "energy_meter.h"
#include "energy_state.h"

#define MAX_INPUTS 16

struct input {
  char *power;          /* "battery.power" */
  char *voltage;        /* "battery.voltage": V x I when power is missing */
  char *current;
  char *out_in, *out_out, *out_net; /* "battery.energy_in", ... */
};

struct energy {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  struct input inputs[MAX_INPUTS];
  size_t ninputs;
  int64_t max_gap_ns;
  uint64_t save_ms;
  struct vq_series_map *meters;   /* (source, device, power) */
  struct vq_series_map *cycles;   /* (source, device) */
  struct vq_timer *save_timer;
  struct energy_live *live;       /* survives SIGKILL (energy_live.h) */
  char path[4096], tmp_path[4200], dir[4096], live_path[4200];
  /* the save in flight */
  uv_fs_t req;
  char *text;
  size_t len;
  uv_file fd;
  int saving, save_again;
  uint64_t saves;
  vq_stopped_cb stopped;
  struct vq_record *scratch;
  size_t cap;
};

static const struct vq_option options[] = {
    {.key = "input", .type = VQ_OPT_STRING, .flags = VQ_OPT_LIST,
     .default_value = "battery.power",
     .help = "power quantities to integrate (W); a reading without one gets "
             "voltage x current of the same prefix"},
    {.key = "max_gap", .type = VQ_OPT_DURATION, .default_value = "60s",
     .min = 1000, .max = 86400000,
     .help = "longer without a sample (also across a restart) is not "
             "bridged, and counted"},
    {.key = "save_interval", .type = VQ_OPT_DURATION, .default_value = "60s",
     .min = 1000, .max = 86400000,
     .help = "how often the counters are written to state_dir (and at stop)"},
    {.key = NULL}};

/* "battery.power" -> prefix "battery"; only *.power names are inputs. */
static int prefix_len(const char *q) {
  size_t n = strlen(q);
  if (n < 7 || strcmp(q + n - 6, ".power") != 0) return -1;
  return (int)(n - 6);
}

static char *join(const char *prefix, int n, const char *suffix) {
  size_t len = (size_t)n + strlen(suffix) + 1;
  char *s = malloc(len);
  if (s) snprintf(s, len, "%.*s%s", n, prefix, suffix);
  return s;
}

static int each_input(const struct vq_host *host, struct vq_ctx *ctx,
                      struct energy *e) {
  const char *list = host->cfg_string(ctx, "input");
  char buf[1024], *save = NULL, *tok;
  int bad = 0;
  snprintf(buf, sizeof buf, "%s", list ? list : "");
  for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
    int n = prefix_len(tok);
    if (n < 0) {
      host->cfg_error(ctx, "input", "'%s' is not a power quantity (NAME.power)",
                      tok);
      bad = 1;
      continue;
    }
    if (e == NULL) continue;
    if (e->ninputs == MAX_INPUTS) {
      host->cfg_error(ctx, "input", "at most %d inputs", MAX_INPUTS);
      return -EINVAL;
    }
    {
      struct input *in = &e->inputs[e->ninputs++];
      in->power = strdup(tok);
      in->voltage = join(tok, n, ".voltage");
      in->current = join(tok, n, ".current");
      in->out_in = join(tok, n, ".energy_in");
      in->out_out = join(tok, n, ".energy_out");
      in->out_net = join(tok, n, ".energy_net");
      if (!in->power || !in->voltage || !in->current || !in->out_in ||
          !in->out_out || !in->out_net)
        return -ENOMEM;
    }
  }
  return bad ? -EINVAL : 0;
}

static int energy_check(const struct vq_host *host, struct vq_ctx *ctx) {
  return each_input(host, ctx, NULL);
}

/* ---- the state file ----------------------------------------------------- */

/* 1 when the state file was there but corrupt (moved aside). */
static int load_state(struct energy *e) {
  FILE *f = fopen(e->path, "r");
  char *text = NULL, err[160];
  size_t len = 0, cap = 0, n;
  if (f == NULL) return 0; /* first start */
  for (;;) {
    if (len + 4096 > cap) {
      char *grown = realloc(text, cap = cap ? cap * 2 : 8192);
      if (grown == NULL) break;
      text = grown;
    }
    n = fread(text + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  fclose(f);
  if (text != NULL &&
      energy_state_parse(text, len, e->meters, e->cycles, err, sizeof err) == 0) {
    e->host->log(e->ctx, VQ_LOG_INFO, "resumed %zu energy meters from %s",
                 vq_series_count(e->meters) + vq_series_count(e->cycles),
                 e->path);
  } else {
    /* Keep the file for the user; the counters start again from zero,
     * which Home Assistant reads as a meter reset. */
    char aside[4300];
    snprintf(aside, sizeof aside, "%s.corrupt-%lld", e->path,
             (long long)time(NULL));
    vq_series_free(e->meters);
    vq_series_free(e->cycles);
    e->meters = vq_series_new(sizeof(struct energy_series));
    e->cycles = vq_series_new(sizeof(struct cycle_series));
    if (rename(e->path, aside) == 0)
      e->host->log(e->ctx, VQ_LOG_ERROR,
                   "energy state file %s is corrupt (%s): kept as %s",
                   e->path, text ? err : "unreadable", aside);
    else
      e->host->log(e->ctx, VQ_LOG_ERROR,
                   "energy state file %s is corrupt (%s) and cannot be moved "
                   "aside (%s)", e->path, text ? err : "unreadable",
                   strerror(errno));
    free(text);
    return 1;
  }
  free(text);
  return 0;
}

static void save_step(uv_fs_t *req);
static void energy_save(struct energy *e);

/* The live file's slots over what the state file said: counters only
 * grow, so each takes the larger; the last sample is the newer one. */
static void merge_live(void *arg, int slot, const char *source,
                       const char *device, const char *input,
                       const struct energy_meter *m,
                       const struct cycle_counter *c) {
  struct energy *e = arg;
  if (m != NULL) {
    struct energy_series *s = vq_series_get(e->meters, source, device, input, NULL);
    if (s == NULL) return;
    if (m->in_kwh > s->meter.in_kwh) s->meter.in_kwh = m->in_kwh;
    if (m->out_kwh > s->meter.out_kwh) s->meter.out_kwh = m->out_kwh;
    if (m->have_last && (!s->meter.have_last || m->last_ns >= s->meter.last_ns)) {
      s->meter.have_last = 1;
      s->meter.last_ns = m->last_ns;
      s->meter.last_w = m->last_w;
    }
    if (m->gaps > s->meter.gaps) s->meter.gaps = m->gaps;
    s->live_slot1 = slot + 1;
  } else {
    struct cycle_series *k = vq_series_get(e->cycles, source, device, NULL, NULL);
    if (k == NULL) return;
    if (c->cycles > k->counter.cycles) k->counter.cycles = c->cycles;
    if (c->have_last && (!k->counter.have_last || c->last_ns >= k->counter.last_ns)) {
      k->counter.have_last = 1;
      k->counter.last_ns = c->last_ns;
      k->counter.last_soc = c->last_soc;
    }
    k->live_slot1 = slot + 1;
  }
}

/* The live copy's meters over the state file's; how many it had. */
static size_t open_live(struct energy *e) {
  int err = 0;
  size_t before = vq_series_count(e->meters) + vq_series_count(e->cycles);
  e->live = energy_live_open(e->live_path, &err);
  if (e->live == NULL) {
    e->host->log(e->ctx, VQ_LOG_WARN,
                 "cannot map %s (%s): the counters of the last %llu s before "
                 "a crash may be lost", e->live_path, strerror(-err),
                 (unsigned long long)e->save_ms / 1000);
    return 0;
  }
  energy_live_each(e->live, merge_live, e);
  return vq_series_count(e->meters) + vq_series_count(e->cycles) - before;
}

/* The chain: open temp -> write -> fsync -> close -> rename -> fsync dir. */
enum { ST_LIVE_FSYNC, ST_OPEN, ST_WRITE, ST_FSYNC, ST_CLOSE, ST_RENAME,
       ST_DIR_OPEN, ST_DIR_FSYNC, ST_DIR_CLOSE };

static void save_finish(struct energy *e, int status) {
  free(e->text);
  e->text = NULL;
  e->saving = 0;
  if (status < 0) {
    e->host->log(e->ctx, VQ_LOG_ERROR, "cannot write %s: %s", e->path,
                 uv_strerror(status));
    e->host->stat_add(e->ctx, "save_failed", 1);
  } else {
    e->saves++;
    e->host->stat_add(e->ctx, "saves", 1);
  }
  if (e->save_again) {
    /* Asked again while this one ran (a stop, a timer): write the newer
     * counters; stop completes after that one. */
    e->save_again = 0;
    energy_save(e);
    return;
  }
  if (e->stopped) {
    vq_stopped_cb done = e->stopped;
    e->stopped = NULL;
    done(e->ctx);
  }
}

static int state_of(uv_fs_t *req) { return (int)(intptr_t)req->data; }

/* A step failed while e->fd (the temp file's or the directory's) was
 * open: close it at once, or every failed save (a file system that cannot
 * fsync a directory) would leak a descriptor. */
static void close_on_failure(struct energy *e, int state) {
  uv_fs_t close_req;
  if (state != ST_WRITE && state != ST_FSYNC && state != ST_DIR_FSYNC) return;
  uv_fs_close(e->host->loop(e->ctx), &close_req, e->fd, NULL);
  uv_fs_req_cleanup(&close_req);
}

static void next(struct energy *e, int state) {
  uv_loop_t *loop = e->host->loop(e->ctx);
  int rc;
  uv_buf_t buf;
  e->req.data = (void *)(intptr_t)state;
  switch (state) {
  case ST_LIVE_FSYNC:
    rc = uv_fs_fsync(loop, &e->req, energy_live_fd(e->live), save_step);
    break;
  case ST_WRITE:
    buf = uv_buf_init(e->text, (unsigned)e->len);
    rc = uv_fs_write(loop, &e->req, e->fd, &buf, 1, 0, save_step);
    break;
  case ST_FSYNC: rc = uv_fs_fsync(loop, &e->req, e->fd, save_step); break;
  case ST_CLOSE: rc = uv_fs_close(loop, &e->req, e->fd, save_step); break;
  case ST_RENAME:
    rc = uv_fs_rename(loop, &e->req, e->tmp_path, e->path, save_step);
    break;
  case ST_DIR_OPEN:
    rc = uv_fs_open(loop, &e->req, e->dir, O_RDONLY | O_DIRECTORY, 0, save_step);
    break;
  case ST_DIR_FSYNC: rc = uv_fs_fsync(loop, &e->req, e->fd, save_step); break;
  case ST_DIR_CLOSE: rc = uv_fs_close(loop, &e->req, e->fd, save_step); break;
  default:
    rc = uv_fs_open(loop, &e->req, e->tmp_path, O_WRONLY | O_CREAT | O_TRUNC,
                    0640, save_step);
  }
  if (rc < 0) {
    close_on_failure(e, state);
    save_finish(e, rc);
  }
}

static void save_step(uv_fs_t *req) {
  struct energy *e = (struct energy *)((char *)req - offsetof(struct energy, req));
  int state = state_of(req), result = (int)req->result;
  uv_fs_req_cleanup(req);
  if (result < 0) {
    close_on_failure(e, state);
    save_finish(e, result);
    return;
  }
  switch (state) {
  case ST_LIVE_FSYNC: next(e, ST_OPEN); break;
  case ST_OPEN: e->fd = result; next(e, ST_WRITE); break;
  case ST_WRITE:
    if ((size_t)result != e->len) {
      close_on_failure(e, state);
      save_finish(e, UV_EIO);
      return;
    }
    next(e, ST_FSYNC);
    break;
  case ST_FSYNC: next(e, ST_CLOSE); break;
  case ST_CLOSE: next(e, ST_RENAME); break;
  case ST_RENAME: next(e, ST_DIR_OPEN); break;
  case ST_DIR_OPEN: e->fd = result; next(e, ST_DIR_FSYNC); break;
  case ST_DIR_FSYNC: next(e, ST_DIR_CLOSE); break;
  default: save_finish(e, 0);
  }
}

static void energy_save(struct energy *e) {
  if (e->path[0] == '\0') {
    save_finish(e, 0);
    return;
  }
  if (e->saving) {
    e->save_again = 1;
    return;
  }
  if (energy_state_format(e->meters, e->cycles, &e->text, &e->len) != 0) {
    save_finish(e, UV_ENOMEM);
    return;
  }
  e->saving = 1;
  /* The live copy first: the state file is then never newer than it. */
  next(e, e->live != NULL ? ST_LIVE_FSYNC : ST_OPEN);
}

static void on_save_timer(void *arg) { energy_save(arg); }

/* ---- lifecycle ------------------------------------------------------------ */

static void energy_destroy(void *instance);

static int energy_create(const struct vq_host *host, struct vq_ctx *ctx,
                         void **instance) {
  struct energy *e = calloc(1, sizeof *e);
  uint64_t gap_ms;
  const char *dir;
  int rc;
  if (e == NULL) return -ENOMEM;
  e->host = host;
  e->ctx = ctx;
  e->meters = vq_series_new(sizeof(struct energy_series));
  e->cycles = vq_series_new(sizeof(struct cycle_series));
  if (e->meters == NULL || e->cycles == NULL) {
    energy_destroy(e);
    return -ENOMEM;
  }
  rc = each_input(host, ctx, e);
  if (rc == 0) rc = host->cfg_duration(ctx, "max_gap", &gap_ms);
  if (rc == 0) rc = host->cfg_duration(ctx, "save_interval", &e->save_ms);
  if (rc != 0) {
    energy_destroy(e);
    return rc;
  }
  e->max_gap_ns = (int64_t)gap_ms * 1000000;
  dir = host->state_dir(ctx);
  if (dir != NULL) {
    snprintf(e->dir, sizeof e->dir, "%s", dir);
    snprintf(e->path, sizeof e->path, "%s/energy.%s.state", dir,
             host->instance_id(ctx));
    snprintf(e->tmp_path, sizeof e->tmp_path, "%s.tmp", e->path);
    snprintf(e->live_path, sizeof e->live_path, "%s/energy.%s.live", dir,
             host->instance_id(ctx));
    vq_mkdirs(dir, 0750); /* an error shows when the file is opened */
    {
      int corrupt = load_state(e);
      size_t live = open_live(e);
      /* A corrupt state file with an intact live copy loses nothing; with
       * neither, the counters start from zero, which Home Assistant reads
       * as a meter reset. */
      if (corrupt && live > 0)
        host->log(ctx, VQ_LOG_WARN, "resumed %zu energy meters from the live "
                  "copy %s", live, e->live_path);
      else if (corrupt)
        host->log(ctx, VQ_LOG_ERROR, "the energy counters start again from "
                  "zero");
    }
  } else {
    host->log(ctx, VQ_LOG_WARN, "no state_dir: the counters start from zero "
              "at every start");
  }
  *instance = e;
  return 0;
}

static int energy_start(void *instance) {
  struct energy *e = instance;
  if (e->path[0] != '\0') {
    e->save_timer = e->host->timer_start(e->ctx, e->save_ms, e->save_ms,
                                         on_save_timer, e);
    if (e->save_timer == NULL) return -ENOMEM;
  }
  return 0;
}

static void energy_stop(void *instance, vq_stopped_cb done) {
  struct energy *e = instance;
  if (e->save_timer) {
    e->host->timer_stop(e->ctx, e->save_timer);
    e->save_timer = NULL;
  }
  /* The last save, then done (the loop goes on meanwhile). */
  e->stopped = done;
  if (e->saving) {
    e->save_again = 1;
    return;
  }
  energy_save(e);
}

static void energy_destroy(void *instance) {
  struct energy *e = instance;
  size_t i;
  for (i = 0; i < e->ninputs; i++) {
    free(e->inputs[i].power);
    free(e->inputs[i].voltage);
    free(e->inputs[i].current);
    free(e->inputs[i].out_in);
    free(e->inputs[i].out_out);
    free(e->inputs[i].out_net);
  }
  vq_series_free(e->meters);
  vq_series_free(e->cycles);
  energy_live_close(e->live);
  free(e->text);
  free(e->scratch);
  free(e);
}

/* ---- readings ------------------------------------------------------------- */

static const struct vq_record *find(const struct vq_reading *r, const char *q) {
  uint32_t i;
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, i);
    if (strcmp(rec->quantity, q) == 0 && !(rec->flags & VQ_RECORD_NA) &&
        (rec->type == VQ_VALUE_DOUBLE || rec->type == VQ_VALUE_INT))
      return rec;
  }
  return NULL;
}

static double num(const struct vq_record *r) {
  return r->type == VQ_VALUE_DOUBLE ? r->value.f64 : (double)r->value.i64;
}

static void add(struct vq_record *out, uint32_t *n, const char *q, double v) {
  struct vq_record *r = &out[(*n)++];
  memset(r, 0, sizeof *r);
  r->quantity = q;
  r->unit = "kWh";
  r->type = VQ_VALUE_DOUBLE;
  r->value.f64 = v;
}

static int energy_process(void *instance, const struct vq_reading *r) {
  struct energy *e = instance;
  struct vq_reading out;
  uint32_t i, n;
  size_t need = r->nrecords + 3 * e->ninputs + 1;
  const struct vq_record *soc;
  if (need > e->cap) {
    struct vq_record *grown = realloc(e->scratch, need * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    e->scratch = grown;
    e->cap = need;
  }
  for (n = 0; n < r->nrecords; n++) e->scratch[n] = *VQ_READING_RECORD(r, n);
  for (i = 0; i < e->ninputs; i++) {
    const struct input *in = &e->inputs[i];
    const struct vq_record *p = find(r, in->power), *v, *c;
    struct energy_series *s;
    double watts;
    uint64_t gaps;
    if (p != NULL) {
      watts = num(p);
    } else if ((v = find(r, in->voltage)) && (c = find(r, in->current))) {
      watts = num(v) * num(c);
    } else {
      continue;
    }
    s = vq_series_get(e->meters, r->source, r->device, in->power, NULL);
    if (s == NULL) return -ENOMEM;
    gaps = s->meter.gaps;
    energy_meter_add(&s->meter, r->time_ns, watts, e->max_gap_ns);
    if (s->meter.gaps != gaps) e->host->stat_add(e->ctx, "gaps", 1);
    /* In the live file before the value goes on (energy_live.h). */
    if (e->live != NULL) {
      if (s->live_slot1 == 0)
        s->live_slot1 = energy_live_slot(e->live, r->source, r->device, in->power) + 1;
      if (s->live_slot1 > 0) energy_live_put_meter(e->live, s->live_slot1 - 1, &s->meter);
    }
    add(e->scratch, &n, in->out_in, s->meter.in_kwh);
    add(e->scratch, &n, in->out_out, s->meter.out_kwh);
    add(e->scratch, &n, in->out_net, energy_meter_net(&s->meter));
  }
  if ((soc = find(r, "battery.soc")) != NULL) {
    struct cycle_series *c =
        vq_series_get(e->cycles, r->source, r->device, NULL, NULL);
    if (c == NULL) return -ENOMEM;
    cycle_counter_add(&c->counter, r->time_ns, num(soc), e->max_gap_ns);
    if (e->live != NULL) {
      if (c->live_slot1 == 0)
        c->live_slot1 = energy_live_slot(e->live, r->source, r->device, "") + 1;
      if (c->live_slot1 > 0) energy_live_put_cycles(e->live, c->live_slot1 - 1, &c->counter);
    }
    add(e->scratch, &n, "battery.cycles", c->counter.cycles);
    e->scratch[n - 1].unit = "";
  }
  if (n == r->nrecords) return e->host->emit(e->ctx, r);
  out = vq_reading_with_records(r, e->scratch, n);
  return e->host->emit(e->ctx, &out);
}

static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "energy",
    .version = "1.0.0",
    .description = "energy meters (kWh in/out/net) from power, and battery "
                   "cycles, kept across restarts",
    .kinds = VQ_KIND_PROCESSOR,
    .options = options,
    .create = energy_create,
    .start = energy_start,
    .stop = energy_stop,
    .destroy = energy_destroy,
    .check = energy_check,
    .process = energy_process,
};

VQ_PLUGIN_DECLARE(energy, descriptor)

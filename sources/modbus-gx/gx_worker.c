/* The worker thread of a modbus-gx instance: it owns the libmodbus
 * connection and does everything that blocks on the network: connect with
 * back-off, discovery, poll cycles, writes and setpoint refresh.  One
 * request at a time, so the GX is never sent more than one.
 * Behaviour of the GX: doc/protocols/modbus-gx.md §1 (timeouts, first reads
 * slow), §4 (exceptions), §5 (writes, setpoints), §9 (recovery). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gx.h"
#include "victron.h"
#include "gx_discover.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
/* Probes of a background re-discovery per poll cycle, so polling goes on. */
#define REDISCOVER_BUDGET 16

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int64_t wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int stopping(struct gx *gx) {
  int s;
  uv_mutex_lock(&gx->mu);
  s = gx->stopping;
  uv_mutex_unlock(&gx->mu);
  return s;
}

/* Sleep until `deadline` (monotonic ms), a command or stop; returns early
 * when there is work. */
static void wait_until(struct gx *gx, uint64_t deadline) {
  uv_mutex_lock(&gx->mu);
  while (!gx->stopping && gx->jobs == NULL) {
    uint64_t now = now_ms();
    if (now >= deadline) break;
    if (uv_cond_timedwait(&gx->cv, &gx->mu, (deadline - now) * 1000000) ==
        UV_ETIMEDOUT)
      break;
  }
  uv_mutex_unlock(&gx->mu);
}

static void disconnect(struct gx *gx) {
  if (gx->mb != NULL) {
    modbus_close(gx->mb);
    modbus_free(gx->mb);
    gx->mb = NULL;
  }
  gx->connected = 0;
}

/* Connect, resolving the host name again each time (a GX whose address
 * changed is found again without a restart). */
static int connect_gx(struct gx *gx) {
  uint32_t sec = (uint32_t)(gx->timeout_ms / 1000);
  uint32_t usec = (uint32_t)(gx->timeout_ms % 1000) * 1000;
  disconnect(gx);
  gx->mb = modbus_new_tcp_pi(gx->hostname, gx->port);
  if (gx->mb == NULL) return -errno;
  modbus_set_response_timeout(gx->mb, sec, usec);
  if (modbus_connect(gx->mb) != 0) {
    int err = errno;
    disconnect(gx);
    return -err;
  }
  gx->connected = 1;
  gx->timeouts = 0;
  return 0;
}

/* After a failed request: a timeout may leave a late answer in the socket,
 * which libmodbus would take for the answer to the next request, so flush;
 * two in a row, or anything that is not a Modbus exception, reconnects. */
static void request_failed(struct gx *gx, int err) {
  if (err == ETIMEDOUT && ++gx->timeouts < 2) {
    modbus_flush(gx->mb);
    gx_post_stat(gx, "timeouts", 1);
    return;
  }
  /* One line per state change: the first loss after good data warns,
   * the retries that follow are debug. */
  gx_post_log(gx, gx->healthy ? VQ_LOG_WARN : VQ_LOG_DEBUG,
              "connection to %s:%s lost (%s); reconnecting", gx->hostname,
              gx->port, modbus_strerror(err));
  gx->healthy = 0;
  disconnect(gx);
}

static int is_exception(int err) {
  return err > MODBUS_ENOBASE && err <= MODBUS_ENOBASE + 0x0B;
}

/* One read: 0, the Modbus exception code (> 0), or -errno (connection). */
static int read_block(struct gx *gx, int unit, uint16_t address, uint16_t count,
                      uint16_t *words) {
  int rc;
  modbus_set_slave(gx->mb, unit);
  gx->requests++;
  rc = modbus_read_registers(gx->mb, address, count, words);
  if (rc == count) {
    gx->timeouts = 0;
    return 0;
  }
  if (rc >= 0) return -EPROTO;
  if (is_exception(errno)) {
    gx->timeouts = 0;
    return errno - MODBUS_ENOBASE;
  }
  return -errno;
}

static int probe(void *arg, int unit, int service) {
  struct gx *gx = arg;
  size_t first, count, i, tried = 0;
  uint16_t words[4];
  gx_service_registers(service, &first, &count);
  for (i = first; i < first + count && tried < 3; i++) {
    const struct gx_register *r = &gx_registers[i];
    int rc;
    if (r->kind == GX_RESERVED || r->count > 4) continue;
    tried++;
    rc = read_block(gx, unit, r->address, r->count, words);
    if (rc == 0) return 1;
    if (rc == 0x0A || rc == 0x0B) return 0;
    if (rc == 0x02) continue; /* this firmware lacks the register */
    if (rc < 0) {
      request_failed(gx, -rc);
      if (!gx->connected) return rc;
    }
    if (rc > 0) return 0;
  }
  return 0;
}

static void found_free(struct gx_found *f) {
  gx_image_free(&f->image);
  free(f->blocks);
  f->blocks = NULL;
}

static struct gx_found *found_at(struct gx *gx, int unit, int service);

/* Add the services of a discovery that are not known yet (known ones keep
 * their block splits). */
static int found_add(struct gx *gx, const struct gx_disc_entry *e, size_t n) {
  size_t i;
  for (i = 0; i < n && gx->nfound < GX_MAX_FOUND; i++) {
    struct gx_found *f = &gx->found[gx->nfound];
    if (found_at(gx, e[i].unit, e[i].service) != NULL) continue;
    memset(f, 0, sizeof *f);
    f->unit = e[i].unit;
    f->service = e[i].service;
    f->available = 1;
    if (gx_image_init(&f->image, f->service) != 0) return -ENOMEM;
    f->blocks = calloc(gx_nregisters, sizeof *f->blocks);
    if (f->blocks == NULL) {
      gx_image_free(&f->image);
      return -ENOMEM;
    }
    f->nblocks = gx_plan_blocks(&f->image, f->blocks, gx_nregisters);
    gx->nfound++;
  }
  return 0;
}

/* The initial discovery, or the cached one. */
static int discover(struct gx *gx) {
  struct gx_disc *d;
  struct gx_disc_entry cached[GX_DISC_MAX];
  uint64_t t0 = now_ms();
  int rc, n;
  if (gx->units_auto && gx->mode == GX_MODE_POLL && gx->cache_path[0] &&
      (n = gx_disc_load(cached, GX_DISC_MAX, gx->cache_path)) > 0) {
    gx_post_log(gx, VQ_LOG_INFO, "using the %d services found before (%s)", n,
                gx->cache_path);
    gx->discovered = 1;
    return found_add(gx, cached, (size_t)n);
  }
  d = malloc(sizeof *d);
  if (d == NULL) return -ENOMEM;
  gx_disc_begin(d, gx->units_auto ? NULL : gx->units);
  while ((rc = gx_disc_step(d, probe, gx, 64)) == 0 && !stopping(gx)) {
  }
  if (rc < 0 || stopping(gx)) {
    free(d);
    return rc < 0 ? rc : -ECANCELED;
  }
  gx_post_log(gx, VQ_LOG_INFO,
              "discovery: %zu services in %u requests, %llu ms", d->nfound,
              d->probes, (unsigned long long)(now_ms() - t0));
  gx_post_stat(gx, "discovery_requests", d->probes);
  if (gx->cache_path[0] && gx->mode == GX_MODE_POLL && gx->units_auto) {
    int err = gx_disc_save(d->found, d->nfound, gx->cache_path);
    if (err != 0)
      gx_post_log(gx, VQ_LOG_WARN, "cannot keep the discovery in %s: %s",
                  gx->cache_path, strerror(-err));
  }
  rc = found_add(gx, d->found, d->nfound);
  free(d);
  gx->discovered = 1;
  return rc;
}

/* Read every block of a (unit, service); splits blocks on 0x02.  Returns
 * 1 when data was read, 0 when the service is unavailable (0x0A), -errno
 * on a connection failure. */
static int poll_found(struct gx *gx, struct gx_found *f) {
  uint16_t words[GX_MAX_BLOCK];
  size_t i;
  int any = 0;
  gx_image_reset(&f->image);
  for (i = 0; i < f->nblocks; i++) {
    struct gx_block b = f->blocks[i], left, right;
    int rc = read_block(gx, f->unit, b.address, b.count, words);
    if (rc == 0) {
      gx_image_store(&f->image, &b, words);
      any = 1;
    } else if (rc == 0x02) {
      /* Older firmware lacks registers of this block: split it and
       * remember the split; a single row it lacks is dropped. */
      if (gx_block_split(f->service, &b, &left, &right) == 0) {
        memmove(&f->blocks[i + 2], &f->blocks[i + 1],
                (f->nblocks - i - 1) * sizeof *f->blocks);
        f->blocks[i] = left;
        f->blocks[i + 1] = right;
        f->nblocks++;
        i--;
      } else {
        gx_image_mark_missing(&f->image, &b);
        memmove(&f->blocks[i], &f->blocks[i + 1],
                (f->nblocks - i - 1) * sizeof *f->blocks);
        f->nblocks--;
        i--;
      }
      gx_post_stat(gx, "block_splits", 1);
    } else if (rc == 0x0A || rc == 0x0B) {
      return any;
    } else if (rc < 0) {
      request_failed(gx, -rc);
      if (!gx->connected) return rc;
    }
  }
  return any;
}

static char *string_of(const struct gx_image *img, const char *path) {
  size_t first, count, i;
  gx_service_registers(img->service, &first, &count);
  for (i = first; i < first + count; i++) {
    const struct gx_register *r = &gx_registers[i];
    char buf[2 * GX_MAX_BLOCK + 1];
    if (r->point < 0 || r->kind != GX_STRING ||
        strcmp(gx_points[r->point].path, path) != 0)
      continue;
    if (gx_point_row(img, r->point) == NULL) return NULL;
    gx_decode_string(r, gx_image_words(img, r), buf);
    return buf[0] ? strdup(buf) : NULL;
  }
  return NULL;
}

static double number_of(const struct gx_image *img, const char *path, int *ok) {
  size_t first, count, i;
  double v = 0;
  *ok = 0;
  gx_service_registers(img->service, &first, &count);
  for (i = first; i < first + count; i++) {
    const struct gx_register *r = &gx_registers[i];
    if (r->point >= 0 && strcmp(gx_points[r->point].path, path) == 0) {
      *ok = gx_point_value(img, r->point, &v, &r) == 0;
      return v;
    }
  }
  return v;
}

/* The firmware of the GX from 834/835: "3.67", "3.70~47" for a beta. */
static char *firmware_of(const struct gx_image *img) {
  const struct gx_register *r = NULL;
  size_t first, count, i;
  char buf[32];
  gx_service_registers(img->service, &first, &count);
  for (i = first; i < first + count; i++)
    if (gx_registers[i].kind == GX_FIRMWARE) r = &gx_registers[i];
  if (r == NULL || gx_point_row(img, r->point) == NULL) return NULL;
  gx_firmware_text(gx_image_words(img, r), buf, sizeof buf);
  return strdup(buf);
}

static void add_samples(struct gx_out *out, const struct gx_image *img) {
  size_t p;
  for (p = 0; p < gx_npoints; p++) {
    const struct gx_point *pt = &gx_points[p];
    const struct gx_register *row;
    struct gx_sample *s;
    if (pt->service != img->service) continue;
    row = gx_point_row(img, (int)p);
    if (row == NULL || row->kind == GX_FIRMWARE) continue;
    s = &out->samples[out->nsamples];
    memset(s, 0, sizeof *s);
    s->point = (int)p;
    if (pt->type == VQ_VALUE_STRING) {
      char buf[2 * GX_MAX_BLOCK + 1];
      gx_decode_string(row, gx_image_words(img, row), buf);
      s->text = strdup(buf);
      if (s->text == NULL) continue;
    } else if (gx_point_value(img, (int)p, &s->value, &row) != 0) {
      continue;
    }
    out->nsamples++;
  }
}

static struct gx_out *out_new(struct gx *gx, const struct gx_found *f) {
  struct gx_out *out = calloc(1, sizeof *out);
  if (out == NULL) return NULL;
  out->gx = gx;
  out->service = f->service;
  out->online = -1;
  out->time_ns = wall_ns();
  gx_device_id(f->unit, f->service, out->device);
  out->samples = calloc(gx_npoints, sizeof *out->samples);
  if (out->samples == NULL) {
    free(out);
    return NULL;
  }
  return out;
}

static void tag_device(struct gx_out *out, const struct gx_image *img) {
  int ok;
  double pid = number_of(img, "/ProductId", &ok);
  if (ok && out->product_id == NULL) {
    char buf[16];
    const char *name = vic_product_name((unsigned)pid & 0xFFFF);
    snprintf(buf, sizeof buf, "0x%04X", (unsigned)pid & 0xFFFF);
    out->product_id = strdup(buf);
    /* The shared table names products the same for every transport. */
    if (name != NULL) out->product = strdup(name);
  }
  if (out->custom_name == NULL) out->custom_name = string_of(img, "/CustomName");
  if (out->serial == NULL) out->serial = string_of(img, "/Serial");
  if (out->firmware == NULL) out->firmware = firmware_of(img);
}

/* A unit stopped answering: walk the candidates again in the background
 * (a device moved to another USB port gets another unit id). */
static void rediscover_begin(struct gx *gx) {
  if (gx->rediscovery != NULL || !gx->units_auto) return;
  gx->rediscovery = malloc(sizeof *gx->rediscovery);
  if (gx->rediscovery != NULL) gx_disc_begin(gx->rediscovery, NULL);
}

/* A few probes of the background walk per cycle, so polling goes on. */
static void rediscover_step(struct gx *gx) {
  struct gx_disc *d = gx->rediscovery;
  size_t before = gx->nfound;
  int rc;
  if (d == NULL || !gx->connected) return;
  rc = gx_disc_step(d, probe, gx, REDISCOVER_BUDGET);
  if (rc == 0) return;
  if (rc > 0) {
    struct gx_disc_entry all[GX_MAX_FOUND];
    size_t i;
    if (found_add(gx, d->found, d->nfound) != 0)
      gx_post_log(gx, VQ_LOG_ERROR, "out of memory: services found again "
                                    "are not polled");
    gx_post_log(gx, VQ_LOG_INFO,
                "discovery refreshed: %zu new services in %u requests",
                gx->nfound - before, d->probes);
    for (i = 0; i < gx->nfound; i++) {
      all[i].unit = gx->found[i].unit;
      all[i].service = gx->found[i].service;
    }
    if (gx->cache_path[0]) {
      int err = gx_disc_save(all, gx->nfound, gx->cache_path);
      if (err != 0)
        gx_post_log(gx, VQ_LOG_WARN, "cannot keep the discovery in %s: %s",
                    gx->cache_path, strerror(-err));
    }
  }
  free(d);
  gx->rediscovery = NULL;
}

/* One poll cycle: every (unit, service), then one reading per device. */
static int poll_cycle(struct gx *gx) {
  struct gx_out *system_out = NULL;
  size_t i;
  for (i = 0; i < gx->nfound && !stopping(gx); i++) {
    struct gx_found *f = &gx->found[i];
    struct gx_out *out;
    int rc = poll_found(gx, f);
    if (rc < 0) {
      if (system_out) gx_post_reading(gx, system_out);
      return rc;
    }
    if (rc == 0) {
      if (f->available) {
        gx_post_log(gx, VQ_LOG_WARN, "unit %u: %s no longer answers (0x0A)",
                    f->unit, gx_services[f->service]);
        f->available = 0;
        rediscover_begin(gx); /* it may have moved to another unit id */
        out = out_new(gx, f);
        if (out) {
          out->online = 0;
          gx_post_reading(gx, out);
        }
      }
      continue;
    }
    if (gx_service_is_system(f->service) && system_out != NULL) {
      out = system_out; /* system, settings and hub4 are one device */
    } else {
      out = out_new(gx, f);
      if (out == NULL) continue;
    }
    if (!f->available) {
      gx_post_log(gx, VQ_LOG_INFO, "unit %u: %s answers again", f->unit,
                  gx_services[f->service]);
      f->available = 1;
    }
    out->online = 1;
    add_samples(out, &f->image);
    tag_device(out, &f->image);
    if (gx_service_is_system(f->service)) system_out = out;
    else gx_post_reading(gx, out);
  }
  if (system_out) gx_post_reading(gx, system_out);
  return 0;
}

static struct gx_found *found_at(struct gx *gx, int unit, int service) {
  size_t i;
  for (i = 0; i < gx->nfound; i++)
    if (gx->found[i].unit == unit && gx->found[i].service == service)
      return &gx->found[i];
  return NULL;
}

static int write_row(struct gx *gx, int unit, const struct gx_register *row,
                     const uint16_t *words) {
  int rc;
  modbus_set_slave(gx->mb, unit);
  gx->requests++;
  /* FC6 for one register, FC16 for a 32-bit pair (both words at once). */
  rc = row->count == 1 ? modbus_write_register(gx->mb, row->address, words[0])
                       : modbus_write_registers(gx->mb, row->address,
                                                row->count, words);
  if (rc >= 0) return 0;
  if (is_exception(errno)) return errno - MODBUS_ENOBASE;
  return -errno;
}

static void refresh_set(struct gx *gx, int unit, const struct gx_register *row,
                        const uint16_t *words) {
  size_t i;
  for (i = 0; i < gx->nrefresh; i++)
    if (gx->refresh[i].unit == unit && gx->refresh[i].address == row->address)
      break;
  if (i == gx->nrefresh) {
    if (gx->nrefresh == GX_MAX_REFRESH) return;
    gx->nrefresh++;
  }
  gx->refresh[i].unit = (uint8_t)unit;
  gx->refresh[i].address = row->address;
  gx->refresh[i].count = row->count;
  gx->refresh[i].words[0] = words[0];
  gx->refresh[i].words[1] = words[1];
  gx->refresh[i].due_ms = now_ms() + gx->refresh_ms;
}

/* Setpoints the GX drops after 10-60 s without an update. */
static int needs_refresh(const struct gx_point *pt) {
  return strncmp(pt->quantity, "ess.l", 5) == 0 ||
         strcmp(pt->quantity, "ess.grid_setpoint_override") == 0;
}

/* The point of a command: of the points with the command's quantity, the
 * one whose service the unit has, with a W row. */
static int job_resolve(struct gx *gx, struct gx_job *job) {
  const char *quantity = gx_points[job->point].quantity;
  size_t p;
  for (p = 0; p < gx_npoints; p++) {
    const struct gx_point *pt = &gx_points[p];
    uint16_t w[2];
    int err;
    if (strcmp(pt->quantity, quantity) != 0 ||
        found_at(gx, job->unit, pt->service) == NULL)
      continue;
    if (gx_write_row(pt->service, (int)p, 0, w, &err) == NULL && err == -EPERM)
      continue;
    job->point = (int)p;
    job->service = pt->service;
    return 0;
  }
  return -ENODEV;
}

static void run_job(struct gx *gx, struct gx_job *job) {
  const struct gx_point *pt;
  const struct gx_register *row;
  struct gx_found *f;
  uint16_t words[2] = {0, 0}, back[2];
  char msg[200];
  int err = 0, rc;
  double confirmed;

  if (job_resolve(gx, job) != 0) {
    snprintf(msg, sizeof msg, "unit %u has no writable %s", job->unit,
             gx_points[job->point].quantity);
    gx_post_command_done(gx, job->ticket, -ENODEV, msg);
    return;
  }
  pt = &gx_points[job->point];
  f = found_at(gx, job->unit, job->service);
  row = gx_write_row(job->service, job->point, job->value, words, &err);
  if (row == NULL) {
    snprintf(msg, sizeof msg, "%g %s does not fit %s's registers", job->value,
             pt->unit, pt->quantity);
    gx_post_command_done(gx, job->ticket, err, msg);
    return;
  }
  rc = write_row(gx, job->unit, row, words);
  if (rc == 0x02) {
    gx_post_command_done(gx, job->ticket, -EACCES,
                         "the GX refused the write (exception 0x02): its "
                         "Modbus TCP server is set to read-only (Settings, "
                         "Services or Integrations, Modbus TCP)");
    return;
  }
  if (rc > 0) {
    snprintf(msg, sizeof msg, "the GX refused the write (exception 0x%02X)%s",
             rc, rc == 0x0A ? ": the device rejected the value" : "");
    gx_post_command_done(gx, job->ticket, -EIO, msg);
    return;
  }
  if (rc < 0) {
    request_failed(gx, -rc);
    gx_post_command_done(gx, job->ticket, rc, "connection to the GX failed");
    return;
  }
  /* Read back what the GX now holds and emit it. */
  rc = read_block(gx, job->unit, row->address, row->count, back);
  if (rc != 0 || gx_decode_value(row, back, &confirmed) != 0) {
    if (rc < 0) request_failed(gx, -rc);
    gx_post_command_done(gx, job->ticket, -EIO,
                         "written, but reading it back failed");
    return;
  }
  if (needs_refresh(pt)) refresh_set(gx, job->unit, row, words);
  if (f != NULL) {
    struct gx_out *out = out_new(gx, f);
    if (out) {
      out->samples[0].point = job->point;
      out->samples[0].value = confirmed;
      out->nsamples = 1;
      gx_post_reading(gx, out);
    }
  }
  if (confirmed - job->value > gx_resolution(row) ||
      job->value - confirmed > gx_resolution(row)) {
    snprintf(msg, sizeof msg, "the GX holds %g after the write", confirmed);
    gx_post_command_done(gx, job->ticket, -EIO, msg);
    return;
  }
  gx_post_command_done(gx, job->ticket, 0, NULL);
}

static void run_jobs(struct gx *gx) {
  for (;;) {
    struct gx_job *job;
    uv_mutex_lock(&gx->mu);
    job = gx->jobs;
    if (job) {
      gx->jobs = job->next;
      if (gx->jobs == NULL) gx->jobs_tail = &gx->jobs;
    }
    uv_mutex_unlock(&gx->mu);
    if (job == NULL) return;
    if (gx->connected) run_job(gx, job);
    else gx_post_command_done(gx, job->ticket, -ENOTCONN,
                              "not connected to the GX");
    free(job);
  }
}

/* Commands still queued when the instance stops are failed, not sent. */
static void fail_jobs(struct gx *gx) {
  struct gx_job *job;
  uv_mutex_lock(&gx->mu);
  job = gx->jobs;
  gx->jobs = NULL;
  gx->jobs_tail = &gx->jobs;
  uv_mutex_unlock(&gx->mu);
  while (job) {
    struct gx_job *next = job->next;
    gx_post_command_done(gx, job->ticket, -ECANCELED, "the source stopped");
    free(job);
    job = next;
  }
}

static void run_refresh(struct gx *gx) {
  size_t i;
  uint64_t now = now_ms();
  for (i = 0; i < gx->nrefresh && gx->connected; i++) {
    struct gx_refresh *r = &gx->refresh[i];
    const struct gx_register row = {r->address, r->count, 0, 0, 1, 1, -1};
    int rc;
    if (now < r->due_ms) continue;
    rc = write_row(gx, r->unit, &row, r->words);
    if (rc < 0) request_failed(gx, -rc);
    else gx_post_stat(gx, "setpoint_refreshes", 1);
    r->due_ms = now + gx->refresh_ms;
  }
}

/* Scan mode: what was found, with each device's identity, and the units
 * line for the pipeline file. */
static void scan_report(struct gx *gx) {
  char *text = NULL, units[1024] = "";
  size_t len = 0, ulen = 0, i;
  FILE *f = open_memstream(&text, &len);
  unsigned u;
  if (f == NULL) return;
  fprintf(f, "%-5s %-13s %-7s %-9s %-9s %s\n", "unit", "service", "device",
          "product", "firmware", "name");
  for (i = 0; i < gx->nfound; i++) {
    struct gx_found *fd = &gx->found[i];
    struct gx_out *out = out_new(gx, fd);
    if (out == NULL) break;
    if (poll_found(gx, fd) > 0) tag_device(out, &fd->image);
    fprintf(f, "%-5u %-13s %-7s %-9s %-9s %s\n", fd->unit,
            gx_services[fd->service], out->device,
            out->product ? out->product : out->product_id ? out->product_id : "-",
            out->firmware ? out->firmware : "-",
            out->custom_name ? out->custom_name : "");
    out->nsamples = 0;
    gx_out_free(out);
  }
  /* The units line, in numeric order. */
  for (u = 0; u < 256; u++) {
    for (i = 0; i < gx->nfound && gx->found[i].unit != u; i++) {
    }
    if (i == gx->nfound || ulen + 8 >= sizeof units) continue;
    ulen += (size_t)snprintf(units + ulen, sizeof units - ulen, "%s%u",
                             ulen ? ", " : "", u);
  }
  fprintf(f, "%zu services in %llu requests.  For the pipeline file:\n"
             "units = %s\n", gx->nfound, (unsigned long long)gx->requests,
          ulen ? units : "auto");
  fclose(f);
  gx_post_scan_done(gx, text);
}

static void worker(void *arg) {
  struct gx *gx = arg;
  uint64_t next = now_ms();
  gx->backoff_ms = BACKOFF_MIN_MS;
  while (!stopping(gx)) {
    if (!gx->connected) {
      int rc = connect_gx(gx);
      if (rc != 0) {
        gx_post_log(gx, gx->refused_logged ? VQ_LOG_DEBUG : VQ_LOG_WARN,
                    "cannot connect to %s:%s: %s; next try in %llu s",
                    gx->hostname, gx->port, strerror(-rc),
                    (unsigned long long)gx->backoff_ms / 1000);
        gx->refused_logged = 1;
        run_jobs(gx); /* fail waiting commands at once */
        wait_until(gx, now_ms() + gx->backoff_ms);
        gx->backoff_ms *= 2;
        if (gx->backoff_ms > BACKOFF_MAX_MS) gx->backoff_ms = BACKOFF_MAX_MS;
        continue;
      }
      gx->backoff_ms = BACKOFF_MIN_MS;
    }
    if (!gx->discovered) {
      int rc = discover(gx);
      if (rc != 0) {
        if (rc != -ECANCELED && gx->connected)
          gx_post_log(gx, VQ_LOG_ERROR, "discovery failed: %s", strerror(-rc));
        continue;
      }
      if (gx->mode == GX_MODE_SCAN) {
        scan_report(gx);
        break;
      }
    }
    run_jobs(gx);
    if (now_ms() >= next) {
      uint64_t started = now_ms(), started_us = now_us();
      if (poll_cycle(gx) < 0) continue;
      gx_post_stat(gx, "poll_cycles", 1);
      gx_post_stat(gx, "poll_us", (int64_t)(now_us() - started_us));
      if (!gx->healthy && gx->discovered && gx->ever_healthy)
        gx_post_log(gx, VQ_LOG_INFO, "connected to %s:%s again", gx->hostname,
                    gx->port);
      gx->healthy = gx->ever_healthy = 1;
      gx->refused_logged = 0;
      next = started + gx->interval_ms;
      if (now_ms() > next) {
        /* An overrun is counted; the next cycle starts now, not stacked. */
        gx_post_stat(gx, "poll_overruns", 1);
        next = now_ms();
      }
    }
    run_refresh(gx);
    rediscover_step(gx);
    {
      uint64_t wake = next;
      size_t i;
      for (i = 0; i < gx->nrefresh; i++)
        if (gx->refresh[i].due_ms < wake) wake = gx->refresh[i].due_ms;
      wait_until(gx, wake);
    }
  }
  fail_jobs(gx);
  free(gx->rediscovery);
  gx->rediscovery = NULL;
  disconnect(gx);
  {
    size_t i;
    for (i = 0; i < gx->nfound; i++) found_free(&gx->found[i]);
    gx->nfound = 0;
  }
  gx_post_exited(gx);
}

int gx_worker_start(struct gx *gx) {
  return uv_thread_create(&gx->thread, worker, gx);
}

void gx_worker_stop(struct gx *gx) {
  uv_mutex_lock(&gx->mu);
  gx->stopping = 1;
  uv_cond_signal(&gx->cv);
  uv_mutex_unlock(&gx->mu);
}

void gx_worker_submit(struct gx *gx, struct gx_job *job) {
  job->next = NULL;
  uv_mutex_lock(&gx->mu);
  *gx->jobs_tail = job;
  gx->jobs_tail = &job->next;
  uv_cond_signal(&gx->cv);
  uv_mutex_unlock(&gx->mu);
}

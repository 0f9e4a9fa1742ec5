/* The worker thread of a modbus-gx instance: it owns the libmodbus
 * connection and does everything that blocks on the network: connect with
 * back-off, discovery, then poll cycles (gx_poll.c) and writes
 * (gx_write.c).  One request at a time, so the GX is never sent more than
 * one.
 * Behaviour of the GX: doc/protocols/modbus-gx.md §1 (timeouts, first reads
 * slow), §4 (exceptions), §5 (writes, setpoints), §9 (recovery). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gx_discover.h"
#include "gx_worker.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
/* Probes of a background re-discovery per poll cycle, so polling goes on. */
#define REDISCOVER_BUDGET 16
uint64_t gx_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int64_t gx_wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int gx_stopping(struct gx *gx) {
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
    uint64_t now = gx_now_ms();
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
void gx_request_failed(struct gx *gx, int err) {
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

int gx_is_exception(int err) {
  return err > MODBUS_ENOBASE && err <= MODBUS_ENOBASE + 0x0B;
}

/* One read: 0, the Modbus exception code (> 0), or -errno (connection). */
int gx_read_block(struct gx *gx, int unit, uint16_t address, uint16_t count,
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
  if (gx_is_exception(errno)) {
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
    rc = gx_read_block(gx, unit, r->address, r->count, words);
    if (rc == 0) return 1;
    if (rc == 0x0A || rc == 0x0B) return 0;
    if (rc == 0x02) continue; /* this firmware lacks the register */
    if (rc < 0) {
      gx_request_failed(gx, -rc);
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

/* Add the services of a discovery that are not known yet (known ones keep
 * their block splits). */
static int found_add(struct gx *gx, const struct gx_disc_entry *e, size_t n) {
  size_t i;
  for (i = 0; i < n && gx->nfound < GX_MAX_FOUND; i++) {
    struct gx_found *f = &gx->found[gx->nfound];
    if (gx_found_at(gx, e[i].unit, e[i].service) != NULL) continue;
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
  uint64_t t0 = gx_now_ms();
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
  while ((rc = gx_disc_step(d, probe, gx, 64)) == 0 && !gx_stopping(gx)) {
  }
  if (rc < 0 || gx_stopping(gx)) {
    free(d);
    return rc < 0 ? rc : -ECANCELED;
  }
  gx_post_log(gx, VQ_LOG_INFO,
              "discovery: %zu services in %u requests, %llu ms", d->nfound,
              d->probes, (unsigned long long)(gx_now_ms() - t0));
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

/* A unit stopped answering: walk the candidates again in the background
 * (a device moved to another USB port gets another unit id). */
void gx_rediscover_begin(struct gx *gx) {
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

struct gx_found *gx_found_at(struct gx *gx, int unit, int service) {
  size_t i;
  for (i = 0; i < gx->nfound; i++)
    if (gx->found[i].unit == unit && gx->found[i].service == service)
      return &gx->found[i];
  return NULL;
}

static void worker(void *arg) {
  struct gx *gx = arg;
  uint64_t next = gx_now_ms();
  gx->backoff_ms = BACKOFF_MIN_MS;
  while (!gx_stopping(gx)) {
    if (!gx->connected) {
      int rc = connect_gx(gx);
      if (rc != 0) {
        gx_post_log(gx, gx->refused_logged ? VQ_LOG_DEBUG : VQ_LOG_WARN,
                    "cannot connect to %s:%s: %s; next try in %llu s",
                    gx->hostname, gx->port, strerror(-rc),
                    (unsigned long long)gx->backoff_ms / 1000);
        gx->refused_logged = 1;
        gx_run_jobs(gx); /* fail waiting commands at once */
        wait_until(gx, gx_now_ms() + gx->backoff_ms);
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
        gx_scan_report(gx);
        break;
      }
    }
    gx_run_jobs(gx);
    if (gx_now_ms() >= next) {
      uint64_t started = gx_now_ms(), started_us = now_us();
      if (gx_poll_cycle(gx) < 0) continue;
      gx_post_stat(gx, "poll_cycles", 1);
      gx_post_stat(gx, "poll_us", (int64_t)(now_us() - started_us));
      if (!gx->healthy && gx->discovered && gx->ever_healthy)
        gx_post_log(gx, VQ_LOG_INFO, "connected to %s:%s again", gx->hostname,
                    gx->port);
      gx->healthy = gx->ever_healthy = 1;
      gx->refused_logged = 0;
      next = started + gx->interval_ms;
      if (gx_now_ms() > next) {
        /* An overrun is counted; the next cycle starts now, not stacked. */
        gx_post_stat(gx, "poll_overruns", 1);
        next = gx_now_ms();
      }
    }
    gx_run_refresh(gx);
    rediscover_step(gx);
    {
      uint64_t wake = next;
      size_t i;
      for (i = 0; i < gx->nrefresh; i++)
        if (gx->refresh[i].due_ms < wake) wake = gx->refresh[i].due_ms;
      wait_until(gx, wake);
    }
  }
  gx_fail_jobs(gx);
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

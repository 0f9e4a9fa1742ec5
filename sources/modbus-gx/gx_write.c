/* Writes of the modbus-gx worker: a command on a point, through the
 * finest register that can hold the value (FC6 or FC16), read back; and
 * the ESS mode-3 setpoints written again every setpoint_refresh.  Worker
 * thread only.  doc/protocols/modbus-gx.md §5. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gx_worker.h"

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
  if (gx_is_exception(errno)) return errno - MODBUS_ENOBASE;
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
  gx->refresh[i].due_ms = gx_now_ms() + gx->refresh_ms;
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
        gx_found_at(gx, job->unit, pt->service) == NULL)
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
  f = gx_found_at(gx, job->unit, job->service);
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
    gx_request_failed(gx, -rc);
    gx_post_command_done(gx, job->ticket, rc, "connection to the GX failed");
    return;
  }
  /* Read back what the GX now holds and emit it. */
  rc = gx_read_block(gx, job->unit, row->address, row->count, back);
  if (rc != 0 || gx_decode_value(row, back, &confirmed) != 0) {
    if (rc < 0) gx_request_failed(gx, -rc);
    gx_post_command_done(gx, job->ticket, -EIO,
                         "written, but reading it back failed");
    return;
  }
  if (needs_refresh(pt)) refresh_set(gx, job->unit, row, words);
  if (f != NULL) {
    struct gx_out *out = gx_out_new(gx, f);
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

void gx_run_jobs(struct gx *gx) {
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
void gx_fail_jobs(struct gx *gx) {
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

void gx_run_refresh(struct gx *gx) {
  size_t i;
  uint64_t now = gx_now_ms();
  for (i = 0; i < gx->nrefresh && gx->connected; i++) {
    struct gx_refresh *r = &gx->refresh[i];
    const struct gx_register row = {r->address, r->count, 0, 0, 1, 1, -1};
    int rc;
    if (now < r->due_ms) continue;
    rc = write_row(gx, r->unit, &row, r->words);
    if (rc < 0) gx_request_failed(gx, -rc);
    else gx_post_stat(gx, "setpoint_refreshes", 1);
    r->due_ms = now + gx->refresh_ms;
  }
}

/* Poll cycles of the modbus-gx worker: every block of every (unit,
 * service) found, the values chosen from the registers read
 * (gx_plan.h), and one reading per device with its tags; and the scan
 * report.  Worker thread only.  doc/protocols/modbus-gx.md §3, §4. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gx_worker.h"
#include "victron.h"

/* Read every block of a (unit, service); splits blocks on 0x02.  Returns
 * 1 when data was read, 0 when the service is unavailable (0x0A), -errno
 * on a connection failure. */
int gx_poll_found(struct gx *gx, struct gx_found *f) {
  uint16_t words[GX_MAX_BLOCK];
  size_t i;
  int any = 0;
  gx_image_reset(&f->image);
  for (i = 0; i < f->nblocks; i++) {
    struct gx_block b = f->blocks[i], left, right;
    int rc = gx_read_block(gx, f->unit, b.address, b.count, words);
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
      gx_request_failed(gx, -rc);
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

struct gx_out *gx_out_new(struct gx *gx, const struct gx_found *f) {
  struct gx_out *out = calloc(1, sizeof *out);
  if (out == NULL) return NULL;
  out->gx = gx;
  out->service = f->service;
  out->online = -1;
  out->time_ns = gx_wall_ns();
  gx_device_id(f->unit, f->service, out->device);
  out->samples = calloc(gx_npoints, sizeof *out->samples);
  if (out->samples == NULL) {
    free(out);
    return NULL;
  }
  return out;
}

void gx_tag_device(struct gx_out *out, const struct gx_image *img) {
  int ok;
  double pid = number_of(img, "/ProductId", &ok);
  if (ok && out->product_id == NULL) {
    char buf[VIC_PRODUCT_ID_TEXT_SIZE];
    const char *name = vic_product_name((unsigned)pid & 0xFFFF);
    out->product_id = strdup(vic_product_id_text((uint16_t)((unsigned)pid & 0xFFFF), buf));
    /* The shared table names products the same for every transport. */
    if (name != NULL) out->product = strdup(name);
  }
  if (out->custom_name == NULL) out->custom_name = string_of(img, "/CustomName");
  if (out->serial == NULL) out->serial = string_of(img, "/Serial");
  if (out->firmware == NULL) out->firmware = firmware_of(img);
}

/* One poll cycle: every (unit, service), then one reading per device. */
int gx_poll_cycle(struct gx *gx) {
  struct gx_out *system_out = NULL;
  size_t i;
  for (i = 0; i < gx->nfound && !gx_stopping(gx); i++) {
    struct gx_found *f = &gx->found[i];
    struct gx_out *out;
    int rc = gx_poll_found(gx, f);
    if (rc < 0) {
      if (system_out) gx_post_reading(gx, system_out);
      return rc;
    }
    if (rc == 0) {
      if (f->available) {
        gx_post_log(gx, VQ_LOG_WARN, "unit %u: %s no longer answers (0x0A)",
                    f->unit, gx_services[f->service]);
        f->available = 0;
        gx_rediscover_begin(gx); /* it may have moved to another unit id */
        out = gx_out_new(gx, f);
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
      out = gx_out_new(gx, f);
      if (out == NULL) continue;
    }
    if (!f->available) {
      gx_post_log(gx, VQ_LOG_INFO, "unit %u: %s answers again", f->unit,
                  gx_services[f->service]);
      f->available = 1;
    }
    out->online = 1;
    add_samples(out, &f->image);
    gx_tag_device(out, &f->image);
    if (gx_service_is_system(f->service)) system_out = out;
    else gx_post_reading(gx, out);
  }
  if (system_out) gx_post_reading(gx, system_out);
  return 0;
}

/* Scan mode: what was found, with each device's identity, and the units
 * line for the pipeline file. */
void gx_scan_report(struct gx *gx) {
  char *text = NULL, units[1024] = "";
  size_t len = 0, ulen = 0, i;
  FILE *f = open_memstream(&text, &len);
  unsigned u;
  if (f == NULL) return;
  fprintf(f, "%-5s %-13s %-7s %-9s %-9s %s\n", "unit", "service", "device",
          "product", "firmware", "name");
  for (i = 0; i < gx->nfound; i++) {
    struct gx_found *fd = &gx->found[i];
    struct gx_out *out = gx_out_new(gx, fd);
    if (out == NULL) break;
    if (gx_poll_found(gx, fd) > 0) gx_tag_device(out, &fd->image);
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

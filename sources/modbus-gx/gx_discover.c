/* Discovery: which unit ids serve which service types, in as few requests
 * as possible.  There is no discovery register on a GX: a probe is a read
 * of one small register of a service type at a unit, and the answer is
 * data (present), 0x0A or 0x0B (absent: the two are treated alike,
 * doc/protocols/modbus-gx.md §4 "Correction") or 0x02 (this firmware lacks
 * that register: try the type's next one).
 *
 * Candidates (doc/protocols/modbus-gx.md §2): unit 100 for system,
 * settings, hub4 and the instance-0 services; 1-12 VE.Can device
 * instances; 20-46 meters, tanks, PV inverters, gensets (and 40-46 the
 * Redflow batteries); 204-247 the serial-port instances.  Each range probes
 * only the service types found there, most likely first, and a serial port
 * carries one device, so its probing stops at the first hit. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gx_discover.h"

static const char *const types_vecan[] = {
    "solarcharger", "battery", "multi", "inverter", "charger", "dcdc",
    "alternator", NULL};
static const char *const types_unit0[] = {
    "solarcharger", "battery", "multi", "inverter", "charger", "dcdc",
    "alternator", "grid", NULL};
static const char *const types_meter[] = {
    "grid", "pvinverter", "tank", "temperature", "genset", "acload",
    "evcharger", NULL};
static const char *const types_redflow[] = {"battery", NULL};
static const char *const types_tty[] = {
    "vebus", "solarcharger", "battery", "inverter", "charger", "multi",
    "dcdc", NULL};
static const char *const types_system[] = {"system", "settings", "hub4", NULL};

/* Service types whose instance is 0 and that answer only on 0/100. */
int gx_service_is_system(int service) {
  const char *n = gx_services[service];
  return strcmp(n, "system") == 0 || strcmp(n, "settings") == 0 ||
         strcmp(n, "hub4") == 0;
}

void gx_disc_begin(struct gx_disc *d, const uint8_t *units_list) {
  int u;
  memset(d, 0, sizeof *d);
  if (units_list == NULL) {
    /* Unit 100 first: it also tells whether the GX answers at all. */
    d->units[d->nunits++] = 100;
    for (u = 1; u <= 12; u++) d->units[d->nunits++] = (uint8_t)u;
    for (u = 20; u <= 46; u++) d->units[d->nunits++] = (uint8_t)u;
    for (u = 204; u <= 247; u++) d->units[d->nunits++] = (uint8_t)u;
  } else {
    d->listed = 1;
    for (u = 0; u < 256; u++)
      if (units_list[u]) d->units[d->nunits++] = (uint8_t)u;
  }
}

/* The service types probed at a unit, and whether a hit ends the unit. */
static void unit_types(const struct gx_disc *d, int unit, int pass,
                       const char *const **types, int *one_device) {
  *one_device = 0;
  *types = NULL;
  if (unit == 100 || unit == 0) {
    *types = pass == 0 ? types_system : types_unit0;
    return;
  }
  if (pass > 0) {
    if (unit >= 40 && unit <= 46) *types = types_redflow;
    return;
  }
  if (d->listed) {
    *types = NULL; /* every type, see gx_disc_step */
    *one_device = unit >= 204;
    return;
  }
  if (unit <= 12) *types = types_vecan;
  else if (unit <= 46) *types = types_meter;
  else {
    *types = types_tty;
    *one_device = 1;
  }
}

static int type_at(const struct gx_disc *d, int unit, int pass, size_t i,
                   int *one_device) {
  const char *const *types;
  size_t k, seen = 0;
  unit_types(d, unit, pass, &types, one_device);
  if (types != NULL) return types[i] ? gx_service_index(types[i]) : -1;
  if (pass > 0 || !d->listed) return -1;
  /* A listed unit: every type but the system ones. */
  for (k = 0; k < gx_nservices; k++) {
    if (gx_service_is_system((int)k)) continue;
    if (seen++ == i) return (int)k;
  }
  return -1;
}

int gx_disc_step(struct gx_disc *d, gx_probe_fn probe, void *arg,
                 unsigned budget) {
  while (d->unit_i < d->nunits && budget > 0) {
    int unit = d->units[d->unit_i], one_device, service, rc;
    service = type_at(d, unit, d->pass, d->type_i, &one_device);
    if (service < 0) {
      int second = unit == 100 || unit == 0 ||
                   (unit >= 40 && unit <= 46 && !d->listed);
      if (d->pass == 0 && second) {
        d->pass = 1;
      } else {
        d->pass = 0;
        d->unit_i++;
        d->unit_hit = 0;
      }
      d->type_i = 0;
      continue;
    }
    rc = probe(arg, unit, service);
    budget--;
    d->probes++;
    if (rc < 0) return rc;
    if (rc > 0 && d->nfound < GX_DISC_MAX) {
      d->found[d->nfound].unit = (uint8_t)unit;
      d->found[d->nfound].service = service;
      d->nfound++;
      d->unit_hit = 1;
      if (one_device) {
        d->unit_i++;
        d->type_i = 0;
        d->pass = 0;
        d->unit_hit = 0;
        continue;
      }
    }
    d->type_i++;
  }
  return d->unit_i >= d->nunits;
}

int gx_disc_save(const struct gx_disc_entry *found, size_t n, const char *path) {
  char tmp[4200];
  FILE *f;
  size_t i;
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return -ENAMETOOLONG;
  f = fopen(tmp, "w");
  if (f == NULL) return -errno;
  fprintf(f, "# modbus-gx discovery: unit service\n");
  for (i = 0; i < n; i++)
    fprintf(f, "%u %s\n", found[i].unit, gx_services[found[i].service]);
  if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
    int err = -errno;
    fclose(f);
    remove(tmp);
    return err;
  }
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    int err = -errno;
    remove(tmp);
    return err;
  }
  return 0;
}

int gx_disc_load(struct gx_disc_entry *found, size_t max, const char *path) {
  FILE *f = fopen(path, "r");
  char line[128], name[64];
  unsigned unit;
  int n = 0;
  if (f == NULL) return -errno;
  while (fgets(line, sizeof line, f) && (size_t)n < max) {
    int service;
    if (line[0] == '#') continue;
    if (sscanf(line, "%u %63s", &unit, name) != 2 || unit > 255) continue;
    service = gx_service_index(name);
    if (service < 0) continue;
    found[n].unit = (uint8_t)unit;
    found[n].service = service;
    n++;
  }
  fclose(f);
  return n;
}

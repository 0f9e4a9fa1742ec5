/* What a ble-adv source does with one advertisement, whatever its input
 * (BlueZ or a capture): decode and emit it, note it for the scan table, or
 * write it to the dump; and the warnings about a wrong key. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ble_adv_source.h"
#include "ble_capture.h"
#include "victron.h"
#include "vq_hex.h"

/* A key mismatch warning is repeated at most this often per device. */
#define KEY_WARN_INTERVAL_NS (600LL * 1000000000LL)

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int in_addrs(const struct ble_addrs *l, const uint8_t addr[6]) {
  size_t i;
  for (i = 0; i < l->n; i++)
    if (memcmp(l->addr[i], addr, 6) == 0) return 1;
  return 0;
}

int ble_known_address(const struct ble_src *s, const uint8_t addr[6]) {
  if (s->has_key && s->has_addr && memcmp(s->addr, addr, 6) == 0) return 1;
  return in_addrs(&s->known, addr);
}

static struct ble_dev *find_dev(struct ble_src *s, const uint8_t addr[6]) {
  size_t i;
  struct ble_dev *d;
  for (i = 0; i < s->ndevs; i++)
    if (memcmp(s->devs[i].addr, addr, 6) == 0) return &s->devs[i];
  if (s->ndevs >= (s->mode == MODE_DECODE && s->has_addr ? 1u : BLE_MAX_DEVICES)) return NULL;
  d = &s->devs[s->ndevs];
  memset(d, 0, sizeof *d);
  memcpy(d->addr, addr, 6);
  vq_mac_device_id(addr, d->id);
  if (s->mode == MODE_DECODE) {
    if (ble_adv_device_init(&d->adv, s->key) != 0) {
      ble_log(s, VQ_LOG_ERROR, "cannot create an AES context (OpenSSL)");
      return NULL;
    }
    d->adv_ready = 1;
  }
  s->ndevs++;
  return d;
}

void ble_rewind(struct ble_src *s) {
  size_t i;
  for (i = 0; i < s->ndevs; i++)
    if (s->devs[i].adv_ready) ble_adv_device_reset(&s->devs[i].adv);
}

/* Key check failures: one clear warning, then at most one per interval. */
static void key_mismatch(struct ble_src *s, struct ble_dev *d, uint8_t seen, int64_t t) {
  d->rejected_since_warn++;
  if (!s->has_addr) {
    /* Without an address filter other Victron devices in range are
     * expected to fail the check: not worth a warning. */
    return;
  }
  if (!d->key_bad) {
    ble_log(s, VQ_LOG_WARN,
            "device %s: key check failed: the device sends key byte 0x%02x but the "
            "configured key starts with 0x%02x; the key probably changed in "
            "VictronConnect (Product info > Instant readout details). Nothing is "
            "emitted from this device until the key matches.",
            d->id, seen, s->key[0]);
    d->key_bad = 1;
    d->last_warn_ns = t;
    d->rejected_since_warn = 0;
  } else if (t - d->last_warn_ns >= KEY_WARN_INTERVAL_NS) {
    ble_log(s, VQ_LOG_WARN,
            "device %s: key still does not match (key byte 0x%02x, expected 0x%02x); "
            "%" PRIu64 " advertisements rejected since the last warning",
            d->id, seen, s->key[0], d->rejected_since_warn);
    d->last_warn_ns = t;
    d->rejected_since_warn = 0;
  }
}

/* The key's first byte matched but the decode is nonsense: the rest of the
 * key is wrong.  Said once per device; the count is the "implausible"
 * counter. */
static void implausible(struct ble_src *s, struct ble_dev *d, const char *why) {
  if (d->implausible_warned) return;
  d->implausible_warned = 1;
  ble_log(s, VQ_LOG_WARN,
          "device %s: advertisements decode to implausible values (%s): the key is "
          "probably wrong after its first byte; check it in VictronConnect (Product "
          "info > Instant readout details). Such decodes are not emitted.",
          d->id, why);
}

static void emit_reading(struct ble_src *s, struct ble_dev *d, const struct ble_heard *h,
                         int64_t t) {
  struct ble_adv_reading *r = &s->reading;
  struct vq_reading out = VQ_READING_INIT;
  struct vq_tag tags[2];
  uint32_t ntags = 0;
  int rc;
  if (h->has_rssi && r->nrecords < BLE_ADV_MAX_RECORDS) {
    struct vq_record *rec = &r->records[r->nrecords++];
    memset(rec, 0, sizeof *rec);
    rec->quantity = "link.rssi";
    rec->type = VQ_VALUE_INT;
    rec->value.i64 = h->rssi;
  }
  if (r->product != NULL) {
    tags[ntags].key = "product";
    tags[ntags++].value = r->product;
  }
  tags[ntags].key = "product_id";
  tags[ntags++].value = r->product_id;
  out.device = d->id;
  out.time_ns = t;
  out.tags = tags;
  out.ntags = ntags;
  out.nrecords = r->nrecords;
  out.records = r->records;
  rc = s->host->emit(s->ctx, &out);
  if (rc != 0) {
    s->host->stat_add(s->ctx, "emit_failed", 1);
    ble_log(s, VQ_LOG_DEBUG, "emit failed: %d", rc);
  }
}

static void note_for_scan(struct ble_src *s, const uint8_t addr[6], const struct ble_heard *h,
                          const uint8_t *data, size_t len) {
  struct ble_adv_header hdr;
  struct ble_dev *d = find_dev(s, addr);
  if (d == NULL) return;
  d->seen++;
  if (h->name != NULL && h->name[0] != '\0') snprintf(d->name, sizeof d->name, "%s", h->name);
  if (h->has_rssi) {
    d->has_rssi = 1;
    d->rssi = h->rssi;
  }
  /* The latest word wins: a bond made or removed during the scan shows. */
  d->bonded = h->bonded;
  if (ble_adv_parse_header(data, len, &hdr) == BLE_ADV_OK) {
    d->model_id = hdr.model_id;
    d->record_type = hdr.record_type;
    d->has_record = 1;
  }
}

void ble_input(struct ble_src *s, const uint8_t addr[6], const struct ble_heard *h,
               const uint8_t *data, size_t len, int64_t t) {
  struct ble_dev *d;
  enum ble_adv_status st;
  uint8_t seen = 0;
  char why[96];
  if (s->stopping || s->finished) return;
  if (s->has_addr && memcmp(addr, s->addr, 6) != 0) return;
  if (t == 0) t = now_ns();
  if (s->mode == MODE_DUMP) {
    ble_dump_line(s, addr, h->has_rssi, h->rssi, data, len, t);
    return;
  }
  if (s->mode == MODE_SCAN) {
    note_for_scan(s, addr, h, data, len);
    return;
  }
  if ((d = find_dev(s, addr)) == NULL) {
    s->host->stat_add(s->ctx, "too_many_devices", 1);
    return;
  }
  st = ble_adv_device_process(&d->adv, data, len, &s->reading, &seen);
  if (st == BLE_ADV_OK && ble_adv_implausible(&s->reading, why, sizeof why))
    st = BLE_ADV_IMPLAUSIBLE;
  s->host->stat_add(s->ctx, ble_adv_status_name(st), 1);
  switch (st) {
  case BLE_ADV_OK:
    break;
  case BLE_ADV_KEY_MISMATCH:
    key_mismatch(s, d, seen, now_ns());
    return;
  case BLE_ADV_IMPLAUSIBLE:
    implausible(s, d, why);
    return;
  case BLE_ADV_SHORT_HEADER:
  case BLE_ADV_SHORT_PAYLOAD:
  case BLE_ADV_UNKNOWN_RECORD:
    ble_log(s, VQ_LOG_DEBUG, "device %s: advertisement dropped: %s", d->id,
            ble_adv_status_name(st));
    return;
  default:
    return;
  }
  if (d->key_bad) {
    ble_log(s, VQ_LOG_INFO, "device %s: key matches again", d->id);
    d->key_bad = 0;
  }
  emit_reading(s, d, h, t);
}

static const char *yes_no(int b) { return b < 0 ? "-" : b ? "yes" : "no"; }

/* KEY: the -c file has a key for the device; GATT: a ble-gatt source
 * reads it; BONDED: BlueZ keeps a bond with it ("-" in a replay). */
static void print_scan(struct ble_src *s) {
  size_t i;
  printf("%-17s  %-24s  %-44s  %-22s  %5s  %-3s  %-4s  %s\n", "ADDRESS", "NAME", "PRODUCT",
         "RECORD", "RSSI", "KEY", "GATT", "BONDED");
  for (i = 0; i < s->ndevs; i++) {
    const struct ble_dev *d = &s->devs[i];
    char a[18], product[64], record[40], rssi[8];
    const char *pn = d->has_record ? vic_product_name(d->model_id) : NULL;
    ble_addr_format(d->addr, a);
    if (pn != NULL)
      snprintf(product, sizeof product, "%s", pn);
    else if (d->has_record)
      snprintf(product, sizeof product, "unknown (0x%04X)", d->model_id);
    else
      snprintf(product, sizeof product, "-");
    if (d->has_record)
      snprintf(record, sizeof record, "0x%02X %s", d->record_type,
               ble_adv_record_name(d->record_type));
    else
      snprintf(record, sizeof record, "-");
    if (d->has_rssi)
      snprintf(rssi, sizeof rssi, "%d", d->rssi);
    else
      snprintf(rssi, sizeof rssi, "-");
    printf("%-17s  %-24s  %-44s  %-22s  %5s  %-3s  %-4s  %s\n", a, d->name[0] ? d->name : "-",
           product, record, rssi, yes_no(ble_known_address(s, d->addr)),
           yes_no(in_addrs(&s->gatt, d->addr)), yes_no(d->bonded));
  }
  printf("%zu Victron device%s in range\n", s->ndevs, s->ndevs == 1 ? "" : "s");
  fflush(stdout);
}

void ble_finish(struct ble_src *s) {
  if (s->finished) return;
  if (s->mode == MODE_SCAN) print_scan(s);
  ble_dump_close(s);
  s->finished = 1;
  s->host->finished(s->ctx);
}

/* The capture writer of `mode = dump`: lines go into a large stdio buffer
 * and reach the file when it fills, from a flush timer once a second, and
 * at the end, never with a blocking flush per advertisement on the loop
 * thread (a dump of a busy site sees hundreds a second). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ble_adv_source.h"
#include "ble_capture.h"

#define DUMP_BUFFER (64u * 1024u)
#define DUMP_FLUSH_MS 1000u

static const char *dump_name(const struct ble_src *s) {
  return s->dump_is_stdout ? "standard output" : s->output;
}

static void flush_cb(uv_timer_t *t) {
  struct ble_src *s = ((struct ble_timers *)t->data)->owner;
  if (s->dump != NULL && fflush(s->dump) == EOF) {
    s->host->stat_add(s->ctx, "dump_write_failed", 1);
    ble_log(s, VQ_LOG_ERROR, "writing %s failed: %s", dump_name(s), strerror(errno));
  }
}

int ble_dump_open(struct ble_src *s) {
  int rc;
  if (s->output == NULL || strcmp(s->output, "-") == 0) {
    s->dump = stdout;
    s->dump_is_stdout = 1;
  } else if ((s->dump = fopen(s->output, "w")) == NULL) {
    rc = -errno;
    ble_log(s, VQ_LOG_ERROR, "cannot write %s: %s", s->output, strerror(-rc));
    return rc;
  }
  /* stdout keeps the buffering it has (setvbuf only before any output). */
  if (!s->dump_is_stdout && (s->dump_buf = malloc(DUMP_BUFFER)) != NULL)
    setvbuf(s->dump, s->dump_buf, _IOFBF, DUMP_BUFFER);
  fprintf(s->dump,
          "# vicacq ble-adv capture: <unix time> <address> <rssi or -> "
          "<manufacturer data of company 0x02E1 without the company id, hex>\n");
  if (s->has_addr) {
    char a[18];
    ble_addr_format(s->addr, a);
    fprintf(s->dump, "# address filter: %s\n", a);
  }
  if ((rc = uv_timer_start(&s->timers->dump, flush_cb, DUMP_FLUSH_MS, DUMP_FLUSH_MS)) != 0) {
    ble_log(s, VQ_LOG_ERROR, "cannot start the dump timer: %s", uv_strerror(rc));
    return -ENOMEM;
  }
  return 0;
}

void ble_dump_line(struct ble_src *s, const uint8_t addr[6], int has_rssi, int rssi,
                   const uint8_t *data, size_t len, int64_t t) {
  char line[256];
  int n = ble_capture_format_line(line, sizeof line, t, addr, has_rssi, rssi, data, len);
  if (n < 0) {
    s->host->stat_add(s->ctx, "dump_too_long", 1);
    return;
  }
  if (s->dump == NULL || fputs(line, s->dump) == EOF) {
    s->host->stat_add(s->ctx, "dump_write_failed", 1);
    return;
  }
  s->host->stat_add(s->ctx, "dumped", 1);
}

void ble_dump_close(struct ble_src *s) {
  if (s->dump == NULL) return;
  if (s->timers != NULL) uv_timer_stop(&s->timers->dump);
  if (fflush(s->dump) == EOF) {
    s->host->stat_add(s->ctx, "dump_write_failed", 1);
    ble_log(s, VQ_LOG_ERROR, "writing %s failed: %s", dump_name(s), strerror(errno));
  }
  if (!s->dump_is_stdout && fclose(s->dump) != 0) {
    ble_log(s, VQ_LOG_ERROR, "closing %s failed: %s", s->output, strerror(errno));
  }
  s->dump = NULL;
  free(s->dump_buf);
  s->dump_buf = NULL;
}

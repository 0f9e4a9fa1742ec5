/* What an InfluxDB answer to a write means for the batch: pure functions
 * over the status, the body and Retry-After, unit-tested against the
 * answers Debian's influxd 1.6.7 and InfluxDB 2.x really give. */
#ifndef INFLUX_RESPONSE_H
#define INFLUX_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

enum influx_action {
  INFLUX_DONE = 0,   /* 2xx: every line written */
  INFLUX_PARTIAL,    /* the server wrote the good lines and dropped some */
  INFLUX_BAD_LINES,  /* nothing written, the lines are at fault (v2 400):
                        split to find them, reject a single one */
  INFLUX_SPLIT,      /* 413: body too large, nothing written: send halves */
  INFLUX_THROTTLE,   /* 429/503: wait Retry-After, send again */
  INFLUX_CONFIG,     /* 401/403/404/other 4xx, missing retention policy:
                        the set-up is wrong, keep the data, retry later */
  INFLUX_RETRY       /* 5xx, transport failure: back off and retry */
};

struct influx_verdict {
  int action;             /* enum influx_action */
  int db_not_found;       /* 404 "database not found" (v1) */
  int64_t dropped;        /* "dropped=N" of a partial write, or -1 */
  char message[512];      /* the server's error text ("" if none) */
  /* For "unable to parse '<line>'": where the quoted line is inside
   * message (both 0 when absent). */
  size_t bad_line_off, bad_line_len;
  /* For "field type conflict: input field \"F\"": F (may be empty). */
  char conflict_field[128];
};

/* Classify an HTTP answer (status 0: no answer, a transport failure). */
void influx_classify(long status, const char *body, size_t len,
                     struct influx_verdict *v);

/* The error text of an InfluxDB JSON error body ({"error":".."} for v1,
 * {"code":..,"message":".."} for v2), unescaped into out (NUL-terminated,
 * truncated to outsize).  Falls back to the raw body.  Returns its length. */
size_t influx_error_text(const char *body, size_t len, char *out,
                         size_t outsize);

/* Retry-After (delta seconds or an HTTP date) in milliseconds from now,
 * capped at cap_ms; -1 when the header is absent or unreadable. */
int64_t influx_retry_after_ms(const char *value, int64_t now_s,
                              int64_t cap_ms);

/* How many readings a request carries: batch_size, halved by a 413, and
 * grown back (doubling) after INFLUX_CHUNK_GROW_AFTER requests in a row
 * that the server took. */
#define INFLUX_CHUNK_GROW_AFTER 8
struct influx_chunk {
  uint32_t size;   /* readings per request now */
  uint32_t max;    /* batch_size */
  uint32_t streak; /* good requests since the last change */
};
void influx_chunk_init(struct influx_chunk *c, uint32_t max);
/* After an answer (enum influx_action) to a request of `lines` readings. */
void influx_chunk_update(struct influx_chunk *c, int action, uint32_t lines);

#endif

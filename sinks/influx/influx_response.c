/* Classification of InfluxDB write answers (see influx_response.h and
 * doc/protocols/sinks.md §3). */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "influx_response.h"

static const char *find(const char *s, const char *what) {
  return strstr(s, what);
}

/* Append a UTF-8 encoding of code point cp. */
static size_t put_utf8(char *out, size_t o, size_t cap, unsigned cp) {
  char buf[4];
  size_t n, i;
  if (cp < 0x80) { buf[0] = (char)cp; n = 1; }
  else if (cp < 0x800) {
    buf[0] = (char)(0xC0 | (cp >> 6)); buf[1] = (char)(0x80 | (cp & 0x3F)); n = 2;
  } else {
    buf[0] = (char)(0xE0 | (cp >> 12)); buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
  }
  for (i = 0; i < n && o + 1 < cap; i++) out[o++] = buf[i];
  return o;
}

/* Unescape the JSON string starting after its opening quote at s[i]. */
static size_t json_string(const char *s, size_t len, size_t i, char *out,
                          size_t cap) {
  size_t o = 0;
  while (i < len && s[i] != '"' && o + 1 < cap) {
    char c = s[i++];
    if (c != '\\' || i >= len) {
      out[o++] = c;
      continue;
    }
    c = s[i++];
    switch (c) {
    case 'n': out[o++] = '\n'; break;
    case 't': out[o++] = '\t'; break;
    case 'r': out[o++] = '\r'; break;
    case 'b': out[o++] = '\b'; break;
    case 'f': out[o++] = '\f'; break;
    case 'u': {
      char hex[5];
      if (i + 4 > len) return o;
      memcpy(hex, s + i, 4);
      hex[4] = '\0';
      o = put_utf8(out, o, cap, (unsigned)strtoul(hex, NULL, 16));
      i += 4;
      break;
    }
    default: out[o++] = c; break; /* \" \\ \/ */
    }
  }
  out[o] = '\0';
  return o;
}

size_t influx_error_text(const char *body, size_t len, char *out,
                         size_t outsize) {
  static const char *const keys[] = {"\"error\"", "\"message\""};
  size_t k, o;
  if (outsize == 0) return 0;
  out[0] = '\0';
  if (body == NULL || len == 0) return 0;
  for (k = 0; k < 2; k++) {
    size_t klen = strlen(keys[k]), i;
    for (i = 0; i + klen <= len; i++) {
      if (memcmp(body + i, keys[k], klen) != 0) continue;
      i += klen;
      while (i < len && (body[i] == ' ' || body[i] == ':')) i++;
      if (i < len && body[i] == '"') return json_string(body, len, i + 1, out, outsize);
      break;
    }
  }
  /* Not JSON (a proxy's page, "Request Entity Too Large"): the raw text,
   * one line. */
  for (o = 0; o < len && o + 1 < outsize; o++)
    out[o] = body[o] == '\n' || body[o] == '\r' ? ' ' : body[o];
  out[o] = '\0';
  return o;
}

static void parse_partial(struct influx_verdict *v) {
  const char *m = v->message, *p;
  v->dropped = -1;
  if ((p = find(m, "dropped=")) != NULL) {
    char *end;
    long long n = strtoll(p + 8, &end, 10);
    if (end != p + 8 && n >= 0) v->dropped = n;
  }
  if ((p = find(m, "unable to parse '")) != NULL) {
    const char *start = p + 17, *q, *last = NULL;
    for (q = start; (q = find(q, "': ")) != NULL; q++) last = q;
    if (last != NULL) {
      v->bad_line_off = (size_t)(start - m);
      v->bad_line_len = (size_t)(last - start);
    }
  }
  if ((p = find(m, "input field \"")) != NULL) {
    const char *start = p + 13, *end = find(start, "\" on measurement");
    if (end != NULL && (size_t)(end - start) < sizeof v->conflict_field) {
      memcpy(v->conflict_field, start, (size_t)(end - start));
      v->conflict_field[end - start] = '\0';
    }
  }
}

void influx_classify(long status, const char *body, size_t len,
                     struct influx_verdict *v) {
  memset(v, 0, sizeof *v);
  v->dropped = -1;
  influx_error_text(body, len, v->message, sizeof v->message);
  if (status >= 200 && status < 300) {
    v->action = INFLUX_DONE;
  } else if (status == 0) {
    v->action = INFLUX_RETRY;
  } else if ((status == 400 || status == 422) &&
             find(v->message, "partial write") != NULL) {
    /* 1.x (400) and 2.x (422) wrote the other lines. */
    v->action = INFLUX_PARTIAL;
    parse_partial(v);
  } else if (status == 400 || status == 422) {
    v->action = INFLUX_BAD_LINES;
  } else if (status == 413) {
    v->action = INFLUX_SPLIT;
  } else if (status == 429 || status == 503) {
    v->action = INFLUX_THROTTLE;
  } else if (status >= 400 && status < 500) {
    v->action = INFLUX_CONFIG;
    v->db_not_found = status == 404 && find(v->message, "database not found") != NULL;
  } else if (find(v->message, "retention policy not found") != NULL) {
    v->action = INFLUX_CONFIG; /* 1.x says 500; only the set-up can fix it */
  } else {
    v->action = INFLUX_RETRY;
  }
}

int64_t influx_retry_after_ms(const char *value, int64_t now_s,
                              int64_t cap_ms) {
  const char *p;
  int64_t ms;
  if (value == NULL) return -1;
  while (*value == ' ' || *value == '\t') value++;
  if (*value == '\0') return -1;
  for (p = value; *p >= '0' && *p <= '9'; p++) {}
  if (p != value && (*p == '\0' || *p == ' ' || *p == '\r' || *p == '\n')) {
    char *end;
    unsigned long long s;
    errno = 0;
    s = strtoull(value, &end, 10);
    if (errno == ERANGE || s > (unsigned long long)cap_ms / 1000) return cap_ms;
    return (int64_t)s * 1000;
  } else {
    /* An HTTP date: curl parses every form RFC 9110 allows. */
    time_t now = (time_t)now_s, when = curl_getdate(value, &now);
    int64_t delta_s;
    if (when == (time_t)-1) return -1;
    /* Compare in seconds: a date far in the future (curl reads years up
     * to 2^31) times 1000 would overflow. */
    delta_s = (int64_t)when - now_s;
    if (delta_s <= 0) return 0;
    if (delta_s > cap_ms / 1000) return cap_ms;
    ms = delta_s * 1000;
    return ms > cap_ms ? cap_ms : ms;
  }
}

void influx_chunk_init(struct influx_chunk *c, uint32_t max) {
  c->max = max > 0 ? max : 1;
  c->size = c->max;
  c->streak = 0;
}

void influx_chunk_update(struct influx_chunk *c, int action, uint32_t lines) {
  switch (action) {
  case INFLUX_SPLIT:
    c->size = lines / 2 > 0 ? lines / 2 : 1;
    c->streak = 0;
    break;
  case INFLUX_DONE:
  case INFLUX_PARTIAL:
    /* A 413 may have been a moment's limit (a proxy, a busy server):
     * after a run of good requests at the smaller size, try twice as
     * much again, up to batch_size.  A lasting limit costs one more 413
     * (and no data) every INFLUX_CHUNK_GROW_AFTER requests. */
    if (c->size < c->max && ++c->streak >= INFLUX_CHUNK_GROW_AFTER) {
      c->size = c->size > c->max / 2 ? c->max : c->size * 2;
      c->streak = 0;
    }
    break;
  default:
    break;
  }
}

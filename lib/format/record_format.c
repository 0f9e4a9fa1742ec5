#include "config.h"

#include <math.h>
#include <string.h>

#include "record_format.h"

const char *vq_reading_tag(const struct vq_reading *r, const char *key) {
  uint32_t i;
  for (i = 0; i < r->ntags; i++)
    if (strcmp(r->tags[i].key, key) == 0) return r->tags[i].value;
  return NULL;
}

static int value_available(const struct vq_record *rec) {
  if (rec->flags & VQ_RECORD_NA) return 0;
  if (rec->type == VQ_VALUE_DOUBLE && !isfinite(rec->value.f64)) return 0;
  if (rec->type == VQ_VALUE_STRING && rec->value.str == NULL) return 0;
  return 1;
}

void vq_format_json_value(struct vq_text *t, const struct vq_record *rec) {
  if (!value_available(rec)) {
    vq_text_add(t, "null", 4);
    return;
  }
  switch (rec->type) {
  case VQ_VALUE_DOUBLE: vq_text_add_double(t, rec->value.f64); break;
  case VQ_VALUE_BOOL: vq_text_adds(t, rec->value.i64 ? "true" : "false"); break;
  case VQ_VALUE_STRING: vq_text_add_json_string(t, rec->value.str); break;
  default: vq_text_add_int(t, rec->value.i64); break;
  }
}

/* {"time":"..","source":"..","device":"..","quantity": */
static void json_head(struct vq_text *t, const struct vq_reading *r) {
  vq_text_add(t, "{\"time\":\"", 9);
  vq_text_add_time(t, r->time_ns);
  vq_text_add(t, "\",\"source\":", 11);
  vq_text_add_json_string(t, r->source ? r->source : "");
  vq_text_add(t, ",\"device\":", 10);
  vq_text_add_json_string(t, r->device);
  vq_text_add(t, ",\"quantity\":", 12);
}

static void json_tail(struct vq_text *t, const struct vq_record *rec) {
  vq_text_add_json_string(t, rec->quantity);
  vq_text_add(t, ",\"value\":", 9);
  vq_format_json_value(t, rec);
  if (rec->unit != NULL && *rec->unit != '\0') {
    vq_text_add(t, ",\"unit\":", 8);
    vq_text_add_json_string(t, rec->unit);
  }
  if ((rec->type == VQ_VALUE_ENUM || rec->type == VQ_VALUE_BITMASK) &&
      value_available(rec) && rec->text != NULL) {
    vq_text_add(t, ",\"text\":", 8);
    vq_text_add_json_string(t, rec->text);
  }
  vq_text_add(t, "}\n", 2);
}

void vq_format_json_record(struct vq_text *t, const struct vq_reading *r,
                           const struct vq_record *rec) {
  json_head(t, r);
  json_tail(t, rec);
}

void vq_format_json_records(struct vq_text *t, const struct vq_reading *r) {
  size_t head_at = t->len, head_len;
  uint32_t i;
  if (r->nrecords == 0) return;
  json_head(t, r);
  head_len = t->len - head_at;
  json_tail(t, VQ_READING_RECORD(r, 0));
  for (i = 1; i < r->nrecords; i++) {
    /* Copy the head from the text itself (it may move as it grows). */
    char *at = vq_text_extend(t, head_len);
    if (at == NULL) return;
    memcpy(at, t->data + head_at, head_len);
    json_tail(t, VQ_READING_RECORD(r, i));
  }
}

void vq_format_json_reading(struct vq_text *t, const struct vq_reading *r) {
  uint32_t i;
  vq_text_add(t, "{\"time\":\"", 9);
  vq_text_add_time(t, r->time_ns);
  vq_text_add(t, "\",\"source\":", 11);
  vq_text_add_json_string(t, r->source ? r->source : "");
  vq_text_add(t, ",\"device\":", 10);
  vq_text_add_json_string(t, r->device);
  vq_text_add(t, ",\"tags\":{", 9);
  for (i = 0; i < r->ntags; i++) {
    if (i) vq_text_addc(t, ',');
    vq_text_add_json_string(t, r->tags[i].key);
    vq_text_addc(t, ':');
    vq_text_add_json_string(t, r->tags[i].value);
  }
  vq_text_add(t, "},\"values\":{", 12);
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, i);
    if (i) vq_text_addc(t, ',');
    vq_text_add_json_string(t, rec->quantity);
    vq_text_addc(t, ':');
    vq_format_json_value(t, rec);
  }
  vq_text_add(t, "}}", 2);
}

void vq_format_text_record(struct vq_text *t, const struct vq_reading *r,
                           const struct vq_record *rec) {
  vq_text_add_time(t, r->time_ns);
  vq_text_addf(t, " %s %s %s ", r->source ? r->source : "", r->device,
               rec->quantity);
  if (!value_available(rec)) {
    vq_text_adds(t, "n/a");
  } else {
    switch (rec->type) {
    case VQ_VALUE_DOUBLE: vq_text_add_double(t, rec->value.f64); break;
    case VQ_VALUE_BOOL: vq_text_adds(t, rec->value.i64 ? "on" : "off"); break;
    case VQ_VALUE_STRING: vq_text_adds(t, rec->value.str); break;
    case VQ_VALUE_BITMASK: vq_text_addf(t, "0x%llx", (unsigned long long)rec->value.i64); break;
    default: vq_text_add_int(t, rec->value.i64); break;
    }
    if (rec->unit != NULL && *rec->unit != '\0') {
      vq_text_addc(t, ' ');
      vq_text_adds(t, rec->unit);
    }
    if ((rec->type == VQ_VALUE_ENUM || rec->type == VQ_VALUE_BITMASK) &&
        rec->text != NULL)
      vq_text_addf(t, " (%s)", rec->text);
  }
  vq_text_addc(t, '\n');
}

/* ------------------------------------------------------------------ */
/* Line protocol                                                       */
/* ------------------------------------------------------------------ */

/* InfluxDB's scanner lets a backslash escape whatever follows it, but
 * unescapes only the special characters: a literal backslash right before
 * a special character, a line break or the end would swallow the
 * separator and cannot be encoded.  Such backslashes are left out. */
static int backslash_run_dropped(const char *c, const char *special) {
  while (*c == '\\') c++;
  return *c == '\0' || *c == '\n' || *c == '\r' || strchr(special, *c) != NULL;
}

static void escape(struct vq_text *t, const char *s, const char *special) {
  const char *run = s, *c;
  for (c = s; *c; c++) {
    if (*c == '\\') {
      const char *e = c;
      while (*e == '\\') e++;
      if (backslash_run_dropped(c, special)) {
        vq_text_add(t, run, (size_t)(c - run));
        run = e;
      }
      c = e - 1;
    } else if (*c == '\n' || *c == '\r') {
      /* The protocol cannot carry a line break here: an (escaped) space. */
      vq_text_add(t, run, (size_t)(c - run));
      vq_text_add(t, "\\ ", 2);
      run = c + 1;
    } else if (strchr(special, *c) != NULL) {
      vq_text_add(t, run, (size_t)(c - run));
      vq_text_addc(t, '\\');
      vq_text_addc(t, *c);
      run = c + 1;
    }
  }
  vq_text_add(t, run, (size_t)(c - run));
}

/* Nothing left once trailing backslashes are gone: not a usable name. */
static int blank_name(const char *s) {
  while (*s == '\\') s++;
  return *s == '\0';
}

void vq_lp_escape_measurement(struct vq_text *t, const char *s) {
  escape(t, s, ", ");
}

void vq_lp_escape_key(struct vq_text *t, const char *s) {
  escape(t, s, ",= ");
}

void vq_lp_escape_string(struct vq_text *t, const char *s) {
  const char *run = s, *c;
  for (c = s; *c; c++) {
    if (*c == '"' || *c == '\\') {
      vq_text_add(t, run, (size_t)(c - run));
      vq_text_addc(t, '\\');
      vq_text_addc(t, *c);
      run = c + 1;
    }
  }
  vq_text_add(t, run, (size_t)(c - run));
}

int vq_lp_precision_parse(const char *s) {
  static const char *const names[] = {"ns", "us", "ms", "s"};
  int i;
  for (i = 0; i < 4; i++)
    if (strcmp(s, names[i]) == 0) return i;
  return -1;
}

static void add_tag(struct vq_text *t, const char *key, const char *value) {
  if (value == NULL || blank_name(value)) return; /* empty tags are invalid */
  vq_text_addc(t, ',');
  vq_lp_escape_key(t, key);
  vq_text_addc(t, '=');
  vq_lp_escape_key(t, value);
}

/* The line protocol type a record is written as: VQ_VALUE_DOUBLE (float),
 * VQ_VALUE_INT (integer: also enums and bitmasks), VQ_VALUE_BOOL or
 * VQ_VALUE_STRING, with the value in *iv or *dv; -1 when the record cannot
 * be written exactly as the type the quantity must keep. */
static int field_class(const struct vq_record *rec,
                       const struct vq_lp_types *types, int64_t *iv,
                       double *dv) {
  int have = rec->type == VQ_VALUE_ENUM || rec->type == VQ_VALUE_BITMASK
                 ? VQ_VALUE_INT
                 : (int)rec->type;
  int want = have;
  if (types != NULL && types->field_type != NULL) {
    uint32_t w = types->field_type(types->arg, rec->quantity);
    if (w != 0)
      want = w == VQ_VALUE_ENUM || w == VQ_VALUE_BITMASK ? VQ_VALUE_INT
                                                         : (int)w;
  }
  if (have == VQ_VALUE_DOUBLE) *dv = rec->value.f64;
  else if (have != VQ_VALUE_STRING) *iv = rec->value.i64;
  if (want == have) return have;
  switch (want) {
  case VQ_VALUE_DOUBLE:
    if (have == VQ_VALUE_STRING) return -1;
    *dv = (double)*iv;
    return want;
  case VQ_VALUE_INT:
    if (have == VQ_VALUE_BOOL) return want;
    /* Only whole doubles inside int64 convert exactly. */
    if (have != VQ_VALUE_DOUBLE || *dv != floor(*dv) || *dv < -9.2e18 ||
        *dv > 9.2e18)
      return -1;
    *iv = (int64_t)*dv;
    return want;
  case VQ_VALUE_BOOL:
    if (have == VQ_VALUE_INT && (*iv == 0 || *iv == 1)) return want;
    if (have == VQ_VALUE_DOUBLE && (*dv == 0 || *dv == 1)) {
      *iv = *dv == 1;
      return want;
    }
    return -1;
  default:
    return -1;
  }
}

int vq_format_line_protocol(struct vq_text *t, const struct vq_reading *r,
                            const struct vq_lp_options *o) {
  return vq_format_line_protocol_typed(t, r, o, NULL);
}

int vq_format_line_protocol_typed(struct vq_text *t,
                                  const struct vq_reading *r,
                                  const struct vq_lp_options *o,
                                  struct vq_lp_types *types) {
  static const int64_t divisor[] = {1, 1000, 1000000, 1000000000};
  size_t start = t->len;
  int fields = 0;
  uint32_t i;

  vq_lp_escape_measurement(t, o->measurement ? o->measurement : "victron");
  add_tag(t, "source", r->source);
  add_tag(t, "device", r->device);
  add_tag(t, "product", vq_reading_tag(r, "product"));
  for (i = 0; i < r->nrecords; i++) {
    const struct vq_record *rec = VQ_READING_RECORD(r, i);
    int cls;
    int64_t iv = 0; /* field_class sets the one its class uses */
    double dv = 0;
    if (!value_available(rec) || blank_name(rec->quantity)) continue;
    cls = field_class(rec, types, &iv, &dv);
    if (cls < 0) {
      types->skipped++; /* only a typed call can refuse a record */
      continue;
    }
    vq_text_addc(t, fields ? ',' : ' ');
    vq_lp_escape_key(t, rec->quantity);
    vq_text_addc(t, '=');
    switch (cls) {
    case VQ_VALUE_DOUBLE:
      vq_text_add_double(t, dv);
      break;
    case VQ_VALUE_BOOL:
      vq_text_adds(t, iv ? "true" : "false");
      break;
    case VQ_VALUE_STRING:
      vq_text_addc(t, '"');
      vq_lp_escape_string(t, rec->value.str);
      vq_text_addc(t, '"');
      break;
    default:
      vq_text_add_int(t, iv);
      vq_text_addc(t, 'i');
      break;
    }
    fields++;
    if (o->enum_text && rec->text != NULL &&
        (rec->type == VQ_VALUE_ENUM || rec->type == VQ_VALUE_BITMASK)) {
      vq_text_addc(t, ',');
      vq_lp_escape_key(t, rec->quantity);
      vq_text_add(t, "_text=\"", 7);
      vq_lp_escape_string(t, rec->text);
      vq_text_addc(t, '"');
      fields++;
    }
  }
  if (fields == 0) {
    t->len = start; /* a line without fields is invalid: write none */
    if (t->data) t->data[start] = '\0';
    return 0;
  }
  vq_text_addc(t, ' ');
  vq_text_add_int(t, r->time_ns / divisor[o->precision & 3]);
  vq_text_addc(t, '\n');
  return fields;
}

/* How sinks write records: JSON lines, InfluxDB line protocol and text
 * for people.  Shared by the stdout, mqtt and influx sinks so that one
 * quantity looks the same everywhere. */
#ifndef VQ_RECORD_FORMAT_H
#define VQ_RECORD_FORMAT_H

#include "vicacq/plugin.h"
#include "vq_text.h"

/* One JSON object per record, one line each (vicacq(1) "JSON lines"):
 * {"time":..,"source":..,"device":..,"quantity":..,"value":..,"unit":..}
 * plus "text" for enums and bitmasks; not-available values are null. */
void vq_format_json_record(struct vq_text *t, const struct vq_reading *r,
                           const struct vq_record *rec);

/* vq_format_json_record for every record of the reading (the part the
 * records share is formatted once). */
void vq_format_json_records(struct vq_text *t, const struct vq_reading *r);

/* The value alone as JSON (number, true/false, string, or null). */
void vq_format_json_value(struct vq_text *t, const struct vq_record *rec);

/* One JSON object for a whole reading (MQTT `payload = json`):
 * {"time":..,"source":..,"device":..,"tags":{..},"values":{"q":v,..}} */
void vq_format_json_reading(struct vq_text *t, const struct vq_reading *r);

/* A record as a person reads it:
 * 2026-11-20T21:05:03.123456Z shunt c03b98123456 battery.voltage 12.87 V */
void vq_format_text_record(struct vq_text *t, const struct vq_reading *r,
                           const struct vq_record *rec);

/* Line protocol timestamp precision. */
enum vq_lp_precision { VQ_LP_NS = 0, VQ_LP_US, VQ_LP_MS, VQ_LP_S };

struct vq_lp_options {
  const char *measurement;  /* "victron" */
  int precision;            /* enum vq_lp_precision */
  int enum_text;            /* add "<quantity>_text" string fields */
};

/* One line for the reading: tags source, device and product, a field per
 * available quantity.  Doubles are always floats and integers always
 * carry `i`, so a quantity never changes field type.  Returns the number
 * of fields written; with none, nothing is appended. */
int vq_format_line_protocol(struct vq_text *t, const struct vq_reading *r,
                            const struct vq_lp_options *o);

/* InfluxDB fixes a field's type once (per shard or series).  A sink that
 * knows the type each quantity must keep (the vocabulary) passes this:
 * a record of another type is converted when that is exact (integer <->
 * float, 0/1 <-> bool) and its field left out (and counted) otherwise,
 * so the server never sees a type conflict from vicacq. */
struct vq_lp_types {
  /* The enum vq_value_type `quantity` is always written as, or 0 for
   * "as the record says". */
  uint32_t (*field_type)(void *arg, const char *quantity);
  void *arg;
  uint64_t skipped; /* fields left out for their type */
};

/* vq_format_line_protocol with fixed field types (types may be NULL). */
int vq_format_line_protocol_typed(struct vq_text *t,
                                  const struct vq_reading *r,
                                  const struct vq_lp_options *o,
                                  struct vq_lp_types *types);

/* Escaping for the line protocol (exposed for tests): measurement
 * (comma, space), tag key/value and field key (comma, equals, space),
 * string field value (double quote, backslash).  Newlines, which the
 * protocol cannot carry in these places, become spaces.  Backslashes
 * right before a special character or the end of a name, key or tag value
 * are left out: InfluxDB would read them as escaping what follows, and
 * they cannot be encoded. */
void vq_lp_escape_measurement(struct vq_text *t, const char *s);
void vq_lp_escape_key(struct vq_text *t, const char *s);
void vq_lp_escape_string(struct vq_text *t, const char *s);

/* "ns", "us", "ms", "s" -> enum vq_lp_precision, or -1. */
int vq_lp_precision_parse(const char *s);

/* The tag value of `key`, or NULL. */
const char *vq_reading_tag(const struct vq_reading *r, const char *key);

#endif

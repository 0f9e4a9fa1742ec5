/* Home Assistant MQTT discovery payloads (doc/protocols/sinks.md §1),
 * pure functions: what an entity looks like to HA, built from the vocabulary
 * entry and what the records say, with HA's validation rules applied so
 * that HA never rejects an entity (a unit outside its device class's set
 * drops the class, an impossible state class is left out, read-only
 * entities are never entity_category config). */
#ifndef MQTT_DISCOVERY_H
#define MQTT_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"
#include "vq_text.h"

/* What is known of a device (from its readings' tags). */
struct mqtt_disc_device {
  const char *source, *device;
  const char *product;    /* "product" tag, or NULL */
  const char *product_id; /* "product_id" tag, or NULL */
  const char *firmware;   /* "firmware" tag, or NULL */
  const char *serial;     /* "serial" tag, or NULL */
};

/* One quantity of a device. */
struct mqtt_disc_entity {
  const char *quantity;
  uint32_t type;                        /* enum vq_value_type */
  const char *unit;                     /* of the records, "" or NULL: none */
  const struct vq_quantity_info *info;  /* vocabulary entry or NULL */
  int writable;                         /* a granted range below */
  double min, max, step;
  /* Enum labels seen so far, with their codes (HA wants `options`). */
  const char *const *labels;
  const int64_t *codes;
  size_t nlabels;
};

struct mqtt_disc_options {
  const char *prefix;       /* "homeassistant" */
  const char *base;         /* "vicacq" */
  const char *daemon_id;    /* HA identifier of the daemon's own device */
  const char *origin_sw;    /* our version */
  int json_payload;         /* state on <base>/<source>/<device> as JSON */
  int64_t expire_after_s;   /* 0: none */
  int qos;                  /* for command topics */
};

/* Device classes HA knows for sensors, with the units it accepts
 * (§1.5).  1 when `unit` may go with `device_class`. */
int mqtt_ha_unit_ok(const char *device_class, const char *unit);
/* 1 when `state_class` is allowed for `device_class` (NULL: no class). */
int mqtt_ha_state_class_ok(const char *device_class, const char *state_class);
/* 1 for a binary_sensor device class HA knows. */
int mqtt_ha_binary_class_ok(const char *device_class);

/* "sensor", "binary_sensor" or "number". */
const char *mqtt_disc_component(const struct mqtt_disc_entity *e);

/* <prefix>/<component>/vicacq_<device>/<quantity as id>/config */
void mqtt_disc_topic(struct vq_text *t, const struct mqtt_disc_options *o,
                     const struct mqtt_disc_device *d,
                     const struct mqtt_disc_entity *e);

/* The JSON config object. */
void mqtt_disc_payload(struct vq_text *t, const struct mqtt_disc_options *o,
                       const struct mqtt_disc_device *d,
                       const struct mqtt_disc_entity *e);

/* unique id: vicacq_<device>_<quantity>, both as ids ([a-zA-Z0-9_-]). */
void mqtt_disc_unique_id(struct vq_text *t, const char *device,
                         const char *quantity);

/* The daemon's own device: one connectivity binary_sensor on <base>/status,
 * so that via_device of every Victron device points at something. */
void mqtt_disc_daemon_topic(struct vq_text *t, const struct mqtt_disc_options *o);
void mqtt_disc_daemon_payload(struct vq_text *t,
                              const struct mqtt_disc_options *o);

#endif

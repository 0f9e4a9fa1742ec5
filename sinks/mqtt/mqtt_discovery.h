/* Home Assistant MQTT discovery payloads (doc/protocols/sinks.md §1), pure
 * functions: what an entity looks like to HA, built from the vocabulary
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

/* One quantity of a device.  Its enum options come from the vocabulary
 * entry's label set (ABI 1.2), complete before the first value, so an
 * entity's config never changes when a new label shows up. */
struct mqtt_disc_entity {
  const char *quantity;
  uint32_t type;                        /* enum vq_value_type */
  const char *unit;                     /* of the records, "" or NULL: none */
  const struct vq_quantity_info *info;  /* vocabulary entry or NULL */
  int writable;                         /* a granted range below */
  double min, max, step;
};

struct mqtt_disc_options {
  const char *prefix;       /* "homeassistant" */
  const char *base;         /* "vicacq" */
  const char *node;         /* this sink's node id ([a-zA-Z0-9_-]) */
  const char *origin_sw;    /* our version */
  int json_payload;         /* state on <base>/<source>/<device> as JSON */
  int64_t expire_after_s;   /* 0: none */
  int qos;                  /* for command topics */
};

/* Longest entity name sent (HA shows "<device name> <entity name>"). */
#define MQTT_DISC_NAME_MAX 40

/* Device classes HA knows for sensors, with the units it accepts
 * (doc/protocols/sinks.md §1.5).  1 when `unit` may go with `device_class`. */
int mqtt_ha_unit_ok(const char *device_class, const char *unit);
/* 1 when `state_class` is allowed for `device_class` (NULL: no class). */
int mqtt_ha_state_class_ok(const char *device_class, const char *state_class);
/* 1 for a binary_sensor device class HA knows. */
int mqtt_ha_binary_class_ok(const char *device_class);

/* "sensor", "binary_sensor", "number" (a writable number) or "select" (a
 * writable enum with at least one label inside its granted range). */
const char *mqtt_disc_component(const struct mqtt_disc_entity *e);

/* The naming scheme (sinks/mqtt/README.md "Home Assistant"), every part
 * through mqtt_topic_add_id:
 *   discovery topic  <prefix>/<component>/vicacq_<node>/<source>_<device>_<quantity>/config
 *   unique_id        vicacq_<node>_<source>_<device>_<quantity>
 *   device id        vicacq_<node>_<source>_<device>
 *   default_entity_id <component>.vicacq_<source>_<quantity> (slugified)
 * The node id keeps two vicacq on one broker apart, the source two sources
 * that see devices with the same id (two BMV-700 without a serial). */
void mqtt_disc_topic(struct vq_text *t, const struct mqtt_disc_options *o,
                     const struct mqtt_disc_device *d,
                     const struct mqtt_disc_entity *e);
void mqtt_disc_unique_id(struct vq_text *t, const struct mqtt_disc_options *o,
                         const struct mqtt_disc_device *d,
                         const char *quantity);
/* <component>.<slug>: lowercase a-z0-9 and single '_' between words, as
 * HA's entity ids must be. */
void mqtt_disc_entity_id(struct vq_text *t, const char *component,
                         const struct mqtt_disc_device *d,
                         const char *quantity);
/* The entity name: the vocabulary's short name (ABI 1.2), else one made
 * from the quantity ("battery.voltage" -> "Battery voltage"); at most
 * MQTT_DISC_NAME_MAX bytes, cut at a UTF-8 character boundary. */
void mqtt_disc_name(struct vq_text *t, const struct vq_quantity_info *info,
                    const char *quantity);
/* The label set of an enum quantity (ABI 1.2), or NULL (*n = 0). */
const struct vq_label *mqtt_disc_labels(const struct vq_quantity_info *info,
                                        uint32_t *n);

/* 1 when label `l` of a writable enum may be offered: its code lies in
 * the granted range [e->min, e->max] (codes outside it are refused by the
 * core, so a select must not show them). */
int mqtt_disc_label_granted(const struct mqtt_disc_entity *e,
                            const struct vq_label *l);

/* A number entity's mode: "box" when its range holds more than
 * MQTT_DISC_SLIDER_MAX steps (a slider that fine cannot be aimed),
 * "slider" otherwise. */
#define MQTT_DISC_SLIDER_MAX 1000
const char *mqtt_disc_number_mode(const struct mqtt_disc_entity *e);

/* The JSON config object. */
void mqtt_disc_payload(struct vq_text *t, const struct mqtt_disc_options *o,
                       const struct mqtt_disc_device *d,
                       const struct mqtt_disc_entity *e);

/* The daemon's own device: one connectivity binary_sensor on <base>/status,
 * so that via_device of every Victron device points at something. */
void mqtt_disc_daemon_topic(struct vq_text *t, const struct mqtt_disc_options *o);
void mqtt_disc_daemon_payload(struct vq_text *t,
                              const struct mqtt_disc_options *o);

#endif

/* The devices and quantities the mqtt sink has seen, with the topics that
 * belong to them: plain data, no publishing (mqtt_announce.c publishes
 * what is here, mqtt_commands.c looks writable entities up). */
#ifndef MQTT_DEVICES_H
#define MQTT_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"
#include "vq_text.h"

struct mqtt_entity {
  char *quantity;
  uint32_t type;  /* enum vq_value_type of its records */
  char *unit;     /* of its first record, "" for none */
  const struct vq_quantity_info *info; /* vocabulary entry, or NULL */
  int writable;   /* the pipeline grants a range, given below */
  double min, max, step;
  char *state_topic;  /* plain payload topic */
  char *set_topic;    /* writable only */
  char *config_topic; /* discovery topic, set when first announced */
  char *last;         /* last plain payload, re-sent after HA restarts */
  int announced;      /* discovery sent on this connection */
  int subscribed;     /* set topic subscribed on this connection */
  int clash;          /* another entity has its unique id: not announced */
};

struct mqtt_device {
  char *source, *device;
  char *product, *product_id, *firmware, *serial;
  char *topic;       /* <base>/<source>/<device> */
  char *avail_topic; /* .../availability */
  struct mqtt_entity *entities;
  size_t nentities, cap, hint;
  uint64_t last_ms;  /* loop time of the last reading */
  int available;     /* what was published: -1 nothing yet */
  struct mqtt_device *next;
};

struct mqtt_registry {
  const char *base; /* topic root, owned by the caller */
  struct mqtt_device *devices;
  struct mqtt_device *last; /* lookup cache */
  struct vq_text scratch;
};

void mqtt_registry_init(struct mqtt_registry *g, const char *base);
void mqtt_registry_free(struct mqtt_registry *g);

/* The device of a reading, created when new (*created set).
 * *tags_changed is set when its product/firmware/serial tags changed (its
 * discovery is stale).  NULL when out of memory. */
struct mqtt_device *mqtt_registry_device(struct mqtt_registry *g,
                                         const struct vq_reading *r,
                                         int *created, int *tags_changed);
/* The entity of a record's quantity in device d, created when new
 * (*created set; info, writability and the rest are the caller's).  NULL
 * when out of memory. */
struct mqtt_entity *mqtt_registry_entity(struct mqtt_registry *g,
                                         struct mqtt_device *d,
                                         const struct vq_record *rec,
                                         int *created);
/* Another device with d's device id in another source, or NULL. */
struct mqtt_device *mqtt_registry_same_id(struct mqtt_registry *g,
                                          const struct mqtt_device *d);
/* The set topic of a writable entity for a command topic, or NULL. */
struct mqtt_entity *mqtt_registry_find_set(struct mqtt_registry *g,
                                           const char *topic,
                                           struct mqtt_device **dev);
/* The entity (other than `self`) whose discovery topic is `topic`. */
struct mqtt_entity *mqtt_registry_find_config(struct mqtt_registry *g,
                                              const char *topic,
                                              const struct mqtt_entity *self,
                                              struct mqtt_device **dev);
/* Give a writable entity its set topic.  0 or -ENOMEM. */
int mqtt_registry_set_topic(struct mqtt_registry *g, struct mqtt_device *d,
                            struct mqtt_entity *e);

#endif

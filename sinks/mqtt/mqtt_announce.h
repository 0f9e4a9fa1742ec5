/* What the mqtt sink tells Home Assistant besides the states: discovery
 * configs, per-device availability, the daemon's own status entity, the
 * last states again after HA restarts, and the clearing of entities an
 * earlier run announced that this one no longer has (mqtt_ghosts.h).
 * Works on the registry (mqtt_devices.h) through struct mqtt_out. */
#ifndef MQTT_ANNOUNCE_H
#define MQTT_ANNOUNCE_H

#include <stdint.h>

#include "mqtt_devices.h"
#include "mqtt_discovery.h"
#include "mqtt_ghosts.h"
#include "mqtt_out.h"
#include "vicacq/plugin.h"
#include "vq_text.h"

struct mqtt_announcer {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  const struct mqtt_out *out;
  struct mqtt_registry *reg;
  struct mqtt_disc_options disc;
  struct mqtt_ghosts ghosts;
  int discovery;            /* publish discovery configs */
  int json;                 /* state as one JSON object per reading */
  int qos, retain;          /* of state messages */
  struct vq_text topic, payload;
};

/* Set up (and load the announced set of an earlier run from state_dir,
 * when the host has one).  Every pointer must outlive the announcer. */
void mqtt_announcer_init(struct mqtt_announcer *a, const struct vq_host *host,
                         struct vq_ctx *ctx, const struct mqtt_out *out,
                         struct mqtt_registry *reg,
                         const struct mqtt_disc_options *disc, int discovery,
                         int json, int qos, int retain);
void mqtt_announcer_free(struct mqtt_announcer *a);

/* The entity of a record, created, classified (vocabulary entry, granted
 * range) and announced when new or changed.  NULL when out of memory. */
struct mqtt_entity *mqtt_announce_record(struct mqtt_announcer *a,
                                         struct mqtt_device *d,
                                         const struct vq_record *rec);
/* A device's readings changed its tags: announce its entities again. */
void mqtt_announce_device_changed(struct mqtt_announcer *a,
                                  struct mqtt_device *d);
/* Publish a device's availability if it changed (or `force`). */
void mqtt_announce_availability(struct mqtt_announcer *a,
                                struct mqtt_device *d, int available,
                                int force);
/* After a (re)connect: the daemon's entity, discovery and availability
 * of everything known; with `states`, the last state of every quantity
 * too (after Home Assistant's birth message). */
void mqtt_announce_all(struct mqtt_announcer *a, int states);
/* Devices silent for longer than timeout_ms become unavailable. */
void mqtt_announce_timeouts(struct mqtt_announcer *a, uint64_t now_ms,
                            uint64_t timeout_ms);
/* Clear (empty retained message) every topic of an earlier run this one
 * has not published; returns how many. */
size_t mqtt_announce_sweep_ghosts(struct mqtt_announcer *a);
/* Keep the announced set on disk if it changed. */
void mqtt_announce_save(struct mqtt_announcer *a);

#endif

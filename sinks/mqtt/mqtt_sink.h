/* The mqtt sink's shared state: the devices and quantities it has seen
 * (for discovery, availability and commands), the batch in flight and the
 * client.  mqtt_sink.c owns the plugin glue and batch accounting,
 * mqtt_devices.c the registry, discovery and availability,
 * mqtt_commands.c the /set topics. */
#ifndef MQTT_SINK_H
#define MQTT_SINK_H

#include <stdint.h>
#include <uv.h>

#include "mqtt_client.h"
#include "mqtt_discovery.h"
#include "vicacq/plugin.h"
#include "vq_text.h"

struct mqtt_entity {
  char *quantity;
  uint32_t type;
  char *unit;
  const struct vq_quantity_info *info;
  int writable;
  double min, max, step;
  char **labels; /* enum labels seen, with their codes */
  int64_t *codes;
  size_t nlabels;
  char *state_topic; /* plain payload topic */
  char *set_topic;   /* writable only */
  char *last;        /* last plain payload, re-sent after HA restarts */
  int announced;     /* discovery sent on this connection */
  int subscribed;    /* set topic subscribed on this connection */
};

struct mqtt_device {
  char *source, *device;
  char *product, *product_id, *firmware, *serial;
  char *topic;       /* <base>/<source>/<device> */
  char *avail_topic; /* .../availability */
  struct mqtt_entity *entities;
  size_t nentities, cap, hint;
  uint64_t last_ms;  /* loop time of the last reading */
  int available;     /* what we published: -1 nothing yet */
  struct mqtt_device *next;
};

struct mqtt_pending_command {
  uint64_t ticket;
  double value;
  char *result_topic;
  struct mqtt_pending_command *next;
};

struct mqtt_sink {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  uv_loop_t *loop;

  /* options */
  const char *base, *prefix, *ha_status_topic;
  int qos, retain, json, discovery;
  uint64_t discovery_delay_ms, device_timeout_ms;
  struct mqtt_client_cfg ccfg;
  char *client_id, *status_topic, *daemon_id;
  struct mqtt_disc_options disc;

  struct mqtt_client *client;
  struct mqtt_device *devices;
  struct mqtt_device *last_device; /* lookup cache */
  struct mqtt_pending_command *commands;

  /* The batch in flight. */
  const struct vq_batch *batch;
  uint32_t next;        /* readings published so far */
  uint32_t *pending;    /* unacknowledged QoS 1 messages per reading */
  uint32_t pending_cap;
  uint64_t unacked;     /* sum of pending */
  uint32_t rejected;    /* records the broker refused (MQTT 5 reason) */
  int publishing;       /* inside publish_batch: no completion */
  int32_t *mid_reading; /* mid -> reading index of the batch, or -1 */

  struct vq_text topic, payload, scratch;
  uv_timer_t avail_timer, birth_timer;
  int timers_open;
  int stopping;
  vq_stopped_cb stopped;
};

/* mqtt_devices.c */
struct mqtt_device *mqtt_device_get(struct mqtt_sink *s,
                                    const struct vq_reading *r);
struct mqtt_entity *mqtt_entity_get(struct mqtt_sink *s, struct mqtt_device *d,
                                    const struct vq_record *rec);
/* Plain payload of a record: number, enum label (the code when it has
 * none), ON/OFF, text, bitmask labels ("none" when no bit is set); None
 * when not available (HA shows unknown). */
void mqtt_plain_payload(struct vq_text *t, const struct vq_record *rec);
/* Publish discovery for an entity (when enabled and connected). */
void mqtt_entity_announce(struct mqtt_sink *s, struct mqtt_device *d,
                          struct mqtt_entity *e);
/* Publish a device's availability if it changed (or `force`). */
void mqtt_device_set_available(struct mqtt_sink *s, struct mqtt_device *d,
                               int available, int force);
/* After a (re)connect: daemon status, discovery, availability, command
 * subscriptions.  With `states`, also the last state of every quantity
 * (after Home Assistant's birth). */
void mqtt_announce_all(struct mqtt_sink *s, int states);
/* Devices silent for longer than device_timeout become unavailable. */
void mqtt_devices_check_timeouts(struct mqtt_sink *s);
void mqtt_devices_free(struct mqtt_sink *s);

/* mqtt_commands.c */
void mqtt_commands_subscribe(struct mqtt_sink *s, struct mqtt_entity *e);
void mqtt_commands_message(struct mqtt_sink *s,
                           const struct mosquitto_message *msg);
void mqtt_commands_result(struct mqtt_sink *s, uint64_t ticket, int status,
                          const char *message);
void mqtt_commands_free(struct mqtt_sink *s);

/* mqtt_sink.c: announce everything again (with states) after delay_ms. */
void mqtt_sink_schedule_announce(struct mqtt_sink *s, uint64_t delay_ms);
/* mqtt_sink.c: publish something that is not part of a batch. */
int mqtt_sink_publish_extra(struct mqtt_sink *s, const char *topic,
                            const char *payload, size_t len, int qos,
                            int retain);

#endif

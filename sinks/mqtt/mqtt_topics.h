/* MQTT topic names of the mqtt sink (doc/design.md §7), pure functions.
 *
 *   state        <base>/<source>/<device>/<quantity, dots as slashes>
 *   json state   <base>/<source>/<device>
 *   availability <base>/<source>/<device>/availability
 *   command      <state topic>/set
 *   result       <state topic>/result
 *   daemon       <base>/status
 */
#ifndef MQTT_TOPICS_H
#define MQTT_TOPICS_H

#include "vq_text.h"

/* One topic level: '/', '+', '#' and control characters become '_', so a
 * source or device id can never add levels or wildcards. */
void mqtt_topic_add_level(struct vq_text *t, const char *s);

/* A quantity as topic levels: dots become slashes, each part a level. */
void mqtt_topic_add_quantity(struct vq_text *t, const char *quantity);

/* <base>/<source>/<device> */
void mqtt_topic_device(struct vq_text *t, const char *base, const char *source,
                       const char *device);

/* <base>/<source>/<device>/<quantity path>, then `suffix` ("/set", or ""). */
void mqtt_topic_state(struct vq_text *t, const char *base, const char *source,
                      const char *device, const char *quantity,
                      const char *suffix);

/* An id for Home Assistant topics and unique ids: only [a-zA-Z0-9_-],
 * everything else (dots, colons, spaces) becomes '_'. */
void mqtt_topic_add_id(struct vq_text *t, const char *s);

/* Split a command topic <base>/<source>/<device>/<q/u/a/n/t/i/t/y>/set
 * into its parts: source, device and the dotted quantity are written to
 * the buffers (each of `cap` bytes).  0, or -EINVAL when the topic is not
 * a command topic under base. */
int mqtt_topic_parse_set(const char *topic, const char *base, char *source,
                         char *device, char *quantity, size_t cap);

#endif

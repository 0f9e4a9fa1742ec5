/* Commands from MQTT: <base>/<source>/<device>/<quantity path>/set carries
 * a number; it goes to the core's control path (host->command_submit) and
 * the outcome is published, non-retained, on .../<quantity path>/result as
 * {"ticket":N,"status":"accepted|ok|failed|refused","value":V,"message":".."}
 * and logged.  Retained messages are refused: a stale retained command
 * must never reach a charger (with MQTT 5 the subscription keeps the
 * retain flag as published, so a live retained publish is refused too). */
#ifndef MQTT_COMMANDS_H
#define MQTT_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "mqtt_devices.h"
#include "mqtt_out.h"
#include "vicacq/plugin.h"

struct mqtt_pending_command {
  uint64_t ticket;
  double value;
  char *result_topic;
  struct mqtt_pending_command *next;
};

struct mqtt_commands {
  const struct vq_host *host;
  struct vq_ctx *ctx;
  const struct mqtt_out *out;
  struct mqtt_registry *reg;
  const char *base;
  struct mqtt_pending_command *pending;
};

/* A command payload: a JSON number alone ("12", " -2.5e1 ") or an object
 * with just that number as "value" ({"value": 12.5}), nothing else: no
 * hex, no inf/nan, no bytes after it (a NUL included).  0 or -EINVAL. */
int mqtt_command_parse_value(const char *payload, size_t len, double *out);

/* A command payload for a quantity with the label set labels[0..nlabels)
 * (NULL/0: none): what mqtt_command_parse_value takes, or exactly one of
 * the labels as Home Assistant's select sends it ("ess_with_phase_compensation",
 * no quotes, no spaces), which gives its code.  A label is matched only
 * when the payload is not a number, and only against the quantity's own
 * set.  0 or -EINVAL. */
int mqtt_command_parse(const char *payload, size_t len,
                       const struct vq_label *labels, uint32_t nlabels,
                       double *out);

void mqtt_commands_init(struct mqtt_commands *c, const struct vq_host *host,
                        struct vq_ctx *ctx, const struct mqtt_out *out,
                        struct mqtt_registry *reg, const char *base);
/* Subscribe to a writable entity's set topic (when connected). */
void mqtt_commands_subscribe(struct mqtt_commands *c, struct mqtt_entity *e);
/* A message on a set topic. */
void mqtt_commands_message(struct mqtt_commands *c, const char *topic,
                           const void *payload, size_t len, int retained);
/* The host's answer to a command this sink submitted. */
void mqtt_commands_result(struct mqtt_commands *c, uint64_t ticket, int status,
                          const char *message);
void mqtt_commands_free(struct mqtt_commands *c);

#endif

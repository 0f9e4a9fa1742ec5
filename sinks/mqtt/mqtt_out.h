/* What the announcing and command parts of the mqtt sink may do with the
 * connection, as a small table the sink fills in: they publish and
 * subscribe through it and never see the sink's batch accounting. */
#ifndef MQTT_OUT_H
#define MQTT_OUT_H

#include <stddef.h>

struct mqtt_out {
  /* 1 while connected. */
  int (*connected)(void *arg);
  /* Publish a message that belongs to no batch.  0 or -errno. */
  int (*publish)(void *arg, const char *topic, const void *payload,
                 size_t len, int qos, int retain);
  /* Subscribe with QoS 1.  0 or -errno. */
  int (*subscribe)(void *arg, const char *topic);
  void *arg;
};

#endif

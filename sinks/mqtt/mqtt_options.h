/* The mqtt sink's options: the schema, reading a section into a struct
 * mqtt_config (every string copied: the sink never keeps a pointer the
 * host handed out), and the checks beyond the schema that --check runs
 * (a file that passes them starts). */
#ifndef MQTT_OPTIONS_H
#define MQTT_OPTIONS_H

#include <stdint.h>

#include "mqtt_client.h"
#include "vicacq/plugin.h"

extern const struct vq_option mqtt_options[];

struct mqtt_config {
  char *base, *prefix, *ha_status_topic;
  char *client_id; /* given, or vicacq-<sink id>-<host name> */
  char *node_id;   /* given, or <host name>-<sink id>; as an id */
  int client_id_given;
  int qos, retain, json, discovery;
  uint64_t discovery_delay_ms, device_timeout_ms, ghost_timeout_ms;
  int64_t expire_after_s;
  /* Its strings point into the copies below. */
  struct mqtt_client_cfg client;
  char *host, *username, *password, *ca_file, *ca_path, *cert_file, *key_file;
};

/* Read the section.  0, -ENOMEM, or -EINVAL after reporting every problem
 * with the key that causes it (vq_cfg_report).  `check_only`: the check()
 * pass, where the host allows only the cfg_* getters and cfg_error (no
 * defaults that need instance_id are made). */
int mqtt_config_read(struct mqtt_config *c, const struct vq_host *host,
                     struct vq_ctx *ctx, int check_only);
void mqtt_config_free(struct mqtt_config *c);

/* The descriptor's check(): mqtt_config_read into a scratch config. */
int mqtt_config_check(const struct vq_host *host, struct vq_ctx *ctx);

#endif

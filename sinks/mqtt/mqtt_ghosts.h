/* The retained topics (discovery configs, device availability) this sink
 * instance has published, kept in <state_dir>/mqtt-<sink id>.announced
 * so that a later run can clear those it no longer publishes: entities
 * of a device or source taken out of the pipeline would otherwise stay
 * in Home Assistant for ever.  One topic per line. */
#ifndef MQTT_GHOSTS_H
#define MQTT_GHOSTS_H

#include <stddef.h>

struct mqtt_ghost {
  char *topic;
  int seen; /* published by this run */
};

struct mqtt_ghosts {
  char *path; /* NULL: nothing is kept (no state_dir) */
  struct mqtt_ghost *items;
  size_t n, cap;
  int dirty; /* the file lags behind items */
};

/* Load the set of an earlier run (a missing file is an empty set).  0, or
 * -errno (the set starts empty and is not saved: path stays NULL). */
int mqtt_ghosts_open(struct mqtt_ghosts *g, const char *state_dir,
                     const char *sink_id);
/* This run publishes `topic` (retained). */
void mqtt_ghosts_seen(struct mqtt_ghosts *g, const char *topic);
/* Write the file when it changed (a new file, renamed over the old).  0
 * or -errno. */
int mqtt_ghosts_save(struct mqtt_ghosts *g);
/* Number of topics of the earlier run that this run has not published. */
size_t mqtt_ghosts_stale(const struct mqtt_ghosts *g);
/* Call clear(arg, topic) for each of them; those for which it returns 0
 * are forgotten (and the file saved).  Returns how many were cleared. */
size_t mqtt_ghosts_sweep(struct mqtt_ghosts *g,
                         int (*clear)(void *arg, const char *topic),
                         void *arg);
void mqtt_ghosts_free(struct mqtt_ghosts *g);

#endif

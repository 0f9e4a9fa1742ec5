/* The mqtt sink's registry of devices and entities; see mqtt_devices.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_devices.h"
#include "mqtt_topics.h"
#include "record_format.h"

void mqtt_registry_init(struct mqtt_registry *g, const char *base) {
  memset(g, 0, sizeof *g);
  g->base = base;
  vq_text_init(&g->scratch);
}

static char *dup_text(struct vq_text *t) {
  return t->failed ? NULL : strdup(t->len ? t->data : "");
}

static int same(const char *a, const char *b) {
  if (a == NULL || b == NULL) return a == b;
  return strcmp(a, b) == 0;
}

/* Replace *field by a copy of value; 1 when it changed. */
static int update_tag(char **field, const char *value) {
  char *copy;
  if (value == NULL || same(*field, value)) return 0;
  if ((copy = strdup(value)) == NULL) return 0;
  free(*field);
  *field = copy;
  return 1;
}

static void entity_free(struct mqtt_entity *e) {
  free(e->quantity);
  free(e->unit);
  free(e->state_topic);
  free(e->set_topic);
  free(e->config_topic);
  free(e->last);
}

static void device_free(struct mqtt_device *d) {
  size_t i;
  for (i = 0; i < d->nentities; i++) entity_free(&d->entities[i]);
  free(d->entities);
  free(d->source);
  free(d->device);
  free(d->product);
  free(d->product_id);
  free(d->firmware);
  free(d->serial);
  free(d->topic);
  free(d->avail_topic);
  free(d);
}

void mqtt_registry_free(struct mqtt_registry *g) {
  while (g->devices != NULL) {
    struct mqtt_device *d = g->devices;
    g->devices = d->next;
    device_free(d);
  }
  g->last = NULL;
  vq_text_free(&g->scratch);
}

struct mqtt_device *mqtt_registry_device(struct mqtt_registry *g,
                                         const struct vq_reading *r,
                                         int *created, int *tags_changed) {
  struct mqtt_device *d = g->last;
  const char *source = r->source ? r->source : "";

  *created = 0;
  *tags_changed = 0;
  if (d == NULL || strcmp(d->device, r->device) != 0 ||
      strcmp(d->source, source) != 0) {
    for (d = g->devices; d != NULL; d = d->next)
      if (strcmp(d->device, r->device) == 0 && strcmp(d->source, source) == 0)
        break;
  }
  if (d == NULL) {
    d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    d->available = -1;
    d->source = strdup(source);
    d->device = strdup(r->device);
    vq_text_clear(&g->scratch);
    mqtt_topic_device(&g->scratch, g->base, source, r->device);
    d->topic = dup_text(&g->scratch);
    vq_text_adds(&g->scratch, "/availability");
    d->avail_topic = dup_text(&g->scratch);
    if (!d->source || !d->device || !d->topic || !d->avail_topic) {
      device_free(d);
      return NULL;
    }
    d->next = g->devices;
    g->devices = d;
    *created = 1;
  }
  g->last = d;
  if (r->ntags > 0) {
    *tags_changed = update_tag(&d->product, vq_reading_tag(r, "product"));
    *tags_changed |= update_tag(&d->product_id, vq_reading_tag(r, "product_id"));
    *tags_changed |= update_tag(&d->firmware, vq_reading_tag(r, "firmware"));
    *tags_changed |= update_tag(&d->serial, vq_reading_tag(r, "serial"));
  }
  return d;
}

struct mqtt_entity *mqtt_registry_entity(struct mqtt_registry *g,
                                         struct mqtt_device *d,
                                         const struct vq_record *rec,
                                         int *created) {
  struct mqtt_entity *e = NULL;
  size_t i;

  *created = 0;
  /* Readings of a device usually list their quantities in the same
   * order: try the one after the last hit first. */
  if (d->hint < d->nentities &&
      strcmp(d->entities[d->hint].quantity, rec->quantity) == 0)
    e = &d->entities[d->hint];
  for (i = 0; e == NULL && i < d->nentities; i++)
    if (strcmp(d->entities[i].quantity, rec->quantity) == 0) e = &d->entities[i];
  if (e == NULL) {
    if (d->nentities == d->cap) {
      size_t cap = d->cap ? d->cap * 2 : 16;
      struct mqtt_entity *grown = realloc(d->entities, cap * sizeof *grown);
      if (grown == NULL) return NULL;
      d->entities = grown;
      d->cap = cap;
    }
    e = &d->entities[d->nentities];
    memset(e, 0, sizeof *e);
    e->quantity = strdup(rec->quantity);
    e->unit = strdup(rec->unit ? rec->unit : "");
    e->type = rec->type;
    vq_text_clear(&g->scratch);
    mqtt_topic_state(&g->scratch, g->base, d->source, d->device, rec->quantity,
                     "");
    e->state_topic = dup_text(&g->scratch);
    if (!e->quantity || !e->unit || !e->state_topic) {
      entity_free(e);
      return NULL;
    }
    d->nentities++;
    *created = 1;
  }
  d->hint = (size_t)(e - d->entities) + 1;
  return e;
}

int mqtt_registry_set_topic(struct mqtt_registry *g, struct mqtt_device *d,
                            struct mqtt_entity *e) {
  if (e->set_topic != NULL) return 0;
  vq_text_clear(&g->scratch);
  mqtt_topic_state(&g->scratch, g->base, d->source, d->device, e->quantity,
                   "/set");
  e->set_topic = dup_text(&g->scratch);
  return e->set_topic ? 0 : -ENOMEM;
}

struct mqtt_device *mqtt_registry_same_id(struct mqtt_registry *g,
                                          const struct mqtt_device *d) {
  struct mqtt_device *o;
  for (o = g->devices; o != NULL; o = o->next)
    if (o != d && strcmp(o->device, d->device) == 0 &&
        strcmp(o->source, d->source) != 0)
      return o;
  return NULL;
}

struct mqtt_entity *mqtt_registry_find_set(struct mqtt_registry *g,
                                           const char *topic,
                                           struct mqtt_device **dev) {
  struct mqtt_device *d;
  size_t i;
  for (d = g->devices; d != NULL; d = d->next)
    for (i = 0; i < d->nentities; i++)
      if (d->entities[i].writable && d->entities[i].set_topic &&
          strcmp(d->entities[i].set_topic, topic) == 0) {
        *dev = d;
        return &d->entities[i];
      }
  return NULL;
}

struct mqtt_entity *mqtt_registry_find_config(struct mqtt_registry *g,
                                              const char *topic,
                                              const struct mqtt_entity *self,
                                              struct mqtt_device **dev) {
  struct mqtt_device *d;
  size_t i;
  for (d = g->devices; d != NULL; d = d->next)
    for (i = 0; i < d->nentities; i++)
      if (&d->entities[i] != self && d->entities[i].config_topic &&
          strcmp(d->entities[i].config_topic, topic) == 0) {
        *dev = d;
        return &d->entities[i];
      }
  return NULL;
}

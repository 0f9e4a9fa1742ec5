/* The devices and quantities the sink has seen: Home Assistant discovery,
 * per-device availability, and what is re-sent after a reconnect or an HA
 * restart. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_sink.h"
#include "mqtt_topics.h"
#include "record_format.h"

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

static void device_free(struct mqtt_device *d) {
  size_t i, j;
  for (i = 0; i < d->nentities; i++) {
    struct mqtt_entity *e = &d->entities[i];
    for (j = 0; j < e->nlabels; j++) free(e->labels[j]);
    free(e->labels);
    free(e->codes);
    free(e->quantity);
    free(e->unit);
    free(e->state_topic);
    free(e->set_topic);
    free(e->last);
  }
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

struct mqtt_device *mqtt_device_get(struct mqtt_sink *s,
                                    const struct vq_reading *r) {
  struct mqtt_device *d = s->last_device;
  int changed;
  const char *source = r->source ? r->source : "";

  if (d == NULL || strcmp(d->device, r->device) != 0 ||
      strcmp(d->source, source) != 0) {
    for (d = s->devices; d != NULL; d = d->next)
      if (strcmp(d->device, r->device) == 0 && strcmp(d->source, source) == 0)
        break;
  }
  if (d == NULL) {
    d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    d->available = -1;
    d->source = strdup(source);
    d->device = strdup(r->device);
    vq_text_clear(&s->scratch);
    mqtt_topic_device(&s->scratch, s->base, source, r->device);
    d->topic = dup_text(&s->scratch);
    vq_text_adds(&s->scratch, "/availability");
    d->avail_topic = dup_text(&s->scratch);
    if (!d->source || !d->device || !d->topic || !d->avail_topic) {
      device_free(d);
      return NULL;
    }
    d->next = s->devices;
    s->devices = d;
  }
  s->last_device = d;
  if (r->ntags > 0) {
    changed = update_tag(&d->product, vq_reading_tag(r, "product"));
    changed |= update_tag(&d->product_id, vq_reading_tag(r, "product_id"));
    changed |= update_tag(&d->firmware, vq_reading_tag(r, "firmware"));
    changed |= update_tag(&d->serial, vq_reading_tag(r, "serial"));
    if (changed) { /* the device block changed: announce again */
      size_t i;
      for (i = 0; i < d->nentities; i++) d->entities[i].announced = 0;
    }
  }
  return d;
}

/* Remember an enum label; 1 when it is new. */
static int learn_label(struct mqtt_entity *e, int64_t code, const char *label) {
  size_t i;
  char **labels, *copy;
  int64_t *codes;
  for (i = 0; i < e->nlabels; i++)
    if (strcmp(e->labels[i], label) == 0) return 0;
  labels = realloc(e->labels, (e->nlabels + 1) * sizeof *labels);
  if (labels == NULL) return 0;
  e->labels = labels;
  codes = realloc(e->codes, (e->nlabels + 1) * sizeof *codes);
  if (codes == NULL) return 0;
  e->codes = codes;
  if ((copy = strdup(label)) == NULL) return 0;
  e->labels[e->nlabels] = copy;
  e->codes[e->nlabels++] = code;
  return 1;
}

static void update_writable(struct mqtt_sink *s, struct mqtt_device *d,
                            struct mqtt_entity *e, int writable) {
  double min = 0, max = 0, step = 0;
  if (writable &&
      s->host->command_range(s->ctx, d->source, e->quantity, &min, &max,
                             &step) != 0)
    writable = 0; /* no granted range: read-only for us */
  if (writable == e->writable && min == e->min && max == e->max &&
      step == e->step)
    return;
  e->writable = writable;
  e->min = min;
  e->max = max;
  e->step = step;
  e->announced = 0;
  if (writable && e->set_topic == NULL) {
    vq_text_clear(&s->scratch);
    mqtt_topic_state(&s->scratch, s->base, d->source, d->device, e->quantity,
                     "/set");
    e->set_topic = dup_text(&s->scratch);
  }
}

struct mqtt_entity *mqtt_entity_get(struct mqtt_sink *s, struct mqtt_device *d,
                                    const struct vq_record *rec) {
  struct mqtt_entity *e = NULL;
  size_t i;
  int writable = (rec->flags & VQ_RECORD_WRITABLE) != 0;

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
    e->info = s->host->quantity_info(s->ctx, rec->quantity);
    vq_text_clear(&s->scratch);
    mqtt_topic_state(&s->scratch, s->base, d->source, d->device, rec->quantity,
                     "");
    e->state_topic = dup_text(&s->scratch);
    if (!e->quantity || !e->unit || !e->state_topic) {
      free(e->quantity);
      free(e->unit);
      free(e->state_topic);
      return NULL;
    }
    d->nentities++;
  }
  d->hint = (size_t)(e - d->entities) + 1;
  if (e->type != rec->type) { /* a plugin changed its mind: follow it */
    e->type = rec->type;
    e->announced = 0;
  }
  if (rec->type == VQ_VALUE_ENUM && !(rec->flags & VQ_RECORD_NA) &&
      rec->text != NULL && *rec->text &&
      learn_label(e, rec->value.i64, rec->text))
    e->announced = 0; /* HA needs the new label among the options */
  if (writable != e->writable || (writable && e->set_topic == NULL))
    update_writable(s, d, e, writable);
  if (!e->announced) mqtt_entity_announce(s, d, e);
  if (e->writable && !e->subscribed) mqtt_commands_subscribe(s, e);
  return e;
}

void mqtt_plain_payload(struct vq_text *t, const struct vq_record *rec) {
  if (rec->flags & VQ_RECORD_NA) {
    vq_text_adds(t, "None");
    return;
  }
  switch (rec->type) {
  case VQ_VALUE_DOUBLE:
  case VQ_VALUE_INT: vq_format_json_value(t, rec); break;
  case VQ_VALUE_BOOL: vq_text_adds(t, rec->value.i64 ? "ON" : "OFF"); break;
  case VQ_VALUE_STRING: vq_text_adds(t, rec->value.str ? rec->value.str : ""); break;
  case VQ_VALUE_ENUM:
    if (rec->text != NULL && *rec->text) vq_text_adds(t, rec->text);
    else vq_text_add_int(t, rec->value.i64);
    break;
  default:
    /* bitmask: the labels of the set bits; "none" when no bit is set (an
     * empty payload would clear a retained state, and HA ignores it) */
    if (rec->text == NULL) vq_text_add_int(t, rec->value.i64);
    else vq_text_adds(t, *rec->text ? rec->text : "none");
    break;
  }
}

void mqtt_entity_announce(struct mqtt_sink *s, struct mqtt_device *d,
                          struct mqtt_entity *e) {
  struct mqtt_disc_device dd;
  struct mqtt_disc_entity de;
  struct vq_text topic;

  if (!s->discovery || !mqtt_client_connected(s->client)) return;
  dd.source = d->source;
  dd.device = d->device;
  dd.product = d->product;
  dd.product_id = d->product_id;
  dd.firmware = d->firmware;
  dd.serial = d->serial;
  memset(&de, 0, sizeof de);
  de.quantity = e->quantity;
  de.type = e->type;
  de.unit = e->unit;
  de.info = e->info;
  de.writable = e->writable;
  de.min = e->min;
  de.max = e->max;
  de.step = e->step;
  de.labels = (const char *const *)e->labels;
  de.codes = e->codes;
  de.nlabels = e->nlabels;
  vq_text_init(&topic);
  mqtt_disc_topic(&topic, &s->disc, &dd, &de);
  vq_text_clear(&s->scratch);
  mqtt_disc_payload(&s->scratch, &s->disc, &dd, &de);
  if (topic.failed || s->scratch.failed) {
    s->host->log(s->ctx, VQ_LOG_ERROR, "out of memory building discovery");
  } else if (mqtt_sink_publish_extra(s, topic.data, s->scratch.data,
                                     s->scratch.len, 1, 1) == 0) {
    e->announced = 1;
  }
  vq_text_free(&topic);
}

void mqtt_device_set_available(struct mqtt_sink *s, struct mqtt_device *d,
                               int available, int force) {
  const char *p = available ? "online" : "offline";
  if (!force && d->available == available) return;
  if (!mqtt_client_connected(s->client)) return; /* sent on connect */
  if (mqtt_sink_publish_extra(s, d->avail_topic, p, strlen(p), 1, 1) == 0) {
    if (d->available != available)
      s->host->log(s->ctx, VQ_LOG_INFO, "%s/%s %s", d->source, d->device,
                   available ? "available" : "unavailable");
    d->available = available;
  }
}

void mqtt_announce_all(struct mqtt_sink *s, int states) {
  struct mqtt_device *d;
  size_t i;
  if (s->discovery) {
    vq_text_clear(&s->topic);
    vq_text_clear(&s->scratch);
    mqtt_disc_daemon_topic(&s->topic, &s->disc);
    mqtt_disc_daemon_payload(&s->scratch, &s->disc);
    if (!s->topic.failed && !s->scratch.failed)
      mqtt_sink_publish_extra(s, s->topic.data, s->scratch.data,
                              s->scratch.len, 1, 1);
  }
  for (d = s->devices; d != NULL; d = d->next) {
    if (d->available >= 0) mqtt_device_set_available(s, d, d->available, 1);
    for (i = 0; i < d->nentities; i++) {
      struct mqtt_entity *e = &d->entities[i];
      e->announced = 0;
      mqtt_entity_announce(s, d, e);
      if (e->writable) mqtt_commands_subscribe(s, e);
      if (states && !s->json && e->last != NULL)
        mqtt_sink_publish_extra(s, e->state_topic, e->last, strlen(e->last),
                                s->qos, s->retain);
    }
  }
}

void mqtt_devices_check_timeouts(struct mqtt_sink *s) {
  struct mqtt_device *d;
  uint64_t now = uv_now(s->loop);
  if (s->device_timeout_ms == 0) return;
  for (d = s->devices; d != NULL; d = d->next)
    if (d->available == 1 && now - d->last_ms > s->device_timeout_ms)
      mqtt_device_set_available(s, d, 0, 0);
}

void mqtt_devices_free(struct mqtt_sink *s) {
  while (s->devices != NULL) {
    struct mqtt_device *d = s->devices;
    s->devices = d->next;
    device_free(d);
  }
  s->last_device = NULL;
}

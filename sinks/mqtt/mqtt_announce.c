/* Discovery, availability and ghost clearing; see mqtt_announce.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_announce.h"

void mqtt_announcer_init(struct mqtt_announcer *a, const struct vq_host *host,
                         struct vq_ctx *ctx, const struct mqtt_out *out,
                         struct mqtt_registry *reg,
                         const struct mqtt_disc_options *disc, int discovery,
                         int json, int qos, int retain) {
  const char *dir = host->state_dir(ctx);
  int rc;
  memset(a, 0, sizeof *a);
  a->host = host;
  a->ctx = ctx;
  a->out = out;
  a->reg = reg;
  a->disc = *disc;
  a->discovery = discovery;
  a->json = json;
  a->qos = qos;
  a->retain = retain;
  vq_text_init(&a->topic);
  vq_text_init(&a->payload);
  if (dir == NULL) {
    host->log(ctx, VQ_LOG_INFO,
              "no state_dir: entities of devices taken out of the pipeline "
              "will stay in Home Assistant");
    return;
  }
  rc = mqtt_ghosts_open(&a->ghosts, dir, host->instance_id(ctx));
  if (rc < 0)
    host->log(ctx, VQ_LOG_WARN,
              "cannot read or keep the announced entities in %s: %s", dir,
              strerror(-rc));
  else if (a->ghosts.n > 0)
    host->log(ctx, VQ_LOG_DEBUG, "%zu retained topics from an earlier run",
              a->ghosts.n);
}

void mqtt_announcer_free(struct mqtt_announcer *a) {
  mqtt_ghosts_save(&a->ghosts);
  mqtt_ghosts_free(&a->ghosts);
  vq_text_free(&a->topic);
  vq_text_free(&a->payload);
}

static int publish(struct mqtt_announcer *a, const char *topic,
                   const char *payload, size_t len, int qos, int retain) {
  return a->out->publish(a->out->arg, topic, payload, len, qos, retain);
}

static void disc_device(struct mqtt_disc_device *dd, const struct mqtt_device *d) {
  dd->source = d->source;
  dd->device = d->device;
  dd->product = d->product;
  dd->product_id = d->product_id;
  dd->firmware = d->firmware;
  dd->serial = d->serial;
}

/* Take e's discovery topic, unless another entity has it (ids that differ
 * only in characters an id cannot hold: "a.b" and "a_b"). */
static int claim_topic(struct mqtt_announcer *a, struct mqtt_device *d,
                       struct mqtt_entity *e, const char *topic) {
  struct mqtt_device *od;
  struct mqtt_entity *other;
  if (e->config_topic != NULL) return 0;
  other = mqtt_registry_find_config(a->reg, topic, e, &od);
  if (other != NULL) {
    a->host->log(a->ctx, VQ_LOG_WARN,
                 "%s/%s %s and %s/%s %s have the same Home Assistant unique "
                 "id; only the first is announced (rename a source)",
                 od->source, od->device, other->quantity, d->source, d->device,
                 e->quantity);
    e->clash = 1;
    return -EEXIST;
  }
  if ((e->config_topic = strdup(topic)) == NULL) return -ENOMEM;
  return 0;
}

static void announce_entity(struct mqtt_announcer *a, struct mqtt_device *d,
                            struct mqtt_entity *e) {
  struct mqtt_disc_device dd;
  struct mqtt_disc_entity de;

  if (!a->discovery || e->clash || !a->out->connected(a->out->arg)) return;
  disc_device(&dd, d);
  memset(&de, 0, sizeof de);
  de.quantity = e->quantity;
  de.type = e->type;
  de.unit = e->unit;
  de.info = e->info;
  de.writable = e->writable;
  de.min = e->min;
  de.max = e->max;
  de.step = e->step;
  vq_text_clear(&a->topic);
  vq_text_clear(&a->payload);
  mqtt_disc_topic(&a->topic, &a->disc, &dd, &de);
  mqtt_disc_payload(&a->payload, &a->disc, &dd, &de);
  if (a->topic.failed || a->payload.failed) {
    a->host->log(a->ctx, VQ_LOG_ERROR, "out of memory building discovery");
    return;
  }
  if (e->config_topic != NULL && strcmp(e->config_topic, a->topic.data) != 0) {
    /* The component changed (a range was granted: sensor -> number):
     * the old config must go, or HA shows both. */
    publish(a, e->config_topic, "", 0, 1, 1);
    free(e->config_topic);
    e->config_topic = NULL;
  }
  if (claim_topic(a, d, e, a->topic.data) < 0) return;
  if (publish(a, a->topic.data, a->payload.data, a->payload.len, 1, 1) == 0) {
    e->announced = 1;
    mqtt_ghosts_seen(&a->ghosts, a->topic.data);
  }
}

static void update_writable(struct mqtt_announcer *a, struct mqtt_device *d,
                            struct mqtt_entity *e, int writable) {
  double min = 0, max = 0, step = 0;
  if (writable &&
      a->host->command_range(a->ctx, d->source, e->quantity, &min, &max,
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
  if (writable && mqtt_registry_set_topic(a->reg, d, e) < 0) e->writable = 0;
}

struct mqtt_entity *mqtt_announce_record(struct mqtt_announcer *a,
                                         struct mqtt_device *d,
                                         const struct vq_record *rec) {
  int created, writable = (rec->flags & VQ_RECORD_WRITABLE) != 0;
  struct mqtt_entity *e = mqtt_registry_entity(a->reg, d, rec, &created);
  if (e == NULL) return NULL;
  if (created) e->info = a->host->quantity_info(a->ctx, rec->quantity);
  if (e->type != rec->type) { /* a plugin changed its mind: follow it */
    e->type = rec->type;
    e->announced = 0;
  }
  if (writable != e->writable || (writable && e->set_topic == NULL))
    update_writable(a, d, e, writable);
  if (!e->announced) announce_entity(a, d, e);
  return e;
}

void mqtt_announce_device_changed(struct mqtt_announcer *a,
                                  struct mqtt_device *d) {
  size_t i;
  for (i = 0; i < d->nentities; i++) d->entities[i].announced = 0;
  (void)a;
}

void mqtt_announce_availability(struct mqtt_announcer *a,
                                struct mqtt_device *d, int available,
                                int force) {
  const char *p = available ? "online" : "offline";
  if (!force && d->available == available) return;
  if (!a->out->connected(a->out->arg)) return; /* sent on connect */
  if (publish(a, d->avail_topic, p, strlen(p), 1, 1) == 0) {
    if (d->available != available)
      a->host->log(a->ctx, VQ_LOG_INFO, "%s/%s %s", d->source, d->device,
                   available ? "available" : "unavailable");
    d->available = available;
    mqtt_ghosts_seen(&a->ghosts, d->avail_topic);
  }
}

void mqtt_announce_all(struct mqtt_announcer *a, int states) {
  struct mqtt_device *d;
  size_t i;
  if (a->discovery) {
    vq_text_clear(&a->topic);
    vq_text_clear(&a->payload);
    mqtt_disc_daemon_topic(&a->topic, &a->disc);
    mqtt_disc_daemon_payload(&a->payload, &a->disc);
    if (!a->topic.failed && !a->payload.failed &&
        publish(a, a->topic.data, a->payload.data, a->payload.len, 1, 1) == 0)
      mqtt_ghosts_seen(&a->ghosts, a->topic.data);
  }
  for (d = a->reg->devices; d != NULL; d = d->next) {
    if (d->available >= 0) mqtt_announce_availability(a, d, d->available, 1);
    for (i = 0; i < d->nentities; i++) {
      struct mqtt_entity *e = &d->entities[i];
      e->announced = 0;
      announce_entity(a, d, e);
      if (states && !a->json && e->last != NULL)
        publish(a, e->state_topic, e->last, strlen(e->last), a->qos, a->retain);
    }
  }
  mqtt_announce_save(a);
}

void mqtt_announce_timeouts(struct mqtt_announcer *a, uint64_t now_ms,
                            uint64_t timeout_ms) {
  struct mqtt_device *d;
  if (timeout_ms == 0) return;
  for (d = a->reg->devices; d != NULL; d = d->next)
    if (d->available == 1 && now_ms - d->last_ms > timeout_ms)
      mqtt_announce_availability(a, d, 0, 0);
}

static int clear_topic(void *arg, const char *topic) {
  struct mqtt_announcer *a = arg;
  int rc = publish(a, topic, "", 0, 1, 1);
  if (rc == 0)
    a->host->log(a->ctx, VQ_LOG_DEBUG, "cleared %s (not announced any more)",
                 topic);
  return rc;
}

size_t mqtt_announce_sweep_ghosts(struct mqtt_announcer *a) {
  size_t n;
  if (!a->out->connected(a->out->arg) || mqtt_ghosts_stale(&a->ghosts) == 0)
    return 0;
  n = mqtt_ghosts_sweep(&a->ghosts, clear_topic, a);
  if (n > 0)
    a->host->log(a->ctx, VQ_LOG_INFO,
                 "removed %zu retained topics of entities and devices no "
                 "longer in the pipeline", n);
  return n;
}

void mqtt_announce_save(struct mqtt_announcer *a) {
  int rc = mqtt_ghosts_save(&a->ghosts);
  if (rc < 0)
    a->host->log(a->ctx, VQ_LOG_WARN, "cannot write %s: %s", a->ghosts.path,
                 strerror(-rc));
}

/* Commands from MQTT: <base>/<source>/<device>/<quantity path>/set carries
 * a number; it goes to the core's control path (host->command_submit), and
 * the outcome is published, non-retained, on .../<quantity path>/result as
 * {"ticket":N,"status":"accepted|ok|failed|refused","value":V,"message":".."}
 * and logged.  Retained messages are refused: a stale retained command
 * must never reach a charger (with MQTT 5 the subscription keeps the
 * retain flag as published, so a live retained publish is refused too). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_sink.h"
#include "mqtt_topics.h"

void mqtt_commands_subscribe(struct mqtt_sink *s, struct mqtt_entity *e) {
  int rc;
  if (e->set_topic == NULL || !mqtt_client_connected(s->client)) return;
  rc = mqtt_client_subscribe(s->client, e->set_topic, 1);
  if (rc < 0) {
    s->host->log(s->ctx, VQ_LOG_WARN, "cannot subscribe to %s: %s",
                 e->set_topic, strerror(-rc));
    return;
  }
  e->subscribed = 1;
  s->host->log(s->ctx, VQ_LOG_DEBUG, "listening for commands on %s",
               e->set_topic);
}

/* The writable entity whose set topic this is. */
static struct mqtt_entity *find_target(struct mqtt_sink *s, const char *topic,
                                       struct mqtt_device **dev) {
  struct mqtt_device *d;
  size_t i;
  for (d = s->devices; d != NULL; d = d->next)
    for (i = 0; i < d->nentities; i++)
      if (d->entities[i].writable && d->entities[i].set_topic &&
          strcmp(d->entities[i].set_topic, topic) == 0) {
        *dev = d;
        return &d->entities[i];
      }
  return NULL;
}

static void publish_result(struct mqtt_sink *s, const char *result_topic,
                           int64_t ticket, const char *status, double value,
                           int have_value, const char *message) {
  struct vq_text t;
  vq_text_init(&t);
  vq_text_adds(&t, "{\"ticket\":");
  if (ticket > 0) vq_text_add_int(&t, ticket);
  else vq_text_adds(&t, "null");
  vq_text_adds(&t, ",\"status\":");
  vq_text_add_json_string(&t, status);
  vq_text_adds(&t, ",\"value\":");
  if (have_value) vq_text_add_double(&t, value);
  else vq_text_adds(&t, "null");
  vq_text_adds(&t, ",\"message\":");
  vq_text_add_json_string(&t, message ? message : "");
  vq_text_addc(&t, '}');
  if (!t.failed)
    mqtt_sink_publish_extra(s, result_topic, t.data, t.len, 1, 0);
  vq_text_free(&t);
}

/* A plain number ("12", " 12.5 ") or {"value": 12.5}. */
static int parse_value(const char *p, size_t len, double *out) {
  char buf[64], *end;
  const char *v;
  if (len == 0 || len >= sizeof buf) return -EINVAL;
  memcpy(buf, p, len);
  buf[len] = '\0';
  v = buf;
  while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r') v++;
  if (*v == '{') {
    v = strstr(v, "\"value\"");
    if (v == NULL) return -EINVAL;
    v += 7;
    while (*v == ' ' || *v == '\t') v++;
    if (*v++ != ':') return -EINVAL;
  }
  errno = 0;
  *out = strtod(v, &end);
  if (end == v || errno != 0 || !isfinite(*out)) return -EINVAL;
  while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r' ||
         *end == '}')
    end++;
  return *end == '\0' ? 0 : -EINVAL;
}

static void handle_set(struct mqtt_sink *s, const struct mosquitto_message *msg) {
  struct mqtt_device *d = NULL;
  struct mqtt_entity *e = find_target(s, msg->topic, &d);
  struct vq_command cmd;
  struct mqtt_pending_command *pc;
  const char *reason = NULL;
  char *result_topic;
  size_t tlen = strlen(msg->topic);
  double value = 0;
  int64_t ticket;
  int have_value;

  if (e == NULL) {
    char src[128], dev[128], q[128];
    if (mqtt_topic_parse_set(msg->topic, s->base, src, dev, q, sizeof src) == 0)
      s->host->log(s->ctx, VQ_LOG_WARN,
                   "command on %s ignored: %s of %s/%s is not writable here "
                   "(no data yet, or no write.%s range in [source.%s])",
                   msg->topic, q, src, dev, q, src);
    else
      s->host->log(s->ctx, VQ_LOG_WARN, "message on %s ignored", msg->topic);
    return;
  }
  /* .../set -> .../result */
  result_topic = malloc(tlen + 4);
  if (result_topic == NULL) return;
  memcpy(result_topic, msg->topic, tlen - 3);
  strcpy(result_topic + tlen - 3, "result");
  have_value = parse_value(msg->payload, (size_t)msg->payloadlen, &value) == 0;

  if (msg->retain) {
    s->host->log(s->ctx, VQ_LOG_WARN,
                 "retained command on %s refused (commands must not be "
                 "retained; clear it with an empty retained message)",
                 msg->topic);
    publish_result(s, result_topic, 0, "refused", value, have_value,
                   "retained commands are not accepted");
    free(result_topic);
    return;
  }
  if (!have_value) {
    s->host->log(s->ctx, VQ_LOG_WARN, "command on %s refused: not a number",
                 msg->topic);
    publish_result(s, result_topic, 0, "refused", 0, 0,
                   "payload is not a number");
    free(result_topic);
    return;
  }
  memset(&cmd, 0, sizeof cmd);
  cmd.size = sizeof cmd;
  cmd.source = d->source;
  cmd.device = d->device;
  cmd.quantity = e->quantity;
  cmd.value = value;
  ticket = s->host->command_submit(s->ctx, &cmd, &reason);
  if (ticket < 0) {
    publish_result(s, result_topic, 0, "refused", value, 1,
                   reason ? reason : strerror((int)-ticket));
    free(result_topic);
    return;
  }
  pc = calloc(1, sizeof *pc);
  if (pc == NULL) {
    free(result_topic);
    return;
  }
  pc->ticket = (uint64_t)ticket;
  pc->value = value;
  pc->result_topic = result_topic;
  pc->next = s->commands;
  s->commands = pc;
  s->host->log(s->ctx, VQ_LOG_INFO, "command #%lld: %s = %g", (long long)ticket,
               msg->topic, value);
  publish_result(s, result_topic, ticket, "accepted", value, 1, "");
}

void mqtt_commands_message(struct mqtt_sink *s,
                           const struct mosquitto_message *msg) {
  if (s->discovery && strcmp(msg->topic, s->ha_status_topic) == 0) {
    /* Home Assistant (re)started: it forgot every entity.  Announce again
     * after a short random delay so that many publishers do not answer in
     * the same instant. */
    if (msg->payloadlen == 6 && memcmp(msg->payload, "online", 6) == 0) {
      uint64_t delay = s->discovery_delay_ms
                           ? (uint64_t)rand() % (s->discovery_delay_ms + 1)
                           : 0;
      s->host->log(s->ctx, VQ_LOG_INFO,
                   "Home Assistant is online: discovery in %llu ms",
                   (unsigned long long)delay);
      mqtt_sink_schedule_announce(s, delay);
    }
    return;
  }
  handle_set(s, msg);
}

void mqtt_commands_result(struct mqtt_sink *s, uint64_t ticket, int status,
                          const char *message) {
  struct mqtt_pending_command **p, *pc;
  for (p = &s->commands; (pc = *p) != NULL; p = &pc->next)
    if (pc->ticket == ticket) break;
  if (pc == NULL) return; /* not ours, or from before a reload */
  *p = pc->next;
  if (status == 0)
    s->host->log(s->ctx, VQ_LOG_INFO, "command #%llu done%s%s",
                 (unsigned long long)ticket, message && *message ? ": " : "",
                 message ? message : "");
  else
    s->host->log(s->ctx, VQ_LOG_WARN, "command #%llu failed: %s%s%s",
                 (unsigned long long)ticket, strerror(-status),
                 message && *message ? ": " : "", message ? message : "");
  publish_result(s, pc->result_topic, (int64_t)ticket,
                 status == 0 ? "ok" : "failed", pc->value, 1,
                 message && *message ? message : (status ? strerror(-status) : ""));
  free(pc->result_topic);
  free(pc);
}

void mqtt_commands_free(struct mqtt_sink *s) {
  while (s->commands != NULL) {
    struct mqtt_pending_command *pc = s->commands;
    s->commands = pc->next;
    free(pc->result_topic);
    free(pc);
  }
}

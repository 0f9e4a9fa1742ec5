/* Commands from MQTT; see mqtt_commands.h. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_commands.h"
#include "mqtt_discovery.h"
#include "mqtt_topics.h"
#include "vq_text.h"

void mqtt_commands_init(struct mqtt_commands *c, const struct vq_host *host,
                        struct vq_ctx *ctx, const struct mqtt_out *out,
                        struct mqtt_registry *reg, const char *base) {
  memset(c, 0, sizeof *c);
  c->host = host;
  c->ctx = ctx;
  c->out = out;
  c->reg = reg;
  c->base = base;
}

void mqtt_commands_subscribe(struct mqtt_commands *c, struct mqtt_entity *e) {
  int rc;
  if (e->set_topic == NULL || !c->out->connected(c->out->arg)) return;
  rc = c->out->subscribe(c->out->arg, e->set_topic);
  if (rc < 0) {
    c->host->log(c->ctx, VQ_LOG_WARN, "cannot subscribe to %s: %s",
                 e->set_topic, strerror(-rc));
    return;
  }
  e->subscribed = 1;
  c->host->log(c->ctx, VQ_LOG_DEBUG, "listening for commands on %s",
               e->set_topic);
}

static void publish_result(struct mqtt_commands *c, const char *result_topic,
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
  if (!t.failed) c->out->publish(c->out->arg, result_topic, t.data, t.len, 1, 0);
  vq_text_free(&t);
}

static int is_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Length of the JSON number (RFC 8259 §6) at p[0..n), 0 if there is none. */
static size_t json_number(const char *p, size_t n) {
  size_t i = 0, digits;
  if (i < n && p[i] == '-') i++;
  if (i < n && p[i] == '0') i++;
  else {
    for (digits = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) digits++;
    if (digits == 0) return 0;
  }
  if (i < n && p[i] == '.') {
    i++;
    for (digits = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) digits++;
    if (digits == 0) return 0;
  }
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    i++;
    if (i < n && (p[i] == '+' || p[i] == '-')) i++;
    for (digits = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) digits++;
    if (digits == 0) return 0;
  }
  return i;
}

int mqtt_command_parse_value(const char *payload, size_t len, double *out) {
  static const char key[] = "\"value\"";
  char buf[64], *end;
  size_t i = 0, numlen;
  int object = 0;
  double v;

  if (payload == NULL) return -EINVAL;
  while (i < len && is_space(payload[i])) i++;
  if (i < len && payload[i] == '{') {
    object = 1;
    i++;
    while (i < len && is_space(payload[i])) i++;
    if (len - i < sizeof key - 1 || memcmp(payload + i, key, sizeof key - 1) != 0)
      return -EINVAL;
    i += sizeof key - 1;
    while (i < len && is_space(payload[i])) i++;
    if (i >= len || payload[i] != ':') return -EINVAL;
    i++;
    while (i < len && is_space(payload[i])) i++;
  }
  numlen = json_number(payload + i, len - i);
  if (numlen == 0 || numlen >= sizeof buf) return -EINVAL;
  memcpy(buf, payload + i, numlen);
  buf[numlen] = '\0';
  i += numlen;
  while (i < len && is_space(payload[i])) i++;
  if (object) {
    if (i >= len || payload[i] != '}') return -EINVAL;
    i++;
    while (i < len && is_space(payload[i])) i++;
  }
  if (i != len) return -EINVAL; /* trailing bytes, a NUL among them */
  errno = 0;
  v = strtod(buf, &end);
  if (*end != '\0' || errno == ERANGE || !isfinite(v)) return -EINVAL;
  *out = v;
  return 0;
}

int mqtt_command_parse(const char *payload, size_t len,
                       const struct vq_label *labels, uint32_t nlabels,
                       double *out) {
  uint32_t i;
  if (mqtt_command_parse_value(payload, len, out) == 0) return 0;
  if (payload == NULL || len == 0) return -EINVAL;
  for (i = 0; i < nlabels; i++) {
    const char *l = labels[i].label;
    if (l != NULL && strlen(l) == len && memcmp(l, payload, len) == 0) {
      *out = (double)labels[i].code;
      return 0;
    }
  }
  return -EINVAL;
}

void mqtt_commands_message(struct mqtt_commands *c, const char *topic,
                           const void *payload, size_t len, int retained) {
  struct mqtt_device *d = NULL;
  struct mqtt_entity *e = mqtt_registry_find_set(c->reg, topic, &d);
  struct vq_command cmd;
  struct mqtt_pending_command *pc;
  const char *reason = NULL;
  char *result_topic;
  size_t tlen = strlen(topic);
  double value = 0;
  int64_t ticket;
  int have_value;
  const struct vq_label *labels = NULL;
  uint32_t nlabels = 0;

  if (e == NULL) {
    char src[128], dev[128], q[128];
    if (mqtt_topic_parse_set(topic, c->base, src, dev, q, sizeof src) == 0)
      c->host->log(c->ctx, VQ_LOG_WARN,
                   "command on %s ignored: %s of %s/%s is not writable here "
                   "(no data yet, or no write.%s range in [source.%s])",
                   topic, q, src, dev, q, src);
    else
      c->host->log(c->ctx, VQ_LOG_WARN, "message on %s ignored", topic);
    return;
  }
  /* .../set -> .../result */
  result_topic = malloc(tlen + 4);
  if (result_topic == NULL) return;
  memcpy(result_topic, topic, tlen - 3);
  strcpy(result_topic + tlen - 3, "result");
  if (e->type == VQ_VALUE_ENUM) labels = mqtt_disc_labels(e->info, &nlabels);
  have_value = mqtt_command_parse(payload, len, labels, nlabels, &value) == 0;

  if (retained) {
    c->host->log(c->ctx, VQ_LOG_WARN,
                 "retained command on %s refused (commands must not be "
                 "retained; clear it with an empty retained message)",
                 topic);
    publish_result(c, result_topic, 0, "refused", value, have_value,
                   "retained commands are not accepted");
    free(result_topic);
    return;
  }
  if (!have_value) {
    /* The payload is not echoed: it may be anything, not even UTF-8. */
    const char *why = nlabels > 0 ? "payload is neither a number nor a label "
                                    "of the quantity"
                                  : "payload is not a number";
    c->host->log(c->ctx, VQ_LOG_WARN, "command on %s refused: %s", topic, why);
    publish_result(c, result_topic, 0, "refused", 0, 0, why);
    free(result_topic);
    return;
  }
  memset(&cmd, 0, sizeof cmd);
  cmd.size = sizeof cmd;
  cmd.source = d->source;
  cmd.device = d->device;
  cmd.quantity = e->quantity;
  cmd.value = value;
  ticket = c->host->command_submit(c->ctx, &cmd, &reason);
  if (ticket < 0) {
    publish_result(c, result_topic, 0, "refused", value, 1,
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
  pc->next = c->pending;
  c->pending = pc;
  c->host->log(c->ctx, VQ_LOG_INFO, "command #%lld: %s = %g", (long long)ticket,
               topic, value);
  publish_result(c, result_topic, ticket, "accepted", value, 1, "");
}

void mqtt_commands_result(struct mqtt_commands *c, uint64_t ticket, int status,
                          const char *message) {
  struct mqtt_pending_command **p, *pc;
  for (p = &c->pending; (pc = *p) != NULL; p = &pc->next)
    if (pc->ticket == ticket) break;
  if (pc == NULL) return; /* not ours, or from before a reload */
  *p = pc->next;
  if (status == 0)
    c->host->log(c->ctx, VQ_LOG_INFO, "command #%llu done%s%s",
                 (unsigned long long)ticket, message && *message ? ": " : "",
                 message ? message : "");
  else
    c->host->log(c->ctx, VQ_LOG_WARN, "command #%llu failed: %s%s%s",
                 (unsigned long long)ticket, strerror(-status),
                 message && *message ? ": " : "", message ? message : "");
  publish_result(c, pc->result_topic, (int64_t)ticket,
                 status == 0 ? "ok" : "failed", pc->value, 1,
                 message && *message ? message : (status ? strerror(-status) : ""));
  free(pc->result_topic);
  free(pc);
}

void mqtt_commands_free(struct mqtt_commands *c) {
  while (c->pending != NULL) {
    struct mqtt_pending_command *pc = c->pending;
    c->pending = pc->next;
    free(pc->result_topic);
    free(pc);
  }
}

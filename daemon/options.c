/* The options the core handles itself, and checking one value against
 * an option of any schema (the core's or a plugin's). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pipeline_int.h"
#include "value_parse.h"

#define NO_BOUNDS 1, 0

const struct vq_option vq_daemon_options[] = {
    {"log_level", VQ_OPT_ENUM, 0, "info", "error|warn|info|debug", NO_BOUNDS,
     "least important messages logged"},
    {"log", VQ_OPT_ENUM, 0, "stderr", "stderr|syslog", NO_BOUNDS,
     "where log lines go"},
    {"state_dir", VQ_OPT_STRING, 0, NULL, NULL, NO_BOUNDS,
     "directory for plugin state"},
    {"plugin_path", VQ_OPT_STRING, 0, NULL, NULL, NO_BOUNDS,
     "colon-separated directories searched for plugins before the "
     "installed ones"},
    {"shutdown_timeout", VQ_OPT_DURATION, 0, "5s", NULL, 0, 3600000,
     "how long sinks may take to deliver what is queued when stopping"},
    {"command_timeout", VQ_OPT_DURATION, 0, "10s", NULL, 1, 3600000,
     "deadline of a command that does not give one"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

const struct vq_option vq_core_source_options[] = {
    {"plugin", VQ_OPT_STRING, VQ_OPT_REQUIRED, NULL, NULL, NO_BOUNDS,
     "plugin that reads this source"},
    {"write.QUANTITY", VQ_OPT_STRING, 0, NULL, NULL, NO_BOUNDS,
     "MIN..MAX: allow commands setting QUANTITY within this range"},
    {"process", VQ_OPT_STRING, VQ_OPT_LIST, NULL, NULL, NO_BOUNDS,
     "[process.ID] sections run, in this order, on this source's readings "
     "before routing"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

const struct vq_option vq_core_process_options[] = {
    {"plugin", VQ_OPT_STRING, VQ_OPT_REQUIRED, NULL, NULL, NO_BOUNDS,
     "processor plugin (calibrate, energy, average, deadband, ...)"},
    {"match", VQ_OPT_STRING, VQ_OPT_LIST, "*", NULL, NO_BOUNDS,
     "quantity globs the processor gets; the other records pass by "
     "untouched"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

const struct vq_option vq_core_sink_options[] = {
    {"plugin", VQ_OPT_STRING, VQ_OPT_REQUIRED, NULL, NULL, NO_BOUNDS,
     "plugin that writes to this sink"},
    {"queue_max_records", VQ_OPT_INT, 0, "10000", NULL, 1, 1e9,
     "records held for the sink before the oldest are dropped"},
    {"queue_max_bytes", VQ_OPT_SIZE, 0, "8M", NULL, NO_BOUNDS,
     "bytes held for the sink before the oldest records are dropped"},
    {"batch_max_records", VQ_OPT_INT, 0, "1000", NULL, 1, 1e7,
     "most records handed to the sink in one write"},
    {"retry_initial", VQ_OPT_DURATION, 0, "1s", NULL, 1, 86400000,
     "first back-off after a failed write (doubles up to retry_max)"},
    {"retry_max", VQ_OPT_DURATION, 0, "5m", NULL, 1, 86400000,
     "longest back-off between write attempts"},
    {"spool_dir", VQ_OPT_STRING, 0, NULL, NULL, NO_BOUNDS,
     "keep the queue on disk in this directory, across restarts"},
    {"spool_max_bytes", VQ_OPT_SIZE, 0, "64M", NULL, NO_BOUNDS,
     "disk the spool may use before the oldest records are dropped"},
    {"spool_sync", VQ_OPT_ENUM, 0, "periodic", "none|periodic|always",
     NO_BOUNDS,
     "when spooled readings are forced to disk: never, each second, or "
     "before each counts as kept"},
    {"process", VQ_OPT_STRING, VQ_OPT_LIST, NULL, NULL, NO_BOUNDS,
     "[process.ID] sections run, in this order, on what is routed to this "
     "sink before it is queued"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

const struct vq_option vq_route_options[] = {
    {"from", VQ_OPT_STRING, VQ_OPT_REQUIRED | VQ_OPT_LIST, NULL, NULL,
     NO_BOUNDS, "source ids or globs"},
    {"to", VQ_OPT_STRING, VQ_OPT_REQUIRED | VQ_OPT_LIST, NULL, NULL, NO_BOUNDS,
     "sink ids or globs"},
    {"match", VQ_OPT_STRING, VQ_OPT_LIST, "*", NULL, NO_BOUNDS,
     "quantity globs (battery.*, pv.power)"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

static int in_choices(const char *choices, const char *value) {
  size_t n = strlen(value);
  const char *c = choices;
  while (c != NULL && *c) {
    const char *bar = strchr(c, '|');
    size_t len = bar ? (size_t)(bar - c) : strlen(c);
    if (len == n && strncmp(c, value, n) == 0) return 1;
    c = bar ? bar + 1 : NULL;
  }
  return 0;
}

static int check_scalar(const struct vq_option *opt, const char *value,
                        char *err, size_t errlen) {
  int b;
  int64_t i;
  double d;
  uint64_t ms;
  int bounded = opt->min <= opt->max;

  switch (opt->type) {
  case VQ_OPT_STRING:
  case VQ_OPT_SECRET:
    return 0;
  case VQ_OPT_BOOL:
    if (vq_parse_bool(value, &b) == 0) return 0;
    snprintf(err, errlen, "'%s' is not a boolean (yes/no)", value);
    return -EINVAL;
  case VQ_OPT_INT:
    if (vq_parse_int(value, &i) != 0) {
      snprintf(err, errlen, "'%s' is not an integer", value);
      return -EINVAL;
    }
    d = (double)i;
    break;
  case VQ_OPT_DOUBLE:
    if (vq_parse_double(value, &d) != 0) {
      snprintf(err, errlen, "'%s' is not a number", value);
      return -EINVAL;
    }
    break;
  case VQ_OPT_DURATION:
    if (vq_parse_duration_ms(value, &ms) != 0) {
      snprintf(err, errlen,
               "'%s' is not a duration (e.g. 500ms, 2s, 5m, 1h)", value);
      return -EINVAL;
    }
    d = (double)ms;
    if (bounded && (d < opt->min || d > opt->max)) {
      snprintf(err, errlen, "'%s' is outside %gms..%gms", value, opt->min,
               opt->max);
      return -EINVAL;
    }
    return 0;
  case VQ_OPT_ENUM:
    if (in_choices(opt->choices, value)) return 0;
    snprintf(err, errlen, "'%s' is not one of %s", value,
             opt->choices ? opt->choices : "(none)");
    return -EINVAL;
  case VQ_OPT_SIZE:
    if (vq_parse_size(value, &ms) == 0 && ms > 0) return 0;
    snprintf(err, errlen, "'%s' is not a size (e.g. 65536, 512k, 64M)",
             value);
    return -EINVAL;
  default:
    snprintf(err, errlen, "option has unknown type %u", (unsigned)opt->type);
    return -EINVAL;
  }
  if (bounded && (d < opt->min || d > opt->max)) {
    snprintf(err, errlen, "'%s' is outside %g..%g", value, opt->min,
             opt->max);
    return -EINVAL;
  }
  return 0;
}

int vq_option_check(const struct vq_option *opt, const char *value, char *err,
                    size_t errlen) {
  char item[512];
  const char *c = value;

  if (!(opt->flags & VQ_OPT_LIST)) return check_scalar(opt, value, err, errlen);
  for (;;) {
    const char *comma = strchr(c, ',');
    size_t len = comma ? (size_t)(comma - c) : strlen(c);
    char *t;
    int rc;
    if (len >= sizeof item) {
      snprintf(err, errlen, "list item too long");
      return -EINVAL;
    }
    memcpy(item, c, len);
    item[len] = '\0';
    t = vq_trim(item);
    if (*t == '\0') {
      snprintf(err, errlen, "empty item in list '%s'", value);
      return -EINVAL;
    }
    rc = check_scalar(opt, t, err, errlen);
    if (rc != 0) return rc;
    if (comma == NULL) return 0;
    c = comma + 1;
  }
}

const struct vq_option *vq_option_find(const struct vq_option *opts,
                                       const char *key) {
  const struct vq_option *o, *prefix = NULL;
  for (o = opts; o != NULL && o->key != NULL; o++) {
    size_t n = strlen(o->key);
    if (strcmp(o->key, key) == 0) return o;
    /* "scale." matches "scale.battery.current" (ABI 1.3). */
    if ((o->flags & VQ_OPT_PREFIX) && n > 0 && o->key[n - 1] == '.' &&
        strncmp(o->key, key, n) == 0 && key[n] != '\0' && prefix == NULL)
      prefix = o;
  }
  return prefix;
}

void vq_option_list_keys(const struct vq_option *a, const struct vq_option *b,
                         char *out, size_t outlen) {
  size_t len = 0;
  const struct vq_option *sets[2] = {a, b}, *o;
  int i;
  out[0] = '\0';
  for (i = 0; i < 2; i++)
    for (o = sets[i]; o != NULL && o->key != NULL && len < outlen; o++)
      len += (size_t)snprintf(out + len, outlen - len, "%s%s", len ? ", " : "",
                              o->key);
}

/* The pipeline file: validation against the core's and the plugins'
 * schemas, and the validated model the daemon runs.  Reading the text is
 * pipeline_read.c's, the core's options options.c's, routes routes.c's. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "pipeline_int.h"
#include "section_kind.h"
#include "spool.h"
#include "value_parse.h"
#include "vq_secret.h"

void vq_report_at(struct parse_state *st, int line, const char *fmt, ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  if (line > 0)
    vq_error("%s:%d: %s", st->path, line, message);
  else
    vq_error("%s: %s", st->path, message);
  st->errors++;
}

/* Validate every key of a section against the core's options and, for
 * sources and sinks, the plugin's schema.  Secrets given as KEY_file are
 * resolved into KEY. */
static void validate_keys(struct parse_state *st, struct vq_section *s,
                          const struct vq_option *core,
                          const struct vq_option *plugin_opts) {
  char err[512], known[2048];
  size_t i;
  const struct vq_option *o;

  for (i = 0; i < s->nkv; i++) {
    struct vq_kv *kv = &s->kv[i];
    const struct vq_option *opt = vq_option_find(core, kv->key);
    size_t keylen = strlen(kv->key);

    if (opt == NULL) opt = vq_option_find(plugin_opts, kv->key);
    if (opt == NULL && keylen > 5 &&
        strcmp(kv->key + keylen - 5, "_file") == 0) {
      char base[256];
      const struct vq_option *sopt;
      snprintf(base, sizeof base, "%.*s", (int)(keylen - 5), kv->key);
      sopt = vq_option_find(plugin_opts, base);
      if (sopt != NULL && sopt->type == VQ_OPT_SECRET) {
        char *secret = NULL;
        if (vq_section_get(s, base) != NULL) {
          report(st, kv->line, "[%s] key '%s': give either %s or %s, not both",
                 s->name, kv->key, base, kv->key);
          continue;
        }
        if (vq_secret_read(kv->value, &secret, err, sizeof err) != 0) {
          report(st, kv->line, "[%s] key '%s': %s", s->name, kv->key, err);
          continue;
        }
        free(kv->key);
        free(kv->value);
        kv->key = strdup(base);
        kv->value = secret;
        kv->secret = 1;
        if (kv->key == NULL) report(st, kv->line, "out of memory");
        continue;
      }
    }
    if (opt == NULL && vq_kind_row_of(s->kind)->has_grants &&
        strncmp(kv->key, "write.", 6) == 0)
      continue; /* grants are checked by validate_grants */
    if (opt == NULL) {
      vq_option_list_keys(core, plugin_opts, known, sizeof known);
      report(st, kv->line, "[%s] key '%s': unknown key (known: %s)", s->name,
             kv->key, known);
      continue;
    }
    if (opt->type == VQ_OPT_SECRET) kv->secret = 1;
    if (vq_option_check(opt, kv->value, err, sizeof err) != 0) {
      if (kv->secret)
        report(st, kv->line, "[%s] key '%s': invalid value (hidden)", s->name,
               kv->key);
      else
        report(st, kv->line, "[%s] key '%s': %s", s->name, kv->key, err);
    }
  }
  for (o = core; o != NULL && o->key != NULL; o++)
    if ((o->flags & VQ_OPT_REQUIRED) && vq_section_get(s, o->key) == NULL)
      report(st, s->line, "[%s] key '%s': missing (required)", s->name,
             o->key);
  for (o = plugin_opts; o != NULL && o->key != NULL; o++)
    if ((o->flags & VQ_OPT_REQUIRED) && vq_section_get(s, o->key) == NULL)
      report(st, s->line, "[%s] key '%s': missing (required by plugin %s)",
             s->name, o->key, s->plugin->name);
}

static void validate_grants(struct parse_state *st, struct vq_section *s) {
  size_t i;
  for (i = 0; i < s->nkv; i++) {
    const struct vq_kv *kv = &s->kv[i];
    const struct vq_writable *w;
    struct vq_grant *grown;
    double min, max;
    const char *q;

    if (strncmp(kv->key, "write.", 6) != 0) continue;
    q = kv->key + 6;
    for (w = s->plugin->writables; w != NULL && w->quantity != NULL; w++)
      if (strcmp(w->quantity, q) == 0) break;
    if (w == NULL || w->quantity == NULL) {
      report(st, kv->line,
             "[%s] key '%s': plugin %s cannot write '%s'", s->name, kv->key,
             s->plugin->name, q);
      continue;
    }
    if (vq_parse_range(kv->value, &min, &max) != 0) {
      report(st, kv->line,
             "[%s] key '%s': '%s' is not a range MIN..MAX with MIN <= MAX",
             s->name, kv->key, kv->value);
      continue;
    }
    if (min < w->min || max > w->max) {
      report(st, kv->line,
             "[%s] key '%s': %g..%g exceeds what %s allows (%g..%g %s)",
             s->name, kv->key, min, max, s->plugin->name, w->min, w->max,
             w->unit ? w->unit : "");
      continue;
    }
    grown = realloc(s->grants, (s->ngrants + 1) * sizeof *grown);
    if (grown == NULL) {
      report(st, kv->line, "out of memory");
      return;
    }
    s->grants = grown;
    s->grants[s->ngrants].quantity = strdup(q);
    s->grants[s->ngrants].min = min;
    s->grants[s->ngrants].max = max;
    s->grants[s->ngrants].writable = w;
    if (s->grants[s->ngrants].quantity == NULL) {
      report(st, kv->line, "out of memory");
      return;
    }
    s->ngrants++;
  }
}

/* spool_dir must be a directory the daemon can write, or one it can
 * create (spool.c makes one level). */
static void check_spool_dir(struct parse_state *st, const struct vq_section *s) {
  const struct vq_kv *kv = vq_section_get(s, "spool_dir");
  struct stat info;
  char parent[4096], *slash;
  if (kv == NULL) return;
  if (stat(kv->value, &info) == 0) {
    if (!S_ISDIR(info.st_mode))
      report(st, kv->line, "[%s] key 'spool_dir': '%s' is not a directory",
             s->name, kv->value);
    else if (access(kv->value, W_OK | X_OK) != 0)
      report(st, kv->line, "[%s] key 'spool_dir': '%s': %s", s->name,
             kv->value, strerror(errno));
    return;
  }
  snprintf(parent, sizeof parent, "%s", kv->value);
  while ((slash = strrchr(parent, '/')) != NULL && slash[1] == '\0')
    *slash = '\0'; /* trailing slashes */
  slash = strrchr(parent, '/');
  if (slash == NULL) snprintf(parent, sizeof parent, ".");
  else if (slash == parent) parent[1] = '\0';
  else *slash = '\0';
  errno = 0;
  if (stat(parent, &info) != 0 || !S_ISDIR(info.st_mode) ||
      access(parent, W_OK | X_OK) != 0)
    report(st, kv->line,
           "[%s] key 'spool_dir': '%s' does not exist and cannot be created "
           "(%s: %s)", s->name, kv->value, parent,
           errno ? strerror(errno) : "not a directory");
}

/* The text of a core key: as written, else its default in the core's
 * schema (the one place a core default is written).  s may be NULL. */
static const char *setting(const struct vq_section *s,
                           const struct vq_option *opts, const char *key) {
  const struct vq_kv *kv = s ? vq_section_get(s, key) : NULL;
  const struct vq_option *o;
  if (kv != NULL) return kv->value;
  o = vq_option_find(opts, key);
  return o ? o->default_value : NULL;
}

static void read_daemon_settings(struct vq_pipeline *p) {
  const struct vq_section *s = vq_pipeline_find(p, VQ_SECTION_DAEMON, "vicacq");
  const struct vq_option *o = vq_daemon_options;
  struct vq_daemon_settings *d = &p->daemon;

  d->log_level = vq_log_level_parse(setting(s, o, "log_level"));
  d->log_target = strcmp(setting(s, o, "log"), "syslog") == 0 ? VQ_LOG_SYSLOG
                                                               : VQ_LOG_STDERR;
  d->state_dir = setting(s, o, "state_dir");
  d->plugin_path = setting(s, o, "plugin_path");
  vq_parse_duration_ms(setting(s, o, "shutdown_timeout"),
                       &d->shutdown_timeout_ms);
  vq_parse_duration_ms(setting(s, o, "command_timeout"),
                       &d->command_timeout_ms);
}

static size_t count_kind(const struct vq_pipeline *p, int kind) {
  size_t i, n = 0;
  for (i = 0; i < p->nsections; i++)
    if (p->sections[i].kind == kind) n++;
  return n;
}

static void validate(struct parse_state *st) {
  struct vq_pipeline *p = st->p;
  char err[4096];
  size_t i;
  const struct vq_kind_row *k;
  struct vq_section *d = vq_pipeline_find(p, VQ_SECTION_DAEMON, "vicacq");

  /* [vicacq] first: plugin_path decides where plugins are found. */
  if (d != NULL) validate_keys(st, d, vq_daemon_options, NULL);
  read_daemon_settings(p);
  if (vq_loader_init(p->daemon.plugin_path) != 0) st->errors++;

  for (i = 0; i < p->nsections; i++) {
    struct vq_section *s = &p->sections[i];
    const struct vq_kind_row *kind = vq_kind_row_of(s->kind);
    const struct vq_kv *plugin;

    if (kind->section == VQ_SECTION_DAEMON) continue; /* done above */
    if (kind->plugin_kind == 0) {
      validate_keys(st, s, kind->core_options, NULL);
      continue;
    }
    plugin = vq_section_get(s, "plugin");
    if (plugin == NULL) {
      report(st, s->line, "[%s] key 'plugin': missing (required)", s->name);
      continue;
    }
    s->plugin = vq_loader_get(plugin->value, err, sizeof err);
    if (s->plugin == NULL) {
      report(st, plugin->line, "[%s] key 'plugin': %s", s->name, err);
      continue;
    }
    if (!(s->plugin->kinds & kind->plugin_kind)) {
      report(st, plugin->line, "[%s] key 'plugin': '%s' is not a %s plugin",
             s->name, plugin->value, kind->prefix);
      continue;
    }
    validate_keys(st, s, kind->core_options, s->plugin->options);
    if (kind->has_grants) validate_grants(st, s);
    if (kind->has_queue) check_spool_dir(st, s);
  }
  for (k = vq_kind_rows; k->prefix != NULL; k++)
    if (k->required && count_kind(p, k->section) == 0)
      report(st, 0, "no [%s.ID] section", k->prefix);
  for (i = 0; i < p->nsections; i++)
    if (p->sections[i].kind == VQ_SECTION_ROUTE)
      vq_route_build(st, &p->sections[i]);
  if (st->errors == 0) vq_process_build(st);
  if (p->nroutes == 0 && st->errors == 0)
    report(st, 0, "no [route.ID] section: nothing would reach a sink");
  for (i = 0; i < p->nsections && st->errors == 0; i++) {
    const struct vq_section *s = &p->sections[i];
    size_t r;
    int routed = 0;
    if (s->kind != VQ_SECTION_SOURCE) continue;
    for (r = 0; r < p->nroutes && !routed; r++)
      routed = vq_glob_any(p->routes[r].from, p->routes[r].nfrom, s->id);
    /* Valid, but almost always a mistake worth a line. */
    if (!routed)
      vq_warn("%s:%d: [%s] is in no route: its readings go nowhere",
              st->path, s->line, s->name);
  }
}

static struct vq_pipeline *load(struct parse_state *st) {
  st->p = calloc(1, sizeof *st->p);
  if (st->p == NULL) return NULL;
  st->p->path = strdup(st->path);
  if (st->p->path == NULL) {
    free(st->p);
    return NULL;
  }
  vq_pipeline_parse(st);
  if (st->errors == 0) validate(st);
  if (st->errors != 0) {
    vq_error("%s: %d error%s; nothing started", st->path, st->errors,
             st->errors == 1 ? "" : "s");
    vq_pipeline_free(st->p);
    return NULL;
  }
  return st->p;
}

struct vq_pipeline *vq_pipeline_load(const char *path) {
  struct stat info;
  struct parse_state st;
  struct vq_pipeline *p;
  memset(&st, 0, sizeof st);
  st.path = path;
  st.file = fopen(path, "r");
  if (st.file == NULL) {
    vq_error("%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  if (fstat(fileno(st.file), &info) == 0 && S_ISDIR(info.st_mode)) {
    vq_error("%s: is a directory, not a pipeline file", path);
    fclose(st.file);
    return NULL;
  }
  p = load(&st);
  fclose(st.file);
  return p;
}

struct vq_pipeline *vq_pipeline_load_text(const char *name, const char *text) {
  struct parse_state st;
  memset(&st, 0, sizeof st);
  st.path = name;
  st.text = text;
  return load(&st);
}

void vq_pipeline_free(struct vq_pipeline *p) {
  size_t i, j;
  if (p == NULL) return;
  for (i = 0; i < p->nsections; i++) {
    struct vq_section *s = &p->sections[i];
    for (j = 0; j < s->nkv; j++) {
      free(s->kv[j].key);
      if (s->kv[j].secret) vq_secret_free(s->kv[j].value);
      else free(s->kv[j].value);
    }
    for (j = 0; j < s->ngrants; j++) free(s->grants[j].quantity);
    free(s->grants);
    for (j = 0; j < s->nchain; j++) free(s->chain[j]);
    free(s->chain);
    for (j = 0; j < s->nmatch; j++) free(s->match[j]);
    free(s->match);
    free(s->kv);
    free(s->id);
    free(s->name);
  }
  for (i = 0; i < p->nroutes; i++) {
    struct vq_route *r = &p->routes[i];
    for (j = 0; j < r->nfrom; j++) free(r->from[j]);
    for (j = 0; j < r->nto; j++) free(r->to[j]);
    for (j = 0; j < r->nmatch; j++) free(r->match[j]);
    free(r->from);
    free(r->to);
    free(r->match);
    free(r->id);
  }
  free(p->routes);
  free(p->sections);
  free(p->path);
  free(p);
}

struct vq_section *vq_pipeline_find(const struct vq_pipeline *p, int kind,
                                    const char *id) {
  size_t i;
  for (i = 0; i < p->nsections; i++)
    if (p->sections[i].kind == kind && strcmp(p->sections[i].id, id) == 0)
      return &p->sections[i];
  return NULL;
}

const struct vq_kv *vq_section_get(const struct vq_section *s,
                                   const char *key) {
  size_t i;
  for (i = 0; i < s->nkv; i++)
    if (strcmp(s->kv[i].key, key) == 0) return &s->kv[i];
  return NULL;
}

int vq_section_equal(const struct vq_section *a, const struct vq_section *b) {
  size_t i;
  if (a->kind != b->kind || a->plugin != b->plugin || a->nkv != b->nkv)
    return 0;
  for (i = 0; i < a->nkv; i++) {
    const struct vq_kv *other = vq_section_get(b, a->kv[i].key);
    if (other == NULL || strcmp(other->value, a->kv[i].value) != 0) return 0;
  }
  return 1;
}

void vq_sink_settings_read(const struct vq_section *s,
                           struct vq_sink_settings *out) {
  const struct vq_option *o = vq_core_sink_options;
  const char *sync = setting(s, o, "spool_sync");
  int64_t i;

  memset(out, 0, sizeof *out);
  if (vq_parse_int(setting(s, o, "queue_max_records"), &i) == 0)
    out->queue_max_records = (uint64_t)i;
  vq_parse_size(setting(s, o, "queue_max_bytes"), &out->queue_max_bytes);
  if (vq_parse_int(setting(s, o, "batch_max_records"), &i) == 0)
    out->batch_max_records = (uint64_t)i;
  vq_parse_duration_ms(setting(s, o, "retry_initial"), &out->retry_initial_ms);
  vq_parse_duration_ms(setting(s, o, "retry_max"), &out->retry_max_ms);
  out->spool_dir = setting(s, o, "spool_dir");
  vq_parse_size(setting(s, o, "spool_max_bytes"), &out->spool_max_bytes);
  out->spool_sync = strcmp(sync, "none") == 0     ? VQ_SPOOL_SYNC_NONE
                    : strcmp(sync, "always") == 0 ? VQ_SPOOL_SYNC_ALWAYS
                                                  : VQ_SPOOL_SYNC_PERIODIC;
  if (out->retry_max_ms < out->retry_initial_ms)
    out->retry_max_ms = out->retry_initial_ms;
}

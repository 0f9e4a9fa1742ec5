#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "spool.h"
#include "value_parse.h"
#include "vocabulary.h"

/* A size in bytes with k/M/G suffixes: a core-only option type. */
#define VQ_OPT_SIZE 100

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
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

const struct vq_option vq_route_options[] = {
    {"from", VQ_OPT_STRING, VQ_OPT_REQUIRED | VQ_OPT_LIST, NULL, NULL,
     NO_BOUNDS, "source ids or globs"},
    {"to", VQ_OPT_STRING, VQ_OPT_REQUIRED | VQ_OPT_LIST, NULL, NULL, NO_BOUNDS,
     "sink ids or globs"},
    {"match", VQ_OPT_STRING, VQ_OPT_LIST, "*", NULL, NO_BOUNDS,
     "quantity globs (battery.*, pv.power)"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

/* ------------------------------------------------------------------ */
/* Reading the file                                                    */
/* ------------------------------------------------------------------ */

/* Limits that keep a wrong -c argument (/dev/zero, a log file) from
 * hanging or eating memory. */
#define MAX_LINE 65536          /* bytes in one line */
#define MAX_FILE (4u << 20)     /* bytes in the whole file */

struct parse_state {
  const char *path;
  FILE *file;        /* file input, or */
  const char *text;  /* text input */
  size_t consumed;   /* bytes read so far */
  int line;
  int errors;
  int headers; /* [section] lines seen */
  struct vq_pipeline *p;
  struct vq_section *current; /* section of the lines being read */
};

#define report(st, line, ...) report_at((st), (line), __VA_ARGS__)

__attribute__((format(printf, 3, 4))) static void
report_at(struct parse_state *st, int line, const char *fmt, ...) {
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

static char *trim(char *s) {
  char *end;
  while (isspace((unsigned char)*s)) s++;
  end = s + strlen(s);
  while (end > s && isspace((unsigned char)end[-1])) *--end = '\0';
  return s;
}

static int valid_id(const char *id) {
  const char *c;
  if (*id == '\0') return 0;
  for (c = id; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-') return 0;
  return 1;
}

static void open_section(struct parse_state *st, const char *name) {
  struct vq_pipeline *p = st->p;
  struct vq_section *grown, *s;
  const char *dot = strchr(name, '.');
  int kind = 0;
  size_t i;

  st->current = NULL;
  if (strcmp(name, "vicacq") == 0) {
    kind = VQ_SECTION_DAEMON;
  } else if (dot != NULL) {
    size_t n = (size_t)(dot - name);
    if (n == 6 && strncmp(name, "source", 6) == 0) kind = VQ_SECTION_SOURCE;
    else if (n == 4 && strncmp(name, "sink", 4) == 0) kind = VQ_SECTION_SINK;
    else if (n == 5 && strncmp(name, "route", 5) == 0) kind = VQ_SECTION_ROUTE;
  }
  if (kind == 0) {
    report(st, st->line,
           "[%s]: unknown section (expected [vicacq], [source.ID], "
           "[sink.ID] or [route.ID])",
           name);
    return;
  }
  if (kind != VQ_SECTION_DAEMON && !valid_id(dot + 1)) {
    report(st, st->line,
           "[%s]: invalid id '%s' (letters, digits, '_' and '-' only)", name,
           dot + 1);
    return;
  }
  if (kind == VQ_SECTION_SOURCE && strcmp(dot + 1, "vicacq") == 0) {
    report(st, st->line, "[%s]: the source id 'vicacq' is reserved", name);
    return;
  }
  for (i = 0; i < p->nsections; i++) {
    if (strcmp(p->sections[i].name, name) == 0) {
      report(st, st->line, "[%s]: duplicate section (first at line %d)", name,
             p->sections[i].line);
      return;
    }
  }
  grown = realloc(p->sections, (p->nsections + 1) * sizeof *grown);
  if (grown == NULL) {
    report(st, st->line, "out of memory");
    return;
  }
  p->sections = grown;
  s = &p->sections[p->nsections];
  memset(s, 0, sizeof *s);
  s->kind = kind;
  s->line = st->line;
  s->name = strdup(name);
  s->id = strdup(kind == VQ_SECTION_DAEMON ? name : dot + 1);
  if (s->name == NULL || s->id == NULL) {
    free(s->name);
    free(s->id);
    report(st, st->line, "out of memory");
    return;
  }
  p->nsections++;
  st->current = s;
}

/* The next byte of the input, or EOF. */
static int next_byte(struct parse_state *st) {
  if (st->consumed >= MAX_FILE) return EOF;
  st->consumed++;
  if (st->file != NULL) return fgetc(st->file);
  if (*st->text == '\0') return EOF;
  return (unsigned char)*st->text++;
}

/* Read one line (without its end) into line[MAX_LINE].  Returns its
 * length, or -1 at the end of the input.  A line that is too long or
 * holds a NUL byte is reported and comes back empty. */
static long read_line(struct parse_state *st, char *line) {
  size_t len = 0;
  int c, too_long = 0, nul = 0, any = 0;
  while ((c = next_byte(st)) != EOF && c != '\n') {
    any = 1;
    if (c == '\0') nul = 1;
    else if (len + 1 < MAX_LINE) line[len++] = (char)c;
    else too_long = 1;
  }
  if (!any && c == EOF) return -1;
  st->line++;
  if (len > 0 && line[len - 1] == '\r') len--;
  line[len] = '\0';
  if (nul) report(st, st->line, "NUL byte in the line (not a text file?)");
  else if (too_long)
    report(st, st->line, "line too long (at most %d characters)", MAX_LINE - 2);
  if (nul || too_long) line[0] = '\0';
  return (long)len;
}

/* Cut an inline comment: ';' after a blank starts one (as in libinih).
 * '#' after a blank is refused rather than kept in the value: it starts a
 * comment only at the start of a line, and a value that silently carries
 * "# ..." is the kind of file that passes --check and fails later. */
static int cut_comment(struct parse_state *st, char *value) {
  char *c;
  for (c = value; *c != '\0'; c++) {
    if (c > value && (c[-1] == ' ' || c[-1] == '\t')) {
      if (*c == ';') {
        *c = '\0';
        return 0;
      }
      if (*c == '#') {
        report(st, st->line,
               "'#' after a value: comments after a value start with ' ;' "
               "('#' only at the start of a line)");
        return -1;
      }
    }
  }
  return 0;
}

static void on_key(struct parse_state *st, const char *name,
                   const char *value);

/* Parse the whole input: [section] headers, key = value lines, comments
 * (';' or '#' first on a line, ' ;' after a value), blank lines.  A UTF-8
 * byte-order mark at the start is skipped. */
static void parse(struct parse_state *st) {
  char *line = malloc(MAX_LINE), *start;
  long len;
  if (line == NULL) {
    report(st, 0, "out of memory");
    return;
  }
  while ((len = read_line(st, line)) >= 0) {
    char *eq;
    start = line;
    if (st->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0) start += 3;
    start = trim(start);
    if (*start == '\0' || *start == ';' || *start == '#') continue;
    if (*start == '[') {
      char *close = strchr(start, ']');
      char *rest = close ? trim(close + 1) : NULL;
      if (close == NULL || (*rest != '\0' && *rest != ';' && *rest != '#')) {
        report(st, st->line, "syntax error (expected '[section]')");
        st->current = NULL;
        continue;
      }
      *close = '\0';
      st->headers++;
      open_section(st, trim(start + 1));
      continue;
    }
    eq = strchr(start, '=');
    if (eq == NULL || eq == start) {
      report(st, st->line,
             "syntax error (expected 'key = value' or '[section]')");
      continue;
    }
    *eq = '\0';
    if (cut_comment(st, eq + 1) != 0) continue;
    on_key(st, trim(start), trim(eq + 1));
  }
  if (st->consumed >= MAX_FILE)
    report(st, 0, "more than %u bytes: not a pipeline file", MAX_FILE);
  else if (st->file != NULL && ferror(st->file))
    report(st, 0, "cannot read: %s", strerror(errno));
  free(line);
}

static void on_key(struct parse_state *st, const char *name,
                   const char *value) {
  struct vq_section *s = st->current;
  struct vq_kv *grown;
  size_t i;

  if (s == NULL) {
    /* Outside any section, or inside one already reported as bad. */
    if (st->headers == 0)
      report(st, st->line, "key '%s' outside of any section", name);
    return;
  }
  for (i = 0; i < s->nkv; i++) {
    if (strcmp(s->kv[i].key, name) == 0) {
      report(st, st->line, "[%s] key '%s': given twice (first at line %d)",
             s->name, name, s->kv[i].line);
      return;
    }
  }
  grown = realloc(s->kv, (s->nkv + 1) * sizeof *grown);
  if (grown == NULL) {
    report(st, st->line, "out of memory");
    return;
  }
  s->kv = grown;
  s->kv[s->nkv].key = strdup(name);
  s->kv[s->nkv].value = strdup(value);
  s->kv[s->nkv].line = st->line;
  s->kv[s->nkv].secret = 0;
  if (s->kv[s->nkv].key == NULL || s->kv[s->nkv].value == NULL) {
    free(s->kv[s->nkv].key);
    free(s->kv[s->nkv].value);
    report(st, st->line, "out of memory");
    return;
  }
  s->nkv++;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

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
    t = trim(item);
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

static const struct vq_option *find_option(const struct vq_option *opts,
                                           const char *key) {
  for (; opts != NULL && opts->key != NULL; opts++)
    if (strcmp(opts->key, key) == 0) return opts;
  return NULL;
}

static void list_keys(const struct vq_option *a, const struct vq_option *b,
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

/* Read the first line of a secret file into *out. */
static int read_secret_file(const char *path, char **out, char *err,
                            size_t errlen) {
  char buf[1024];
  struct stat info;
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    return -errno;
  }
  if (fstat(fileno(f), &info) == 0 && (info.st_mode & 077) != 0)
    /* ssh's rule for private keys; a warning so that a shared read-only
     * mount still works. */
    vq_warn("%s: readable by group or others (mode %03o): chmod 600 it",
            path, (unsigned)(info.st_mode & 0777));
  if (fgets(buf, sizeof buf, f) == NULL) buf[0] = '\0';
  fclose(f);
  *out = strdup(trim(buf));
  if (*out == NULL) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  if (**out == '\0') {
    snprintf(err, errlen, "'%s' is empty", path);
    free(*out);
    *out = NULL;
    return -EINVAL;
  }
  return 0;
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
    const struct vq_option *opt = find_option(core, kv->key);
    size_t keylen = strlen(kv->key);

    if (opt == NULL) opt = find_option(plugin_opts, kv->key);
    if (opt == NULL && keylen > 5 &&
        strcmp(kv->key + keylen - 5, "_file") == 0) {
      char base[256];
      const struct vq_option *sopt;
      snprintf(base, sizeof base, "%.*s", (int)(keylen - 5), kv->key);
      sopt = find_option(plugin_opts, base);
      if (sopt != NULL && sopt->type == VQ_OPT_SECRET) {
        char *secret = NULL;
        if (vq_section_get(s, base) != NULL) {
          report(st, kv->line, "[%s] key '%s': give either %s or %s, not both",
                 s->name, kv->key, base, kv->key);
          continue;
        }
        if (read_secret_file(kv->value, &secret, err, sizeof err) != 0) {
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
    if (opt == NULL && s->kind == VQ_SECTION_SOURCE &&
        strncmp(kv->key, "write.", 6) == 0)
      continue; /* grants are checked by validate_grants */
    if (opt == NULL) {
      list_keys(core, plugin_opts, known, sizeof known);
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

/* Split a validated list value into trimmed items. */
static char **split_list(const char *value, size_t *count) {
  char **items = NULL, *copy = strdup(value), *save = NULL, *tok;
  size_t n = 0;
  if (copy == NULL) return NULL;
  for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char **grown = realloc(items, (n + 1) * sizeof *items);
    if (grown == NULL) break;
    items = grown;
    items[n] = strdup(trim(tok));
    if (items[n] == NULL) break;
    n++;
  }
  free(copy);
  *count = n;
  return items;
}

int vq_glob_any(char *const *globs, size_t n, const char *text) {
  size_t i;
  for (i = 0; i < n; i++)
    if (fnmatch(globs[i], text, 0) == 0) return 1;
  return 0;
}

static size_t count_matching(const struct vq_pipeline *p, int kind,
                             const char *glob) {
  size_t i, n = 0;
  for (i = 0; i < p->nsections; i++)
    if (p->sections[i].kind == kind &&
        fnmatch(glob, p->sections[i].id, 0) == 0)
      n++;
  return n;
}

/* Does `glob` start with "PREFIX." literally? */
static int has_prefix(const char *glob, const char *prefix, size_t len) {
  return strncmp(glob, prefix, len) == 0 && glob[len] == '.';
}

/* Can a route's `match` glob match any quantity: one of the vocabulary,
 * one a plugin of the file declares (ABI 1.2), the daemon's own
 * (vicacq.*), or one named after a source's plugin ("fixture.*" for
 * fixture-source: plugin.h asks undeclared names to carry that prefix)? */
static int glob_may_match_quantity(const struct vq_pipeline *p,
                                   const char *glob) {
  size_t i, n;
  const struct vq_quantity_info *q = vq_vocabulary_all(&n);
  for (i = 0; i < n; i++)
    if (fnmatch(glob, q[i].name, 0) == 0) return 1;
  if (has_prefix(glob, "vicacq", 6) || fnmatch(glob, "vicacq.x", 0) == 0)
    return 1;
  for (i = 0; i < p->nsections; i++) {
    const struct vq_plugin *pl = p->sections[i].plugin;
    const struct vq_quantity_info *d;
    if (pl == NULL || !(pl->kinds & VQ_KIND_SOURCE)) continue;
    if (has_prefix(glob, pl->name, strlen(pl->name)) ||
        has_prefix(glob, pl->name, strcspn(pl->name, "-")))
      return 1;
    if (pl->abi_minor < 2 || pl->quantities == NULL) continue;
    for (d = pl->quantities; d->name != NULL;
         d = (const void *)((const char *)d + d->size))
      if (fnmatch(glob, d->name, 0) == 0) return 1;
  }
  return 0;
}

static void build_route(struct parse_state *st, struct vq_section *s) {
  struct vq_pipeline *p = st->p;
  struct vq_route *grown, *r;
  const struct vq_kv *from = vq_section_get(s, "from");
  const struct vq_kv *to = vq_section_get(s, "to");
  const struct vq_kv *match = vq_section_get(s, "match");
  size_t i;

  if (from == NULL || to == NULL) return; /* reported as missing */
  grown = realloc(p->routes, (p->nroutes + 1) * sizeof *grown);
  if (grown == NULL) {
    report(st, s->line, "out of memory");
    return;
  }
  p->routes = grown;
  r = &p->routes[p->nroutes++];
  memset(r, 0, sizeof *r);
  r->id = strdup(s->id);
  r->from = split_list(from->value, &r->nfrom);
  r->to = split_list(to->value, &r->nto);
  if (match != NULL) r->match = split_list(match->value, &r->nmatch);
  for (i = 0; i < r->nfrom; i++)
    if (count_matching(p, VQ_SECTION_SOURCE, r->from[i]) == 0 &&
        fnmatch(r->from[i], "vicacq", 0) != 0)
      report(st, from->line, "[%s] key 'from': no source matches '%s'",
             s->name, r->from[i]);
  for (i = 0; i < r->nto; i++)
    if (count_matching(p, VQ_SECTION_SINK, r->to[i]) == 0)
      report(st, to->line, "[%s] key 'to': no sink matches '%s'", s->name,
             r->to[i]);
  for (i = 0; i < r->nmatch; i++)
    if (!glob_may_match_quantity(p, r->match[i]))
      /* A warning: a plugin may emit names it does not declare. */
      vq_warn("%s:%d: [%s] key 'match': '%s' matches no quantity of the "
              "vocabulary or of the file's plugins (vicacq --list-quantities)",
              st->path, match->line, s->name, r->match[i]);
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

static void read_daemon_settings(struct vq_pipeline *p) {
  struct vq_section *s = vq_pipeline_find(p, VQ_SECTION_DAEMON, "vicacq");
  const struct vq_kv *kv;
  struct vq_daemon_settings *d = &p->daemon;

  d->log_level = VQ_LOG_INFO;
  d->log_target = VQ_LOG_STDERR;
  d->shutdown_timeout_ms = 5000;
  d->command_timeout_ms = 10000;
  if (s == NULL) return;
  if ((kv = vq_section_get(s, "log_level")) != NULL)
    d->log_level = vq_log_level_parse(kv->value);
  if ((kv = vq_section_get(s, "log")) != NULL)
    d->log_target = strcmp(kv->value, "syslog") == 0 ? VQ_LOG_SYSLOG
                                                      : VQ_LOG_STDERR;
  if ((kv = vq_section_get(s, "state_dir")) != NULL) d->state_dir = kv->value;
  if ((kv = vq_section_get(s, "plugin_path")) != NULL)
    d->plugin_path = kv->value;
  if ((kv = vq_section_get(s, "shutdown_timeout")) != NULL)
    vq_parse_duration_ms(kv->value, &d->shutdown_timeout_ms);
  if ((kv = vq_section_get(s, "command_timeout")) != NULL)
    vq_parse_duration_ms(kv->value, &d->command_timeout_ms);
}

static void validate(struct parse_state *st) {
  struct vq_pipeline *p = st->p;
  char err[4096];
  size_t i, nsources = 0, nsinks = 0;
  struct vq_section *d = vq_pipeline_find(p, VQ_SECTION_DAEMON, "vicacq");

  /* [vicacq] first: plugin_path decides where plugins are found. */
  if (d != NULL) validate_keys(st, d, vq_daemon_options, NULL);
  read_daemon_settings(p);
  if (vq_loader_init(p->daemon.plugin_path) != 0) st->errors++;

  for (i = 0; i < p->nsections; i++) {
    struct vq_section *s = &p->sections[i];
    const struct vq_kv *plugin;
    unsigned want;

    if (s->kind == VQ_SECTION_ROUTE) {
      validate_keys(st, s, vq_route_options, NULL);
      continue;
    }
    if (s->kind != VQ_SECTION_SOURCE && s->kind != VQ_SECTION_SINK) continue;
    if (s->kind == VQ_SECTION_SOURCE) nsources++;
    else nsinks++;
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
    want = s->kind == VQ_SECTION_SOURCE ? VQ_KIND_SOURCE : VQ_KIND_SINK;
    if (!(s->plugin->kinds & want)) {
      report(st, plugin->line, "[%s] key 'plugin': '%s' is not a %s plugin",
             s->name, plugin->value,
             want == VQ_KIND_SOURCE ? "source" : "sink");
      continue;
    }
    validate_keys(st, s,
                  s->kind == VQ_SECTION_SOURCE ? vq_core_source_options
                                               : vq_core_sink_options,
                  s->plugin->options);
    if (s->kind == VQ_SECTION_SOURCE) validate_grants(st, s);
    else check_spool_dir(st, s);
  }
  if (nsources == 0) report(st, 0, "no [source.ID] section");
  if (nsinks == 0) report(st, 0, "no [sink.ID] section");
  for (i = 0; i < p->nsections; i++)
    if (p->sections[i].kind == VQ_SECTION_ROUTE)
      build_route(st, &p->sections[i]);
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
  parse(st);
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
      if (s->kv[j].secret && s->kv[j].value)
        memset(s->kv[j].value, 0, strlen(s->kv[j].value));
      free(s->kv[j].key);
      free(s->kv[j].value);
    }
    for (j = 0; j < s->ngrants; j++) free(s->grants[j].quantity);
    free(s->grants);
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
  const struct vq_kv *kv;
  int64_t i;

  out->queue_max_records = 10000;
  out->queue_max_bytes = 8u << 20;
  out->batch_max_records = 1000;
  out->retry_initial_ms = 1000;
  out->retry_max_ms = 300000;
  out->spool_dir = NULL;
  out->spool_max_bytes = 64u << 20;
  out->spool_sync = VQ_SPOOL_SYNC_PERIODIC;
  if ((kv = vq_section_get(s, "queue_max_records")) &&
      vq_parse_int(kv->value, &i) == 0)
    out->queue_max_records = (uint64_t)i;
  if ((kv = vq_section_get(s, "queue_max_bytes")))
    vq_parse_size(kv->value, &out->queue_max_bytes);
  if ((kv = vq_section_get(s, "batch_max_records")) &&
      vq_parse_int(kv->value, &i) == 0)
    out->batch_max_records = (uint64_t)i;
  if ((kv = vq_section_get(s, "retry_initial")))
    vq_parse_duration_ms(kv->value, &out->retry_initial_ms);
  if ((kv = vq_section_get(s, "retry_max")))
    vq_parse_duration_ms(kv->value, &out->retry_max_ms);
  if ((kv = vq_section_get(s, "spool_dir"))) out->spool_dir = kv->value;
  if ((kv = vq_section_get(s, "spool_max_bytes")))
    vq_parse_size(kv->value, &out->spool_max_bytes);
  if ((kv = vq_section_get(s, "spool_sync"))) {
    if (strcmp(kv->value, "none") == 0) out->spool_sync = VQ_SPOOL_SYNC_NONE;
    if (strcmp(kv->value, "always") == 0) out->spool_sync = VQ_SPOOL_SYNC_ALWAYS;
  }
  if (out->retry_max_ms < out->retry_initial_ms)
    out->retry_max_ms = out->retry_initial_ms;
}

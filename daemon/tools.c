/* The plugins' command-line tools.  The core knows no plugin's options:
 * a tool's descriptor says which keys it presets, which the command line
 * may set and which it learns from a pipeline file (-c FILE). */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "intern.h"
#include "loader.h"
#include "log.h"
#include "plugin_check.h"
#include "tools.h"

#define MAX_PLUGINS 32
#define MAX_ARGS 64

/* One key=value of the command line. */
struct tool_arg {
  char key[64];
  const char *value;
  int used;
};

/* A growing text. */
struct text {
  char *buf;
  size_t len;
  int failed;
};

__attribute__((format(printf, 2, 3))) static void appendf(struct text *t,
                                                          const char *fmt,
                                                          ...) {
  va_list ap;
  char *grown;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || t->failed) {
    t->failed = 1;
    return;
  }
  grown = realloc(t->buf, t->len + (size_t)n + 1);
  if (grown == NULL) {
    t->failed = 1;
    return;
  }
  t->buf = grown;
  va_start(ap, fmt);
  vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  t->len += (size_t)n;
}

/* Is `key` one of the comma-separated words of `list`? */
static int in_list(const char *list, const char *key) {
  size_t n = strlen(key);
  const char *c = list;
  while (c != NULL && *c != '\0') {
    const char *end;
    while (*c == ' ' || *c == ',') c++;
    end = c + strcspn(c, ", ");
    if ((size_t)(end - c) == n && strncmp(c, key, n) == 0) return 1;
    c = end;
  }
  return 0;
}

static const struct vq_tool *find_tool(const struct vq_plugin *p,
                                       const char *name) {
  const struct vq_tool *t;
  if (p->abi_minor < 2 || p->tools == NULL) return NULL;
  for (t = p->tools; t->name != NULL; t++)
    if (strcmp(t->name, name) == 0) return t;
  return NULL;
}

/* Every loadable plugin that has tool `name`. */
static size_t plugins_with_tool(const char *name,
                                const struct vq_plugin **out, size_t max) {
  char **names, err[1024];
  size_t n = vq_loader_list(&names), i, found = 0;
  for (i = 0; i < n; i++) {
    const struct vq_plugin *p = vq_loader_get(names[i], err, sizeof err);
    if (p == NULL)
      vq_debug("%s", err);
    else if (find_tool(p, name) != NULL && found < max)
      out[found++] = p;
    free(names[i]);
  }
  free(names);
  return found;
}

/* PLUGIN as written: its name, or the part before its first '-' when
 * that names exactly one plugin with the tool ("ble" for ble-adv). */
static const struct vq_plugin *resolve_plugin(const char *tool,
                                              const char *name) {
  const struct vq_plugin *all[MAX_PLUGINS], *match = NULL;
  size_t n = plugins_with_tool(tool, all, MAX_PLUGINS), i, len = strlen(name);
  int matches = 0;
  for (i = 0; i < n; i++)
    if (strcmp(all[i]->name, name) == 0) return all[i];
  for (i = 0; i < n; i++)
    if (strncmp(all[i]->name, name, len) == 0 && all[i]->name[len] == '-') {
      match = all[i];
      matches++;
    }
  if (matches == 1) return match;
  if (matches > 1)
    vq_error("vicacq %s: '%s' names several plugins; say which", tool, name);
  else
    vq_error("vicacq %s: no plugin '%s' with a %s tool (try vicacq "
             "--list-plugins)", tool, name, tool);
  return NULL;
}

/* Does section s have every key of ALSO ("key+key...", NULL: none)? */
static int has_all(const struct vq_section *s, const char *also) {
  char want[256], *save = NULL, *k;
  if (also == NULL) return 1;
  snprintf(want, sizeof want, "%s", also);
  for (k = strtok_r(want, "+", &save); k; k = strtok_r(NULL, "+", &save))
    if (vq_section_get(s, k) == NULL) return 0;
  return 1;
}

/* Append "KEY = values" for one from_config spec of `len` bytes,
 * "KEY=[PLUGIN:]FROM[+ALSO...]" (PLUGIN defaults to the tool's own):
 * the values of FROM of the file's sources of PLUGIN that have every ALSO
 * key.  -1 when the spec is malformed (the plugin's bug: said, not
 * guessed around). */
static int add_from_spec(struct text *t, const char *text, size_t len,
                         const struct vq_tool *tool, const struct vq_plugin *p,
                         const struct vq_pipeline *cfg) {
  char spec[256], *from, *also, *colon;
  const char *plugin = p->name;
  struct text values = {NULL, 0, 0};
  size_t i, n = 0;
  if (len >= sizeof spec) goto bad;
  memcpy(spec, text, len);
  spec[len] = '\0';
  from = strchr(spec, '=');
  if (from == NULL || from == spec) goto bad;
  *from++ = '\0';
  if ((colon = strchr(from, ':')) != NULL) {
    *colon = '\0';
    plugin = from;
    from = colon + 1;
  }
  if ((also = strchr(from, '+')) != NULL) *also++ = '\0';
  if (*plugin == '\0' || *from == '\0') goto bad;
  for (i = 0; cfg != NULL && i < cfg->nsections; i++) {
    const struct vq_section *s = &cfg->sections[i];
    const struct vq_kv *v;
    if (s->kind != VQ_SECTION_SOURCE || s->plugin == NULL ||
        strcmp(s->plugin->name, plugin) != 0)
      continue;
    if ((v = vq_section_get(s, from)) == NULL || !has_all(s, also)) continue;
    appendf(&values, "%s%s", n++ ? "," : "", v->value);
  }
  if (n > 0) appendf(t, "%s = %s\n", spec, values.buf);
  if (values.failed) t->failed = 1;
  free(values.buf);
  return 0;
bad:
  vq_error("vicacq %s %s: the plugin's from_config '%.*s' is not "
           "KEY=[PLUGIN:]FROM[+ALSO...]", tool->name, p->name, (int)len, text);
  return -1;
}

/* Append what `specs` (separated by ';', NULL: none) learn from -c FILE
 * (cfg, NULL without one).  They are checked without a file too, so that
 * a plugin's mistake shows at its first run.  0 or -1. */
static int add_from_specs(struct text *t, const char *spec, const struct vq_tool *tool,
                          const struct vq_plugin *p, const struct vq_pipeline *cfg) {
  if (spec == NULL) return 0;
  while (*spec != '\0') {
    size_t len = strcspn(spec, ";");
    if (len > 0 && add_from_spec(t, spec, len, tool, p, cfg) != 0) return -1;
    spec += len;
    if (*spec == ';') spec++;
  }
  return 0;
}

/* from_config, and from ABI 1.3 on from_config_more (a 1.2 descriptor's
 * reserved slot: read only when the plugin says it is there). */
static int add_from_config(struct text *t, const struct vq_tool *tool,
                           const struct vq_plugin *p, const struct vq_pipeline *cfg) {
  if (add_from_specs(t, tool->from_config, tool, p, cfg) != 0) return -1;
  if (p->abi_minor < 3) return 0;
  return add_from_specs(t, tool->from_config_more, tool, p, cfg);
}

/* Append the preset's "key=value" lines but those the command line sets
 * (the command line wins). */
static void add_preset(struct text *t, const char *preset,
                       const struct tool_arg *args, size_t nargs) {
  const char *line = preset;
  while (line != NULL && *line != '\0') {
    size_t len = strcspn(line, "\n"), klen = strcspn(line, "=\n"), i;
    int overridden = 0;
    for (i = 0; i < nargs; i++)
      if (strlen(args[i].key) == klen && strncmp(args[i].key, line, klen) == 0)
        overridden = 1;
    if (!overridden && len > 0) appendf(t, "%.*s\n", (int)len, line);
    line += len;
    if (*line == '\n') line++;
  }
}

/* Is a required key of the tool missing from the command line?  Its name
 * goes to key. */
static int missing_key(const struct vq_tool *tool, const struct tool_arg *args,
                       size_t nargs, char *key, size_t keylen) {
  const char *r = tool->required;
  while (r != NULL && *r != '\0') {
    size_t len, i;
    int given = 0;
    while (*r == ' ' || *r == ',') r++;
    len = strcspn(r, ", ");
    if (len == 0) break;
    snprintf(key, keylen, "%.*s", (int)len, r);
    r += len;
    for (i = 0; i < nargs; i++)
      if (strcmp(args[i].key, key) == 0) given = 1;
    if (!given) return 1;
  }
  return 0;
}

/* Append the section of one plugin's tool; -1 when a required key is
 * missing or its from_config is malformed. */
static int add_source(struct text *t, const char *id, const struct vq_plugin *p,
                      const struct vq_tool *tool, struct tool_arg *args,
                      size_t nargs, const struct vq_pipeline *cfg) {
  size_t i;
  char key[64];
  appendf(t, "[source.%s]\nplugin = %s\n", id, p->name);
  add_preset(t, tool->preset, args, nargs);
  for (i = 0; i < nargs; i++) {
    if (!in_list(tool->options, args[i].key)) continue;
    args[i].used = 1;
    appendf(t, "%s = %s\n", args[i].key, args[i].value);
  }
  if (missing_key(tool, args, nargs, key, sizeof key)) {
    vq_error("vicacq %s %s: --%s is required", tool->name, p->name, key);
    return -1;
  }
  return add_from_config(t, tool, p, cfg);
}

static void tool_help(FILE *out, const char *name,
                      const struct vq_plugin *const *plugins, size_t n) {
  size_t i;
  fprintf(out, "Usage: vicacq %s [PLUGIN] [--KEY VALUE | KEY=VALUE ...] "
               "[-o FILE] [-c FILE]\n", name);
  for (i = 0; i < n; i++) {
    const struct vq_tool *t = find_tool(plugins[i], name);
    fprintf(out, "\n  %s: %s\n    keys: %s\n", plugins[i]->name,
            t->summary ? t->summary : "", t->options ? t->options : "(none)");
    if (t->required) fprintf(out, "    required: %s\n", t->required);
  }
  fprintf(out, "\nKeys are the plugin's options (vicacq --help-plugin "
               "PLUGIN); -o is --output.\n");
}

void vq_tools_describe(FILE *out, const struct vq_plugin *p) {
  const struct vq_tool *t;
  if (p->abi_minor < 2 || p->tools == NULL || p->tools->name == NULL) return;
  fprintf(out, "\nTools (vicacq TOOL %s [--KEY VALUE ...]):\n", p->name);
  for (t = p->tools; t->name != NULL; t++)
    fprintf(out, "  %-22s %s\n      keys: %s%s%s\n", t->name,
            t->summary ? t->summary : "", t->options ? t->options : "(none)",
            t->required ? "; required: " : "", t->required ? t->required : "");
}

/* Collect the arguments after TOOL [PLUGIN]. */
static int parse_args(const char *tool, int argc, char **argv,
                      struct tool_arg *args, size_t *nargs,
                      const char **config, int *help) {
  int i;
  *nargs = 0;
  for (i = 0; i < argc; i++) {
    const char *a = argv[i], *value = NULL;
    char key[64];
    size_t klen;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      *help = 1;
      continue;
    }
    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
        strcmp(a, "-o") == 0) {
      if (i + 1 >= argc) {
        vq_error("vicacq %s: %s needs a value", tool, a);
        return -1;
      }
      if (a[1] == 'o') {
        snprintf(key, sizeof key, "output");
        value = argv[++i];
        goto add;
      }
      *config = argv[++i];
      continue;
    }
    if (strncmp(a, "--", 2) == 0) {
      const char *eq = strchr(a + 2, '=');
      klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
      if (eq) value = eq + 1;
      else if (i + 1 < argc) value = argv[++i];
      else {
        vq_error("vicacq %s: %s needs a value", tool, a);
        return -1;
      }
      a += 2;
    } else if (strchr(a, '=') != NULL && a[0] != '=') {
      klen = (size_t)(strchr(a, '=') - a);
      value = a + klen + 1;
    } else {
      vq_error("vicacq %s: unexpected argument '%s' (keys are given as "
               "--KEY VALUE or KEY=VALUE)", tool, a);
      return -1;
    }
    if (klen == 0 || klen >= sizeof key) {
      vq_error("vicacq %s: bad key in '%s'", tool, argv[i]);
      return -1;
    }
    snprintf(key, sizeof key, "%.*s", (int)klen, a);
  add:
    if (strpbrk(value, "\n\r") != NULL) {
      vq_error("vicacq %s: the value of %s has a line break", tool, key);
      return -1;
    }
    if (*nargs == MAX_ARGS) {
      vq_error("vicacq %s: too many arguments", tool);
      return -1;
    }
    snprintf(args[*nargs].key, sizeof args[*nargs].key, "%s", key);
    args[*nargs].value = value;
    args[*nargs].used = 0;
    (*nargs)++;
  }
  return 0;
}

int vq_tools_run(int argc, char **argv, const char *plugin_path) {
  const char *tool = argv[0], *config = NULL;
  const struct vq_plugin *plugins[MAX_PLUGINS];
  struct tool_arg args[MAX_ARGS];
  struct vq_pipeline *cfg = NULL, *p;
  struct text t = {NULL, 0, 0};
  size_t n, nargs, i;
  int help = 0, failed = 0, all = 0;

  argc--;
  argv++;
  if (argc > 0 && argv[0][0] != '-' && strchr(argv[0], '=') == NULL) {
    plugins[0] = resolve_plugin(tool, argv[0]);
    if (plugins[0] == NULL) return VQ_EXIT_CONFIG;
    n = 1;
    argc--;
    argv++;
  } else {
    all = 1;
    n = plugins_with_tool(tool, plugins, MAX_PLUGINS);
    if (n == 0) {
      vq_error("vicacq: '%s' is neither an option nor a tool of any plugin "
               "found in %s (vicacq -h)", tool, vq_loader_search_path());
      return VQ_EXIT_CONFIG;
    }
  }
  if (parse_args(tool, argc, argv, args, &nargs, &config, &help) != 0)
    return VQ_EXIT_CONFIG;
  if (help) {
    tool_help(stdout, tool, plugins, n);
    return VQ_EXIT_OK;
  }
  if (all) {
    /* Every plugin's tool that can run with the keys given: `vicacq scan
     * --seconds 10` scans BLE and leaves out a scan that needs --host. */
    size_t kept = 0;
    char key[64];
    for (i = 0; i < n; i++) {
      if (missing_key(find_tool(plugins[i], tool), args, nargs, key,
                      sizeof key))
        vq_info("vicacq %s: not running %s's (it needs --%s)", tool,
                plugins[i]->name, key);
      else
        plugins[kept++] = plugins[i];
    }
    if (kept == 0) {
      vq_error("vicacq %s: every plugin's %s needs more keys (vicacq %s "
               "--help)", tool, tool, tool);
      return VQ_EXIT_CONFIG;
    }
    n = kept;
  }
  if (config != NULL) {
    cfg = vq_pipeline_load(config);
    if (cfg == NULL) return VQ_EXIT_CONFIG;
    if (plugin_path == NULL && cfg->daemon.plugin_path != NULL)
      plugin_path = vq_intern(cfg->daemon.plugin_path);
  }
  appendf(&t, "[vicacq]\nlog_level = %s\n",
          vq_log_get_level() >= VQ_LOG_DEBUG ? "debug" : "warn");
  if (plugin_path) appendf(&t, "plugin_path = %s\n", plugin_path);
  for (i = 0; i < n && !failed; i++) {
    char id[128];
    if (n == 1) snprintf(id, sizeof id, "%s", tool);
    else snprintf(id, sizeof id, "%s-%s", tool, plugins[i]->name);
    if (add_source(&t, id, plugins[i], find_tool(plugins[i], tool), args,
                   nargs, cfg) != 0)
      failed = 1;
  }
  vq_pipeline_free(cfg);
  for (i = 0; i < nargs && !failed; i++)
    if (!args[i].used) {
      vq_error("vicacq %s: --%s is not a key of %s (vicacq %s --help)", tool,
               args[i].key, n == 1 ? plugins[0]->name : "any of its plugins",
               tool);
      failed = 1;
    }
  /* The tool prints or writes by itself; the sink completes the pipeline. */
  appendf(&t, "[sink.out]\nplugin = stdout\nformat = text\n"
              "[route.all]\nfrom = *\nto = out\n");
  if (failed || t.failed) {
    if (t.failed) vq_error("vicacq %s: out of memory", tool);
    free(t.buf);
    return VQ_EXIT_CONFIG;
  }
  p = vq_pipeline_open_text(tool, t.buf);
  free(t.buf);
  if (p == NULL) return VQ_EXIT_CONFIG;
  vq_log_setup(p->daemon.log_level, VQ_LOG_STDERR);
  return vq_daemon_run(p, NULL);
}

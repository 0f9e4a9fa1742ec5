/* vicacq command line: run a pipeline, check it, list and describe
 * plugins; the plugins' tools are in tools.c. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "daemon.h"
#include "intern.h"
#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "plugin_check.h"
#include "section_kind.h"
#include "tools.h"
#include "vocabulary.h"

/* Exit statuses: enum vq_exit_status (daemon.h), documented in vicacq(1). */
#define EXIT_OK VQ_EXIT_OK
#define EXIT_RUNTIME VQ_EXIT_RUNTIME
#define EXIT_CONFIG VQ_EXIT_CONFIG

static void usage(FILE *out) {
  fprintf(out,
          "Usage: vicacq -c FILE [--check] [--log-level LEVEL]\n"
          "       vicacq --list-plugins [--plugin-path DIRS]\n"
          "       vicacq --help-plugin NAME [--plugin-path DIRS]\n"
          "       vicacq TOOL [PLUGIN] [--KEY VALUE ...] [-o FILE] [-c FILE]\n"
          "         e.g. vicacq scan --seconds 10, vicacq dump ble -o FILE,\n"
          "         vicacq dump vedirect --port PORT -o FILE "
          "(vicacq TOOL --help)\n"
          "       vicacq --version | -h\n"
          "\n"
          "  -c, --config FILE      pipeline file to run (see vicacq.ini(5))\n"
          "      --check            validate the pipeline file and exit\n"
          "      --log-level LEVEL  error|warn|info|debug (overrides the "
          "file)\n"
          "      --list-plugins     list the plugins found\n"
          "      --help-plugin NAME describe a plugin's options\n"
          "      --plugin-path DIRS extra plugin directories (colon-separated)\n"
          "      --list-quantities  print the quantity vocabulary and label sets, with\n"
          "                         the plugins' own quantities (Markdown)\n"
          "  -V, --version          print the version\n"
          "  -h, --help             this text\n"
          "\n"
          "Exit status: 0 done, 1 runtime failure, 2 invalid pipeline file or "
          "usage,\n3 a finite pipeline ended with records not delivered.\n");
}

static const char *type_name(uint32_t t) {
  switch (t) {
  case VQ_OPT_STRING: return "string";
  case VQ_OPT_INT: return "integer";
  case VQ_OPT_DOUBLE: return "number";
  case VQ_OPT_BOOL: return "boolean";
  case VQ_OPT_ENUM: return "choice";
  case VQ_OPT_DURATION: return "duration";
  case VQ_OPT_SECRET: return "secret";
  default: return "size";
  }
}

static void print_options(const struct vq_option *o) {
  for (; o != NULL && o->key != NULL; o++) {
    printf("  %-22s %s%s", o->key, type_name(o->type),
           (o->flags & VQ_OPT_LIST) ? " list" : "");
    if (o->type == VQ_OPT_ENUM && o->choices) printf(" (%s)", o->choices);
    if (o->flags & VQ_OPT_REQUIRED) printf(", required");
    if (o->default_value) printf(", default %s", o->default_value);
    if (o->type == VQ_OPT_SECRET) printf(" (or %s_file = PATH)", o->key);
    printf("\n      %s\n", o->help ? o->help : "");
  }
}

/* "source", "sink", "source, sink": the section kinds a plugin runs. */
static const char *kinds_text(uint32_t k, char *out, size_t outlen) {
  const struct vq_kind_row *row;
  size_t len = 0;
  out[0] = '\0';
  for (row = vq_kind_rows; row->prefix != NULL && len < outlen; row++)
    if (row->plugin_kind & k)
      len += (size_t)snprintf(out + len, outlen - len, "%s%s",
                              len ? ", " : "", row->prefix);
  return out;
}

static int help_plugin(const char *name) {
  char err[2048];
  const struct vq_plugin *p = vq_loader_get(name, err, sizeof err);
  const struct vq_writable *w;
  const struct vq_kind_row *row;
  char kinds[64];
  if (p == NULL) {
    vq_error("%s", err);
    return EXIT_CONFIG;
  }
  printf("%s %s (%s, plugin ABI %u.%u)\n%s\n\n", p->name,
         p->version ? p->version : "",
         kinds_text(p->kinds, kinds, sizeof kinds), p->abi_major,
         p->abi_minor, p->description ? p->description : "");
  printf("Options:\n");
  print_options(p->options);
  for (row = vq_kind_rows; row->prefix != NULL; row++) {
    if (!(row->plugin_kind & p->kinds)) continue;
    printf("\nOptions the core handles in every [%s.ID] section:\n",
           row->prefix);
    print_options(row->core_options);
  }
  if (p->writables != NULL && p->writables->quantity != NULL) {
    printf("\nWritable quantities (enable with write.QUANTITY = MIN..MAX):\n");
    for (w = p->writables; w->quantity != NULL; w++)
      printf("  %-22s %g..%g %s, step %g\n      %s\n", w->quantity, w->min,
             w->max, w->unit ? w->unit : "", w->step, w->help ? w->help : "");
  }
  vq_tools_describe(stdout, p);
  return EXIT_OK;
}

static int list_plugins(void) {
  char **names, err[2048], kinds[64];
  size_t n = vq_loader_list(&names), i;
  if (n == 0) printf("no plugins found in %s\n", vq_loader_search_path());
  for (i = 0; i < n; i++) {
    const struct vq_plugin *p = vq_loader_get(names[i], err, sizeof err);
    if (p != NULL)
      printf("%-16s %-8s %-13s %s\n", p->name, p->version ? p->version : "",
             kinds_text(p->kinds, kinds, sizeof kinds),
             p->description ? p->description : "");
    else
      printf("%-16s (not loadable: %s)\n", names[i], err);
    free(names[i]);
  }
  free(names);
  return EXIT_OK;
}

int main(int argc, char **argv) {
  enum { OPT_CHECK = 256, OPT_LIST, OPT_HELP_PLUGIN, OPT_LOG_LEVEL,
         OPT_PLUGIN_PATH, OPT_QUANTITIES };
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'},
      {"check", no_argument, NULL, OPT_CHECK},
      {"list-plugins", no_argument, NULL, OPT_LIST},
      {"help-plugin", required_argument, NULL, OPT_HELP_PLUGIN},
      {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
      {"plugin-path", required_argument, NULL, OPT_PLUGIN_PATH},
      {"list-quantities", no_argument, NULL, OPT_QUANTITIES},
      {"version", no_argument, NULL, 'V'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *config = NULL, *help_name = NULL, *plugin_path = NULL;
  int check = 0, list = 0, log_level = -1, c, rc;
  struct vq_pipeline *p;

  vq_log_setup(VQ_LOG_INFO, VQ_LOG_STDERR);
  /* Tools: vicacq [--plugin-path DIRS] [--log-level L] TOOL ... */
  {
    int i = 1, j = 0;
    while (i + 1 < argc && (strcmp(argv[i], "--plugin-path") == 0 ||
                            strcmp(argv[i], "--log-level") == 0))
      i += 2;
    if (i < argc && argv[i][0] != '-') {
      for (i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--plugin-path") == 0) plugin_path = argv[i + 1];
        if (strcmp(argv[i], "--log-level") == 0 &&
            vq_log_level_parse(argv[i + 1]) >= 0)
          vq_log_setup(vq_log_level_parse(argv[i + 1]), VQ_LOG_STDERR);
      }
      if (vq_loader_init(plugin_path) != 0) return EXIT_RUNTIME;
      /* Drop the options only main knows before the tool parses the rest. */
      for (i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--plugin-path") == 0 ||
             strcmp(argv[i], "--log-level") == 0) && i + 1 < argc) {
          i++;
          continue;
        }
        argv[j++] = argv[i];
      }
      argv[j] = NULL;
      rc = vq_tools_run(j, argv, plugin_path);
      vq_loader_shutdown();
      vq_intern_free_all();
      return rc;
    }
  }

  while ((c = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
    switch (c) {
    case 'c': config = optarg; break;
    case OPT_CHECK: check = 1; break;
    case OPT_LIST: list = 1; break;
    case OPT_HELP_PLUGIN: help_name = optarg; break;
    case OPT_PLUGIN_PATH: plugin_path = optarg; break;
    case OPT_LOG_LEVEL:
      log_level = vq_log_level_parse(optarg);
      if (log_level < 0) {
        fprintf(stderr, "vicacq: --log-level: '%s' is not one of "
                        "error|warn|info|debug\n", optarg);
        return EXIT_CONFIG;
      }
      break;
    case OPT_QUANTITIES: list = 2; break;
    case 'V':
      printf("vicacq %s (plugin ABI %d.%d, libuv %s)\n", PACKAGE_VERSION,
             VQ_ABI_MAJOR, VQ_ABI_MINOR, uv_version_string());
      return EXIT_OK;
    case 'h':
      usage(stdout);
      return EXIT_OK;
    default:
      usage(stderr);
      return EXIT_CONFIG;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "vicacq: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return EXIT_CONFIG;
  }
  if (log_level >= 0) vq_log_setup(log_level, VQ_LOG_STDERR);
  if (vq_loader_init(plugin_path) != 0) return EXIT_RUNTIME;

  if (list == 2) {
    /* Plugins declare quantities (ABI 1.2): load every one first. */
    vq_loader_load_all();
    vq_vocabulary_markdown(stdout);
    rc = EXIT_OK;
  } else if (list || help_name) {
    rc = list ? list_plugins() : help_plugin(help_name);
  } else if (config == NULL) {
    usage(stderr);
    rc = EXIT_CONFIG;
  } else {
    /* --plugin-path comes before the file's plugin_path. */
    if (plugin_path != NULL) setenv("VICACQ_PLUGIN_PATH", plugin_path, 1);
    p = vq_pipeline_open(config);
    if (p == NULL) {
      rc = EXIT_CONFIG;
    } else if (check) {
      printf("%s: OK\n", config);
      vq_pipeline_free(p);
      rc = EXIT_OK;
    } else {
      vq_log_setup(log_level >= 0 ? log_level : p->daemon.log_level,
                   p->daemon.log_target);
      rc = vq_daemon_run(p, config);
    }
  }
  vq_loader_shutdown();
  vq_intern_free_all();
  return rc;
}

#include "config.h"

#include <errno.h>
#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "vocabulary.h"

struct module {
  char *name;
  lt_dlhandle handle;
  const struct vq_plugin *plugin;
};

static struct module *modules;
static size_t nmodules;
static char search_path[4096];
static int ltdl_ready;

/* The ABI majors this host can load. */
static const uint16_t host_majors[] = {VQ_ABI_MAJOR};

int vq_loader_init(const char *extra) {
  const char *env = getenv("VICACQ_PLUGIN_PATH");
  int n;

  if (!ltdl_ready) {
    if (lt_dlinit() != 0) {
      vq_error("cannot initialise libltdl: %s", lt_dlerror());
      return -ENOSYS;
    }
    ltdl_ready = 1;
  }
  n = snprintf(search_path, sizeof search_path, "%s%s%s%s%s",
               extra && *extra ? extra : "", extra && *extra ? ":" : "",
               env && *env ? env : "", env && *env ? ":" : "", PLUGINDIR);
  if (n < 0 || (size_t)n >= sizeof search_path) {
    vq_error("plugin search path is too long");
    return -ENAMETOOLONG;
  }
  if (lt_dlsetsearchpath(search_path) != 0) {
    vq_error("cannot set plugin search path: %s", lt_dlerror());
    return -EINVAL;
  }
  return 0;
}

const char *vq_loader_search_path(void) { return search_path; }

void vq_loader_shutdown(void) {
  size_t i;
  vq_vocabulary_forget_declared(); /* they point into the modules */
  for (i = 0; i < nmodules; i++) {
    lt_dlclose(modules[i].handle);
    free(modules[i].name);
  }
  free(modules);
  modules = NULL;
  nmodules = 0;
  if (ltdl_ready) lt_dlexit();
  ltdl_ready = 0;
}

int vq_loader_check_descriptor(const struct vq_plugin *p, const char *where,
                               char *err, size_t errlen) {
  if (p->magic != VQ_PLUGIN_MAGIC) {
    snprintf(err, errlen, "%s is not a vicacq plugin (bad magic 0x%08x)",
             where, (unsigned)p->magic);
    return -EPROTO;
  }
  if (p->abi_major != VQ_ABI_MAJOR) {
    snprintf(err, errlen,
             "%s speaks plugin ABI %u.%u; this vicacq speaks ABI %u (up to "
             "minor %u): rebuild the plugin against this vicacq's "
             "<vicacq/plugin.h>",
             where, p->abi_major, p->abi_minor, VQ_ABI_MAJOR, VQ_ABI_MINOR);
    return -EPROTO;
  }
  if (p->size < VQ_PLUGIN_MIN_SIZE) {
    snprintf(err, errlen,
             "%s has a descriptor of %u bytes, smaller than ABI %u.0's %zu",
             where, (unsigned)p->size, VQ_ABI_MAJOR, VQ_PLUGIN_MIN_SIZE);
    return -EPROTO;
  }
  if (p->name == NULL || p->create == NULL || p->destroy == NULL ||
      p->start == NULL || p->stop == NULL || p->options == NULL ||
      (p->kinds & (VQ_KIND_SOURCE | VQ_KIND_SINK | VQ_KIND_PROCESSOR)) == 0) {
    snprintf(err, errlen,
             "%s has an incomplete descriptor (name, kinds, options, create, "
             "start, stop and destroy are required)",
             where);
    return -EPROTO;
  }
  if ((p->kinds & VQ_KIND_SINK) && p->write == NULL) {
    snprintf(err, errlen, "%s is a sink without a write callback", where);
    return -EPROTO;
  }
  if ((p->kinds & VQ_KIND_PROCESSOR) && vq_plugin_process(p) == NULL) {
    snprintf(err, errlen, "%s is a processor without a process callback "
             "(ABI 1.3)", where);
    return -EPROTO;
  }
  if (p->writables != NULL && p->command == NULL) {
    snprintf(err, errlen, "%s lists writables but has no command callback",
             where);
    return -EPROTO;
  }
  return 0;
}

/* A plugin that answered NULL: ask again offering every major, only to
 * tell the user which one it speaks.  Only the first fields, which are
 * fixed for all majors, are read. */
static void describe_refusal(vq_plugin_entry_fn entry, const char *where,
                             char *err, size_t errlen) {
  uint16_t all[64];
  const struct vq_plugin *p;
  size_t i;
  for (i = 0; i < 64; i++) all[i] = (uint16_t)(i + 1);
  p = entry(all, 64);
  if (p != NULL && p->magic == VQ_PLUGIN_MAGIC)
    snprintf(err, errlen,
             "%s speaks plugin ABI %u.%u; this vicacq speaks ABI %u (up to "
             "minor %u): rebuild the plugin against this vicacq's "
             "<vicacq/plugin.h>",
             where, p->abi_major, p->abi_minor, VQ_ABI_MAJOR, VQ_ABI_MINOR);
  else
    snprintf(err, errlen,
             "%s speaks no plugin ABI this vicacq knows (this vicacq speaks "
             "ABI %u, up to minor %u)",
             where, VQ_ABI_MAJOR, VQ_ABI_MINOR);
}

static int valid_name(const char *name) {
  const char *c;
  if (*name == '\0') return 0;
  for (c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' ||
          *c == '_'))
      return 0;
  return 1;
}

const struct vq_plugin *vq_loader_get(const char *name, char *err,
                                      size_t errlen) {
  lt_dlhandle handle;
  vq_plugin_entry_fn entry;
  const struct vq_plugin *p;
  const lt_dlinfo *info;
  char where[512];
  struct module *grown;
  size_t i;

  for (i = 0; i < nmodules; i++)
    if (strcmp(modules[i].name, name) == 0) return modules[i].plugin;

  if (!valid_name(name)) {
    snprintf(err, errlen, "invalid plugin name '%s'", name);
    return NULL;
  }
  handle = lt_dlopenext(name);
  if (handle == NULL) {
    char **found;
    size_t nfound = vq_loader_list(&found), len;
    int n = snprintf(err, errlen, "plugin '%s' not found in %s (%s); found: ",
                     name, search_path, lt_dlerror());
    len = n > 0 ? (size_t)n : 0;
    for (i = 0; i < nfound; i++) {
      if (len < errlen)
        len += (size_t)snprintf(err + len, errlen - len, "%s%s",
                                i ? ", " : "", found[i]);
      free(found[i]);
    }
    if (nfound == 0 && len < errlen) snprintf(err + len, errlen - len, "none");
    free(found);
    return NULL;
  }
  info = lt_dlgetinfo(handle);
  snprintf(where, sizeof where, "plugin '%s' (%s)", name,
           info && info->filename ? info->filename : name);
  entry = (vq_plugin_entry_fn)(uintptr_t)lt_dlsym(handle,
                                                  VQ_PLUGIN_ENTRY_SYMBOL);
  if (entry == NULL) {
    snprintf(err, errlen, "%s does not export %s: not a vicacq plugin", where,
             VQ_PLUGIN_ENTRY_SYMBOL);
    lt_dlclose(handle);
    return NULL;
  }
  p = entry(host_majors, sizeof host_majors / sizeof host_majors[0]);
  if (p == NULL) {
    describe_refusal(entry, where, err, errlen);
    lt_dlclose(handle);
    return NULL;
  }
  if (vq_loader_check_descriptor(p, where, err, errlen) != 0) {
    lt_dlclose(handle);
    return NULL;
  }
  if (strcmp(p->name, name) != 0)
    vq_warn("%s calls itself '%s'", where, p->name);
  /* ABI 1.2: the quantities it declares join the vocabulary, or the
   * plugin is refused (a 1.1 plugin's slot there was reserved). */
  if (p->abi_minor >= 2 &&
      vq_vocabulary_declare(name, p->quantities, err, errlen) != 0) {
    lt_dlclose(handle);
    return NULL;
  }

  grown = realloc(modules, (nmodules + 1) * sizeof *modules);
  if (grown == NULL || (grown[nmodules].name = strdup(name)) == NULL) {
    if (grown) modules = grown;
    snprintf(err, errlen, "out of memory");
    lt_dlclose(handle);
    return NULL;
  }
  modules = grown;
  modules[nmodules].handle = handle;
  modules[nmodules].plugin = p;
  nmodules++;
  return p;
}

/* A loadable libtool module names its shared object in `dlname`; a
 * convenience library's .la has it empty. */
static int is_module_la(const char *path) {
  char line[512];
  int module = 0;
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "dlname='", 8) == 0 && line[8] != '\'') module = 1;
  fclose(f);
  return module;
}

struct list_state {
  char **names;
  size_t n, cap;
};

static int collect_module(const char *filename, void *data) {
  struct list_state *st = data;
  const char *base = strrchr(filename, '/');
  char *name;
  size_t i;
  char la[4096];
  base = base ? base + 1 : filename;
  /* lt_dlforeachfile hands every file with its extension stripped; a
   * plugin is a libtool module, so it has a NAME.la beside it. */
  if (strchr(base, '.') != NULL || !valid_name(base)) return 0;
  snprintf(la, sizeof la, "%s.la", filename);
  if (!is_module_la(la)) {
    /* A plain shared object (an out-of-tree plugin built without libtool)
     * loads too. */
    snprintf(la, sizeof la, "%s.so", filename);
    if (access(la, R_OK) != 0) return 0;
  }
  for (i = 0; i < st->n; i++)
    if (strcmp(st->names[i], base) == 0) return 0;
  if (st->n == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : 16;
    char **grown = realloc(st->names, cap * sizeof *grown);
    if (grown == NULL) return 1;
    st->names = grown;
    st->cap = cap;
  }
  name = strdup(base);
  if (name == NULL) return 1;
  st->names[st->n++] = name;
  return 0;
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t vq_loader_list(char ***names) {
  struct list_state st = {NULL, 0, 0};
  lt_dlforeachfile(search_path, collect_module, &st);
  if (st.n) qsort(st.names, st.n, sizeof *st.names, compare_strings);
  *names = st.names;
  return st.n;
}

size_t vq_loader_load_all(void) {
  char **names, err[1024];
  size_t n = vq_loader_list(&names), i, failed = 0;
  for (i = 0; i < n; i++) {
    if (vq_loader_get(names[i], err, sizeof err) == NULL) {
      vq_warn("%s", err);
      failed++;
    }
    free(names[i]);
  }
  free(names);
  return failed;
}

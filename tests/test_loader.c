/* ABI negotiation: magic, majors, minors, sizes, and the messages a user
 * sees, through the real libltdl loader and crafted descriptors. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "loader.h"
#include "log.h"
#include "vqtest.h"

static int noop_create(const struct vq_host *h, struct vq_ctx *c, void **i) {
  (void)h; (void)c; *i = NULL; return 0;
}
static int noop_start(void *i) { (void)i; return 0; }
static void noop_stop(void *i, vq_stopped_cb done) { (void)i; (void)done; }
static void noop_destroy(void *i) { (void)i; }
static int noop_write(void *i, const struct vq_batch *b) { (void)i; (void)b; return 0; }
static const struct vq_option no_options[] = {{NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

/* A descriptor as a plugin built for ABI 1.N would lay it out: the 1.0
 * fields and then fields a later minor appended. */
struct future_descriptor {
  struct vq_plugin base;
  void *appended[4];
};

int main(void) {
  char err[2048];
  struct future_descriptor f;
  struct vq_plugin p;
  const struct vq_plugin *loaded;

  memset(&p, 0, sizeof p);
  p.magic = VQ_PLUGIN_MAGIC;
  p.abi_major = VQ_ABI_MAJOR;
  p.abi_minor = VQ_ABI_MINOR;
  p.size = sizeof p;
  p.name = "t";
  p.kinds = VQ_KIND_SINK;
  p.options = no_options;
  p.create = noop_create;
  p.start = noop_start;
  p.stop = noop_stop;
  p.destroy = noop_destroy;
  p.write = noop_write;
  CHECK_INT(vq_loader_check_descriptor(&p, "t", err, sizeof err), 0);

  /* Wrong magic. */
  p.magic = 0x12345678;
  CHECK_INT(vq_loader_check_descriptor(&p, "t", err, sizeof err), -EPROTO);
  CHECK(strstr(err, "not a vicacq plugin (bad magic 0x12345678)") != NULL);
  p.magic = VQ_PLUGIN_MAGIC;

  /* Another major: refused, saying what each side speaks. */
  p.abi_major = VQ_ABI_MAJOR + 1;
  p.abi_minor = 0;
  CHECK_INT(vq_loader_check_descriptor(&p, "t", err, sizeof err), -EPROTO);
  CHECK(strstr(err, "speaks plugin ABI 2.0; this vicacq speaks ABI 1") != NULL);
  p.abi_major = VQ_ABI_MAJOR;
  p.abi_minor = VQ_ABI_MINOR;

  /* An older minor with a shorter descriptor: accepted as long as the
   * 1.0 fields are there. */
  p.abi_minor = 0;
  p.size = VQ_PLUGIN_MIN_SIZE;
  CHECK_INT(vq_loader_check_descriptor(&p, "t", err, sizeof err), 0);
  /* Shorter than 1.0: refused. */
  p.size = VQ_PLUGIN_MIN_SIZE - 8;
  CHECK_INT(vq_loader_check_descriptor(&p, "t", err, sizeof err), -EPROTO);
  CHECK(strstr(err, "smaller than ABI 1.0") != NULL);

  /* A newer minor with appended fields: accepted, the host reads only
   * what it knows. */
  memset(&f, 0, sizeof f);
  f.base = p;
  f.base.abi_minor = VQ_ABI_MINOR + 3;
  f.base.size = sizeof f;
  CHECK_INT(vq_loader_check_descriptor(&f.base, "t", err, sizeof err), 0);

  /* Incomplete descriptors. */
  p.size = sizeof p;
  p.write = NULL;
  CHECK_INT(vq_loader_check_descriptor(&p, "t", err, sizeof err), -EPROTO);
  CHECK(strstr(err, "sink without a write callback") != NULL);
  p.write = noop_write;
  p.create = NULL;
  CHECK_INT(vq_loader_check_descriptor(&p, "t", err, sizeof err), -EPROTO);
  p.create = noop_create;
  p.kinds = 0;
  CHECK_INT(vq_loader_check_descriptor(&p, "t", err, sizeof err), -EPROTO);
  p.kinds = VQ_KIND_SOURCE;
  {
    static const struct vq_writable w[] = {{"x", "A", 0, 1, 1, ""},
                                           {NULL, NULL, 0, 0, 0, NULL}};
    p.writables = w;
    CHECK_INT(vq_loader_check_descriptor(&p, "t", err, sizeof err), -EPROTO);
    CHECK(strstr(err, "no command callback") != NULL);
  }

  /* Through libltdl: real modules. */
  vq_log_setup(VQ_LOG_ERROR, VQ_LOG_STDERR);
  CHECK_INT(vq_loader_init(NULL), 0);
  loaded = vq_loader_get("fixture-source", err, sizeof err);
  CHECK(loaded != NULL);
  if (loaded) CHECK_STR(loaded->name, "fixture-source");
  CHECK(vq_loader_get("fixture-source", err, sizeof err) == loaded);
  CHECK(vq_loader_get("fixture-abi2", err, sizeof err) == NULL);
  CHECK(strstr(err, "speaks plugin ABI 2.3; this vicacq speaks ABI 1") != NULL);
  CHECK(vq_loader_get("fixture-noentry", err, sizeof err) == NULL);
  CHECK(strstr(err, "does not export vq_plugin_entry") != NULL);
  CHECK(vq_loader_get("nosuch", err, sizeof err) == NULL);
  CHECK(strstr(err, "plugin 'nosuch' not found") != NULL);
  CHECK(strstr(err, "fixture-source") != NULL);
  {
    char **names;
    size_t n = vq_loader_list(&names), i, seen = 0;
    for (i = 0; i < n; i++) {
      if (strcmp(names[i], "fixture-sink") == 0 ||
          strcmp(names[i], "fixture-source") == 0)
        seen++;
      CHECK(strchr(names[i], '.') == NULL);
      free(names[i]);
    }
    free(names);
    CHECK_INT(seen, 2);
  }
  vq_loader_shutdown();
  VQTEST_END();
}

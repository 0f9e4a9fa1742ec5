/* The plugins' check() pass: each runs over a throw-away vq_ctx that only
 * knows its section, so no instance exists and nothing is opened. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "plugin_check.h"
#include "section_kind.h"

static int check_section(struct vq_pipeline *p, struct vq_section *s) {
  struct vq_ctx ctx;
  int rc;

  if (s->plugin == NULL || s->plugin->abi_minor < 2 || s->plugin->check == NULL)
    return 0;
  memset(&ctx, 0, sizeof ctx);
  ctx.pipeline = p;
  ctx.section = s;
  ctx.plugin = s->plugin;
  ctx.kind = vq_kind_row_of(s->kind)->plugin_kind;
  ctx.id = s->id;
  snprintf(ctx.label, sizeof ctx.label, "%s", s->name);
  ctx.state = VQ_INST_STOPPED; /* timer_start and the like refuse */
  rc = s->plugin->check(&vq_host_table, &ctx);
  if (ctx.cfg_errors > 0) return ctx.cfg_errors;
  if (rc == 0) return 0;
  /* The plugin failed without saying why: still name the section. */
  vq_error("%s:%d: [%s]: refused by plugin %s (%s)", p->path, s->line,
           s->name, s->plugin->name, strerror(rc < 0 ? -rc : rc));
  return 1;
}

int vq_pipeline_check_plugins(struct vq_pipeline *p) {
  size_t i;
  int errors = 0;
  for (i = 0; i < p->nsections; i++)
    errors += check_section(p, &p->sections[i]);
  return errors;
}

static struct vq_pipeline *checked(struct vq_pipeline *p) {
  int errors;
  if (p == NULL) return NULL;
  errors = vq_pipeline_check_plugins(p);
  if (errors == 0) return p;
  vq_error("%s: %d error%s; nothing started", p->path, errors,
           errors == 1 ? "" : "s");
  vq_pipeline_free(p);
  return NULL;
}

struct vq_pipeline *vq_pipeline_open(const char *path) {
  return checked(vq_pipeline_load(path));
}

struct vq_pipeline *vq_pipeline_open_text(const char *name, const char *text) {
  return checked(vq_pipeline_load_text(name, text));
}

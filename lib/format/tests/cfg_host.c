/* See cfg_host.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_host.h"

struct vq_ctx {
  const struct vq_plugin *plugin;
  const char *const *section;
  struct cfg_host_result *out;
};

static const struct vq_option *schema(struct vq_ctx *ctx, const char *key) {
  const struct vq_option *o;
  for (o = ctx->plugin->options; o->key != NULL; o++)
    if (strcmp(o->key, key) == 0) return o;
  return NULL;
}

/* The value of key: from the section, else the schema default. */
static const char *value(struct vq_ctx *ctx, const char *key) {
  size_t klen = strlen(key);
  const char *const *kv;
  const struct vq_option *o;
  for (kv = ctx->section; *kv != NULL; kv++)
    if (strncmp(*kv, key, klen) == 0 && (*kv)[klen] == '=') return *kv + klen + 1;
  o = schema(ctx, key);
  return o ? o->default_value : NULL;
}

static const char *h_string(struct vq_ctx *ctx, const char *key) {
  return value(ctx, key);
}

static int h_int(struct vq_ctx *ctx, const char *key, int64_t *out) {
  const char *v = value(ctx, key);
  if (schema(ctx, key) == NULL) return -EINVAL;
  if (v == NULL) return -ENOENT;
  *out = strtoll(v, NULL, 0);
  return 0;
}

static int h_double(struct vq_ctx *ctx, const char *key, double *out) {
  const char *v = value(ctx, key);
  if (schema(ctx, key) == NULL) return -EINVAL;
  if (v == NULL) return -ENOENT;
  *out = strtod(v, NULL);
  return 0;
}

static int h_bool(struct vq_ctx *ctx, const char *key, int *out) {
  const char *v = value(ctx, key);
  if (schema(ctx, key) == NULL) return -EINVAL;
  if (v == NULL) return -ENOENT;
  *out = strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
         strcmp(v, "on") == 0 || strcmp(v, "1") == 0;
  return 0;
}

/* "250ms", "2s", "5m", "1h", bare seconds. */
static int h_duration(struct vq_ctx *ctx, const char *key, uint64_t *out) {
  const char *v = value(ctx, key);
  char *end;
  double n;
  if (schema(ctx, key) == NULL) return -EINVAL;
  if (v == NULL) return -ENOENT;
  n = strtod(v, &end);
  if (strcmp(end, "ms") == 0) *out = (uint64_t)n;
  else if (strcmp(end, "m") == 0) *out = (uint64_t)(n * 60000);
  else if (strcmp(end, "h") == 0) *out = (uint64_t)(n * 3600000);
  else *out = (uint64_t)(n * 1000);
  return 0;
}

static void h_cfg_error(struct vq_ctx *ctx, const char *key, const char *fmt,
                        ...) {
  struct cfg_host_result *r = ctx->out;
  va_list ap;
  if (r->nerrors >= CFG_HOST_MAX_ERRORS) return;
  snprintf(r->keys[r->nerrors], sizeof r->keys[0], "%s", key ? key : "");
  va_start(ap, fmt);
  vsnprintf(r->messages[r->nerrors], sizeof r->messages[0], fmt, ap);
  va_end(ap);
  r->nerrors++;
}

int cfg_host_check(const struct vq_plugin *plugin, const char *const *section,
                   int with_cfg_error, struct cfg_host_result *out) {
  struct vq_host host;
  struct vq_ctx ctx;
  memset(&host, 0, sizeof host);
  memset(out, 0, sizeof *out);
  host.size = sizeof host;
  host.abi_major = VQ_ABI_MAJOR;
  host.abi_minor = VQ_ABI_MINOR;
  host.cfg_string = h_string;
  host.cfg_int = h_int;
  host.cfg_double = h_double;
  host.cfg_bool = h_bool;
  host.cfg_duration = h_duration;
  if (with_cfg_error) host.cfg_error = h_cfg_error;
  ctx.plugin = plugin;
  ctx.section = section;
  ctx.out = out;
  return plugin->check(&host, &ctx);
}

int cfg_host_has(const struct cfg_host_result *r, const char *key,
                 const char *text) {
  int i;
  for (i = 0; i < r->nerrors; i++)
    if (strcmp(r->keys[i], key) == 0 && strstr(r->messages[i], text) != NULL)
      return 1;
  return 0;
}

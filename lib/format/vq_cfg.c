/* See vq_cfg.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vq_cfg.h"

int vq_cfg_report(const struct vq_host *host, struct vq_ctx *ctx,
                  const char *key, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (VQ_HOST_HAS(host, cfg_error)) host->cfg_error(ctx, key, "%s", msg);
  else if (host->log == NULL) return -EINVAL; /* check() of a bare host */
  else if (key != NULL) host->log(ctx, VQ_LOG_ERROR, "key '%s': %s", key, msg);
  else host->log(ctx, VQ_LOG_ERROR, "%s", msg);
  return -EINVAL;
}

int vq_cfg_strdup(const struct vq_host *host, struct vq_ctx *ctx,
                  const char *key, char **out) {
  const char *v = host->cfg_string(ctx, key);
  *out = NULL;
  if (v == NULL) return 0;
  return (*out = strdup(v)) == NULL ? -ENOMEM : 0;
}

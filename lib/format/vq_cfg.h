/* Reporting a problem with a sink's configuration key, through the host's
 * cfg_error (ABI 1.2: "FILE:LINE: [sink.id] key 'k': why", and the
 * check/create/start that is running fails) or, with a host that lacks it,
 * as an error line that still names the key. */
#ifndef VQ_CFG_H
#define VQ_CFG_H

#include "vicacq/plugin.h"

/* key may be NULL (the section as a whole).  Returns -EINVAL, so that a
 * check can end with `return vq_cfg_report(...)`. */
int vq_cfg_report(const struct vq_host *host, struct vq_ctx *ctx,
                  const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A copy of string option `key` in *out (NULL when it has neither value
 * nor default): a sink keeps copies, never the host's pointers.  0 or
 * -ENOMEM. */
int vq_cfg_strdup(const struct vq_host *host, struct vq_ctx *ctx,
                  const char *key, char **out);

#endif

/* A stand-in host for the sinks' check() tests: the cfg_* getters answer
 * from a plugin's option schema and a list of "key=value" strings (the
 * section), cfg_error records what it is told.  Only what check() may
 * call is there; everything else is NULL. */
#ifndef CFG_HOST_H
#define CFG_HOST_H

#include "vicacq/plugin.h"

#define CFG_HOST_MAX_ERRORS 16

struct cfg_host_result {
  int nerrors;
  char keys[CFG_HOST_MAX_ERRORS][64];       /* "" for the section */
  char messages[CFG_HOST_MAX_ERRORS][256];
};

/* Run check(host, ctx) of `plugin` on the section (NULL-terminated list
 * of "key=value").  `with_cfg_error` 0: a host without cfg_error (the
 * plugin must still fail cleanly).  Returns check's result. */
int cfg_host_check(const struct vq_plugin *plugin, const char *const *section,
                   int with_cfg_error, struct cfg_host_result *out);

/* 1 when some error was reported for `key` whose message contains
 * `text`. */
int cfg_host_has(const struct cfg_host_result *r, const char *key,
                 const char *text);

#endif

/* The pipeline file: parsing (pipeline_read.c), validation against the plugins'
 * option schemas, and the validated model the daemon runs. */
#ifndef VQ_PIPELINE_H
#define VQ_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "vicacq/plugin.h"

enum vq_section_kind {
  VQ_SECTION_DAEMON = 1, /* [vicacq] */
  VQ_SECTION_SOURCE,     /* [source.ID] */
  VQ_SECTION_SINK,       /* [sink.ID] */
  VQ_SECTION_ROUTE,      /* [route.ID] */
  VQ_SECTION_PROCESS     /* [process.ID] (processors, ABI 1.3) */
};

/* One `key = value` line.  For secrets given as key_file, `key` is the
 * schema key and `value` the secret read from the file. */
struct vq_kv {
  char *key;
  char *value;
  int line;
  int secret; /* never log value */
};

/* A granted write range: write.<quantity> = MIN..MAX. */
struct vq_grant {
  char *quantity;
  double min, max;
  const struct vq_writable *writable; /* the plugin's declaration */
};

struct vq_section {
  int kind;
  char *id;   /* "shunt"; "vicacq" for [vicacq] */
  char *name; /* "source.shunt" */
  int line;
  struct vq_kv *kv;
  size_t nkv;
  const struct vq_plugin *plugin; /* sources and sinks */
  struct vq_grant *grants;        /* sources */
  size_t ngrants;
  /* Sources and sinks: the ids of `process = a, b`, in order. */
  char **chain;
  size_t nchain;
  /* Processors: the `match` globs (NULL: every quantity). */
  char **match;
  size_t nmatch;
};

/* Settings of the [vicacq] section. */
struct vq_daemon_settings {
  int log_level;
  int log_target;
  const char *state_dir;   /* may be NULL */
  const char *plugin_path; /* may be NULL */
  uint64_t shutdown_timeout_ms;
  uint64_t command_timeout_ms;
};

/* Settings the core reads from every [sink.ID]. */
struct vq_sink_settings {
  uint64_t queue_max_records;
  uint64_t queue_max_bytes;
  uint64_t batch_max_records;
  uint64_t retry_initial_ms;
  uint64_t retry_max_ms;
  const char *spool_dir; /* NULL: no spool */
  uint64_t spool_max_bytes;
  int spool_sync; /* enum vq_spool_sync */
};

struct vq_route {
  char *id;
  char **from, **to, **match; /* match NULL: every quantity */
  size_t nfrom, nto, nmatch;
};

struct vq_pipeline {
  int refs; /* instances using its sections, plus one for the daemon */
  char *path;
  struct vq_section *sections;
  size_t nsections;
  struct vq_route *routes;
  size_t nroutes;
  struct vq_daemon_settings daemon;
};

/* Read and validate `path`.  Loads the plugins named in it (the loader
 * must be set up; plugin_path from the file is applied first).  On any
 * error, every problem is logged as "FILE:LINE: [section] key: why" and
 * NULL is returned. */
struct vq_pipeline *vq_pipeline_load(const char *path);

/* Build a pipeline from text instead of a file (for `vicacq scan/dump`);
 * `name` appears in messages. */
struct vq_pipeline *vq_pipeline_load_text(const char *name, const char *text);

void vq_pipeline_free(struct vq_pipeline *p);

/* Lookups. */
struct vq_section *vq_pipeline_find(const struct vq_pipeline *p, int kind,
                                    const char *id);
const struct vq_kv *vq_section_get(const struct vq_section *s,
                                   const char *key);
/* Same plugin and the same keys and values (order-insensitive). */
int vq_section_equal(const struct vq_section *a, const struct vq_section *b);

/* The core's sink settings of a validated sink section. */
void vq_sink_settings_read(const struct vq_section *s,
                           struct vq_sink_settings *out);

/* Does any of the n globs (fnmatch) match text? */
int vq_glob_any(char *const *globs, size_t n, const char *text);

/* Check one value against an option; 0 or -EINVAL with a reason in err. */
int vq_option_check(const struct vq_option *opt, const char *value, char *err,
                    size_t errlen);

/* The options the core itself handles in source and sink sections (shown
 * by --help-plugin). */
extern const struct vq_option vq_core_source_options[];
extern const struct vq_option vq_core_sink_options[];
extern const struct vq_option vq_daemon_options[];
extern const struct vq_option vq_route_options[];
extern const struct vq_option vq_core_process_options[];

#endif

/* Internals shared by the modules that read a pipeline file:
 *   pipeline.c       validation and the model the daemon runs
 *   pipeline_read.c  the INI grammar (sections, keys, comments)
 *   options.c        the core's option tables and value checks
 *   routes.c         [route.ID] sections and match globs
 *   secrets.c        KEY_file secrets
 *   process_sections.c  processor chains ([process.ID], process = ...) */
#ifndef VQ_PIPELINE_INT_H
#define VQ_PIPELINE_INT_H

#include <stdio.h>

#include "pipeline.h"

/* A size in bytes with k/M/G suffixes: a core-only option type. */
#define VQ_OPT_SIZE 100

/* Limits that keep a wrong -c argument (/dev/zero, a log file) from
 * hanging or eating memory. */
#define MAX_LINE 65536          /* bytes in one line */
#define MAX_FILE (4u << 20)     /* bytes in the whole file */

struct parse_state {
  const char *path;
  FILE *file;        /* file input, or */
  const char *text;  /* text input */
  size_t consumed;   /* bytes read so far */
  int line;
  int errors;
  int headers; /* [section] lines seen */
  struct vq_pipeline *p;
  struct vq_section *current; /* section of the lines being read */
};

/* Log "FILE:LINE: message" (LINE 0: "FILE: message") and count it. */
void vq_report_at(struct parse_state *st, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define report(st, line, ...) vq_report_at((st), (line), __VA_ARGS__)

/* Blanks off both ends, in place. */
char *vq_trim(char *s);

/* Read the whole input into st->p's sections (pipeline_read.c). */
void vq_pipeline_parse(struct parse_state *st);

/* The option `key` of a schema ended by key == NULL, or NULL. */
const struct vq_option *vq_option_find(const struct vq_option *opts,
                                       const char *key);
/* "k1, k2, ..." of two schemas, for "unknown key" messages. */
void vq_option_list_keys(const struct vq_option *a, const struct vq_option *b,
                         char *out, size_t outlen);

/* The first line of a secret file into *out (malloc'd); 0 or -errno with
 * the reason in err.  Warns when group or others can read the file. */
int vq_secret_read(const char *path, char **out, char *err, size_t errlen);

/* Build the route of a validated [route.ID] section into st->p. */
void vq_route_build(struct parse_state *st, struct vq_section *s);

/* Split a validated list value into trimmed, malloc'd items (NULL and a
 * count of 0 for an empty list or when out of memory). */
char **vq_split_list(const char *value, size_t *count);

/* The processing stage of a validated file (process_sections.c): each
 * source's and sink's `process` chain and each processor's `match`, with
 * their rules (a processor in one sink chain, or in source chains, never
 * both; each member of a derived source a source of the file). */
void vq_process_build(struct parse_state *st);

#endif

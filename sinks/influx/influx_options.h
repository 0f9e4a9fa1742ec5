/* The influx sink's options: the schema, reading a section into a struct
 * influx_config (every string its own copy), the checks beyond the schema
 * that --check runs, and the write and query URLs they make. */
#ifndef INFLUX_OPTIONS_H
#define INFLUX_OPTIONS_H

#include <stdint.h>

#include "vicacq/plugin.h"

extern const struct vq_option influx_options[];

struct influx_config {
  int v2, gzip, create_db, enum_text, verify;
  int precision;          /* VQ_LP_PRECISION_* */
  int64_t batch_size;
  uint64_t flush_ms, timeout_ms;
  char *database, *measurement, *ca_file, *username, *password, *token;
  char *write_url;        /* .../write?db=..&precision=.. or /api/v2/write */
  char *query_url;        /* .../query (v1 CREATE DATABASE) */
};

/* Read and check the section.  0, -ENOMEM, or -EINVAL after reporting
 * every problem with the key that causes it.  `check_only`: the check()
 * pass (only the cfg_* getters and cfg_error are called). */
int influx_config_read(struct influx_config *c, const struct vq_host *host,
                       struct vq_ctx *ctx, int check_only);
void influx_config_free(struct influx_config *c);

/* Percent-encoding of a URL query value: only unreserved characters
 * (RFC 3986) stay as they are. */
struct vq_text;
void influx_add_query_value(struct vq_text *t, const char *s);

/* The descriptor's check(). */
int influx_config_check(const struct vq_host *host, struct vq_ctx *ctx);

#endif

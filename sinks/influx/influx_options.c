/* The influx sink's options; see influx_options.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "influx_options.h"
#include "record_format.h"
#include "vq_cfg.h"
#include "vq_secret.h"
#include "vq_text.h"

const struct vq_option influx_options[] = {
    {"url", VQ_OPT_STRING, 0, "http://127.0.0.1:8086", NULL, 1, 0,
     "base URL of the InfluxDB server (http:// or https://)"},
    {"api", VQ_OPT_ENUM, 0, "v1", "v1|v2", 1, 0,
     "v1: /write?db= (InfluxDB 1.x, and 2.x with a DBRP mapping); "
     "v2: /api/v2/write?org=&bucket="},
    {"database", VQ_OPT_STRING, 0, "victron", NULL, 1, 0, "v1 database"},
    {"retention_policy", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "v1 retention policy (default: the database's default)"},
    {"username", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "v1 user (HTTP Basic auth)"},
    {"password", VQ_OPT_SECRET, 0, NULL, NULL, 1, 0,
     "v1 password (or password_file = PATH)"},
    {"org", VQ_OPT_STRING, 0, NULL, NULL, 1, 0, "v2 organization"},
    {"bucket", VQ_OPT_STRING, 0, NULL, NULL, 1, 0, "v2 bucket"},
    {"token", VQ_OPT_SECRET, 0, NULL, NULL, 1, 0,
     "API token, sent as Authorization: Token (or token_file = PATH)"},
    {"measurement", VQ_OPT_STRING, 0, "victron", NULL, 1, 0,
     "measurement name"},
    {"precision", VQ_OPT_ENUM, 0, "ns", "ns|us|ms|s", 1, 0,
     "timestamp precision (coarser is smaller; readings of one device "
     "within one unit would merge)"},
    {"enum_text", VQ_OPT_BOOL, 0, "yes", NULL, 1, 0,
     "add a <quantity>_text string field to enums and bitmasks"},
    {"gzip", VQ_OPT_BOOL, 0, "no", NULL, 1, 0,
     "compress request bodies (worth it over slow links)"},
    {"batch_size", VQ_OPT_INT, 0, "5000", NULL, 1, 1000000,
     "most lines per request; a batch this big is sent at once"},
    {"flush_interval", VQ_OPT_DURATION, 0, "1s", NULL, 0, 3600000,
     "how long a smaller batch may wait for more readings"},
    {"timeout", VQ_OPT_DURATION, 0, "10s", NULL, 100, 600000,
     "time limit of one request"},
    {"tls_ca_file", VQ_OPT_STRING, 0, NULL, NULL, 1, 0,
     "CA certificates (PEM) to check the server with"},
    {"tls_verify", VQ_OPT_BOOL, 0, "yes", NULL, 1, 0,
     "check the server's certificate and name"},
    {"create_database", VQ_OPT_BOOL, 0, "no", NULL, 1, 0,
     "v1: CREATE DATABASE at start and when a write says it is missing"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

void influx_add_query_value(struct vq_text *t, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
      vq_text_addc(t, (char)c);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      vq_text_add(t, e, 3);
    }
  }
}

static char *take_text(struct vq_text *t) {
  char *s;
  if (t->failed || t->data == NULL) {
    vq_text_free(t);
    return NULL;
  }
  s = t->data;
  vq_text_init(t);
  return s;
}

/* "http://" or "https://" and something after it. */
static size_t scheme_len(const char *url) {
  if (strncmp(url, "http://", 7) == 0) return 7;
  if (strncmp(url, "https://", 8) == 0) return 8;
  return 0;
}

static int build_urls(struct influx_config *c, const char *url,
                      const char *rp, const char *org, const char *bucket) {
  static const char *const v1_precision[] = {"ns", "u", "ms", "s"};
  static const char *const v2_precision[] = {"ns", "us", "ms", "s"};
  size_t len = strlen(url);
  struct vq_text t;

  while (len > 0 && url[len - 1] == '/') len--;
  vq_text_init(&t);
  vq_text_add(&t, url, len);
  if (c->v2) {
    vq_text_adds(&t, "/api/v2/write?org=");
    influx_add_query_value(&t, org);
    vq_text_adds(&t, "&bucket=");
    influx_add_query_value(&t, bucket);
    vq_text_adds(&t, "&precision=");
    vq_text_adds(&t, v2_precision[c->precision & 3]);
  } else {
    vq_text_adds(&t, "/write?db=");
    influx_add_query_value(&t, c->database);
    if (rp != NULL) {
      vq_text_adds(&t, "&rp=");
      influx_add_query_value(&t, rp);
    }
    vq_text_adds(&t, "&precision=");
    vq_text_adds(&t, v1_precision[c->precision & 3]);
  }
  if ((c->write_url = take_text(&t)) == NULL) return -ENOMEM;
  vq_text_add(&t, url, len);
  vq_text_adds(&t, "/query");
  if ((c->query_url = take_text(&t)) == NULL) return -ENOMEM;
  return 0;
}

int influx_config_read(struct influx_config *c, const struct vq_host *host,
                       struct vq_ctx *ctx, int check_only) {
  const char *url = host->cfg_string(ctx, "url");
  const char *org = host->cfg_string(ctx, "org");
  const char *bucket = host->cfg_string(ctx, "bucket");
  const char *rp = host->cfg_string(ctx, "retention_policy");
  size_t slen;
  int bad = 0;

  memset(c, 0, sizeof *c);
  c->enum_text = 1;
  c->verify = 1;
  c->timeout_ms = 10000;
  c->v2 = strcmp(host->cfg_string(ctx, "api"), "v2") == 0;
  host->cfg_bool(ctx, "gzip", &c->gzip);
  host->cfg_bool(ctx, "create_database", &c->create_db);
  host->cfg_bool(ctx, "enum_text", &c->enum_text);
  host->cfg_bool(ctx, "tls_verify", &c->verify);
  host->cfg_int(ctx, "batch_size", &c->batch_size);
  host->cfg_duration(ctx, "flush_interval", &c->flush_ms);
  host->cfg_duration(ctx, "timeout", &c->timeout_ms);
  c->precision = vq_lp_precision_parse(host->cfg_string(ctx, "precision"));
  if (vq_cfg_strdup(host, ctx, "database", &c->database) ||
      vq_cfg_strdup(host, ctx, "measurement", &c->measurement) ||
      vq_cfg_strdup(host, ctx, "tls_ca_file", &c->ca_file) ||
      vq_cfg_strdup(host, ctx, "username", &c->username) ||
      vq_cfg_strdup(host, ctx, "password", &c->password) ||
      vq_cfg_strdup(host, ctx, "token", &c->token))
    return -ENOMEM;

  slen = scheme_len(url);
  if (slen == 0) {
    vq_cfg_report(host, ctx, "url",
                  "'%s' must start with http:// or https://", url);
    bad = 1;
  } else if (url[slen] == '\0' || url[slen] == '/') {
    vq_cfg_report(host, ctx, "url", "'%s' names no server", url);
    bad = 1;
  }
  if (c->measurement[strspn(c->measurement, "\\")] == '\0') {
    vq_cfg_report(host, ctx, "measurement", "must not be empty");
    bad = 1;
  }
  if (c->v2) {
    if (org == NULL) {
      vq_cfg_report(host, ctx, "org", "api = v2 needs an org");
      bad = 1;
    }
    if (bucket == NULL) {
      vq_cfg_report(host, ctx, "bucket", "api = v2 needs a bucket");
      bad = 1;
    }
    if (c->token == NULL) {
      vq_cfg_report(host, ctx, "token", "api = v2 needs a token (or token_file)");
      bad = 1;
    }
    if (c->create_db) {
      vq_cfg_report(host, ctx, "create_database",
                    "is for api = v1 (v2 buckets are made in InfluxDB)");
      bad = 1;
    }
    if (c->username != NULL || c->password != NULL) {
      vq_cfg_report(host, ctx, c->username ? "username" : "password",
                    "is for api = v1; v2 authenticates with token");
      bad = 1;
    }
  } else {
    if (c->database[0] == '\0') {
      vq_cfg_report(host, ctx, "database", "must not be empty");
      bad = 1;
    }
    if (org != NULL || bucket != NULL) {
      vq_cfg_report(host, ctx, org ? "org" : "bucket",
                    "is for api = v2 (set api = v2, or use database)");
      bad = 1;
    }
  }
  if (c->password != NULL && c->username == NULL && !c->v2) {
    vq_cfg_report(host, ctx, "password", "needs a username");
    bad = 1;
  }
  if (bad) return -EINVAL;
  if (check_only) return 0;
  return build_urls(c, url, rp, org, bucket);
}

void influx_config_free(struct influx_config *c) {
  free(c->database);
  free(c->measurement);
  free(c->ca_file);
  free(c->username);
  vq_secret_free(c->password);
  vq_secret_free(c->token);
  free(c->write_url);
  free(c->query_url);
  memset(c, 0, sizeof *c);
}

int influx_config_check(const struct vq_host *host, struct vq_ctx *ctx) {
  struct influx_config c;
  int rc = influx_config_read(&c, host, ctx, 1);
  influx_config_free(&c);
  return rc;
}

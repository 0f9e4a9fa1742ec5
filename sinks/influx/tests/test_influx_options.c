/* check() of the influx sink (influx_options.c) on the test host: what
 * used to fail only at start is reported by --check, with its key. */
#include "config.h"

#include <errno.h>
#include <uv.h>

#include "vqtest.h"
#include "vqt_host.h"
#include "../influx_options.h"

static const struct vq_plugin plugin = {
    VQ_PLUGIN_HEADER, .name = "influx", .kinds = VQ_KIND_SINK,
    .options = influx_options, .check = influx_config_check};

static uv_loop_t loop;

static int refused(const char *const *kv, const char *key, const char *text) {
  struct vqt_host *h = vqt_host_new(&loop, &plugin, VQ_KIND_SINK, "db", kv);
  char needle[128];
  int ok;
  snprintf(needle, sizeof needle, "key '%s': ", key);
  ok = vqt_host_check(h) == -EINVAL && vqt_host_errors(h, needle) >= 1 &&
       vqt_host_errors(h, text) >= 1;
  if (!ok) fprintf(stderr, "no '%s' error for key %s\n", text, key);
  vqt_host_free(h);
  return ok;
}

static int passes(const char *const *kv) {
  struct vqt_host *h = vqt_host_new(&loop, &plugin, VQ_KIND_SINK, "db", kv);
  int rc = vqt_host_check(h);
  size_t n = vqt_host_errors(h, NULL);
  vqt_host_free(h);
  return rc == 0 && n == 0;
}

#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})

int main(void) {
  uv_loop_init(&loop);
  CHECK(passes(KV("url", "http://db.lan:8086")));
  /* Every string option set (v1 and v2): see tests/all_strings.ini. */
  CHECK(passes(KV("url", "https://db.lan:8086/", "database", "site1",
                  "retention_policy", "autogen", "username", "u",
                  "password", "p", "measurement", "vic", "tls_ca_file",
                  "/etc/ca.pem", "token", "t")));
  CHECK(passes(KV("api", "v2", "url", "http://db.lan:8086", "org", "my org",
                  "bucket", "b", "token", "t", "measurement", "m")));

  CHECK(refused(KV("url", "db.lan:8086"), "url", "http:// or https://"));
  CHECK(refused(KV("url", "http://"), "url", "names no server"));
  CHECK(refused(KV("api", "v2", "bucket", "b", "token", "t"), "org",
                "needs an org"));
  CHECK(refused(KV("api", "v2", "org", "o", "token", "t"), "bucket",
                "needs a bucket"));
  CHECK(refused(KV("api", "v2", "org", "o", "bucket", "b"), "token",
                "needs a token"));
  CHECK(refused(KV("api", "v2", "org", "o", "bucket", "b", "token", "t",
                   "create_database", "yes"),
                "create_database", "api = v1"));
  CHECK(refused(KV("org", "o"), "org", "api = v2"));
  CHECK(refused(KV("measurement", "\\\\"), "measurement", "empty"));
  CHECK(refused(KV("database", ""), "database", "empty"));
  CHECK(refused(KV("password", "p"), "password", "username"));
  {
    struct vqt_host *h = vqt_host_new(&loop, &plugin, VQ_KIND_SINK, "db",
                                      KV("api", "v2", "url", "x"));
    CHECK_INT(vqt_host_check(h), -EINVAL);
    CHECK_INT(vqt_host_errors(h, NULL), 4); /* url, org, bucket, token */
    vqt_host_free(h);
  }
  uv_loop_close(&loop);
  VQTEST_END();
}

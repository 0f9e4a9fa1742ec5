/* check() of the mqtt sink (mqtt_options.c) on the test host: what the
 * schema cannot say is reported with the key that causes it (as --check
 * prints it), a good section passes, and create() refuses the same
 * sections naming the same key. */
#include "config.h"

#include <errno.h>
#include <uv.h>

#include "vqtest.h"
#include "vqt_host.h"
#include "../mqtt_options.h"

static const struct vq_plugin plugin = {
    VQ_PLUGIN_HEADER, .name = "mqtt", .kinds = VQ_KIND_SINK,
    .options = mqtt_options, .check = mqtt_config_check};

static uv_loop_t loop;

/* check() of a section; 1 when it fails with `key` named, with `text`. */
static int refused(const char *const *kv, const char *key, const char *text) {
  struct vqt_host *h = vqt_host_new(&loop, &plugin, VQ_KIND_SINK, "mq", kv);
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
  struct vqt_host *h = vqt_host_new(&loop, &plugin, VQ_KIND_SINK, "mq", kv);
  int rc = vqt_host_check(h);
  size_t n = vqt_host_errors(h, NULL);
  vqt_host_free(h);
  return rc == 0 && n == 0;
}

#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})

int main(void) {
  uv_loop_init(&loop);

  CHECK(passes(KV("host", "broker.lan", "port", "1883")));
  /* Every string option set to something other than its default: the
   * section the reload test runs under ASan (tests/all_strings.ini). */
  CHECK(passes(KV("host", "broker.lan", "client_id", "vq-1", "username", "u",
                  "password", "p", "tls", "yes", "tls_ca_file", "/etc/ca.pem",
                  "tls_ca_path", "/etc/ssl/certs", "tls_cert_file", "/c.pem",
                  "tls_key_file", "/k.pem", "base_topic", "victron/site1",
                  "discovery_prefix", "ha", "ha_status_topic", "ha/status",
                  "node_id", "site1-gw")));

  CHECK(refused(KV("base_topic", "vicacq/+/x"), "base_topic", "wildcard"));
  CHECK(refused(KV("discovery_prefix", "homeassistant/"), "discovery_prefix",
                "end with '/'"));
  CHECK(refused(KV("node_id", "my node.1"), "node_id", "letters, digits"));
  CHECK(refused(KV("tls", "yes", "tls_cert_file", "/c.pem"), "tls_cert_file",
                "tls_key_file"));
  CHECK(refused(KV("tls_ca_file", "/ca.pem"), "tls_ca_file", "tls = no"));
  CHECK(refused(KV("password", "secret"), "password", "username"));
  CHECK(refused(KV("reconnect_min", "10s", "reconnect_max", "2s"),
                "reconnect_max", "below reconnect_min"));
  CHECK(refused(KV("clean_session", "no"), "clean_session", "client_id"));
  CHECK(refused(KV("host", ""), "host", "empty"));
  CHECK(refused(KV("base_topic", "vic\xff"), "base_topic", "UTF-8"));

  /* Every problem, not just the first. */
  {
    struct vqt_host *h = vqt_host_new(&loop, &plugin, VQ_KIND_SINK, "mq",
                                      KV("password", "x", "node_id", "a b"));
    CHECK_INT(vqt_host_check(h), -EINVAL);
    CHECK_INT(vqt_host_errors(h, NULL), 2);
    vqt_host_free(h);
  }
  uv_loop_close(&loop);
  VQTEST_END();
}

/* check() of the mqtt sink (mqtt_options.c): what the schema cannot say
 * is reported with the key that causes it, and a good section passes. */
#include "config.h"

#include <errno.h>

#include "../../../tests/vqtest.h"
#include "../mqtt_options.h"
#include "cfg_host.h"

static const struct vq_plugin plugin = {
    VQ_PLUGIN_HEADER, .name = "mqtt", .kinds = VQ_KIND_SINK,
    .options = mqtt_options, .check = mqtt_config_check};

static struct cfg_host_result r;

static int run(const char *const *section) {
  return cfg_host_check(&plugin, section, 1, &r);
}

int main(void) {
  static const char *const good[] = {"host=broker.lan", "port=1883", NULL};
  static const char *const all_strings[] = {
      "host=broker.lan", "client_id=vq-1", "username=u", "password=p",
      "tls=yes", "tls_ca_file=/etc/ca.pem", "tls_ca_path=/etc/ssl/certs",
      "tls_cert_file=/etc/c.pem", "tls_key_file=/etc/k.pem",
      "base_topic=victron/site1", "discovery_prefix=ha",
      "ha_status_topic=ha/status", "node_id=site1-gw", NULL};
  static const char *const wildcard[] = {"base_topic=vicacq/+/x", NULL};
  static const char *const trailing[] = {"discovery_prefix=homeassistant/", NULL};
  static const char *const node[] = {"node_id=my node.1", NULL};
  static const char *const cert[] = {"tls=yes", "tls_cert_file=/c.pem", NULL};
  static const char *const notls[] = {"tls_ca_file=/ca.pem", NULL};
  static const char *const pw[] = {"password=secret", NULL};
  static const char *const reconnect[] = {"reconnect_min=10s",
                                          "reconnect_max=2s", NULL};
  static const char *const session[] = {"clean_session=no", NULL};
  static const char *const empty_host[] = {"host=", NULL};
  static const char *const not_utf8[] = {"base_topic=vic\xff", NULL};

  CHECK_INT(run(good), 0);
  CHECK_INT(r.nerrors, 0);
  CHECK_INT(run(all_strings), 0);
  CHECK_INT(r.nerrors, 0);

  CHECK_INT(run(wildcard), -EINVAL);
  CHECK(cfg_host_has(&r, "base_topic", "wildcard"));
  CHECK_INT(run(trailing), -EINVAL);
  CHECK(cfg_host_has(&r, "discovery_prefix", "end with '/'"));
  CHECK_INT(run(node), -EINVAL);
  CHECK(cfg_host_has(&r, "node_id", "letters, digits"));
  CHECK_INT(run(cert), -EINVAL);
  CHECK(cfg_host_has(&r, "tls_cert_file", "tls_key_file"));
  CHECK_INT(run(notls), -EINVAL);
  CHECK(cfg_host_has(&r, "tls_ca_file", "tls = no"));
  CHECK_INT(run(pw), -EINVAL);
  CHECK(cfg_host_has(&r, "password", "username"));
  CHECK_INT(run(reconnect), -EINVAL);
  CHECK(cfg_host_has(&r, "reconnect_max", "below reconnect_min"));
  CHECK_INT(run(session), -EINVAL);
  CHECK(cfg_host_has(&r, "clean_session", "client_id"));
  CHECK_INT(run(empty_host), -EINVAL);
  CHECK(cfg_host_has(&r, "host", "empty"));
  CHECK_INT(run(not_utf8), -EINVAL);
  CHECK(cfg_host_has(&r, "base_topic", "UTF-8"));

  /* Every problem, not just the first. */
  {
    static const char *const two[] = {"password=x", "node_id=a b", NULL};
    CHECK_INT(run(two), -EINVAL);
    CHECK_INT(r.nerrors, 2);
  }
  /* A host without cfg_error: still refused, nothing else called. */
  CHECK_INT(cfg_host_check(&plugin, wildcard, 0, &r), -EINVAL);
  CHECK_INT(r.nerrors, 0);
  VQTEST_END();
}

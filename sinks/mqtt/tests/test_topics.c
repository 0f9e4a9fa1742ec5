/* Topic building and command topic parsing (mqtt_topics.c). */
#include "config.h"

#include <errno.h>

#include "vqtest.h"
#include "../mqtt_topics.h"

static const char *built(struct vq_text *t) { return t->len ? t->data : ""; }

int main(void) {
  struct vq_text t;
  char src[32], dev[32], q[32];

  vq_text_init(&t);
  mqtt_topic_state(&t, "vicacq", "shunt", "c03b98000001", "battery.voltage", "");
  CHECK_STR(built(&t), "vicacq/shunt/c03b98000001/battery/voltage");
  vq_text_clear(&t);
  mqtt_topic_state(&t, "vicacq", "shunt", "c03b98000001", "cell.1.voltage",
                   "/set");
  CHECK_STR(built(&t), "vicacq/shunt/c03b98000001/cell/1/voltage/set");

  /* ids cannot add levels or wildcards */
  vq_text_clear(&t);
  mqtt_topic_device(&t, "base", "a/b", "x+y#z");
  CHECK_STR(built(&t), "base/a_b/x_y_z");
  vq_text_clear(&t);
  mqtt_topic_add_level(&t, "");
  CHECK_STR(built(&t), "_");
  vq_text_clear(&t);
  mqtt_topic_add_quantity(&t, "odd+name.x#");
  CHECK_STR(built(&t), "odd_name/x_");

  vq_text_clear(&t);
  mqtt_topic_add_id(&t, "C0:3B:98.00 x-y_z");
  CHECK_STR(built(&t), "C0_3B_98_00_x-y_z");

  CHECK_INT(mqtt_topic_parse_set("vicacq/charger/HQ1/charger/current_limit/set",
                                 "vicacq", src, dev, q, sizeof src), 0);
  CHECK_STR(src, "charger");
  CHECK_STR(dev, "HQ1");
  CHECK_STR(q, "charger.current_limit");
  CHECK_INT(mqtt_topic_parse_set("my/base/s/d/cell/1/voltage/set", "my/base",
                                 src, dev, q, sizeof src), 0);
  CHECK_STR(q, "cell.1.voltage");
  /* not commands */
  CHECK_INT(mqtt_topic_parse_set("vicacq/s/d/q/result", "vicacq", src, dev, q,
                                 sizeof src), -EINVAL);
  CHECK_INT(mqtt_topic_parse_set("other/s/d/q/set", "vicacq", src, dev, q,
                                 sizeof src), -EINVAL);
  CHECK_INT(mqtt_topic_parse_set("vicacq/s/d/set", "vicacq", src, dev, q,
                                 sizeof src), -EINVAL);
  CHECK_INT(mqtt_topic_parse_set("vicacq/s//q/set", "vicacq", src, dev, q,
                                 sizeof src), -EINVAL);
  CHECK_INT(mqtt_topic_parse_set("vicacq/s/d/a//b/set", "vicacq", src, dev, q,
                                 sizeof src), -EINVAL);
  CHECK_INT(mqtt_topic_parse_set("vicacqx/s/d/q/set", "vicacq", src, dev, q,
                                 sizeof src), -EINVAL);
  /* too long for the buffers */
  CHECK_INT(mqtt_topic_parse_set(
                "vicacq/s/d/a_very_long_quantity_name_beyond_32/set", "vicacq",
                src, dev, q, sizeof src),
            -EINVAL);
  /* round trip */
  vq_text_clear(&t);
  mqtt_topic_state(&t, "vicacq", "fx", "dev1", "fixture.setpoint", "/set");
  CHECK_INT(mqtt_topic_parse_set(built(&t), "vicacq", src, dev, q, sizeof src), 0);
  CHECK_STR(q, "fixture.setpoint");
  CHECK(!t.failed);
  vq_text_free(&t);
  VQTEST_END();
}

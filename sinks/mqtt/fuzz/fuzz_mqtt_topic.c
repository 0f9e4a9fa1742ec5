/* libFuzzer target: a topic a message arrived on through
 * mqtt_topic_parse_set (base "vicacq"), and the parts it returns built
 * back into a topic, which must be the one parsed when the parts hold no
 * character a topic level cannot. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_topics.h"
#include "vq_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char source[64], device[64], quantity[64], *topic;
  topic = malloc(size + 1);
  if (topic == NULL) return 0;
  memcpy(topic, data, size);
  topic[size] = '\0';
  if (mqtt_topic_parse_set(topic, "vicacq", source, device, quantity,
                           sizeof source) == 0) {
    struct vq_text t;
    if (!*source || !*device || !*quantity) __builtin_trap();
    vq_text_init(&t);
    mqtt_topic_state(&t, "vicacq", source, device, quantity, "/set");
    /* Equal unless a part had bytes that the builder rewrites. */
    if (!t.failed && strlen(topic) == size &&
        strpbrk(topic, "+#.\x7f") == NULL && strcmp(t.data, topic) != 0) {
      size_t i, ctl = 0;
      for (i = 0; i < size; i++) ctl |= (unsigned char)topic[i] < 0x20;
      if (!ctl) __builtin_trap();
    }
    vq_text_free(&t);
  }
  free(topic);
  return 0;
}

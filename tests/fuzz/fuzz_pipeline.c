/* libFuzzer target: the pipeline file reader and validator (the core's
 * INI grammar, sections, keys, comments, lists, ranges, durations, sizes).
 * Plugin names that do not resolve are part of the input space. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "log.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  char *text;
  struct vq_pipeline *p;
  if (!ready) {
    vq_log_setup(-1, VQ_LOG_STDERR); /* quiet: errors are the point */
    ready = 1;
  }
  text = malloc(size + 1);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  p = vq_pipeline_load_text("fuzz.ini", text);
  vq_pipeline_free(p);
  free(text);
  return 0;
}

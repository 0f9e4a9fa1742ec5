/* libFuzzer target: register words from a GX (or anything claiming to be
 * one) through the decoder: every point of a service from an image of
 * arbitrary words, strings, firmware text, the choice between registers
 * of one path, block splitting; and the discovery file kept in state_dir
 * (gx_disc_load), which a crash or a user may have left half-written.
 * Input: byte 0 picks the service, the rest are the image's words. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../gx_discover.h"
#include "../gx_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct gx_image img;
  struct gx_block blocks[256], left, right;
  size_t p, n, i;
  int service;
  if (size < 1) return 0;
  service = data[0] % (int)gx_nservices;
  if (gx_image_init(&img, service) != 0) return 0;
  for (i = 0; i < img.span && 1 + 2 * i + 1 < size; i++) {
    img.words[i] = (uint16_t)(data[1 + 2 * i] << 8 | data[2 + 2 * i]);
    img.valid[i] = (data[1 + 2 * i] & 1) || i % 3 != 0;
  }
  for (p = 0; p < gx_npoints; p++) {
    const struct gx_register *row;
    double v;
    char text[2 * GX_MAX_BLOCK + 1];
    if (gx_points[p].service != service) continue;
    row = gx_point_row(&img, (int)p);
    if (row == NULL) continue;
    if (row->kind == GX_STRING && row->count <= GX_MAX_BLOCK)
      gx_decode_string(row, gx_image_words(&img, row), text);
    else if (row->kind == GX_FIRMWARE)
      gx_firmware_text(gx_image_words(&img, row), text, sizeof text);
    else
      (void)gx_point_value(&img, (int)p, &v, &row);
  }
  n = gx_plan_blocks(&img, blocks, 256);
  for (i = 0; i < n; i++) {
    if (gx_block_split(service, &blocks[i], &left, &right) == 0 &&
        left.count + right.count != blocks[i].count)
      abort();
  }
  gx_image_free(&img);

  /* The same bytes as a discovery file. */
  {
    char path[] = "/tmp/fuzz_gx_discXXXXXX";
    struct gx_disc_entry found[GX_DISC_MAX];
    int fd = mkstemp(path);
    if (fd >= 0) {
      if (write(fd, data, size) == (ssize_t)size) {
        int k = gx_disc_load(found, GX_DISC_MAX, path);
        int j;
        for (j = 0; j < k; j++)
          if (found[j].service < 0 || (size_t)found[j].service >= gx_nservices)
            abort();
      }
      close(fd);
      unlink(path);
    }
  }
  return 0;
}

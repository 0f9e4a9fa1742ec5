/* libFuzzer target: a spool opened on files a crash or a bad disk left
 * behind (spool.c over spool_frame.c): the input is an ack file and a
 * segment file.  Opening it, reading everything out and acknowledging it
 * must end (no resync loop), count every reading once, leave nothing
 * pending, and keep the spool working: a reading appended afterwards is
 * read back whole. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intern.h"
#include "log.h"
#include "spool.h"
#include "spool_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void put_file(const char *name, const uint8_t *p, size_t n) {
  char path[128];
  int fd;
  snprintf(path, sizeof path, "%s/s/%s", dir, name);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || (n > 0 && write(fd, p, n) != (ssize_t)n)) abort();
  close(fd);
}

/* Empty DIR/s/ (segment files, ack, ack.tmp) without forking. */
static void clear_dir(void) {
  char sub[96], path[512];
  struct dirent *e;
  DIR *d;
  snprintf(sub, sizeof sub, "%s/s", dir);
  if ((d = opendir(sub)) == NULL) {
    if (mkdir(sub, 0700) != 0) abort();
    return;
  }
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
    unlink(path);
  }
  closedir(d);
}

static struct vq_item *probe(void) {
  struct vq_record rec;
  struct vq_reading r = VQ_READING_INIT;
  int err;
  memset(&rec, 0, sizeof rec);
  rec.quantity = "battery.voltage";
  rec.type = VQ_VALUE_DOUBLE;
  rec.value.f64 = 12.5;
  r.device = "probe";
  r.records = &rec;
  r.nrecords = 1;
  return vq_item_copy(&r, "fuzz", 1, 424242, NULL, NULL, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct vq_spool *s;
  struct vq_item *it;
  uint64_t pending, got = 0, records = 0, bound;
  size_t acklen;
  uint32_t handed = 0;

  if (dir[0] == '\0') {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/vq-fuzz-spool-%d", base, (int)getpid());
    if (mkdir(dir, 0700) != 0) abort();
    vq_log_setup(-1, VQ_LOG_STDERR); /* damage reports are expected */
  }
  if (size < 1) return 0;
  /* First byte: how much of the rest is the ack file (0: none). */
  acklen = data[0] % 48;
  if (acklen > size - 1) acklen = size - 1;
  clear_dir();
  if (acklen > 0) put_file("ack", data + 1, acklen);
  put_file("0000000000000001.seg", data + 1 + acklen, size - 1 - acklen);

  if (vq_spool_open(&s, dir, "s", 1 << 20, VQ_SPOOL_SYNC_NONE, "fuzz") != 0)
    abort();
  pending = vq_spool_pending_records(s);
  bound = (size / (VQ_FRAME_HEADER + VQ_FRAME_MIN_PAYLOAD)) + 1;
  while ((it = vq_spool_next(s)) != NULL) {
    records += it->reading.nrecords;
    vq_item_unref(it);
    handed++;
    if (++got > bound) abort(); /* more frames than the bytes can hold */
  }
  /* Everything counted at open was handed out or counted as dropped. */
  if (records + vq_spool_dropped(s) != pending) abort();
  if (vq_spool_pending_records(s) != 0) abort();
  vq_spool_ack(s, handed);

  it = probe();
  if (vq_spool_append(s, it) != 0) abort();
  vq_item_unref(it);
  it = vq_spool_next(s);
  if (it == NULL || it->reading.seq != 424242 || vq_spool_next(s) != NULL)
    abort();
  vq_item_unref(it);
  vq_spool_ack(s, 1);
  vq_spool_close(s);
  return 0;
}

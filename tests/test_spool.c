/* The disk spool: round trip in order, acknowledgement survives a
 * reopen, corrupt and torn frames are reported and skipped with the good
 * frames kept, and overflow drops the oldest segment and counts it. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intern.h"
#include "log.h"
#include "spool.h"
#include "vqtest.h"

static char dir[] = "/tmp/vq-test-spool-XXXXXX";

static struct vq_item *make_item(uint64_t seq) {
  struct vq_record rec;
  struct vq_reading r = VQ_READING_INIT;
  int err;
  memset(&rec, 0, sizeof rec);
  rec.quantity = "battery.voltage";
  rec.type = VQ_VALUE_DOUBLE;
  rec.value.f64 = (double)seq / 10;
  r.device = "dev";
  r.records = &rec;
  r.nrecords = 1;
  return vq_item_copy(&r, "src", (int64_t)seq, seq, NULL, NULL, &err);
}

static void append(struct vq_spool *s, uint64_t from, uint64_t to,
                   uint64_t *dropped) {
  uint64_t i;
  for (i = from; i <= to; i++) {
    struct vq_item *it = make_item(i);
    CHECK_INT(vq_spool_append(s, it, dropped), 0);
    vq_item_unref(it);
  }
}

/* Read up to n readings, check seqs continue from *expect; returns the
 * number read. */
static int read_expect(struct vq_spool *s, int n, uint64_t *expect) {
  int got = 0;
  struct vq_item *it;
  while (got < n && (it = vq_spool_next(s)) != NULL) {
    CHECK_INT(it->reading.seq, *expect);
    CHECK_DBL(it->reading.records[0].value.f64, (double)*expect / 10);
    CHECK_STR(it->reading.source, "src");
    (*expect)++;
    got++;
    vq_item_unref(it);
  }
  return got;
}

/* Path of the largest segment file (the one just written). */
static int largest_segment(char *out, size_t len) {
  char sub[4200], path[4600];
  struct dirent **names;
  struct stat st;
  int count, i, found = 0;
  off_t best = 0;
  snprintf(sub, sizeof sub, "%s/sinkA", dir);
  count = scandir(sub, &names, NULL, alphasort);
  for (i = 0; i < count; i++) {
    snprintf(path, sizeof path, "%s/%s", sub, names[i]->d_name);
    if (strstr(names[i]->d_name, ".seg") && stat(path, &st) == 0 &&
        st.st_size > best) {
      best = st.st_size;
      snprintf(out, len, "%s", path);
      found = 1;
    }
    free(names[i]);
  }
  free(names);
  return found;
}

int main(void) {
  struct vq_spool *s;
  uint64_t dropped = 0, expect = 1;
  char path[4700];

  if (mkdtemp(dir) == NULL) return 99;
  vq_log_setup(VQ_LOG_WARN, VQ_LOG_STDERR);

  /* Round trip in order; ack persists across a reopen. */
  CHECK_INT(vq_spool_open(&s, dir, "sinkA", 1 << 20, "t"), 0);
  append(s, 1, 100, &dropped);
  CHECK_INT(vq_spool_pending_records(s), 100);
  CHECK_INT(read_expect(s, 30, &expect), 30);
  CHECK_INT(vq_spool_pending_records(s), 70);
  vq_spool_ack(s, 30);
  CHECK_INT(read_expect(s, 10, &expect), 10); /* read, not acked */
  vq_spool_close(s);

  CHECK_INT(vq_spool_open(&s, dir, "sinkA", 1 << 20, "t"), 0);
  CHECK_INT(vq_spool_pending_records(s), 70); /* 31..100 again */
  expect = 31;
  append(s, 101, 110, &dropped);
  CHECK_INT(read_expect(s, 1000, &expect), 80);
  CHECK_INT(expect, 111);
  vq_spool_ack(s, 80);
  CHECK_INT(vq_spool_pending_records(s), 0);
  CHECK(vq_spool_next(s) == NULL);
  vq_spool_close(s);
  CHECK_INT(dropped, 0);

  /* Corruption in the middle of a segment: reported, skipped, the good
   * frames before and after are delivered. */
  CHECK_INT(vq_spool_open(&s, dir, "sinkA", 1 << 20, "t"), 0);
  append(s, 200, 219, &dropped);
  vq_spool_close(s);
  CHECK(largest_segment(path, sizeof path));
  {
    int fd = open(path, O_RDWR);
    struct stat st;
    unsigned char b;
    fstat(fd, &st);
    /* Flip a byte in the payload of a frame near the middle. */
    pread(fd, &b, 1, st.st_size / 2);
    b ^= 0x5a;
    pwrite(fd, &b, 1, st.st_size / 2);
    close(fd);
  }
  CHECK_INT(vq_spool_open(&s, dir, "sinkA", 1 << 20, "t"), 0);
  CHECK_INT(vq_spool_pending_records(s), 19); /* one frame lost */
  {
    struct vq_item *it;
    int got = 0;
    uint64_t last = 0;
    while ((it = vq_spool_next(s)) != NULL) {
      CHECK(it->reading.seq > last); /* in order */
      last = it->reading.seq;
      got++;
      vq_item_unref(it);
    }
    CHECK_INT(got, 19);
    CHECK_INT(last, 219);
    CHECK_INT(vq_spool_corrupt_frames(s), 1);
    vq_spool_ack(s, (uint32_t)got);
  }
  vq_spool_close(s);

  /* A torn frame at the end (a crash mid-write) is dropped, the rest
   * kept. */
  CHECK_INT(vq_spool_open(&s, dir, "sinkA", 1 << 20, "t"), 0);
  append(s, 300, 309, &dropped);
  vq_spool_close(s);
  CHECK(largest_segment(path, sizeof path));
  {
    struct stat st;
    stat(path, &st);
    CHECK_INT(truncate(path, st.st_size - 7), 0);
  }
  CHECK_INT(vq_spool_open(&s, dir, "sinkA", 1 << 20, "t"), 0);
  CHECK_INT(vq_spool_pending_records(s), 9);
  expect = 300;
  CHECK_INT(read_expect(s, 100, &expect), 9);
  vq_spool_ack(s, 9);
  vq_spool_close(s);

  /* Overflow: the oldest segment goes, its unread records are counted. */
  CHECK_INT(vq_spool_open(&s, dir, "sinkB", 128 << 10, "t"), 0);
  {
    uint64_t i, n = 5000;
    struct vq_item *it;
    uint64_t first = 0, count = 0;
    for (i = 1; i <= n; i++) {
      it = make_item(i);
      vq_spool_append(s, it, &dropped);
      vq_item_unref(it);
    }
    CHECK(dropped > 0);
    CHECK_INT(dropped + vq_spool_pending_records(s), n);
    while ((it = vq_spool_next(s)) != NULL) {
      if (first == 0) first = it->reading.seq;
      count++;
      vq_item_unref(it);
    }
    CHECK_INT(first, dropped + 1); /* exactly the oldest were dropped */
    CHECK_INT(count + dropped, n);
  }
  vq_spool_close(s);

  {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 99;
  }
  vq_intern_free_all();
  VQTEST_END();
}

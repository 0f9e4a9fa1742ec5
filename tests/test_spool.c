/* The disk spool: round trip in order, acknowledgement survives a
 * reopen, corrupt and torn frames are reported and skipped with the good
 * frames kept, overflow drops the oldest segment and counts it; reading
 * goes on across segment rollovers and restarts; a failed write leaves
 * nothing behind and is counted; a damaged ack file is survived; the
 * frame walk, resync and ack formats on their own. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intern.h"
#include "log.h"
#include "spool.h"
#include "spool_frame.h"
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

static void append(struct vq_spool *s, uint64_t from, uint64_t to) {
  uint64_t i;
  for (i = from; i <= to; i++) {
    struct vq_item *it = make_item(i);
    CHECK_INT(vq_spool_append(s, it), 0);
    vq_item_unref(it);
  }
}

static struct vq_spool *open_spool(const char *sink, uint64_t max_bytes) {
  struct vq_spool *s = NULL;
  CHECK_INT(vq_spool_open(&s, dir, sink, max_bytes, VQ_SPOOL_SYNC_PERIODIC,
                          "t"),
            0);
  if (s == NULL) exit(1);
  return s;
}

static int count_segments(const char *sink) {
  char sub[4200];
  struct dirent **names;
  int count, i, segs = 0;
  snprintf(sub, sizeof sub, "%s/%s", dir, sink);
  count = scandir(sub, &names, NULL, alphasort);
  for (i = 0; i < count; i++) {
    if (strstr(names[i]->d_name, ".seg")) segs++;
    free(names[i]);
  }
  if (count >= 0) free(names);
  return segs;
}

static void write_file(const char *sink, const char *name, const char *text) {
  char path[4300];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s/%s", dir, sink, name);
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (f == NULL) return;
  fputs(text, f);
  fclose(f);
}

/* A healthy sink reading and acknowledging as fast as readings come, with
 * segments rolling over underneath: it never stalls, nothing is dropped,
 * and the spool stays at a couple of segments.  The same after a restart
 * that finds everything delivered: a new reading is delivered. */
static void test_rollover(void) {
  struct vq_spool *s = open_spool("roll", 64 << 10); /* 16 kB segments */
  uint64_t i, expect = 1, n = 3000;
  int most = 0;
  CHECK_INT(vq_spool_segment_max(s), 16 << 10);
  for (i = 1; i <= n; i++) {
    struct vq_item *it = make_item(i);
    int got;
    CHECK_INT(vq_spool_append(s, it), 0);
    vq_item_unref(it);
    got = read_expect(s, 10, &expect);
    CHECK_INT(got, 1);
    vq_spool_ack(s, (uint32_t)got);
    if (count_segments("roll") > most) most = count_segments("roll");
  }
  CHECK_INT(expect, n + 1);
  CHECK_INT(vq_spool_dropped(s), 0);
  CHECK(most <= 2);
  /* Delivery in batches lagging behind the writer across rollovers. */
  for (i = n + 1; i <= 2 * n; i++) {
    struct vq_item *it = make_item(i);
    CHECK_INT(vq_spool_append(s, it), 0);
    vq_item_unref(it);
    if (i % 97 == 0) vq_spool_ack(s, (uint32_t)read_expect(s, 1000, &expect));
  }
  vq_spool_ack(s, (uint32_t)read_expect(s, 100000, &expect));
  CHECK_INT(expect, 2 * n + 1);
  CHECK_INT(vq_spool_pending_records(s), 0);
  CHECK_INT(vq_spool_dropped(s), 0);
  vq_spool_close(s);

  s = open_spool("roll", 64 << 10);
  CHECK_INT(vq_spool_pending_records(s), 0);
  CHECK(vq_spool_next(s) == NULL);
  append(s, 2 * n + 1, 2 * n + 1);
  CHECK_INT(read_expect(s, 10, &expect), 1);
  vq_spool_ack(s, 1);
  vq_spool_close(s);
  /* ... and again, now that the ack names the segment just written. */
  s = open_spool("roll", 64 << 10);
  append(s, 2 * n + 2, 2 * n + 2);
  CHECK_INT(read_expect(s, 10, &expect), 1);
  vq_spool_ack(s, 1);
  vq_spool_close(s);
  CHECK(count_segments("roll") <= 2);
}

/* A write the file system refuses (here: past RLIMIT_FSIZE) keeps nothing
 * of the reading and says so; the readings before it are intact and the
 * spool goes on once writes succeed again. */
static void test_write_failure(void) {
  struct vq_spool *s = open_spool("wfail", 1 << 20);
  struct rlimit old, small;
  struct vq_item *it;
  uint64_t expect = 1, i, kept = 0, refused = 0;
  CHECK_INT(getrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, SIG_IGN);
  small = old;
  small.rlim_cur = 4000;
  CHECK_INT(setrlimit(RLIMIT_FSIZE, &small), 0);
  for (i = 1; i <= 200; i++) {
    it = make_item(kept + 1);
    if (vq_spool_append(s, it) == 0) kept++;
    else refused++;
    vq_item_unref(it);
  }
  CHECK_INT(setrlimit(RLIMIT_FSIZE, &old), 0);
  CHECK(kept > 10);
  CHECK(refused > 100);
  CHECK_INT(vq_spool_pending_records(s), kept);
  append(s, kept + 1, kept + 5);
  CHECK_INT(read_expect(s, 1000, &expect), kept + 5);
  CHECK_INT(vq_spool_corrupt_frames(s), 0);
  vq_spool_ack(s, (uint32_t)(kept + 5));
  vq_spool_close(s);
  /* Nothing torn was left in the file either. */
  s = open_spool("wfail", 1 << 20);
  CHECK_INT(vq_spool_corrupt_frames(s), 0);
  CHECK_INT(vq_spool_pending_records(s), 0);
  vq_spool_close(s);
}

/* A damaged ack file: garbage means delivering from the start, an offset
 * inside a frame means resuming at the frame boundary before it. */
static void test_bad_ack(void) {
  struct vq_spool *s = open_spool("ack", 1 << 20);
  uint64_t expect = 1;
  char line[64];
  append(s, 1, 10);
  CHECK_INT(read_expect(s, 4, &expect), 4);
  vq_spool_ack(s, 4);
  vq_spool_close(s);

  write_file("ack", "ack", "garbage\n");
  s = open_spool("ack", 1 << 20);
  CHECK_INT(vq_spool_pending_records(s), 10);
  vq_spool_close(s);

  /* Segment 1 holds readings 1..10; frame 1 starts at 0. */
  vq_ack_format(line, sizeof line, 1, 5);
  write_file("ack", "ack", line);
  s = open_spool("ack", 1 << 20);
  CHECK_INT(vq_spool_pending_records(s), 10);
  CHECK_INT(vq_spool_corrupt_frames(s), 0);
  expect = 1;
  CHECK_INT(read_expect(s, 100, &expect), 10);
  vq_spool_close(s);
}

/* An ack file naming a segment that is gone (an empty write segment
 * removed at open) must not come to name a new segment of that id: after
 * a long outage without any acknowledgement, a restart delivers all. */
static void test_stale_ack(void) {
  struct vq_spool *s;
  char sub[4200];
  uint64_t expect = 1;
  snprintf(sub, sizeof sub, "%s/stale", dir);
  CHECK_INT(mkdir(sub, 0700), 0);
  write_file("stale", "ack", "0000000000000003 100\n");
  s = open_spool("stale", 512 << 10);
  append(s, 1, 2000);
  CHECK(count_segments("stale") > 3);
  vq_spool_close(s);
  s = open_spool("stale", 512 << 10);
  CHECK_INT(vq_spool_pending_records(s), 2000);
  CHECK_INT(read_expect(s, 5000, &expect), 2000);
  vq_spool_close(s);
}

static void test_frame_formats(void) {
  struct vq_item *it = make_item(7);
  size_t plen = vq_item_encode(it, NULL, 0), flen = VQ_FRAME_HEADER + plen;
  unsigned char buf[4096];
  struct vq_frame_walk w;
  uint64_t seg, off;
  char line[64];
  size_t i;

  CHECK(3 * flen + 5 < sizeof buf);
  /* frame, 5 bytes of junk, frame, frame */
  for (i = 0; i < 3; i++) {
    unsigned char *f = buf + i * flen + (i ? 5 : 0);
    vq_item_encode(it, f + VQ_FRAME_HEADER, plen);
    vq_frame_header(f, f + VQ_FRAME_HEADER, (uint32_t)plen);
  }
  memset(buf + flen, 0x56, 5); /* the magic's first byte, to mislead */
  CHECK_INT(vq_frame_at(buf, sizeof buf, 0), flen);
  CHECK_INT(vq_frame_records(buf), 1);
  CHECK_INT(vq_frame_at(buf, sizeof buf, 1), 0);
  CHECK_INT(vq_frame_resync(buf, 3 * flen + 5, 1), flen + 5);
  CHECK_INT(vq_frame_resync(buf, 3 * flen + 5, flen + 6), 2 * flen + 5);
  CHECK_INT(vq_frame_resync(buf, 3 * flen + 5, 2 * flen + 6), 3 * flen + 5);
  vq_frame_walk(buf, 3 * flen + 5, 0, SIZE_MAX, &w, NULL, NULL);
  CHECK_INT(w.frames, 3);
  CHECK_INT(w.records, 3);
  CHECK_INT(w.damaged, 1);
  CHECK_INT(w.good_end, 3 * flen + 5);
  vq_frame_walk(buf, 3 * flen + 5, 0, flen + 2, &w, NULL, NULL);
  CHECK_INT(w.boundary, flen);
  vq_frame_walk(buf, 3 * flen + 2, 0, SIZE_MAX, &w, NULL, NULL); /* torn */
  CHECK_INT(w.frames, 2);
  CHECK_INT(w.good_end, 2 * flen + 5);
  /* A checksum-valid frame too short to hold a record count. */
  {
    unsigned char tiny[VQ_FRAME_HEADER + 4] = {0};
    vq_frame_header(tiny, tiny + VQ_FRAME_HEADER, 4);
    CHECK_INT(vq_frame_at(tiny, sizeof tiny, 0), 0);
  }
  vq_item_unref(it);

  CHECK_INT(vq_ack_format(line, sizeof line, 0x1f, 1234), 22);
  CHECK_STR(line, "000000000000001f 1234\n");
  CHECK_INT(vq_ack_parse(line, strlen(line), &seg, &off), 0);
  CHECK_INT(seg, 0x1f);
  CHECK_INT(off, 1234);
  CHECK_INT(vq_ack_parse(line, strlen(line) - 1, &seg, &off), -1);
  CHECK_INT(vq_ack_parse("000000000000001F 1\n", 19, &seg, &off), -1);
  CHECK_INT(vq_ack_parse("000000000000001f -1\n", 20, &seg, &off), -1);
  CHECK_INT(vq_ack_parse("000000000000001f \n", 18, &seg, &off), -1);
  CHECK_INT(vq_ack_parse("000000000000001f 99999999999999999999\n", 38, &seg,
                         &off),
            -1);
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
  uint64_t expect = 1;
  char path[4700];

  if (mkdtemp(dir) == NULL) return 99;
  vq_log_setup(VQ_LOG_WARN, VQ_LOG_STDERR);

  /* Round trip in order; ack persists across a reopen. */
  s = open_spool("sinkA", 1 << 20);
  append(s, 1, 100);
  CHECK_INT(vq_spool_pending_records(s), 100);
  CHECK_INT(read_expect(s, 30, &expect), 30);
  CHECK_INT(vq_spool_pending_records(s), 70);
  vq_spool_ack(s, 30);
  CHECK_INT(read_expect(s, 10, &expect), 10); /* read, not acked */
  vq_spool_close(s);

  s = open_spool("sinkA", 1 << 20);
  CHECK_INT(vq_spool_pending_records(s), 70); /* 31..100 again */
  expect = 31;
  append(s, 101, 110);
  CHECK_INT(read_expect(s, 1000, &expect), 80);
  CHECK_INT(expect, 111);
  vq_spool_ack(s, 80);
  CHECK_INT(vq_spool_pending_records(s), 0);
  CHECK(vq_spool_next(s) == NULL);
  CHECK_INT(vq_spool_dropped(s), 0);
  vq_spool_close(s);

  /* Corruption in the middle of a segment: reported, skipped, the good
   * frames before and after are delivered. */
  s = open_spool("sinkA", 1 << 20);
  append(s, 200, 219);
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
  s = open_spool("sinkA", 1 << 20);
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
  s = open_spool("sinkA", 1 << 20);
  append(s, 300, 309);
  vq_spool_close(s);
  CHECK(largest_segment(path, sizeof path));
  {
    struct stat st;
    stat(path, &st);
    CHECK_INT(truncate(path, st.st_size - 7), 0);
  }
  s = open_spool("sinkA", 1 << 20);
  CHECK_INT(vq_spool_pending_records(s), 9);
  expect = 300;
  CHECK_INT(read_expect(s, 100, &expect), 9);
  vq_spool_ack(s, 9);
  vq_spool_close(s);

  /* Overflow: the oldest segment goes, its unread records are counted. */
  s = open_spool("sinkB", 128 << 10);
  {
    uint64_t i, n = 5000;
    struct vq_item *it;
    uint64_t first = 0, count = 0, dropped;
    for (i = 1; i <= n; i++) {
      it = make_item(i);
      CHECK_INT(vq_spool_append(s, it), 0);
      vq_item_unref(it);
    }
    dropped = vq_spool_dropped(s);
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

  test_rollover();
  test_write_failure();
  test_bad_ack();
  test_stale_ack();
  test_frame_formats();

  {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 99;
  }
  vq_intern_free_all();
  VQTEST_END();
}

/* The disk spool of a sink queue (spool.h): segment files, the ack file,
 * appending, reading back after a restart, freeing delivered space and
 * dropping the oldest for room on a full disk.  One file although it is
 * over 600 lines: those jobs share the segment list and the read and ack
 * positions, and every path that changes one must keep the others right
 * (the rollover stall of issue 9 was two of them disagreeing); the frame
 * format lives apart in spool_frame.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <uv.h>

#include "intern.h"
#include "log.h"
#include "spool.h"
#include "spool_frame.h"

/* Segments are the unit in which space is freed (acknowledged ones are
 * deleted, the oldest are dropped for room), so they are kept small
 * against both spool_max_bytes and the file system holding the spool. */
#define SEGMENT_MIN (16u << 10)
#define SEGMENT_MAX (1u << 20)
#define SEGMENTS_PER_SPOOL 16u
#define LOG_INTERVAL_MS 10000

struct segment {
  uint64_t id;
  uint64_t size; /* bytes in the file */
  uint64_t end;  /* where its frames end (before a torn tail) */
};

struct position {
  uint64_t seg;
  uint64_t off;
};

/* A reading handed out by next() and not yet acknowledged. */
struct handed {
  struct position end; /* after its frame */
  uint32_t records;
  int unbacked; /* its segment was dropped for room */
};

struct vq_spool {
  char *path; /* DIR/SINK_ID */
  char label[80];
  uint64_t max_bytes, segment_max;
  uint64_t room; /* spool_max_bytes, or the file system when smaller */
  int sync;
  struct segment *segs; /* oldest first; the last one is written */
  size_t nsegs;
  uint64_t total_bytes;

  int wfd;      /* the last segment, open for appending */
  int unsynced; /* written since the last fdatasync */
  int wbroken;  /* a torn frame ends it: append to a new segment only */

  int rfd; /* the segment being read, or -1 */
  uint64_t rfd_seg;

  struct position read;  /* next frame to hand out */
  struct position acked; /* everything before is delivered */
  struct handed *out;
  size_t nout, capout;

  uint64_t unread_records, unbacked_records;
  uint64_t dropped, corrupt_frames;
  uint64_t write_failures; /* readings append could not keep */
  int ack_stale;   /* the ack file names no segment there is */
  int acked_moved; /* its offset was not a frame boundary */
  struct vq_ratelimit write_log, room_log, read_log, ack_log;
};

static uint64_t mono_ms(void) { return uv_hrtime() / 1000000u; }

static void segment_path(const struct vq_spool *s, uint64_t id, char *out,
                         size_t len) {
  snprintf(out, len, "%s/%016" PRIx64 ".seg", s->path, id);
}

static struct segment *find_segment(struct vq_spool *s, uint64_t id) {
  size_t i;
  for (i = 0; i < s->nsegs; i++)
    if (s->segs[i].id == id) return &s->segs[i];
  return NULL;
}

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Make a new segment file's name durable (a power cut could otherwise
 * lose the whole file). */
static void sync_directory(struct vq_spool *s) {
  int fd;
  if (s->sync == VQ_SPOOL_SYNC_NONE) return;
  fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  fsync(fd);
  close(fd);
}

static int open_write_segment(struct vq_spool *s, uint64_t id) {
  char path[4096];
  struct segment *grown;
  int fd;
  grown = realloc(s->segs, (s->nsegs + 1) * sizeof *grown);
  if (grown == NULL) return -ENOMEM;
  s->segs = grown;
  segment_path(s, id, path, sizeof path);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  s->wfd = fd;
  s->unsynced = 0;
  s->segs[s->nsegs].id = id;
  s->segs[s->nsegs].size = 0;
  s->segs[s->nsegs].end = 0;
  s->nsegs++;
  sync_directory(s);
  return 0;
}

/* Start a new write segment; the old one becomes an ordinary segment that
 * can be deleted once delivered (or dropped for room). */
static int roll_segment(struct vq_spool *s) {
  int old = s->wfd, rc;
  if (s->unsynced && s->sync != VQ_SPOOL_SYNC_NONE) fdatasync(old);
  rc = open_write_segment(s, s->segs[s->nsegs - 1].id + 1);
  if (rc != 0) return rc; /* keep writing the old one */
  close(old);
  s->wbroken = 0;
  return 0;
}

/* Read bytes [0, len) of segment `id` (fewer if the file is shorter) for
 * scanning; NULL with errno set when it cannot be read. */
static unsigned char *read_segment(struct vq_spool *s, uint64_t id,
                                   uint64_t len, size_t *got) {
  char path[4096];
  unsigned char *buf;
  size_t n = 0;
  int fd, err = 0;
  segment_path(s, id, path, sizeof path);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  buf = malloc(len ? (size_t)len : 1);
  if (buf == NULL) err = ENOMEM;
  while (err == 0 && n < len) {
    ssize_t r = pread(fd, buf + n, (size_t)len - n, (off_t)n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) err = errno;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (err != 0) {
    free(buf);
    errno = err;
    return NULL;
  }
  *got = n;
  return buf;
}

struct damage_report {
  struct vq_spool *s;
  uint64_t id;
};

static void report_damage(void *arg, size_t off, size_t skipped, int at_end) {
  struct damage_report *d = arg;
  if (at_end)
    vq_log(VQ_LOG_WARN, d->s->label,
           "spool segment %016" PRIx64 ": %zu bytes at offset %zu are a "
           "torn or corrupt frame at the end; skipped",
           d->id, skipped, off);
  else
    vq_log(VQ_LOG_ERROR, d->s->label,
           "spool segment %016" PRIx64 ": corrupt data at offset %zu "
           "(bad magic, length or checksum); skipped %zu bytes to the "
           "next good frame",
           d->id, off, skipped);
}

static void save_ack(struct vq_spool *s) {
  char path[4096], tmp[4096], line[64];
  size_t n = vq_ack_format(line, sizeof line, s->acked.seg, s->acked.off);
  uint64_t held;
  int fd, rc = 0;
  snprintf(path, sizeof path, "%s/ack", s->path);
  snprintf(tmp, sizeof tmp, "%s/ack.tmp", s->path);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) rc = -errno;
  else {
    rc = write_all(fd, (const unsigned char *)line, n);
    if (close(fd) != 0 && rc == 0) rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0) rc = -errno;
  }
  /* A stale ack file only means readings delivered twice after a
   * restart, never lost ones: say so, rarely. */
  if (rc != 0 && vq_ratelimit_pass(&s->ack_log, mono_ms(), &held))
    vq_log(VQ_LOG_ERROR, s->label,
           "cannot update %s: %s (a restart would deliver some readings "
           "again)",
           path, strerror(-rc));
}

static void load_ack(struct vq_spool *s) {
  char path[4096], buf[64];
  uint64_t seg, off;
  ssize_t n;
  int fd;
  snprintf(path, sizeof path, "%s/ack", s->path);
  s->acked.seg = s->nsegs ? s->segs[0].id : 0;
  s->acked.off = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  /* Until it is found to name a segment there is, the file is rewritten
   * at open: segment ids may start again at 1 and must never meet it. */
  s->ack_stale = 1;
  n = read(fd, buf, sizeof buf);
  close(fd);
  if (n <= 0 || vq_ack_parse(buf, (size_t)n, &seg, &off) != 0) {
    vq_log(VQ_LOG_WARN, s->label,
           "%s is not a spool position; delivering the spool from its start",
           path);
    return;
  }
  /* A position in a segment that is gone says nothing about the others:
   * deliver them from their start (at least once, never lost). */
  if (find_segment(s, seg) != NULL) {
    s->acked.seg = seg;
    s->acked.off = off;
    s->ack_stale = 0;
  }
}

static void remove_segment_file(struct vq_spool *s, uint64_t id) {
  char path[4096];
  segment_path(s, id, path, sizeof path);
  if (unlink(path) != 0 && errno != ENOENT)
    vq_log(VQ_LOG_ERROR, s->label, "cannot remove %s: %s", path,
           strerror(errno));
}

/* Remove segs[0] (never the write segment) and move every position that
 * names it to the start of the next one. */
static void remove_first_segment(struct vq_spool *s) {
  struct segment old = s->segs[0];
  remove_segment_file(s, old.id);
  if (s->rfd >= 0 && s->rfd_seg == old.id) {
    close(s->rfd);
    s->rfd = -1;
  }
  s->total_bytes -= old.size;
  memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof *s->segs);
  s->nsegs--;
  if (s->read.seg <= old.id) {
    s->read.seg = s->segs[0].id;
    s->read.off = 0;
  }
  if (s->acked.seg <= old.id) {
    s->acked.seg = s->segs[0].id;
    s->acked.off = 0;
  }
}

/* Whole segments behind the acknowledged position are done; so is the
 * oldest one when the position is at its end. */
static void remove_delivered(struct vq_spool *s) {
  while (s->nsegs > 1 &&
         (s->segs[0].id < s->acked.seg ||
          (s->segs[0].id == s->acked.seg && s->acked.off >= s->segs[0].end)))
    remove_first_segment(s);
}

/* Check the acknowledged offset against the frames of its segment: a
 * damaged ack file must not start reading inside a frame. */
static void check_ack_offset(struct vq_spool *s) {
  struct segment *seg = find_segment(s, s->acked.seg);
  struct vq_frame_walk w;
  unsigned char *buf;
  size_t len;
  if (seg == NULL || s->acked.off == 0) return;
  buf = read_segment(s, seg->id, seg->size, &len);
  if (buf == NULL) return;
  vq_frame_walk(buf, len, 0, (size_t)s->acked.off, &w, NULL, NULL);
  free(buf);
  if (w.boundary != s->acked.off) {
    vq_log(VQ_LOG_WARN, s->label,
           "spool segment %016" PRIx64 ": acknowledged offset %" PRIu64
           " is not a frame boundary; resuming from offset %zu",
           seg->id, s->acked.off, w.boundary);
    s->acked.off = w.boundary;
    s->acked_moved = 1;
  }
}

static uint64_t filesystem_bytes(const char *path) {
  struct statvfs v;
  if (statvfs(path, &v) != 0 || v.f_blocks == 0) return UINT64_MAX;
  return (uint64_t)v.f_blocks * (v.f_frsize ? v.f_frsize : v.f_bsize);
}

static uint64_t choose_segment_max(struct vq_spool *s) {
  uint64_t room = filesystem_bytes(s->path), seg;
  if (room > s->max_bytes) room = s->max_bytes;
  s->room = room;
  seg = room / SEGMENTS_PER_SPOOL;
  if (seg < SEGMENT_MIN) seg = SEGMENT_MIN;
  if (seg > SEGMENT_MAX) seg = SEGMENT_MAX;
  return seg;
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The ids of DIR's segment files, sorted. */
static int list_segments(struct vq_spool *s, uint64_t **out, size_t *count) {
  DIR *d = opendir(s->path);
  struct dirent *e;
  uint64_t *ids = NULL;
  size_t nids = 0;
  if (d == NULL) {
    int rc = -errno;
    vq_log(VQ_LOG_ERROR, s->label, "cannot open spool directory %s: %s",
           s->path, strerror(errno));
    return rc;
  }
  while ((e = readdir(d)) != NULL) {
    char *end;
    uint64_t id, *grown;
    if (strlen(e->d_name) != 20 || strcmp(e->d_name + 16, ".seg") != 0)
      continue;
    id = strtoull(e->d_name, &end, 16);
    if (end != e->d_name + 16) continue;
    grown = realloc(ids, (nids + 1) * sizeof *ids);
    if (grown == NULL) {
      closedir(d);
      free(ids);
      return -ENOMEM;
    }
    ids = grown;
    ids[nids++] = id;
  }
  closedir(d);
  if (nids > 0) qsort(ids, nids, sizeof *ids, compare_u64);
  *out = ids;
  *count = nids;
  return 0;
}

/* Take in the segments of an earlier run: drop empty and delivered ones,
 * count what is left to deliver, reporting damage once. */
static int load_segments(struct vq_spool *s) {
  uint64_t *ids = NULL;
  size_t nids = 0, i;
  int rc = list_segments(s, &ids, &nids);
  if (rc != 0) return rc;
  s->segs = calloc(nids ? nids : 1, sizeof *s->segs);
  if (s->segs == NULL) {
    free(ids);
    return -ENOMEM;
  }
  for (i = 0; i < nids; i++) {
    char path[4096];
    struct stat st;
    segment_path(s, ids[i], path, sizeof path);
    if (stat(path, &st) != 0) continue;
    if (st.st_size == 0) {
      remove_segment_file(s, ids[i]);
      continue;
    }
    s->segs[s->nsegs].id = ids[i];
    s->segs[s->nsegs].size = (uint64_t)st.st_size;
    s->segs[s->nsegs].end = (uint64_t)st.st_size;
    s->total_bytes += (uint64_t)st.st_size;
    s->nsegs++;
  }
  free(ids);
  load_ack(s);
  while (s->nsegs > 0 && s->segs[0].id < s->acked.seg) {
    remove_segment_file(s, s->segs[0].id);
    s->total_bytes -= s->segs[0].size;
    memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof *s->segs);
    s->nsegs--;
  }
  check_ack_offset(s);
  for (i = 0; i < s->nsegs; i++) {
    struct segment *seg = &s->segs[i];
    size_t from = seg->id == s->acked.seg ? (size_t)s->acked.off : 0, len;
    struct damage_report d;
    struct vq_frame_walk w;
    unsigned char *buf = read_segment(s, seg->id, seg->size, &len);
    if (buf == NULL) {
      vq_log(VQ_LOG_ERROR, s->label,
             "cannot read spool segment %016" PRIx64 ": %s; skipped", seg->id,
             strerror(errno));
      seg->end = from;
      continue;
    }
    d.s = s;
    d.id = seg->id;
    vq_frame_walk(buf, len, from, SIZE_MAX, &w, report_damage, &d);
    free(buf);
    s->unread_records += w.records;
    seg->end = w.good_end; /* a torn tail is never read */
  }
  s->read = s->acked;
  return 0;
}

int vq_spool_open(struct vq_spool **out, const char *dir, const char *sink_id,
                  uint64_t max_bytes, int sync, const char *label) {
  struct vq_spool *s = calloc(1, sizeof *s);
  int rc;

  if (s == NULL) return -ENOMEM;
  s->wfd = -1;
  s->rfd = -1;
  s->sync = sync;
  snprintf(s->label, sizeof s->label, "%s", label);
  s->max_bytes = max_bytes;
  s->write_log.interval_ms = s->room_log.interval_ms = LOG_INTERVAL_MS;
  s->read_log.interval_ms = s->ack_log.interval_ms = LOG_INTERVAL_MS;
  s->path = malloc(strlen(dir) + strlen(sink_id) + 2);
  if (s->path == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  sprintf(s->path, "%s/%s", dir, sink_id);
  if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
      (mkdir(s->path, 0700) != 0 && errno != EEXIST)) {
    rc = -errno;
    vq_log(VQ_LOG_ERROR, label, "cannot create spool directory %s: %s",
           s->path, strerror(errno));
    goto fail;
  }
  s->segment_max = choose_segment_max(s);
  if ((rc = load_segments(s)) != 0) goto fail;
  if (s->unread_records > 0)
    vq_log(VQ_LOG_INFO, label,
           "spool %s holds %" PRIu64 " records from before; delivering them "
           "first",
           s->path, s->unread_records);
  /* New data always goes to a fresh segment, so a torn tail of the old
   * last segment is never appended to. */
  rc = open_write_segment(s, s->nsegs ? s->segs[s->nsegs - 1].id + 1 : 1);
  if (rc != 0) {
    vq_log(VQ_LOG_ERROR, label, "cannot create a spool segment in %s: %s",
           s->path, strerror(-rc));
    goto fail;
  }
  if (s->nsegs == 1) {
    s->acked.seg = s->read.seg = s->segs[0].id;
    s->acked.off = s->read.off = 0;
  }
  remove_delivered(s);
  if (s->ack_stale || s->acked_moved) save_ack(s);
  *out = s;
  return 0;
fail:
  free(s->segs);
  free(s->path);
  free(s);
  return rc;
}

void vq_spool_close(struct vq_spool *s) {
  if (s == NULL) return;
  if (s->wfd >= 0) {
    if (s->unsynced && s->sync != VQ_SPOOL_SYNC_NONE) fdatasync(s->wfd);
    close(s->wfd);
  }
  if (s->rfd >= 0) close(s->rfd);
  free(s->segs);
  free(s->out);
  free(s->path);
  free(s);
}

int vq_spool_flush(struct vq_spool *s) {
  if (!s->unsynced || s->sync == VQ_SPOOL_SYNC_NONE) return 0;
  s->unsynced = 0;
  return fdatasync(s->wfd) == 0 ? 0 : -errno;
}

/* Remove the oldest segment to make room; its unread records are
 * dropped, and handed-out ones live on only in the batch in flight.
 * Returns the records dropped. */
static uint64_t drop_oldest_segment(struct vq_spool *s) {
  struct segment *old = &s->segs[0];
  uint64_t records = 0;
  size_t from = 0, i;
  if (s->read.seg > old->id) from = (size_t)old->end;
  else if (s->read.seg == old->id) from = (size_t)s->read.off;
  if (from < old->end) {
    size_t len;
    struct vq_frame_walk w;
    unsigned char *buf = read_segment(s, old->id, old->end, &len);
    if (buf != NULL) {
      vq_frame_walk(buf, len, from, SIZE_MAX, &w, NULL, NULL);
      records = w.records;
      free(buf);
    }
  }
  for (i = 0; i < s->nout; i++)
    if (!s->out[i].unbacked && s->out[i].end.seg <= old->id) {
      s->out[i].unbacked = 1;
      s->unbacked_records += s->out[i].records;
    }
  /* An unreadable segment's records are known only as the difference that
   * is left when the reader reaches the end (see reconcile). */
  if (records > s->unread_records) records = s->unread_records;
  s->unread_records -= records;
  s->dropped += records;
  remove_first_segment(s);
  return records;
}

/* Write one frame at the end of the write segment.  On failure nothing
 * of it stays in the file. */
static int write_frame(struct vq_spool *s, const unsigned char *frame,
                       size_t flen) {
  struct segment *last = &s->segs[s->nsegs - 1];
  int rc;
  if (s->wbroken) return -EIO;
  rc = write_all(s->wfd, frame, flen);
  if (rc == 0 && s->sync == VQ_SPOOL_SYNC_ALWAYS && fdatasync(s->wfd) != 0)
    rc = -errno;
  if (rc == 0) return 0;
  if (ftruncate(s->wfd, (off_t)last->size) != 0) {
    /* A torn frame stays behind: never append after it. */
    s->wbroken = 1;
    roll_segment(s);
  }
  return rc;
}

/* After a write failed for want of space (`err`): free the oldest
 * segment if there is one to free.  Returns 0 when there is none. */
static int make_room(struct vq_spool *s, int err) {
  uint64_t records, held;
  if (s->nsegs == 1) {
    if (s->segs[0].size == 0) return 0; /* nothing of ours fills the disk */
    if (roll_segment(s) != 0) return 0;
  }
  records = drop_oldest_segment(s);
  if (vq_ratelimit_pass(&s->write_log, mono_ms(), &held))
    vq_log(VQ_LOG_ERROR, s->label,
           "spool write failed: %s; dropped the oldest %" PRIu64
           " records to make room (%" PRIu64 " dropped so far)",
           strerror(-err), records, s->dropped);
  return 1;
}

int vq_spool_append(struct vq_spool *s, const struct vq_item *it) {
  size_t plen = vq_item_encode(it, NULL, 0), flen = VQ_FRAME_HEADER + plen;
  unsigned char stack[4096], *frame = stack;
  struct segment *last = &s->segs[s->nsegs - 1];
  uint64_t held;
  int rc;

  if (plen > VQ_FRAME_MAX) return -EMSGSIZE;
  if (flen > sizeof stack && (frame = malloc(flen)) == NULL) return -ENOMEM;
  vq_item_encode(it, frame + VQ_FRAME_HEADER, plen);
  vq_frame_header(frame, frame + VQ_FRAME_HEADER, (uint32_t)plen);

  if (s->wbroken ||
      (last->size > 0 && last->size + flen > s->segment_max))
    roll_segment(s);
  while (s->total_bytes + flen > s->max_bytes && s->nsegs > 1) {
    uint64_t records = drop_oldest_segment(s);
    if (records > 0 && vq_ratelimit_pass(&s->room_log, mono_ms(), &held))
      vq_log(VQ_LOG_WARN, s->label,
             "spool full (spool_max_bytes): dropped the oldest %" PRIu64
             " records (%" PRIu64 " dropped so far)",
             records, s->dropped);
  }
  rc = write_frame(s, frame, flen);
  while ((rc == -ENOSPC || rc == -EDQUOT) && make_room(s, rc))
    rc = write_frame(s, frame, flen);
  if (rc != 0) {
    s->write_failures++;
    if (vq_ratelimit_pass(&s->write_log, mono_ms(), &held))
      vq_log(VQ_LOG_ERROR, s->label,
             "spool write failed: %s; readings that cannot be written are "
             "dropped (%" PRIu64 " so far)",
             strerror(-rc), s->write_failures);
    goto out;
  }
  last = &s->segs[s->nsegs - 1];
  last->size += flen;
  last->end = last->size;
  s->total_bytes += flen;
  s->unread_records += it->reading.nrecords;
  s->unsynced = s->sync != VQ_SPOOL_SYNC_ALWAYS;
out:
  if (frame != stack) free(frame);
  return rc;
}

/* The reader is at the end of every frame there is: whatever the count
 * still holds was lost to damage found on the way. */
static void reconcile(struct vq_spool *s) {
  s->dropped += s->unread_records;
  s->unread_records = 0;
}

static int read_fd(struct vq_spool *s, uint64_t id) {
  char path[4096];
  if (s->rfd >= 0 && s->rfd_seg == id) return s->rfd;
  if (s->rfd >= 0) close(s->rfd);
  segment_path(s, id, path, sizeof path);
  s->rfd = open(path, O_RDONLY | O_CLOEXEC);
  s->rfd_seg = id;
  return s->rfd;
}

static int read_exact(int fd, unsigned char *buf, size_t n, uint64_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -errno;
    if (r == 0) return -EIO;
    got += (size_t)r;
  }
  return 0;
}

/* The frame at the read position: an item, or NULL with *bad set to 1
 * when the bytes there are not a frame, 2 when they are a frame whose
 * payload does not decode (*flen its length), or *err on an I/O error. */
static struct vq_item *read_frame(struct vq_spool *s, struct segment *seg,
                                  size_t *flen, int *bad, int *err) {
  unsigned char *frame;
  struct vq_item *it = NULL;
  uint32_t plen;
  int fd = read_fd(s, seg->id);
  *bad = 0;
  *err = 0;
  if (fd < 0) {
    *err = -errno;
    return NULL;
  }
  if (seg->end - s->read.off < VQ_FRAME_HEADER) {
    *bad = 1;
    return NULL;
  }
  frame = malloc(VQ_FRAME_HEADER);
  if (frame == NULL) return NULL;
  if ((*err = read_exact(fd, frame, VQ_FRAME_HEADER, s->read.off)) != 0)
    goto out;
  plen = frame[4] | (uint32_t)frame[5] << 8 | (uint32_t)frame[6] << 16 |
         (uint32_t)frame[7] << 24;
  if (plen > VQ_FRAME_MAX ||
      plen > seg->end - s->read.off - VQ_FRAME_HEADER) {
    *bad = 1;
    goto out;
  }
  {
    unsigned char *grown = realloc(frame, VQ_FRAME_HEADER + plen);
    if (grown == NULL) goto out;
    frame = grown;
  }
  if ((*err = read_exact(fd, frame + VQ_FRAME_HEADER, plen,
                         s->read.off + VQ_FRAME_HEADER)) != 0)
    goto out;
  *flen = vq_frame_at(frame, VQ_FRAME_HEADER + plen, 0);
  if (*flen == 0) *bad = 1;
  else if ((it = vq_item_decode(frame + VQ_FRAME_HEADER, plen, vq_intern)) ==
           NULL)
    *bad = 2; /* a whole frame (checksum right) with a payload we cannot
               * use: skip all of it, as the count at open did */
out:
  free(frame);
  return it;
}

/* Skip damage at the read position to the next good frame. */
static void resync(struct vq_spool *s, struct segment *seg) {
  uint64_t held, from = s->read.off;
  size_t len, next = (size_t)seg->end;
  unsigned char *buf = read_segment(s, seg->id, seg->end, &len);
  if (buf != NULL) {
    next = vq_frame_resync(buf, len, (size_t)from + 1);
    if (len < seg->end && next == len) next = (size_t)seg->end;
    free(buf);
  }
  s->corrupt_frames++;
  s->read.off = next;
  if (vq_ratelimit_pass(&s->read_log, mono_ms(), &held))
    vq_log(VQ_LOG_ERROR, s->label,
           "spool segment %016" PRIx64 ": corrupt frame at offset %" PRIu64
           "; skipped %" PRIu64 " bytes to the next good frame",
           seg->id, from, (uint64_t)next - from);
}

static int remember_handed(struct vq_spool *s, uint32_t records) {
  if (s->nout == s->capout) {
    size_t cap = s->capout ? s->capout * 2 : 64;
    struct handed *grown = realloc(s->out, cap * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    s->out = grown;
    s->capout = cap;
  }
  s->out[s->nout].end = s->read;
  s->out[s->nout].records = records;
  s->out[s->nout].unbacked = 0;
  s->nout++;
  return 0;
}

struct vq_item *vq_spool_next(struct vq_spool *s) {
  for (;;) {
    struct segment *seg = find_segment(s, s->read.seg);
    struct vq_item *it;
    size_t i, flen = 0;
    int bad, err;
    uint64_t held;

    if (seg == NULL || s->read.off >= seg->end) {
      /* End of this segment (or it is gone): on to the next newer one. */
      for (i = 0; i < s->nsegs && s->segs[i].id <= s->read.seg; i++) {}
      if (i == s->nsegs) {
        if (seg != NULL) s->read.off = seg->end;
        reconcile(s);
        return NULL;
      }
      s->read.seg = s->segs[i].id;
      s->read.off = 0;
      continue;
    }
    it = read_frame(s, seg, &flen, &bad, &err);
    if (bad == 2) {
      s->corrupt_frames++;
      if (vq_ratelimit_pass(&s->read_log, mono_ms(), &held))
        vq_log(VQ_LOG_ERROR, s->label,
               "spool segment %016" PRIx64 ": the reading at offset %" PRIu64
               " cannot be decoded; skipped",
               seg->id, s->read.off);
      s->read.off += flen;
      continue;
    }
    if (bad) {
      resync(s, seg);
      continue;
    }
    if (err != 0) {
      if (vq_ratelimit_pass(&s->read_log, mono_ms(), &held))
        vq_log(VQ_LOG_ERROR, s->label,
               "cannot read spool segment %016" PRIx64 ": %s; skipped the "
               "rest of it",
               seg->id, strerror(-err));
      s->read.off = seg->end;
      continue;
    }
    if (it == NULL) return NULL; /* out of memory: try again later */
    s->read.off += flen;
    if (remember_handed(s, it->reading.nrecords) != 0) {
      s->read.off -= flen;
      vq_item_unref(it);
      return NULL;
    }
    s->unread_records -= it->reading.nrecords < s->unread_records
                             ? it->reading.nrecords
                             : s->unread_records;
    return it;
  }
}

void vq_spool_ack(struct vq_spool *s, uint32_t n) {
  uint32_t i;
  if (n == 0 || s->nout == 0) return;
  if (n > s->nout) n = (uint32_t)s->nout;
  for (i = 0; i < n; i++)
    if (s->out[i].unbacked) s->unbacked_records -= s->out[i].records;
  /* Positions in segments dropped since are behind segs[0]. */
  if (s->out[n - 1].end.seg >= s->segs[0].id) s->acked = s->out[n - 1].end;
  memmove(s->out, s->out + n, (s->nout - n) * sizeof *s->out);
  s->nout -= n;
  remove_delivered(s);
  save_ack(s);
}

uint64_t vq_spool_pending_records(const struct vq_spool *s) {
  return s->unread_records;
}

uint64_t vq_spool_unbacked_records(const struct vq_spool *s) {
  return s->unbacked_records;
}

uint64_t vq_spool_dropped(const struct vq_spool *s) { return s->dropped; }

uint64_t vq_spool_corrupt_frames(const struct vq_spool *s) {
  return s->corrupt_frames;
}

uint64_t vq_spool_segment_max(const struct vq_spool *s) {
  return s->segment_max;
}

int vq_spool_fill_percent(const struct vq_spool *s) {
  uint64_t p = s->total_bytes * 100 / (s->room ? s->room : 1);
  return p > 100 ? 100 : (int)p;
}

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "intern.h"
#include "log.h"
#include "spool.h"

/* Frame: magic, payload length, CRC-32 of the payload (all little endian),
 * then the payload (vq_item_encode). */
#define FRAME_MAGIC 0x31465156u /* "VQF1" */
#define FRAME_HEADER 12u
#define FRAME_MAX (16u << 20)
#define WRITE_BUFFER (64u << 10)

struct segment {
  uint64_t id;
  uint64_t size; /* bytes on disk, plus buffered ones for the last */
};

struct position {
  uint64_t seg;
  uint64_t off;
};

struct vq_spool {
  char *path; /* DIR/SINK_ID */
  char label[80];
  uint64_t max_bytes, segment_max;
  struct segment *segs; /* oldest first; the last one is written */
  size_t nsegs;
  uint64_t total_bytes;

  int wfd; /* the last segment, open for appending */
  unsigned char *wbuf;
  size_t wlen;

  struct position read;  /* next frame to hand out */
  struct position acked; /* everything before is delivered */
  struct position *out;  /* end of each frame handed out, not acked */
  size_t nout, capout;

  uint64_t unread_records;
  uint64_t corrupt_frames;
};

static void put_le32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

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

int vq_spool_flush(struct vq_spool *s) {
  int rc;
  if (s->wlen == 0) return 0;
  rc = write_all(s->wfd, s->wbuf, s->wlen);
  s->wlen = 0;
  return rc;
}

static int open_write_segment(struct vq_spool *s, uint64_t id) {
  char path[4096];
  struct segment *grown;
  segment_path(s, id, path, sizeof path);
  s->wfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (s->wfd < 0) return -errno;
  grown = realloc(s->segs, (s->nsegs + 1) * sizeof *grown);
  if (grown == NULL) {
    close(s->wfd);
    s->wfd = -1;
    return -ENOMEM;
  }
  s->segs = grown;
  s->segs[s->nsegs].id = id;
  s->segs[s->nsegs].size = 0;
  s->nsegs++;
  return 0;
}

/* Read a whole segment (they are small: segment_max) for scanning. */
static unsigned char *read_segment(struct vq_spool *s, uint64_t id,
                                   size_t *len) {
  char path[4096];
  struct stat st;
  unsigned char *buf;
  ssize_t n;
  int fd;
  segment_path(s, id, path, sizeof path);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return NULL;
  }
  buf = malloc((size_t)st.st_size + 1);
  if (buf == NULL) {
    close(fd);
    return NULL;
  }
  n = pread(fd, buf, (size_t)st.st_size, 0);
  close(fd);
  if (n < 0) {
    free(buf);
    return NULL;
  }
  *len = (size_t)n;
  return buf;
}

/* Is there a valid frame at buf[off]?  Returns its total length or 0. */
static size_t frame_at(const unsigned char *buf, size_t len, size_t off) {
  uint32_t plen;
  if (len - off < FRAME_HEADER) return 0;
  if (get_le32(buf + off) != FRAME_MAGIC) return 0;
  plen = get_le32(buf + off + 4);
  if (plen > FRAME_MAX || plen > len - off - FRAME_HEADER) return 0;
  if (crc32(0L, buf + off + FRAME_HEADER, plen) != get_le32(buf + off + 8))
    return 0;
  return FRAME_HEADER + plen;
}

/* Records in the frame's payload: the count sits after time, seq, ntags. */
static uint32_t frame_records(const unsigned char *frame) {
  return get_le32(frame + FRAME_HEADER + 20);
}

/* Walk the frames of segment `id` from `from`; count records and report
 * corrupt stretches.  Returns the offset after the last good frame. */
static size_t scan_segment(struct vq_spool *s, uint64_t id, size_t from,
                           uint64_t *records, int report) {
  size_t len, off = from, good_end = from;
  unsigned char *buf = read_segment(s, id, &len);
  if (buf == NULL) return from;
  while (off < len) {
    size_t n = frame_at(buf, len, off), skip = off;
    if (n > 0) {
      *records += frame_records(buf + off);
      off += n;
      good_end = off;
      continue;
    }
    while (skip < len && frame_at(buf, len, skip) == 0) skip++;
    if (report) {
      if (skip == len)
        vq_log(VQ_LOG_WARN, s->label,
               "spool segment %016" PRIx64 ": %zu bytes at offset %zu are a "
               "torn or corrupt frame at the end; skipped",
               id, len - off, off);
      else
        vq_log(VQ_LOG_ERROR, s->label,
               "spool segment %016" PRIx64 ": corrupt data at offset %zu "
               "(bad magic, length or checksum); skipped %zu bytes to the "
               "next good frame",
               id, off, skip - off);
    }
    off = skip;
  }
  free(buf);
  return good_end;
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void save_ack(struct vq_spool *s) {
  char path[4096], tmp[4096];
  FILE *f;
  snprintf(path, sizeof path, "%s/ack", s->path);
  snprintf(tmp, sizeof tmp, "%s/ack.tmp", s->path);
  {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL && fd >= 0) close(fd);
  }
  if (f == NULL) {
    vq_log(VQ_LOG_ERROR, s->label, "cannot write %s: %s", tmp,
           strerror(errno));
    return;
  }
  fprintf(f, "%016" PRIx64 " %" PRIu64 "\n", s->acked.seg, s->acked.off);
  if (fclose(f) != 0 || rename(tmp, path) != 0)
    vq_log(VQ_LOG_ERROR, s->label, "cannot update %s: %s", path,
           strerror(errno));
}

static void load_ack(struct vq_spool *s) {
  char path[4096];
  FILE *f;
  uint64_t seg, off;
  snprintf(path, sizeof path, "%s/ack", s->path);
  f = fopen(path, "r");
  s->acked.seg = s->nsegs ? s->segs[0].id : 0;
  s->acked.off = 0;
  if (f == NULL) return;
  if (fscanf(f, "%" SCNx64 " %" SCNu64, &seg, &off) == 2 &&
      find_segment(s, seg) != NULL) {
    s->acked.seg = seg;
    s->acked.off = off;
  }
  fclose(f);
}

static void remove_segment_file(struct vq_spool *s, uint64_t id) {
  char path[4096];
  segment_path(s, id, path, sizeof path);
  if (unlink(path) != 0 && errno != ENOENT)
    vq_log(VQ_LOG_ERROR, s->label, "cannot remove %s: %s", path,
           strerror(errno));
}

int vq_spool_open(struct vq_spool **out, const char *dir, const char *sink_id,
                  uint64_t max_bytes, const char *label) {
  struct vq_spool *s = calloc(1, sizeof *s);
  DIR *d;
  struct dirent *e;
  uint64_t *ids = NULL;
  size_t nids = 0, i;
  int rc;

  if (s == NULL) return -ENOMEM;
  s->wfd = -1;
  snprintf(s->label, sizeof s->label, "%s", label);
  s->max_bytes = max_bytes;
  s->segment_max = max_bytes / 8 < (64u << 10) ? (64u << 10) : max_bytes / 8;
  s->path = malloc(strlen(dir) + strlen(sink_id) + 2);
  s->wbuf = malloc(WRITE_BUFFER);
  if (s->path == NULL || s->wbuf == NULL) {
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
  d = opendir(s->path);
  if (d == NULL) {
    rc = -errno;
    vq_log(VQ_LOG_ERROR, label, "cannot open spool directory %s: %s",
           s->path, strerror(errno));
    goto fail;
  }
  while ((e = readdir(d)) != NULL) {
    char *end;
    uint64_t id;
    uint64_t *grown;
    if (strlen(e->d_name) != 20 || strcmp(e->d_name + 16, ".seg") != 0)
      continue;
    id = strtoull(e->d_name, &end, 16);
    if (end != e->d_name + 16) continue;
    grown = realloc(ids, (nids + 1) * sizeof *ids);
    if (grown == NULL) {
      closedir(d);
      rc = -ENOMEM;
      goto fail;
    }
    ids = grown;
    ids[nids++] = id;
  }
  closedir(d);
  if (nids > 0) qsort(ids, nids, sizeof *ids, compare_u64);
  s->segs = calloc(nids ? nids : 1, sizeof *s->segs);
  if (s->segs == NULL) {
    rc = -ENOMEM;
    goto fail;
  }
  for (i = 0; i < nids; i++) {
    char path[4096];
    struct stat st;
    segment_path(s, ids[i], path, sizeof path);
    if (stat(path, &st) != 0) continue;
    if (st.st_size == 0) {
      /* An empty segment from an earlier run holds nothing. */
      remove_segment_file(s, ids[i]);
      continue;
    }
    s->segs[s->nsegs].id = ids[i];
    s->segs[s->nsegs].size = (uint64_t)st.st_size;
    s->total_bytes += (uint64_t)st.st_size;
    s->nsegs++;
  }
  free(ids);
  ids = NULL;
  load_ack(s);
  s->read = s->acked;
  /* Count what is left to deliver, reporting damage once. */
  for (i = 0; i < s->nsegs; i++) {
    if (s->segs[i].id < s->acked.seg) continue;
    scan_segment(s, s->segs[i].id,
                 s->segs[i].id == s->acked.seg ? (size_t)s->acked.off : 0,
                 &s->unread_records, 1);
  }
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
  if (s->nsegs == 1) s->acked.seg = s->read.seg = s->segs[0].id;
  *out = s;
  return 0;
fail:
  free(ids);
  free(s->segs);
  free(s->path);
  free(s->wbuf);
  free(s);
  return rc;
}

void vq_spool_close(struct vq_spool *s) {
  if (s == NULL) return;
  if (vq_spool_flush(s) != 0)
    vq_log(VQ_LOG_ERROR, s->label, "cannot write the spool: %s",
           strerror(errno));
  if (s->wfd >= 0) {
    fsync(s->wfd);
    close(s->wfd);
  }
  free(s->segs);
  free(s->out);
  free(s->path);
  free(s->wbuf);
  free(s);
}

/* Remove the oldest segment to make room; its unread records are lost. */
static void drop_oldest_segment(struct vq_spool *s, uint64_t *dropped) {
  struct segment old = s->segs[0];
  uint64_t records = 0;
  size_t from = 0;
  if (s->read.seg > old.id) from = (size_t)old.size; /* all read already */
  else if (s->read.seg == old.id) from = (size_t)s->read.off;
  if (from < old.size) scan_segment(s, old.id, from, &records, 0);
  *dropped += records;
  s->unread_records -= records < s->unread_records ? records : s->unread_records;
  remove_segment_file(s, old.id);
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
    save_ack(s);
  }
}

int vq_spool_append(struct vq_spool *s, const struct vq_item *it,
                    uint64_t *dropped) {
  size_t plen = vq_item_encode(it, NULL, 0), flen = FRAME_HEADER + plen;
  unsigned char stack[4096], *frame = stack;
  struct segment *last;
  int rc;

  if (plen > FRAME_MAX) return -EMSGSIZE;
  if (flen > sizeof stack && (frame = malloc(flen)) == NULL) return -ENOMEM;
  vq_item_encode(it, frame + FRAME_HEADER, plen);
  put_le32(frame, FRAME_MAGIC);
  put_le32(frame + 4, (uint32_t)plen);
  put_le32(frame + 8, (uint32_t)crc32(0L, frame + FRAME_HEADER, (uInt)plen));

  last = &s->segs[s->nsegs - 1];
  if (last->size > 0 && last->size + flen > s->segment_max) {
    rc = vq_spool_flush(s);
    close(s->wfd);
    s->wfd = -1;
    if (rc == 0) rc = open_write_segment(s, last->id + 1);
    if (rc != 0) goto out;
  }
  while (s->total_bytes + flen > s->max_bytes && s->nsegs > 1)
    drop_oldest_segment(s, dropped);
  if (s->wlen + flen > WRITE_BUFFER && (rc = vq_spool_flush(s)) != 0) goto out;
  if (flen > WRITE_BUFFER) {
    rc = write_all(s->wfd, frame, flen);
    if (rc != 0) goto out;
  } else {
    memcpy(s->wbuf + s->wlen, frame, flen);
    s->wlen += flen;
  }
  s->segs[s->nsegs - 1].size += flen;
  s->total_bytes += flen;
  s->unread_records += it->reading.nrecords;
  rc = 0;
out:
  if (frame != stack) free(frame);
  return rc;
}

struct vq_item *vq_spool_next(struct vq_spool *s) {
  for (;;) {
    struct segment *seg = find_segment(s, s->read.seg);
    unsigned char header[FRAME_HEADER], *payload;
    char path[4096];
    struct vq_item *it = NULL;
    size_t i;
    uint32_t plen;
    int fd, ok;

    if (seg == NULL) return NULL;
    if (s->read.off >= seg->size) {
      /* End of this segment: move on if a newer one exists. */
      for (i = 0; i < s->nsegs && s->segs[i].id <= seg->id; i++) {}
      if (i == s->nsegs) return NULL;
      s->read.seg = s->segs[i].id;
      s->read.off = 0;
      continue;
    }
    if (seg == &s->segs[s->nsegs - 1] && vq_spool_flush(s) != 0) return NULL;
    segment_path(s, seg->id, path, sizeof path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    ok = pread(fd, header, FRAME_HEADER, (off_t)s->read.off) == FRAME_HEADER &&
         get_le32(header) == FRAME_MAGIC &&
         (plen = get_le32(header + 4)) <= FRAME_MAX &&
         s->read.off + FRAME_HEADER + plen <= seg->size;
    payload = ok ? malloc(plen ? plen : 1) : NULL;
    if (payload != NULL) {
      ok = pread(fd, payload, plen, (off_t)(s->read.off + FRAME_HEADER)) ==
               (ssize_t)plen &&
           crc32(0L, payload, plen) == get_le32(header + 8);
      if (ok) it = vq_item_decode(payload, plen, vq_intern);
      free(payload);
    }
    close(fd);
    if (it == NULL) {
      /* Corrupt: resynchronise on the next valid frame of the segment. */
      size_t len, off = (size_t)s->read.off + 1;
      unsigned char *buf = read_segment(s, seg->id, &len);
      while (buf != NULL && off < len && frame_at(buf, len, off) == 0) off++;
      free(buf);
      s->corrupt_frames++;
      vq_log(VQ_LOG_ERROR, s->label,
             "spool segment %016" PRIx64 ": corrupt frame at offset %" PRIu64
             "; skipped %zu bytes",
             seg->id, s->read.off, off - (size_t)s->read.off);
      s->read.off = off > seg->size ? seg->size : off;
      continue;
    }
    s->read.off += FRAME_HEADER + plen;
    if (s->nout == s->capout) {
      size_t cap = s->capout ? s->capout * 2 : 64;
      struct position *grown = realloc(s->out, cap * sizeof *grown);
      if (grown == NULL) {
        vq_item_unref(it);
        s->read.off -= FRAME_HEADER + plen;
        return NULL;
      }
      s->out = grown;
      s->capout = cap;
    }
    s->out[s->nout++] = s->read;
    s->unread_records -= it->reading.nrecords < s->unread_records
                             ? it->reading.nrecords
                             : s->unread_records;
    return it;
  }
}

void vq_spool_ack(struct vq_spool *s, uint32_t n) {
  if (n == 0 || s->nout == 0) return;
  if (n > s->nout) n = (uint32_t)s->nout;
  s->acked = s->out[n - 1];
  memmove(s->out, s->out + n, (s->nout - n) * sizeof *s->out);
  s->nout -= n;
  /* Whole segments behind the acknowledged position are done. */
  while (s->nsegs > 1 && s->segs[0].id < s->acked.seg) {
    remove_segment_file(s, s->segs[0].id);
    s->total_bytes -= s->segs[0].size;
    memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof *s->segs);
    s->nsegs--;
  }
  if (s->nsegs > 1 && s->segs[0].id == s->acked.seg &&
      s->acked.off >= s->segs[0].size) {
    remove_segment_file(s, s->segs[0].id);
    s->total_bytes -= s->segs[0].size;
    memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof *s->segs);
    s->nsegs--;
    s->acked.seg = s->segs[0].id;
    s->acked.off = 0;
  }
  save_ack(s);
}

uint64_t vq_spool_pending_records(const struct vq_spool *s) {
  return s->unread_records;
}

uint64_t vq_spool_corrupt_frames(const struct vq_spool *s) {
  return s->corrupt_frames;
}

int vq_spool_fill_percent(const struct vq_spool *s) {
  uint64_t p = s->total_bytes * 100 / s->max_bytes;
  return p > 100 ? 100 : (int)p;
}

/* Capture replays (doc/design.md §9.3).  A capture is read once however
 * many sources replay it: sources with the same file, speed and loop
 * setting share one reader (a "feed"), which hands every line to each of
 * them as the live scanner hands every advertisement to each subscriber,
 * and each keeps the lines for its address.  Sixty sources on one
 * 100,000-line capture parse 100,000 lines, not six million. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ble_adv_source.h"
#include "ble_capture.h"

/* Capture lines handled per loop turn at speed 0 (keeps the loop live). */
#define REPLAY_BATCH 256
/* A replay at full speed can wait: it pauses while a sink it feeds is more
 * than half full rather than have its queue drop records. */
#define REPLAY_BACKLOG_PAUSE 50

struct ble_feed {
  struct ble_feed *next;
  char *path;
  double speed;
  int loop;
  FILE *f;
  uv_timer_t timer;
  uv_idle_t idle; /* steps due now: a 0 ms timer would starve I/O */
  int open_handles;
  struct ble_src **srcs;
  size_t nsrcs, capsrcs;
  struct ble_capture_line pending;
  int have_pending;
  unsigned long lineno;
  unsigned passes;         /* completed rounds of a looping replay */
  int64_t first_ns;        /* capture time of the round's first line */
  uint64_t start_ms;       /* loop time it was replayed at */
  int ended;
  void (*done)(struct ble_src *s);
  struct ble_src *done_src;
};

static struct ble_feed *feeds;
static uint64_t lines_parsed;

uint64_t ble_replay_lines_parsed(void) { return lines_parsed; }

static uv_loop_t *feed_loop(const struct ble_feed *f) {
  return f->srcs[0]->host->loop(f->srcs[0]->ctx);
}

/* The feed's counters and log lines go to its first source. */
static struct ble_src *speaker(const struct ble_feed *f) { return f->srcs[0]; }

static void feed_finish(struct ble_feed *f) {
  size_t i;
  f->ended = 1;
  for (i = 0; i < f->nsrcs; i++) ble_finish(f->srcs[i]);
}

/* Next advertisement line: 0, or 1 at the end of the file. */
static int next_line(struct ble_feed *f) {
  char line[BLE_CAPTURE_LINE_MAX];
  struct ble_src *s = speaker(f);
  for (;;) {
    int rc, too_long;
    if (!ble_capture_read_line(f->f, line, sizeof line, &too_long)) return 1;
    f->lineno++;
    lines_parsed++;
    s->host->stat_add(s->ctx, "capture_lines", 1);
    rc = too_long ? -EINVAL : ble_capture_parse_line(line, &f->pending);
    if (rc == 0) return 0;
    if (rc < 0) {
      s->host->stat_add(s->ctx, "capture_bad_line", 1);
      if (f->passes == 0) /* a looping replay says it once */
        ble_log(s, VQ_LOG_WARN, "%s:%lu: %s, skipped", f->path, f->lineno,
                too_long ? "line too long for a capture line" : "not a capture line");
    }
  }
}

static void step(struct ble_feed *f);
static void timer_cb(uv_timer_t *t) { step(t->data); }
static void idle_cb(uv_idle_t *i) {
  uv_idle_stop(i);
  step(i->data);
}

static void schedule(struct ble_feed *f, uint64_t delay_ms) {
  int rc = delay_ms == 0 ? uv_idle_start(&f->idle, idle_cb)
                         : uv_timer_start(&f->timer, timer_cb, delay_ms, 0);
  if (rc != 0) {
    ble_log(speaker(f), VQ_LOG_ERROR, "cannot start a timer (%s); replay ends",
            uv_strerror(rc));
    feed_finish(f);
  }
}

static int backlog_high(const struct ble_feed *f) {
  size_t i;
  for (i = 0; i < f->nsrcs; i++) {
    const struct ble_src *s = f->srcs[i];
    if (VQ_HOST_HAS(s->host, backlog) && s->host->backlog(s->ctx) >= REPLAY_BACKLOG_PAUSE)
      return 1;
  }
  return 0;
}

static void rewind_feed(struct ble_feed *f) {
  size_t i;
  rewind(f->f);
  f->lineno = 0;
  f->passes++;
  f->first_ns = -1;
  /* The devices' repeat memory too, or nothing of the next round would
   * be emitted. */
  for (i = 0; i < f->nsrcs; i++) ble_rewind(f->srcs[i]);
}

static void step(struct ble_feed *f) {
  int n;
  if (f->ended || f->nsrcs == 0) return;
  if (f->speed == 0 && backlog_high(f)) {
    schedule(f, 0);
    return;
  }
  for (n = 0; n < REPLAY_BATCH; n++) {
    struct ble_capture_line *l = &f->pending;
    uint64_t now;
    size_t i;
    if (!f->have_pending) {
      if (next_line(f) != 0) {
        if (f->loop && f->first_ns >= 0) {
          rewind_feed(f);
          schedule(f, f->speed > 0 ? 1000 : 0);
        } else {
          feed_finish(f);
        }
        return;
      }
      f->have_pending = 1;
      if (f->first_ns < 0) {
        f->first_ns = l->time_ns;
        f->start_ms = uv_now(feed_loop(f));
      }
    }
    now = uv_now(feed_loop(f)) - f->start_ms;
    if (f->speed > 0) {
      /* Real time (or a multiple): wait until the line is due. */
      double due = (double)(l->time_ns - f->first_ns) / 1e6 / f->speed;
      if (due > (double)now) {
        schedule(f, (uint64_t)(due - (double)now) + 1);
        return;
      }
    }
    f->have_pending = 0;
    /* A looping replay stands in for a live device: readings get the
     * current time; otherwise the capture's own time. */
    for (i = 0; i < f->nsrcs && !f->ended; i++)
      ble_input(f->srcs[i], l->addr, NULL, l->has_rssi, l->rssi, l->data, l->len,
                f->loop ? 0 : l->time_ns);
    if (f->nsrcs == 0 || f->ended) return;
  }
  schedule(f, 0);
}

static void feed_closed(uv_handle_t *h) {
  struct ble_feed *f = h->data;
  if (--f->open_handles > 0) return;
  if (f->done != NULL) f->done(f->done_src);
  free(f->srcs);
  free(f->path);
  free(f);
}

static struct ble_feed *feed_new(struct ble_src *s) {
  uv_loop_t *loop = s->host->loop(s->ctx);
  struct ble_feed *f = calloc(1, sizeof *f);
  int e;
  if (f == NULL || (f->path = strdup(s->capture)) == NULL) {
    free(f);
    return NULL;
  }
  if ((f->f = fopen(s->capture, "r")) == NULL) {
    e = errno;
    ble_log(s, VQ_LOG_ERROR, "cannot open capture %s: %s", s->capture, strerror(e));
    free(f->path);
    free(f);
    errno = e;
    return NULL;
  }
  f->speed = s->speed;
  f->loop = s->loop;
  f->first_ns = -1;
  /* uv_*_init cannot fail on a live loop. */
  uv_timer_init(loop, &f->timer);
  uv_idle_init(loop, &f->idle);
  f->timer.data = f;
  f->idle.data = f;
  f->open_handles = 2;
  return f;
}

int ble_replay_join(struct ble_src *s) {
  struct ble_feed *f;
  int rc;
  for (f = feeds; f != NULL; f = f->next)
    if (!f->ended && f->lineno == 0 && f->passes == 0 && strcmp(f->path, s->capture) == 0 &&
        f->speed == s->speed && f->loop == s->loop &&
        f->srcs[0]->host->loop(f->srcs[0]->ctx) == s->host->loop(s->ctx))
      break;
  if (f == NULL) {
    if ((f = feed_new(s)) == NULL) return errno ? -errno : -ENOMEM;
    f->next = feeds;
    feeds = f;
    if ((rc = uv_idle_start(&f->idle, idle_cb)) != 0) {
      ble_log(s, VQ_LOG_ERROR, "cannot start the replay: %s", uv_strerror(rc));
      return -ENOMEM; /* the feed is closed when s leaves */
    }
  }
  if (f->nsrcs == f->capsrcs) {
    size_t cap = f->capsrcs ? f->capsrcs * 2 : 4;
    struct ble_src **n = realloc(f->srcs, cap * sizeof *n);
    if (n == NULL) return -ENOMEM;
    f->srcs = n;
    f->capsrcs = cap;
  }
  f->srcs[f->nsrcs++] = s;
  s->feed = f;
  s->feed_open = 1;
  return 0;
}

void ble_replay_leave(struct ble_src *s, void (*done)(struct ble_src *s)) {
  struct ble_feed *f = s->feed, **pp;
  size_t i;
  s->feed = NULL;
  s->feed_open = 0;
  if (f == NULL) {
    if (done != NULL) done(s);
    return;
  }
  for (i = 0; i < f->nsrcs; i++)
    if (f->srcs[i] == s) {
      memmove(&f->srcs[i], &f->srcs[i + 1], (f->nsrcs - i - 1) * sizeof *f->srcs);
      f->nsrcs--;
      break;
    }
  if (f->nsrcs > 0) {
    if (done != NULL) done(s);
    return;
  }
  /* The last one: close the file and the handles, then say done. */
  for (pp = &feeds; *pp != NULL; pp = &(*pp)->next)
    if (*pp == f) {
      *pp = f->next;
      break;
    }
  fclose(f->f);
  f->f = NULL;
  f->ended = 1;
  f->done = done;
  f->done_src = s;
  uv_close((uv_handle_t *)&f->timer, feed_closed);
  uv_close((uv_handle_t *)&f->idle, feed_closed);
}

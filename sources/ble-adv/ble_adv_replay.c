/* Capture replays (doc/design.md §9.3).  A capture is read once however
 * many sources replay it: sources with the same file, speed and loop
 * setting share one reader (a "feed"), which hands every line to each of
 * them as the live scanner hands every advertisement to each subscriber,
 * and each keeps the lines for its address.  Sixty sources on one
 * 100,000-line capture parse 100,000 lines, not six million. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ble_adv_source.h"
#include "ble_capture.h"
#include "vq_replay.h"


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
  struct vq_replay pacing;
  struct vq_replay_event event; /* of the pending line */
  unsigned long lineno;
  unsigned long lines_this_pass; /* advertisement lines */
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
      if (f->pacing.passes == 0) /* a looping replay says it once */
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

/* The fullest sink queue any source of the feed writes to (percent), or -1
 * when no host can tell. */
static int backlog(const struct ble_feed *f) {
  int most = -1;
  size_t i;
  for (i = 0; i < f->nsrcs; i++) {
    const struct ble_src *s = f->srcs[i];
    if (VQ_HOST_HAS(s->host, backlog)) {
      int b = s->host->backlog(s->ctx);
      if (b > most) most = b;
    }
  }
  return most;
}

static int64_t wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void rewind_feed(struct ble_feed *f) {
  size_t i;
  rewind(f->f);
  f->lineno = 0;
  vq_replay_wrap(&f->pacing);
  /* The devices' repeat memory too, or nothing of the next round would
   * be emitted. */
  for (i = 0; i < f->nsrcs; i++) ble_rewind(f->srcs[i]);
}

/* Pacing, stamps and back-pressure are lib/replay's (doc/design.md §9.3).
 * A capture carries the time of each advertisement: a replay that plays
 * once gives readings those times; a looping one stands in for a live
 * device and gives them the replay's own stamps, which go on increasing
 * across the wraps. */
static void step(struct ble_feed *f) {
  unsigned n;
  if (f->ended || f->nsrcs == 0) return;
  for (n = 0; n < VQ_REPLAY_BURST; n++) {
    struct ble_capture_line *l = &f->pending;
    /* A capture records no name and no bond. */
    struct ble_heard heard = {NULL, 0, 0, -1};
    uint64_t wait = 0;
    size_t i;
    if (!f->have_pending) {
      if (next_line(f) != 0) {
        if (f->loop && f->lines_this_pass > 0) {
          f->lines_this_pass = 0;
          rewind_feed(f);
          continue;
        }
        feed_finish(f);
        return;
      }
      f->lines_this_pass++;
      f->have_pending = 1;
      f->event = vq_replay_place(&f->pacing, l->time_ns, uv_now(feed_loop(f)), wall_ns());
    }
    if ((wait = vq_replay_wait_ms(&f->pacing, &f->event, uv_now(feed_loop(f)))) > 0) {
      schedule(f, wait);
      return;
    }
    f->have_pending = 0;
    heard.has_rssi = l->has_rssi;
    heard.rssi = l->rssi;
    for (i = 0; i < f->nsrcs && !f->ended; i++)
      ble_input(f->srcs[i], l->addr, &heard, l->data, l->len,
                f->loop ? f->event.stamp_ns : l->time_ns);
    if (f->nsrcs == 0 || f->ended) return;
    if (vq_replay_throttle(&f->pacing, backlog(f), &wait)) {
      schedule(f, wait);
      return;
    }
  }
  schedule(f, 0); /* give the loop a turn */
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
  vq_replay_init(&f->pacing, s->speed);
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
    if (!f->ended && f->lineno == 0 && f->pacing.passes == 0 && strcmp(f->path, s->capture) == 0 &&
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

/* The test host's parts (see vqt_host.h): its state, shared by
 * vqt_host.c (set-up, the daemon's steps, running the loop, what the test
 * asks) and vqt_table.c (the struct vq_host functions the plugin calls). */
#ifndef VQT_HOST_INT_H
#define VQT_HOST_INT_H

#include <stdint.h>

#include <uv.h>

#include "vqt_host.h"

enum phase { PH_NEW, PH_CHECKED, PH_CREATED, PH_STARTED, PH_STOPPING,
             PH_STOPPED };

struct strv {
  char **v;
  size_t n, cap;
};

struct vq_ctx {
  struct vqt_host *h;
};

struct vq_timer {
  uv_timer_t handle;
  struct vqt_host *h;
  vq_callback cb;
  void *arg;
  struct vq_timer *next;
};

struct post {
  struct post *next;
  vq_callback cb;
  void *arg;
};

struct stat_entry {
  char *name;
  int64_t value;
};

struct log_entry {
  int level;
  char *text;
};

struct submitted {
  struct vq_command cmd;
  char *source, *device, *quantity, *unit;
};

struct vqt_host {
  struct vq_ctx ctx;
  struct vq_ctx check_ctx; /* check()'s own, dead once check() returns */
  struct vq_host table;
  uv_loop_t *loop;
  const struct vq_plugin *plugin;
  uint32_t kind;
  char *id, *label;
  struct strv kv; /* key, value, key, value: secrets resolved */
  void *instance;
  enum phase phase;
  int in_check, in_create, in_step, errors_in_step, stopped_cb, verbose;

  struct vqt_list readings;
  struct strv lines;
  struct strv tag_seen; /* "DEVICE\nKEY", value, ... */
  uint64_t seq;
  size_t distinct_times;
  void (*on_emit)(void *arg, const struct vq_reading *r);
  void *on_emit_arg;

  struct log_entry *logs;
  size_t nlogs;
  struct strv errors;
  struct stat_entry *stats;
  size_t nstats;
  int bugs, finished;

  struct vq_timer *timers;
  size_t ntimers;
  uv_async_t async;
  uv_mutex_t post_lock;
  struct post *posts;
  int posts_closed; /* after the instance stopped: post() refuses */

  int backlog;
  char *state_dir;

  struct vqt_done *done;
  size_t ndone;
  uint64_t next_ticket;
  struct submitted *submitted;
  size_t nsubmitted;

  int batch_pending;
  const struct vq_batch *batch;
  struct vqt_batch_result batch_result;
};

/* vqt_table.c */
extern const struct vq_host vqt_table;
int vqt_strv_push(struct strv *s, const char *text);
void vqt_strv_free(struct strv *s);
/* Count and print ABI misuse the core would log as a plugin bug. */
void vqt_bug(struct vqt_host *h, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
const struct vq_option *vqt_schema_option(const struct vqt_host *h,
                                          const char *key);
/* The value given in the section, or NULL. */
const char *vqt_given(const struct vqt_host *h, const char *key);
/* A problem with key (NULL: the section) of the step running. */
void vqt_add_error(struct vqt_host *h, const char *key, const char *msg);
const struct vq_writable *vqt_find_writable(const struct vqt_host *h,
                                            const char *quantity);
void vqt_timer_stop(struct vq_ctx *ctx, struct vq_timer *timer);
void vqt_command_done(struct vq_ctx *ctx, uint64_t ticket, int status,
                      const char *message);
void vqt_run_posts(uv_async_t *a);

#endif

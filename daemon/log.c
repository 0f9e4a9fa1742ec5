#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int log_level = VQ_LOG_INFO;
static int log_target = VQ_LOG_STDERR;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void vq_log_setup(int level, int target) {
  log_level = level;
  if (target == VQ_LOG_SYSLOG && log_target != VQ_LOG_SYSLOG)
    openlog("vicacq", LOG_PID, LOG_DAEMON);
  log_target = target;
}

int vq_log_get_level(void) { return log_level; }

int vq_log_level_parse(const char *text) {
  size_t i;
  for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
    if (strcmp(text, level_names[i]) == 0) return (int)i;
  return -1;
}

void vq_logv(int level, const char *prefix, const char *fmt, va_list ap) {
  static const int syslog_priority[] = {LOG_ERR, LOG_WARNING, LOG_INFO,
                                        LOG_DEBUG};
  char message[2048];

  if (level > log_level) return;
  if (level < VQ_LOG_ERROR) level = VQ_LOG_ERROR;
  if (level > VQ_LOG_DEBUG) level = VQ_LOG_DEBUG;
  vsnprintf(message, sizeof message, fmt, ap);

  if (log_target == VQ_LOG_SYSLOG) {
    if (prefix != NULL)
      syslog(syslog_priority[level], "%s: %s", prefix, message);
    else
      syslog(syslog_priority[level], "%s", message);
    return;
  }
  /* One fprintf per line so lines from the loop thread stay whole. */
  if (prefix != NULL)
    fprintf(stderr, "vicacq: %s: %s: %s\n", level_names[level], prefix,
            message);
  else
    fprintf(stderr, "vicacq: %s: %s\n", level_names[level], message);
}

void vq_log(int level, const char *prefix, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vq_logv(level, prefix, fmt, ap);
  va_end(ap);
}

int vq_ratelimit_pass(struct vq_ratelimit *rl, uint64_t now_ms,
                      uint64_t *suppressed) {
  if (!rl->started || now_ms - rl->last_ms >= rl->interval_ms) {
    rl->started = 1;
    rl->last_ms = now_ms;
    *suppressed = rl->suppressed;
    rl->suppressed = 0;
    return 1;
  }
  rl->suppressed++;
  return 0;
}

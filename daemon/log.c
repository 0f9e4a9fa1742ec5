#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_level = VQ_LOG_INFO;
static int log_target = VQ_LOG_STDERR;
static int stderr_is_journal;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void vq_log_setup(int level, int target) {
  log_level = level;
  stderr_is_journal = vq_log_stderr_is_journal();
  if (target == VQ_LOG_SYSLOG && log_target != VQ_LOG_SYSLOG)
    openlog("vicacq", LOG_PID, LOG_DAEMON);
  log_target = target;
}

int vq_log_get_level(void) { return log_level; }

int vq_log_stderr_is_journal(void) {
  const char *stream = getenv("JOURNAL_STREAM");
  unsigned long long dev, ino;
  struct stat st;
  char end;

  /* systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connected to
   * stdout/stderr (systemd.exec(5)); a stderr redirected since then (a
   * pipe, a file) is another file and gets no prefixes. */
  if (stream == NULL ||
      sscanf(stream, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
      fstat(STDERR_FILENO, &st) != 0)
    return 0;
  return (unsigned long long)st.st_dev == dev &&
         (unsigned long long)st.st_ino == ino;
}

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
  if (stderr_is_journal) {
    /* "<N>" is the syslog priority the journal files the line under
     * (sd-daemon(3)); the journal adds the name and time itself. */
    if (prefix != NULL)
      fprintf(stderr, "<%d>%s: %s\n", syslog_priority[level], prefix,
              message);
    else
      fprintf(stderr, "<%d>%s\n", syslog_priority[level], message);
  } else if (prefix != NULL)
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

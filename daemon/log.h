/* Logging to stderr or syslog with levels and an instance prefix. */
#ifndef VQ_LOG_H
#define VQ_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include "vicacq/plugin.h"

/* Where log lines go. */
enum vq_log_target { VQ_LOG_STDERR = 0, VQ_LOG_SYSLOG = 1 };

void vq_log_setup(int level, int target);

/* Non-zero when stderr is still the journal stream systemd connected
 * (JOURNAL_STREAM names its device and inode).  Lines written to stderr
 * then start with a syslog priority, "<3>" for errors, so that
 * journalctl -p filters them. */
int vq_log_stderr_is_journal(void);
int vq_log_get_level(void);

/* "error", "warn", "info", "debug" -> VQ_LOG_*, or -1. */
int vq_log_level_parse(const char *text);

/* prefix may be NULL ("source.shunt" otherwise). */
void vq_log(int level, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vq_logv(int level, const char *prefix, const char *fmt, va_list ap);

#define vq_error(...) vq_log(VQ_LOG_ERROR, NULL, __VA_ARGS__)
#define vq_warn(...) vq_log(VQ_LOG_WARN, NULL, __VA_ARGS__)
#define vq_info(...) vq_log(VQ_LOG_INFO, NULL, __VA_ARGS__)
#define vq_debug(...) vq_log(VQ_LOG_DEBUG, NULL, __VA_ARGS__)

/* Rate limit for repeated messages: at most one line per interval; the
 * lines held back in between are counted and reported with the next. */
struct vq_ratelimit {
  uint64_t interval_ms;
  uint64_t last_ms;
  uint64_t suppressed;
  int started;
};

/* Non-zero when a line may be logged now; *suppressed gets the number held
 * back since the last one. */
int vq_ratelimit_pass(struct vq_ratelimit *rl, uint64_t now_ms,
                      uint64_t *suppressed);

#endif

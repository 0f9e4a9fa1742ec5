/* mkdir -p for plugins that keep files in the host's state directory
 * (vq_host.state_dir names it; it may not exist yet).  Header-only. */
#ifndef VQ_MKDIRS_H
#define VQ_MKDIRS_H

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Create `path` and its missing parents with `mode`.  0, or -errno of the
 * first component that could not be made (an existing one is fine). */
static inline int vq_mkdirs(const char *path, mode_t mode) {
  char buf[4096];
  size_t i, n = strlen(path);
  if (n == 0) return -EINVAL;
  if (n >= sizeof buf) return -ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  for (i = 1; i <= n; i++) {
    char c = buf[i];
    if (c != '/' && c != '\0') continue;
    buf[i] = '\0';
    if (mkdir(buf, mode) != 0 && errno != EEXIST) return -errno;
    buf[i] = c;
  }
  return 0;
}

#endif

/* Secrets given as KEY_file = PATH: the first line of the file. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "pipeline_int.h"
#include "vq_secret.h"

int vq_secret_read(const char *path, char **out, char *err,
                   size_t errlen) {
  char buf[1024];
  struct stat info;
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    return -errno;
  }
  if (fstat(fileno(f), &info) == 0 && (info.st_mode & 077) != 0)
    /* ssh's rule for private keys; a warning so that a shared read-only
     * mount still works. */
    vq_warn("%s: readable by group or others (mode %03o): chmod 600 it",
            path, (unsigned)(info.st_mode & 0777));
  if (fgets(buf, sizeof buf, f) == NULL) buf[0] = '\0';
  fclose(f);
  *out = strdup(vq_trim(buf));
  vq_secret_clear(buf, sizeof buf);
  if (*out == NULL) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  if (**out == '\0') {
    snprintf(err, errlen, "'%s' is empty", path);
    free(*out);
    *out = NULL;
    return -EINVAL;
  }
  return 0;
}

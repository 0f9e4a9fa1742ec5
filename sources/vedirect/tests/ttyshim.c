/* LD_PRELOAD shim for the pty tests: a pseudo-terminal has no modem lines,
 * so TIOCMGET/TIOCMSET/TIOCMBIS/TIOCMBIC fail with ENOTTY/EINVAL, and
 * libserialport refuses to open or configure the port.  Answer them with
 * success (DSR, CTS and CD up) when the kernel says no; every other ioctl
 * goes through unchanged. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/ioctl.h>

int ioctl(int fd, unsigned long request, ...);

int ioctl(int fd, unsigned long request, ...) {
  static int (*real)(int, unsigned long, ...);
  va_list ap;
  void *arg;
  int rc;
  va_start(ap, request);
  arg = va_arg(ap, void *);
  va_end(ap);
  if (real == NULL) {
    real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    if (real == NULL) {
      errno = ENOSYS;
      return -1;
    }
  }
  rc = real(fd, request, arg);
  if (rc < 0 && (errno == ENOTTY || errno == EINVAL) &&
      (request == TIOCMGET || request == TIOCMSET || request == TIOCMBIS ||
       request == TIOCMBIC)) {
    if (request == TIOCMGET && arg) *(int *)arg = TIOCM_DSR | TIOCM_CTS | TIOCM_CD;
    errno = 0;
    return 0;
  }
  return rc;
}

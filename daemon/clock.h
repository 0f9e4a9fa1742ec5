/* Wall-clock time in nanoseconds (record timestamps, command deadlines). */
#ifndef VQ_CLOCK_H
#define VQ_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t vq_realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif

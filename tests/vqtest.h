/* A tiny test harness: each test program runs its checks, prints one line
 * per failure with file:line and both values, and exits 1 if any failed
 * (0 when all passed, 77 to skip). */
#ifndef VQTEST_H
#define VQTEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int vqtest_failures;
static int vqtest_checks;

#define CHECK(cond)                                                          \
  do {                                                                       \
    vqtest_checks++;                                                         \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,      \
              #cond);                                                        \
      vqtest_failures++;                                                     \
    }                                                                        \
  } while (0)

#define CHECK_INT(a, b)                                                      \
  do {                                                                       \
    long long a_ = (long long)(a), b_ = (long long)(b);                      \
    vqtest_checks++;                                                         \
    if (a_ != b_) {                                                          \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,    \
              __LINE__, #a, #b, a_, b_);                                     \
      vqtest_failures++;                                                     \
    }                                                                        \
  } while (0)

#define CHECK_DBL(a, b)                                                      \
  do {                                                                       \
    double a_ = (a), b_ = (b);                                               \
    vqtest_checks++;                                                         \
    if (!(fabs(a_ - b_) <= 1e-9 * (1 + fabs(b_)))) {                         \
      fprintf(stderr, "%s:%d: %s == %s failed: %.17g != %.17g\n", __FILE__,  \
              __LINE__, #a, #b, a_, b_);                                     \
      vqtest_failures++;                                                     \
    }                                                                        \
  } while (0)

#define CHECK_STR(a, b)                                                      \
  do {                                                                       \
    const char *a_ = (a), *b_ = (b);                                         \
    vqtest_checks++;                                                         \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                   \
      fprintf(stderr, "%s:%d: %s == %s failed:\n  got:  %s\n  want: %s\n",   \
              __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",                \
              b_ ? b_ : "(null)");                                           \
      vqtest_failures++;                                                     \
    }                                                                        \
  } while (0)

#define VQTEST_END()                                                         \
  do {                                                                       \
    fprintf(stderr, "%d checks, %d failed\n", vqtest_checks,                 \
            vqtest_failures);                                                \
    return vqtest_failures ? 1 : (vqtest_checks ? 0 : 1);                    \
  } while (0)

#endif

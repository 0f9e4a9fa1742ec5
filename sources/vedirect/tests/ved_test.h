/* Minimal test helpers for the vedirect unit tests (automake harness:
 * exit 0 pass, 77 skip, anything else fail). */
#ifndef VED_TEST_H
#define VED_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ved_test_failures;

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,     \
              #cond);                                                      \
      ved_test_failures++;                                                 \
    }                                                                      \
  } while (0)

#define CHECK_INT(a, b)                                                    \
  do {                                                                     \
    long long a_ = (long long)(a), b_ = (long long)(b);                    \
    if (a_ != b_) {                                                        \
      fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__,      \
              __LINE__, #a, a_, b_);                                       \
      ved_test_failures++;                                                 \
    }                                                                      \
  } while (0)

#define CHECK_DBL(a, b)                                                    \
  do {                                                                     \
    double a_ = (a), b_ = (b);                                             \
    if (!(fabs(a_ - b_) <= 1e-9 * (fabs(b_) > 1 ? fabs(b_) : 1))) {        \
      fprintf(stderr, "%s:%d: %s == %.9g, expected %.9g\n", __FILE__,      \
              __LINE__, #a, a_, b_);                                       \
      ved_test_failures++;                                                 \
    }                                                                      \
  } while (0)

#define CHECK_STR(a, b)                                                    \
  do {                                                                     \
    const char *a_ = (a), *b_ = (b);                                       \
    if (a_ == NULL || b_ == NULL ? a_ != b_ : strcmp(a_, b_) != 0) {       \
      fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,  \
              __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");       \
      ved_test_failures++;                                                 \
    }                                                                      \
  } while (0)

#define TEST_END()                                                         \
  do {                                                                     \
    if (ved_test_failures) {                                               \
      fprintf(stderr, "%d check(s) failed\n", ved_test_failures);          \
      return 1;                                                            \
    }                                                                      \
    return 0;                                                              \
  } while (0)

/* Read a whole test data file; exits 99 (hard error) when it is missing. */
static inline unsigned char *ved_test_read(const char *name, size_t *len) {
  char path[1024];
  const char *dir = getenv("VED_TESTDATA");
  FILE *f;
  unsigned char *buf;
  long n;
  if (dir == NULL) dir = VED_TESTDATA;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(99);
  }
  buf = malloc((size_t)n + 1);
  if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(99);
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

#endif

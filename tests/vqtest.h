/* The assertion macros of every test program in the tree (the core's,
 * the plugins', tests/lib's): each program runs its checks, prints one
 * line per failure with file:line and both values, and ends with
 * VQTEST_END(): exit 1 if any failed or none ran, 0 when all passed (77
 * to skip, 99 for a hard error such as missing test data).  The test host
 * that goes with it is tests/lib (README.md there). */
#ifndef VQTEST_H
#define VQTEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A check that says more when it fails: printf-style details after the
 * condition. */
#define CHECK_MSG(cond, ...)                                                 \
  do {                                                                       \
    vqtest_checks++;                                                         \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,      \
              #cond);                                                        \
      fprintf(stderr, __VA_ARGS__);                                          \
      fputc('\n', stderr);                                                   \
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

/* A whole file, NUL-terminated (not counted in *len; caller frees).  A
 * file that cannot be read ends the program with 99: test data missing is
 * a hard error, not a failure of the code under test. */
static inline unsigned char *vqtest_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  long n = -1;
  if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
      fread(buf, 1, (size_t)n, f) == (size_t)n) {
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
  }
  fprintf(stderr, "cannot read %s\n", path);
  exit(99);
}

#endif

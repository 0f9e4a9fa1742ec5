/* check() (ABI 1.2): what start() would refuse is reported at --check,
 * on the key it is about, without opening anything. */
#include <errno.h>

#include "ved_test.h"
#include "vqt_host.h"

static uv_loop_t loop;

/* check() with the section kv; the error count mentioning `needle`. */
static int check(const char *const *kv, const char *needle, size_t *hits) {
  struct vqt_host *h =
      vqt_host_new(&loop, ved_test_plugin(), VQ_KIND_SOURCE, "test", kv);
  int rc = vqt_host_check(h);
  *hits = needle ? vqt_host_errors(h, needle) : vqt_host_errors(h, NULL);
  CHECK_INT(vqt_host_bugs(h), 0);
  vqt_host_free(h);
  return rc;
}

struct bad {
  const char *kv[7];
  const char *error; /* what the report says */
};

static const struct bad bad[] = {
    {{"port", "tcp://localhost", NULL}, "key 'port': 'tcp://localhost': expected tcp://HOST:PORT"},
    {{"port", "tcp://localhost:", NULL}, "key 'port'"},
    {{"port", "tcp://localhost:0", NULL}, "bad TCP port number"},
    {{"port", "tcp://localhost:99999", NULL}, "bad TCP port number"},
    {{"port", "tcp://localhost:-1", NULL}, "bad TCP port number"},
    {{"port", "tcp://:80", NULL}, "expected tcp://HOST:PORT"},
    {{"port", "tcp://[]:80", NULL}, "expected tcp://HOST:PORT"},
    {{"port", "file:", NULL}, "expected file:PATH"},
    {{"port", "", NULL}, "key 'port': is required"},
    {{"mode", "dump", NULL}, "key 'port': is required"},
    {{"port", "/dev/ttyUSB0", "capture", "x.dump", NULL}, "key 'capture': give either"},
    {{"port", "/dev/ttyUSB0", "loop", "yes", NULL}, "key 'loop': only a replay"},
    {{"port", "tcp://h:1", "speed", "2", NULL}, "key 'speed': only a replay"},
    /* the schema, through the core's parsers */
    {{"port", "/dev/ttyUSB0", "hex_probe", "maybe", NULL}, "key 'hex_probe': 'maybe' is not a boolean"},
    {{"port", "/dev/ttyUSB0", "seconds", "2 weeks", NULL}, "key 'seconds'"},
};

static const char *const good[][7] = {
    {"port", "/dev/ttyUSB0", NULL},
    {"port", "tcp://127.0.0.1:8899", NULL},
    {"port", "tcp://[::1]:8899", NULL},
    {"port", "file:/nonexistent.dump", "loop", "yes", "speed", "1", NULL},
    {"capture", "/nonexistent.dump", "loop", "yes", NULL},
    {"port", "/dev/ttyUSB0", "mode", "dump", "seconds", "1h", NULL},
};

int main(void) {
  size_t i, hits;
  uv_loop_init(&loop);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_INT(check(bad[i].kv, bad[i].error, &hits), -EINVAL);
    if (hits != 1)
      fprintf(stderr, "case %zu: no error '%s'\n", i, bad[i].error);
    CHECK_INT(hits, 1);
  }
  for (i = 0; i < sizeof good / sizeof good[0]; i++) {
    CHECK_INT(check(good[i], NULL, &hits), 0);
    CHECK_INT(hits, 0);
  }
  /* the dump tool's preset and keys are in the schema */
  {
    const struct vq_tool *t = ved_test_plugin()->tools;
    CHECK(t != NULL && t[0].name != NULL);
    if (t != NULL && t[0].name != NULL) {
      CHECK_STR(t[0].name, "dump");
      CHECK_STR(t[0].preset, "mode=dump");
      CHECK(t[1].name == NULL);
    }
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  CHECK_INT(uv_loop_close(&loop), 0);
  VQTEST_END();
}

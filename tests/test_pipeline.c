/* Pipeline file validation: every error path names FILE:LINE, the section
 * and the key, and nothing of a bad file is accepted; good files give the
 * expected model.  Uses the fixture plugins through the real loader. */
#include "config.h"

#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "vqtest.h"

static char dir[] = "/tmp/vq-test-pipeline-XXXXXX";
static char log_path[4200];
static char last_log[8192];
static int saved_stderr;

static const char *head =
    "[source.fix]\nplugin = fixture-source\n"
    "[sink.out]\nplugin = fixture-sink\n"
    "[route.r]\nfrom = fix\nto = out\n";

/* Load `text` from a file; return the pipeline (or NULL) and leave what
 * was logged in `logged`. */
static struct vq_pipeline *load(const char *text, char *logged, size_t len) {
  char path[4200];
  FILE *f;
  struct vq_pipeline *p;
  size_t n;
  snprintf(path, sizeof path, "%s/p.ini", dir);
  f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  int fd;
  fflush(stderr);
  fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || dup2(fd, 2) < 0) abort();
  close(fd);
  p = vq_pipeline_load(path);
  fflush(stderr);
  dup2(saved_stderr, 2);
  f = fopen(log_path, "r");
  n = fread(logged, 1, len - 1, f);
  logged[n] = '\0';
  fclose(f);
  snprintf(last_log, sizeof last_log, "%s", logged);
  return p;
}

/* The file must be refused with a message containing every `want`. */
static void expect_error(int line, const char *text, const char *want1,
                         const char *want2) {
  char logged[8192];
  struct vq_pipeline *p = load(text, logged, sizeof logged);
  if (p != NULL) {
    fprintf(stdout, "line %d: accepted a bad file:\n%s\n", line, text);
    vqtest_failures++;
    vq_pipeline_free(p);
    return;
  }
  vqtest_checks++;
  if (strstr(logged, want1) == NULL || (want2 && strstr(logged, want2) == NULL)) {
    fprintf(stdout, "line %d: message lacks '%s'/'%s':\n%s\n", line, want1,
            want2 ? want2 : "", logged);
    vqtest_failures++;
  }
}

static char *cat(const char *a, const char *b) {
  static char buf[80000];
  snprintf(buf, sizeof buf, "%s%s", a, b);
  return buf;
}

int main(void) {
  char logged[8192], secret_path[4200], text[8192];
  struct vq_pipeline *p;
  FILE *f;

  saved_stderr = dup(2);
  if (mkdtemp(dir) == NULL) return 99;
  snprintf(log_path, sizeof log_path, "%s/log", dir);
  vq_log_setup(VQ_LOG_INFO, VQ_LOG_STDERR);
  if (vq_loader_init(NULL) != 0) return 99;

  /* A good file. */
  p = load(cat(head, "[vicacq]\nlog_level = debug\nshutdown_timeout = 2s\n"
                     "[source.two]\nplugin = fixture-source\ncount = 0x10\n"
                     "  write.fixture.setpoint = 3..25 ; indented, comment\n"
                     "[route.more]\nfrom = t*, fix\nto = out\n"
                     "match = battery.*, fixture.value.0\n"),
           logged, sizeof logged);
  CHECK(p != NULL);
  if (p != NULL) {
    struct vq_section *s = vq_pipeline_find(p, VQ_SECTION_SOURCE, "two");
    CHECK(s != NULL);
    CHECK_INT(p->daemon.log_level, VQ_LOG_DEBUG);
    CHECK_INT(p->daemon.shutdown_timeout_ms, 2000);
    CHECK_INT(p->nroutes, 2);
    CHECK_INT(p->routes[1].nfrom, 2);
    CHECK_STR(p->routes[1].from[1], "fix");
    CHECK_INT(p->routes[1].nmatch, 2);
    CHECK_STR(p->routes[1].match[1], "fixture.value.0");
    if (s != NULL) {
      CHECK_INT(s->ngrants, 1);
      CHECK_DBL(s->grants[0].min, 3);
      CHECK_DBL(s->grants[0].max, 25);
      CHECK_STR(vq_section_get(s, "count")->value, "0x10");
      CHECK_INT(vq_section_get(s, "count")->line, 13);
    }
    vq_pipeline_free(p);
  }

  /* Secrets from a file, resolved, never logged. */
  snprintf(secret_path, sizeof secret_path, "%s/secret", dir);
  f = fopen(secret_path, "w");
  fputs("hunter2\n", f);
  fclose(f);
  snprintf(text, sizeof text, "%s[source.s]\nplugin = fixture-source\n"
           "secret_file = %s\n", head, secret_path);
  p = load(text, logged, sizeof logged);
  CHECK(p != NULL);
  if (p != NULL) {
    const struct vq_kv *kv =
        vq_section_get(vq_pipeline_find(p, VQ_SECTION_SOURCE, "s"), "secret");
    CHECK(kv != NULL && kv->secret);
    if (kv) CHECK_STR(kv->value, "hunter2");
    vq_pipeline_free(p);
  }
  /* A bad value of a secret is reported without the value. */
  snprintf(text, sizeof text, "%s[source.s]\nplugin = fixture-source\n"
           "secret = hunter2\nsecret_file = %s\n", head, secret_path);
  expect_error(__LINE__, text, "give either secret or secret_file", NULL);
  CHECK(strstr(last_log, "hunter2") == NULL);
  expect_error(__LINE__, cat(head, "[source.s]\nplugin = fixture-source\n"
                                   "secret_file = /nonexistent/x\n"),
               "p.ini:10: [source.s] key 'secret_file'", "cannot read");

  /* Every error path. */
  expect_error(__LINE__, cat(head, "[source.fix2]\nplugin = fixture-source\n"
                                   "cuont = 3\n"),
               "p.ini:10: [source.fix2] key 'cuont': unknown key", "count");
  expect_error(__LINE__, cat(head, "[source.b]\nplugin = fixture-source\n"
                                   "count = abc\n"),
               "p.ini:10: [source.b] key 'count': 'abc' is not an integer",
               NULL);
  expect_error(__LINE__, cat(head, "[source.b]\nplugin = fixture-source\n"
                                   "records = 1000\n"),
               "key 'records': '1000' is outside 1..64", NULL);
  expect_error(__LINE__, cat(head, "[source.b]\nplugin = fixture-source\n"
                                   "interval = soon\n"),
               "key 'interval': 'soon' is not a duration", NULL);
  expect_error(__LINE__, cat(head, "[source.b]\nplugin = fixture-source\n"
                                   "finish = perhaps\n"),
               "key 'finish': 'perhaps' is not a boolean", NULL);
  expect_error(__LINE__, cat(head, "[sink.b]\nplugin = stdout\n"
                                   "format = xml\n"),
               "p.ini:10: [sink.b] key 'format': 'xml' is not one of "
               "json|influx|text", NULL);
  expect_error(__LINE__, cat(head, "[sink.b]\nformat = json\n"),
               "p.ini:8: [sink.b] key 'plugin': missing (required)", NULL);
  expect_error(__LINE__, cat(head, "[sink.b]\nplugin = nosuch\n"),
               "p.ini:9: [sink.b] key 'plugin': plugin 'nosuch' not found",
               "fixture-source");
  expect_error(__LINE__, cat(head, "[sink.b]\nplugin = fixture-source\n"),
               "'fixture-source' is not a sink plugin", NULL);
  expect_error(__LINE__, cat(head, "[sink.b]\nplugin = Bad/Name\n"),
               "invalid plugin name 'Bad/Name'", NULL);
  expect_error(__LINE__, cat(head, "[source.fix]\nplugin = fixture-source\n"),
               "p.ini:8: [source.fix]: duplicate section (first at line 1)",
               NULL);
  expect_error(__LINE__, cat(head, "[source.b]\nplugin = fixture-source\n"
                                   "count = 1\ncount = 2\n"),
               "p.ini:11: [source.b] key 'count': given twice (first at "
               "line 10)", NULL);
  expect_error(__LINE__, cat(head, "[input.b]\nplugin = x\n"),
               "p.ini:8: [input.b]: unknown section", NULL);
  expect_error(__LINE__, cat(head, "[source.a b]\nplugin = x\n"),
               "invalid id 'a b'", NULL);
  expect_error(__LINE__, cat(head, "[source.vicacq]\nplugin = x\n"),
               "source id 'vicacq' is reserved", NULL);
  expect_error(__LINE__, cat("plugin = x\n", head),
               "p.ini:1: key 'plugin' outside of any section", NULL);
  expect_error(__LINE__, cat(head, "this line has no equals sign\n"),
               "p.ini:8: syntax error", NULL);
  expect_error(__LINE__, cat(head, "[route.x]\nfrom = nosource\nto = out\n"),
               "p.ini:9: [route.x] key 'from': no source matches 'nosource'",
               NULL);
  expect_error(__LINE__, cat(head, "[route.x]\nfrom = fix\nto = nosink\n"),
               "p.ini:10: [route.x] key 'to': no sink matches 'nosink'", NULL);
  expect_error(__LINE__, cat(head, "[route.x]\nfrom = fix\n"),
               "[route.x] key 'to': missing (required)", NULL);
  expect_error(__LINE__, cat(head, "[route.x]\nfrom = fix,,\nto = out\n"),
               "[route.x] key 'from': empty item in list", NULL);
  expect_error(__LINE__, cat(head, "[source.b]\nplugin = fixture-source\n"
                                   "write.fixture.setpoint = 25..3\n"),
               "p.ini:10: [source.b] key 'write.fixture.setpoint': '25..3' "
               "is not a range", NULL);
  expect_error(__LINE__, cat(head, "[source.b]\nplugin = fixture-source\n"
                                   "write.fixture.setpoint = 3..250\n"),
               "3..250 exceeds what fixture-source allows (0..100 A)", NULL);
  expect_error(__LINE__, cat(head, "[source.b]\nplugin = fixture-source\n"
                                   "write.battery.voltage = 3..25\n"),
               "plugin fixture-source cannot write 'battery.voltage'", NULL);
  expect_error(__LINE__, cat(head, "[vicacq]\nlog_level = loud\n"),
               "p.ini:9: [vicacq] key 'log_level': 'loud' is not one of", NULL);
  expect_error(__LINE__, cat(head, "[vicacq]\nthreads = 4\n"),
               "[vicacq] key 'threads': unknown key", NULL);
  expect_error(__LINE__, cat(head, "[sink.q]\nplugin = fixture-sink\n"
                                   "queue_max_bytes = lots\n"),
               "key 'queue_max_bytes': 'lots' is not a size", NULL);
  expect_error(__LINE__,
               "[sink.out]\nplugin = fixture-sink\n",
               "no [source.ID] section", NULL);
  expect_error(__LINE__,
               "[source.fix]\nplugin = fixture-source\n"
               "[sink.out]\nplugin = fixture-sink\n",
               "no [route.ID] section", NULL);
  {
    /* 600 characters were too many for libinih's 200-byte lines; the
     * limit is now 64 KiB. */
    static char longline[70000];
    memset(longline, 'a', 600);
    memcpy(longline, "x = ", 4);
    longline[598] = '\n';
    longline[599] = '\0';
    expect_error(__LINE__, cat(head, longline),
                 "[route.r] key 'x': unknown key", NULL);
    memset(longline, 'a', sizeof longline);
    memcpy(longline, "x = ", 4);
    longline[sizeof longline - 2] = '\n';
    longline[sizeof longline - 1] = '\0';
    expect_error(__LINE__, cat(head, longline), "p.ini:8: line too long", NULL);
  }
  /* Several errors are all reported, with a count. */
  expect_error(__LINE__, cat(head, "[source.b]\nplugin = fixture-source\n"
                                   "count = x\nrecords = y\n"),
               "p.ini: 2 errors; nothing started", NULL);

  {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
  }
  vq_loader_shutdown();
  VQTEST_END();
}

/* The times and the pace of readings (issue 9 item 8): a replay gives
 * every reading its own plausible time, speed and loop pace across the end
 * of the file (also when the file ends on a block's checksum byte), the
 * `bytes` counter counts each byte once, and blocks that arrive over TCP
 * in one read get distinct times.  The pacing logic itself is tested with
 * an injected clock in lib/replay/tests; these run the plugin on its real
 * loop and count, with bounds loose enough for a loaded machine. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "ved_test.h"
#include "vqt_host.h"

static uv_loop_t loop;

static struct vqt_host *host(const char *const *kv) {
  return vqt_host_new(&loop, ved_test_plugin(), VQ_KIND_SOURCE, "test", kv);
}

static const char *file_port(const char *name, char *buf, size_t len) {
  char path[1024];
  snprintf(buf, len, "file:%s", ved_test_path(name, path, sizeof path));
  return buf;
}

/* Readings of `quantity`: how many, and how many distinct times. */
static size_t with(struct vqt_host *h, const char *quantity, size_t *distinct,
                   int64_t *first, int64_t *last) {
  size_t i, n = 0;
  int64_t prev = INT64_MIN;
  *distinct = 0;
  for (i = 0; i < vqt_host_nreadings(h); i++) {
    const struct vq_reading *r = vqt_host_reading(h, i);
    if (vqt_record(r, quantity) == NULL) continue;
    if (n == 0) *first = r->time_ns;
    *last = r->time_ns;
    if (r->time_ns > prev) (*distinct)++;
    prev = r->time_ns;
    n++;
  }
  return n;
}

/* 247 valid blocks at full speed: 247 distinct times, one device cycle
 * (1 s) apart, not one time for all (InfluxDB kept 1 point of 248). */
static void test_distinct_times(void) {
  char port[1100];
  const char *kv[] = {"port", file_port("bluesolar-mppt-75-15_fw1.23.dump",
                                        port, sizeof port),
                      NULL};
  struct vqt_host *h = host(kv);
  size_t n, distinct = 0;
  int64_t first = 0, last = 0;
  CHECK_INT(vqt_host_start(h), 0);
  CHECK_INT(vqt_host_run_until_finished(h, 10000), 1);
  n = with(h, "battery.voltage", &distinct, &first, &last);
  CHECK_INT(n, 247);
  CHECK_INT(distinct, 247);
  CHECK_INT(vqt_host_distinct_times(h), vqt_host_nreadings(h));
  /* 246 cycles from the first block to the last, plus line time */
  CHECK(last - first >= 246000000000LL && last - first < 247000000000LL);
  CHECK_INT(vqt_host_stop(h), 0);
  CHECK_INT(vqt_host_bugs(h), 0);
  vqt_host_free(h);
}

/* loop = yes, speed = 20: a 6-cycle file is 20 cycles a second across
 * every wrap, not a burst of thousands at each one. */
static void test_loop_pace(void) {
  char port[1100];
  const char *kv[] = {"port", file_port("smartsolar-mppt-75-15_fw1.56.dump",
                                        port, sizeof port),
                      "loop", "yes", "speed", "20", NULL};
  struct vqt_host *h = host(kv);
  size_t n, distinct = 0;
  int64_t first = 0, last = 0;
  CHECK_INT(vqt_host_start(h), 0);
  vqt_host_run_for(h, 1000);
  n = with(h, "battery.voltage", &distinct, &first, &last);
  fprintf(stderr, "loop, speed 20, 1 s: %zu readings\n", n);
  CHECK(n >= 10 && n <= 25); /* 20 due (the first at once) */
  CHECK_INT(distinct, n);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);
}

/* A one-block file that ends on the block's checksum byte, loop = yes,
 * speed = 1: one reading a second (was 93,793 in 2 s). */
static void test_one_block_loop(void) {
  size_t len, end;
  unsigned char *buf = ved_test_read("smartsolar-mppt-75-15_fw1.56.dump", &len);
  const unsigned char *cs = memmem(buf, len, "Checksum\t", 9);
  char tmp[] = "/tmp/vedoneXXXXXX", port[64];
  int fd = mkstemp(tmp);
  const char *kv[] = {"port", port, "loop", "yes", "speed", "1", NULL};
  struct vqt_host *h;
  size_t n, distinct = 0;
  int64_t first = 0, last = 0;
  CHECK(cs != NULL && fd >= 0);
  if (cs == NULL || fd < 0) return;
  end = (size_t)(cs - buf) + 10; /* through the checksum byte */
  CHECK_INT(write(fd, "\r\n", 2), 2);
  CHECK_INT(write(fd, buf, end), (long long)end);
  close(fd);
  snprintf(port, sizeof port, "file:%s", tmp);
  h = host(kv);
  CHECK_INT(vqt_host_start(h), 0);
  vqt_host_run_for(h, 2000);
  n = with(h, "battery.voltage", &distinct, &first, &last);
  fprintf(stderr, "one-block file, loop, speed 1, 2 s: %zu readings\n", n);
  CHECK(n >= 2 && n <= 4); /* at 0, 1 and 2 s */
  CHECK_INT(distinct, n);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);
  unlink(tmp);
  free(buf);
}

/* A paced replay hands the port's reads over in parts: each byte is
 * counted once. */
static void test_bytes_once(void) {
  char port[1100];
  size_t len;
  unsigned char *buf = ved_test_read("smartsolar-mppt-75-15_fw1.56.dump", &len);
  const char *kv[] = {"port", file_port("smartsolar-mppt-75-15_fw1.56.dump",
                                        port, sizeof port),
                      "speed", "50", NULL};
  struct vqt_host *h = host(kv);
  CHECK_INT(vqt_host_start(h), 0);
  CHECK_INT(vqt_host_run_until_finished(h, 5000), 1);
  CHECK_INT(vqt_host_stat(h, "bytes"), (long long)len);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);
  free(buf);
}

/* At full speed a replay waits while the sinks it feeds are half full or
 * more, and goes on when they drain: nothing is pushed into full queues. */
static void test_backlog_waits(void) {
  char port[1100];
  const char *kv[] = {"port", file_port("bluesolar-mppt-75-15_fw1.23.dump",
                                        port, sizeof port),
                      NULL};
  struct vqt_host *h = host(kv);
  size_t n, distinct = 0;
  int64_t first = 0, last = 0;
  vqt_host_set_backlog(h, 80);
  CHECK_INT(vqt_host_start(h), 0);
  vqt_host_run_for(h, 300);
  n = with(h, "battery.voltage", &distinct, &first, &last);
  CHECK_INT(n, 1); /* the block before the first look at the backlog */
  CHECK_INT(vqt_host_finished(h), 0);
  vqt_host_set_backlog(h, 49);
  CHECK_INT(vqt_host_run_until_finished(h, 10000), 1);
  n = with(h, "battery.voltage", &distinct, &first, &last);
  CHECK_INT(n, 247);
  CHECK_INT(distinct, 247);
  CHECK_INT(vqt_host_stop(h), 0);
  CHECK_INT(vqt_host_bugs(h), 0);
  vqt_host_free(h);
}

/* ---- TCP: a bridge that sends three blocks in one write ---- */

static struct {
  uv_tcp_t server, client;
  int accepted;
  unsigned char *data;
  size_t len;
  uv_write_t req;
} peer;

static void peer_written(uv_write_t *req, int status) { (void)req; (void)status; }

static void peer_accept(uv_stream_t *server, int status) {
  uv_buf_t b;
  if (status < 0 || peer.accepted) return;
  uv_tcp_init(&loop, &peer.client);
  if (uv_accept(server, (uv_stream_t *)&peer.client) != 0) return;
  peer.accepted = 1;
  b = uv_buf_init((char *)peer.data, (unsigned)peer.len);
  uv_write(&peer.req, (uv_stream_t *)&peer.client, &b, 1, peer_written);
}

static void test_tcp_one_read(void) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int blen = sizeof bound, port_no;
  char port[64];
  size_t len, n, distinct = 0, i, end = 0;
  int64_t first = 0, last = 0;
  unsigned char *buf = ved_test_read("smartsolar-mppt-75-15_fw1.56.dump", &len);
  const char *kv[] = {"port", port, NULL};
  struct vqt_host *h;
  /* the first three blocks (CR LF first: the capture starts at PID) */
  peer.data = malloc(len + 2);
  memcpy(peer.data, "\r\n", 2);
  for (i = 0; i < 3; i++) {
    const unsigned char *cs = memmem(buf + end, len - end, "Checksum\t", 9);
    if (cs == NULL) break;
    end = (size_t)(cs - buf) + 10;
  }
  memcpy(peer.data + 2, buf, end);
  peer.len = end + 2;
  uv_tcp_init(&loop, &peer.server);
  uv_ip4_addr("127.0.0.1", 0, &addr);
  CHECK_INT(uv_tcp_bind(&peer.server, (const struct sockaddr *)&addr, 0), 0);
  CHECK_INT(uv_listen((uv_stream_t *)&peer.server, 1, peer_accept), 0);
  uv_tcp_getsockname(&peer.server, (struct sockaddr *)&bound, &blen);
  port_no = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  snprintf(port, sizeof port, "tcp://127.0.0.1:%d", port_no);
  h = host(kv);
  CHECK_INT(vqt_host_start(h), 0);
  vqt_host_run_until_readings(h, 4, 5000); /* link.online + 3 blocks */
  n = with(h, "battery.voltage", &distinct, &first, &last);
  CHECK_INT(n, 3);
  CHECK_INT(distinct, 3);
  /* as far apart as the bytes between their ends take at 19200 baud */
  CHECK(last - first > 100000000LL && last - first < 1000000000LL);
  CHECK_INT(vqt_host_stop(h), 0);
  vqt_host_free(h);
  if (peer.accepted) uv_close((uv_handle_t *)&peer.client, NULL);
  uv_close((uv_handle_t *)&peer.server, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  free(peer.data);
  free(buf);
}

int main(void) {
  uv_loop_init(&loop);
  test_distinct_times();
  test_loop_pace();
  test_one_block_loop();
  test_bytes_once();
  test_backlog_waits();
  test_tcp_one_read();
  uv_run(&loop, UV_RUN_NOWAIT);
  CHECK_INT(uv_loop_close(&loop), 0);
  VQTEST_END();
}

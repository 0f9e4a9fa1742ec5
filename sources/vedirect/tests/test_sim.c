/* A Blue Smart IP22 simulator on a pty (through the real libserialport
 * open/configure/read/write path) or on a local TCP port, driven against
 * the plugin: text blocks with async HEX frames, Get/Set of register
 * 0xEDF0, the current-limit command path (above 25.5 A, unchanged value not
 * rewritten, spacing, out-of-range, device refusal), unplug and replug.
 *
 *   test_sim tcp
 *   test_sim serial   (root: private mount namespace, the pty bind-mounted
 *                      over /dev/ttyS0; needs LD_PRELOAD=ttyshim.so) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <termios.h>
#include <unistd.h>

#include "../vedirect_hex.h"
#include "ved_test.h"
#include "vqt_host.h"

#define TTY_NODE "/dev/ttyS0"

static uv_loop_t loop;
static int serial_mode;

/* ---- the simulated device --------------------------------------------- */

static struct {
  int plugged;
  /* serial */
  int master, slave;
  uv_poll_t poll;
  int poll_open;
  /* tcp */
  uv_tcp_t server, client;
  int server_open, client_open;
  int port;
  /* device state */
  uint16_t limit; /* 0.1 A */
  int nset, nget;
  uint16_t last_set;
  uint64_t set_ms[16];
  char line[256];
  size_t llen;
  int inhex;
  unsigned uptime;
} sim;

static void sim_write(const void *buf, size_t len);

static void tcp_written(uv_write_t *req, int status) {
  (void)status;
  free(req);
}

static void sim_write(const void *buf, size_t len) {
  if (!sim.plugged) return;
  if (serial_mode) {
    /* the pty buffer is large enough for a block; a full one drops */
    if (write(sim.master, buf, len) < 0 && errno != EAGAIN) {
      perror("sim write");
    }
  } else if (sim.client_open) {
    uv_write_t *req = malloc(sizeof *req + len);
    uv_buf_t b;
    memcpy(req + 1, buf, len);
    b = uv_buf_init((char *)(req + 1), (unsigned)len);
    if (uv_write(req, (uv_stream_t *)&sim.client, &b, 1, tcp_written) < 0)
      free(req);
  }
}

static void sim_send_frame(uint8_t cmd, const uint8_t *p, size_t n) {
  char out[VED_HEX_FRAME_MAX];
  int len = ved_hex_encode(cmd, p, n, out, sizeof out);
  if (len > 0) sim_write(out, (size_t)len);
}

static void sim_block(void) {
  char blk[300];
  int n;
  size_t i;
  uint8_t sum = 0;
  n = snprintf(blk, sizeof blk,
               "\r\nPID\t0xA332\r\nFWE\t0342FF\r\nSER#\tHQ2249TNFVM\r\nV\t26870"
               "\r\nI\t%u\r\nT\t---\r\nERR\t0\r\nCS\t3\r\nHC#\t57825\r\nChecksum\t",
               sim.limit * 100u);
  for (i = 0; i < (size_t)n; i++) sum = (uint8_t)(sum + (uint8_t)blk[i]);
  blk[n++] = (char)(uint8_t)(0x100 - sum);
  sim_write(blk, (size_t)n);
  /* like the IP22: async frames right after the checksum byte */
  sim_write(":A0920000022\n", 13);
  {
    uint8_t p[7] = {0x20, 0x01, 0, 0, 0, 0, 0};
    sim.uptime++;
    p[3] = (uint8_t)sim.uptime;
    p[4] = (uint8_t)(sim.uptime >> 8);
    sim_send_frame(VED_RSP_ASYNC, p, 7); /* 0x0120 uptime */
  }
}

static void sim_hex(const char *line, size_t len) {
  struct ved_hex_frame f;
  struct ved_hex_reg r;
  uint8_t p[8];
  if (ved_hex_decode(line, len, &f) < 0) {
    sim_write(":4AAAAFD\n", 9); /* framing error */
    return;
  }
  if (f.cmd == VED_CMD_PING) {
    uint8_t v[2] = {0x42, 0x43}; /* application v3.42 */
    sim_send_frame(VED_RSP_PING, v, 2);
    return;
  }
  if ((f.cmd != VED_CMD_GET && f.cmd != VED_CMD_SET) ||
      ved_hex_reg_parse(&f, &r) < 0) {
    uint8_t u[1] = {f.cmd};
    sim_send_frame(VED_RSP_UNKNOWN, u, 1);
    return;
  }
  p[0] = (uint8_t)(r.id & 0xFF);
  p[1] = (uint8_t)(r.id >> 8);
  if (r.id != 0xEDF0) {
    p[2] = VED_FLAG_UNKNOWN_ID;
    sim_send_frame(f.cmd, p, 3);
    return;
  }
  p[2] = 0;
  if (f.cmd == VED_CMD_SET) {
    uint16_t v;
    if (ved_hex_u16(&r, &v) < 0) {
      p[2] = VED_FLAG_PARAM_ERROR;
    } else {
      if (sim.nset < 16) {
        uv_update_time(&loop);
        sim.set_ms[sim.nset] = uv_now(&loop);
      }
      sim.nset++;
      sim.last_set = v;
      /* The IP22 does not go below 25 % of its rating (3 A on a 24|12):
       * refuse with the nearest valid value, as Victron documents. */
      if (v < 30) {
        p[2] = VED_FLAG_PARAM_ERROR;
        sim.limit = 30;
      } else {
        sim.limit = v;
      }
    }
  } else {
    sim.nget++;
  }
  p[3] = (uint8_t)(sim.limit & 0xFF);
  p[4] = (uint8_t)(sim.limit >> 8);
  sim_send_frame(f.cmd, p, 5);
}

static void sim_input(const uint8_t *buf, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (buf[i] == ':') {
      sim.inhex = 1;
      sim.llen = 0;
    } else if (sim.inhex && buf[i] == '\n') {
      sim.inhex = 0;
      sim_hex(sim.line, sim.llen);
    } else if (sim.inhex && sim.llen < sizeof sim.line) {
      sim.line[sim.llen++] = (char)buf[i];
    }
  }
}

static void sim_poll_cb(uv_poll_t *h, int status, int events) {
  uint8_t buf[512];
  ssize_t n;
  (void)h;
  if (status < 0 || !(events & UV_READABLE)) return;
  n = read(sim.master, buf, sizeof buf);
  if (n > 0) sim_input(buf, (size_t)n);
}

static void sim_alloc(uv_handle_t *h, size_t s, uv_buf_t *b) {
  static char space[512];
  (void)h;
  (void)s;
  *b = uv_buf_init(space, sizeof space);
}

static void client_closed(uv_handle_t *h) {
  (void)h;
  sim.client_open = 0;
}

static void sim_tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  if (n > 0) sim_input((const uint8_t *)b->base, (size_t)n);
  else if (n < 0 && !uv_is_closing((uv_handle_t *)s))
    uv_close((uv_handle_t *)s, client_closed);
}

static void sim_accept(uv_stream_t *server, int status) {
  if (status < 0 || sim.client_open) return;
  uv_tcp_init(&loop, &sim.client);
  if (uv_accept(server, (uv_stream_t *)&sim.client) == 0) {
    sim.client_open = 1;
    uv_read_start((uv_stream_t *)&sim.client, sim_alloc, sim_tcp_read);
  } else {
    uv_close((uv_handle_t *)&sim.client, NULL);
  }
}

static int sim_plug(void) {
  if (serial_mode) {
    struct termios t;
    const char *name;
    sim.master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (sim.master < 0 || grantpt(sim.master) < 0 || unlockpt(sim.master) < 0 ||
        (name = ptsname(sim.master)) == NULL)
      return -errno;
    /* raw from the start, so nothing is echoed before the plugin
     * configures the line; keep one slave fd so the master never sees a
     * hang-up between the plugin's reconnects */
    sim.slave = open(name, O_RDWR | O_NOCTTY);
    if (sim.slave < 0 || tcgetattr(sim.slave, &t) < 0) return -errno;
    cfmakeraw(&t);
    if (tcsetattr(sim.slave, TCSANOW, &t) < 0) return -errno;
    umount2(TTY_NODE, MNT_DETACH); /* the previous pty, if any */
    if (mount(name, TTY_NODE, NULL, MS_BIND, NULL) < 0) return -errno;
    uv_poll_init(&loop, &sim.poll, sim.master);
    sim.poll_open = 1;
    uv_poll_start(&sim.poll, UV_READABLE, sim_poll_cb);
  } else {
    struct sockaddr_in a;
    int err, len = sizeof a;
    uv_tcp_init(&loop, &sim.server);
    uv_ip4_addr("127.0.0.1", sim.port, &a);
    if ((err = uv_tcp_bind(&sim.server, (const struct sockaddr *)&a, 0)) < 0 ||
        (err = uv_listen((uv_stream_t *)&sim.server, 4, sim_accept)) < 0)
      return err;
    uv_tcp_getsockname(&sim.server, (struct sockaddr *)&a, &len);
    sim.port = ntohs(a.sin_port);
    sim.server_open = 1;
  }
  sim.plugged = 1;
  return 0;
}

static void sim_unplug(void) {
  sim.plugged = 0;
  if (serial_mode) {
    if (sim.poll_open) uv_close((uv_handle_t *)&sim.poll, NULL);
    sim.poll_open = 0;
    /* closing both ends is the cable going away: the plugin's reads fail.
     * The dead pty stays mounted until the next plug, so reopening
     * fails too. */
    close(sim.slave);
    close(sim.master);
  } else {
    if (sim.client_open) uv_close((uv_handle_t *)&sim.client, client_closed);
    if (sim.server_open) uv_close((uv_handle_t *)&sim.server, NULL);
    sim.server_open = 0;
  }
}

static void sim_tick(uv_timer_t *t) {
  (void)t;
  if (sim.plugged) sim_block();
}

/* ---- the test script -------------------------------------------------- */

static struct vqt_host *host;
static int verbose;
static int step;
static uint64_t step_ms, t_unplug, last_ticket, second;
static int failed_step = -1;

static uint64_t now(void) {
  uv_update_time(&loop);
  return uv_now(&loop);
}

static void next(void) {
  step++;
  step_ms = now();
  if (verbose) fprintf(stderr, "-- step %d\n", step);
}

static int done_with(uint64_t ticket) {
  return vqt_host_done_of(host, ticket) != NULL;
}

/* The completion of the newest command. */
static const struct vqt_done *last(void) {
  static const struct vqt_done none = {0, 1, "(no completion)"};
  const struct vqt_done *d = vqt_host_done_of(host, last_ticket);
  return d ? d : &none;
}

static uint64_t command(const char *device, double value, int64_t deadline_ms) {
  return vqt_host_command(host, device, "charger.current_limit", value, "A",
                          deadline_ms);
}

#define DEV "HQ2249TNFVM"

static void script(uv_timer_t *t) {
  uint64_t n = now();
  if (n - step_ms > 8000) { /* a step that never completes fails the test */
    fprintf(stderr, "step %d timed out\n", step);
    failed_step = step;
    uv_stop(t->loop);
    return;
  }
  switch (step) {
    case 0: /* data flows; the limit in use is read once (write granted) */
      if (vqt_host_count(host, DEV " link.online=1", NULL) == 1 &&
          vqt_host_count(host, DEV " charger.current_limit=15", NULL) == 1) {
        CHECK(vqt_host_count(host, DEV " battery.voltage=26.87", NULL) >= 1);
        CHECK(vqt_host_count(host, DEV " tag product=Blue Smart IP22 Charger 24/8 (1)", NULL) == 1);
        CHECK_INT(sim.nset, 0);
        next();
        /* above 25.5 A: the high byte matters */
        last_ticket = command(DEV, 30.0, 5000);
      }
      break;
    case 1:
      if (done_with(last_ticket)) {
        CHECK_INT(last()->status, 0);
        CHECK_INT(sim.nset, 1);
        CHECK_INT(sim.last_set, 300);
        CHECK_INT(sim.limit, 300);
        CHECK_INT(vqt_host_count(host, DEV " charger.current_limit=30", NULL), 1);
        next();
        /* the same value again: read, not rewritten */
        last_ticket = command(DEV, 30.0, 5000);
      }
      break;
    case 2:
      if (done_with(last_ticket)) {
        CHECK_INT(last()->status, 0);
        CHECK(strstr(last()->message, "not rewritten") != NULL);
        CHECK_INT(sim.nset, 1);
        /* (the granted range is the core's: daemon/control.c) */
        /* wrong device */
        last_ticket = command("HQ0000XXXXX", 20.0, 5000);
        CHECK_INT(last()->status, -ENODEV);
        /* within 1 s of the last write, with a 300 ms deadline: refused
         * (after the Get that shows the value differs) */
        last_ticket = command(DEV, 20.0, 300);
        next();
      }
      break;
    case 3:
      if (done_with(last_ticket)) {
        CHECK_INT(last()->status, -EBUSY);
        CHECK(strstr(last()->message, "min_write_interval") != NULL);
        CHECK_INT(sim.nset, 1);
        /* with room before the deadline: waits for the spacing */
        last_ticket = command(DEV, 12.5, 5000);
        next();
      }
      break;
    case 4:
      if (done_with(last_ticket)) {
        CHECK_INT(last()->status, 0);
        CHECK_INT(sim.nset, 2);
        CHECK_INT(sim.last_set, 125);
        CHECK(sim.set_ms[1] - sim.set_ms[0] >= 1000);
        CHECK(vqt_host_count(host, DEV " charger.current_limit=12.5", NULL) >= 1);
        next();
      }
      break;
    case 5: /* the device refuses 1.0 A (flag 0x04) and keeps 3.0 A */
      if (n - sim.set_ms[1] > 1100) {
        last_ticket = command(DEV, 1.0, 5000);
        next();
      }
      break;
    case 6:
      if (done_with(last_ticket)) {
        CHECK_INT(last()->status, -EINVAL);
        CHECK(strstr(last()->message, "parameter error") != NULL);
        CHECK(strstr(last()->message, "3.0 A") != NULL);
        CHECK_INT(sim.last_set, 10);
        CHECK(vqt_host_count(host, DEV " charger.current_limit=3", NULL) >= 1);
        next();
      }
      break;
    case 7:
      if (n - step_ms > 1100) {
        /* one command per quantity at a time (the core supersedes
         * waiting ones): a second while one runs is refused at once */
        last_ticket = command(DEV, 22.0, 5000);
        second = command(DEV, 21.0, 5000);
        CHECK(done_with(second));
        if (done_with(second))
          CHECK_INT(vqt_host_done_of(host, second)->status, -EBUSY);
        next();
      }
      break;
    case 8:
      if (done_with(last_ticket)) {
        CHECK_INT(last()->status, 0);
        CHECK_INT(sim.last_set, 220);
        /* unplug */
        sim_unplug();
        t_unplug = n;
        next();
      }
      break;
    case 9:
      if (vqt_host_count(host, DEV " link.online=0", NULL) == 1) {
        CHECK_INT((int)vqt_host_log_count(host, VQ_LOG_DEBUG, "link lost"), 1);
        /* a command while the port is gone fails at once */
        last_ticket = command(DEV, 10.0, 5000);
        CHECK_INT(last()->status, -ENOTCONN);
        next();
      }
      break;
    case 10: /* come back after 1.5 s */
      if (n - t_unplug > 1500) {
        CHECK_INT(sim_plug(), 0);
        next();
      }
      break;
    case 11:
      if (vqt_host_count(host, DEV " link.online=1", NULL) == 2) {
        CHECK_INT((int)vqt_host_log_count(host, VQ_LOG_DEBUG, "flows again"), 1);
        CHECK_INT((int)vqt_host_log_count(host, VQ_LOG_DEBUG, "link lost"), 1); /* one log line, not one per retry */
        last_ticket = command(DEV, 25.5, 5000);
        next();
      }
      break;
    case 12:
      if (done_with(last_ticket)) {
        CHECK_INT(last()->status, 0);
        CHECK_INT(sim.last_set, 255);
        next();
        uv_stop(t->loop);
      }
      break;
    default:
      uv_stop(t->loop);
  }
}

int main(int argc, char **argv) {
  uv_timer_t blocks, driver;
  char portspec[64];
  const char *kv[] = {"port", portspec, "write.charger.current_limit", "0..40",
                      "min_write_interval", "1s", "hex_timeout", "300ms",
                      "stale_timeout", "3s", NULL};
  if (argc != 2 || (strcmp(argv[1], "tcp") && strcmp(argv[1], "serial"))) {
    fprintf(stderr, "usage: test_sim tcp|serial\n");
    return 99;
  }
  serial_mode = strcmp(argv[1], "serial") == 0;
  if (serial_mode) {
    if (geteuid() != 0) {
      fprintf(stderr, "SKIP: the pty test needs root (private mount "
                      "namespace and a bind mount over " TTY_NODE ")\n");
      return 77;
    }
    if (access(TTY_NODE, F_OK) < 0) {
      fprintf(stderr, "SKIP: no " TTY_NODE " to bind the pty over\n");
      return 77;
    }
    if (getenv("LD_PRELOAD") == NULL || strstr(getenv("LD_PRELOAD"), "ttyshim") == NULL) {
      fprintf(stderr, "SKIP: run with LD_PRELOAD=ttyshim.so (see test_sim_serial.sh)\n");
      return 77;
    }
    if (unshare(CLONE_NEWNS) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
      fprintf(stderr, "SKIP: cannot make a private mount namespace: %s\n",
              strerror(errno));
      return 77;
    }
    snprintf(portspec, sizeof portspec, "%s", TTY_NODE);
  }
  uv_loop_init(&loop);
  sim.limit = 150; /* 15.0 A */
  if (sim_plug() < 0) {
    fprintf(stderr, "cannot start the simulator: %s\n", strerror(errno));
    return 99;
  }
  if (!serial_mode) snprintf(portspec, sizeof portspec, "tcp://127.0.0.1:%d", sim.port);
  uv_timer_init(&loop, &blocks);
  uv_timer_start(&blocks, sim_tick, 100, 100); /* 10x real rate */
  uv_timer_init(&loop, &driver);
  uv_timer_start(&driver, script, 20, 20);
  step_ms = now();
  verbose = getenv("VQT_VERBOSE") != NULL;
  host = vqt_host_new(&loop, ved_test_plugin(), VQ_KIND_SOURCE, "test", kv);
  if (host == NULL || vqt_host_start(host) < 0) {
    fprintf(stderr, "plugin did not start\n");
    return 1;
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK_INT(failed_step, -1);
  CHECK_INT(step, 13);
  uv_close((uv_handle_t *)&blocks, NULL);
  uv_close((uv_handle_t *)&driver, NULL);
  sim_unplug();
  CHECK_INT(vqt_host_stop(host), 0);
  CHECK_INT(vqt_host_bugs(host), 0);
  vqt_host_free(host);
  if (serial_mode) umount2(TTY_NODE, MNT_DETACH);
  VQTEST_END();
}

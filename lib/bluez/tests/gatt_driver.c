/* Drives the connection and GATT calls of the shared BlueZ client against
 * tests/smartshunt_mock.py, as the ble-gatt source uses them, and prints
 * what happens, one line each:
 *   gatt_driver ADDRESS PIN KEEPALIVE_MS [--no-rewrite]
 * connects (discovery paused meanwhile), pairs when not bonded, sets
 * Trusted, looks the 0x6597 service up after ServicesResolved, writes the
 * keep-alive first, reads every readable value, starts notifications, and
 * rewrites the keep-alive at half its period.  Commands on stdin: "pin
 * NNNNNN" (pair again with that PIN), "disconnect", "stats" (prints
 * "STATS devices=N": the device objects the client tracks), "quit". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "vq_bluez.h"

#define SERVICE "65970000-4bda-4c1e-af4b-551c4cf74769"
#define KEEPALIVE_UUID "6597ffff-4bda-4c1e-af4b-551c4cf74769"
#define MAX_CHARS 32

static uv_loop_t *loop;
static uv_timer_t start_timer, ka_timer;
static uv_pipe_t in;
static struct vq_bluez_sub *sub;
static uint8_t addr[6];
static unsigned ka_ms;
static int rewrite = 1, trusted, resolved, looked_up;
static char paths[MAX_CHARS][160], uuids[MAX_CHARS][40];
static int notifiable[MAX_CHARS];
static size_t nchars;
static char ka_path[160];

static void say(const char *fmt, const char *a, const char *b) {
  printf(fmt, a != NULL ? a : "-", b != NULL ? b : "-");
  fputc('\n', stdout);
  fflush(stdout);
}

static const char *uuid_of(const char *path) {
  size_t i;
  for (i = 0; i < nchars; i++)
    if (strcmp(paths[i], path) == 0) return uuids[i];
  return "?";
}

static void hex_line(const char *what, const char *path, const uint8_t *v, size_t len) {
  size_t i;
  printf("%s %s ", what, uuid_of(path));
  for (i = 0; i < len; i++) printf("%02x", v[i]);
  printf("\n");
  fflush(stdout);
}

static void on_log(void *arg, int level, const char *msg) {
  (void)arg;
  printf("LOG %d %s\n", level, msg);
  fflush(stdout);
}

static void on_adv(void *arg, const struct vq_bluez_adv *a) {
  (void)arg;
  (void)a;
}

static void on_read(void *arg, const char *path, int err, const char *name,
                    const uint8_t *v, size_t len) {
  (void)arg;
  if (err < 0) say("READ ERR %s %s", uuid_of(path), name);
  else hex_line("READ", path, v, len);
}

static void on_notify(void *arg, int err, const char *name, const char *msg) {
  (void)arg;
  (void)msg;
  say(err < 0 ? "NOTIFY ERR %s %s" : "NOTIFY ok%s%s", err < 0 ? name : "", "");
}

static void write_keepalive(void);
static void on_ka_timer(uv_timer_t *t) {
  (void)t;
  write_keepalive();
}

static void on_keepalive(void *arg, int err, const char *name, const char *msg) {
  (void)arg;
  (void)msg;
  if (err < 0) {
    say("KEEPALIVE ERR %s%s", name, "");
    return;
  }
  say("KEEPALIVE ok%s%s", "", "");
  if (!looked_up) return;
  if (looked_up == 1) { /* first write: then read everything and subscribe */
    size_t i;
    looked_up = 2;
    for (i = 0; i < nchars; i++) {
      if (strcmp(uuids[i], KEEPALIVE_UUID) == 0) continue;
      if (vq_bluez_gatt_read(sub, paths[i], on_read) < 0) say("READ FAIL %s%s", uuids[i], "");
      if (notifiable[i] && vq_bluez_gatt_notify(sub, paths[i], on_notify) < 0)
        say("NOTIFY FAIL %s%s", uuids[i], "");
    }
  }
  if (rewrite) uv_timer_start(&ka_timer, on_ka_timer, ka_ms / 2, 0);
}

static void write_keepalive(void) {
  uint8_t v[2] = {(uint8_t)(ka_ms & 0xFF), (uint8_t)(ka_ms >> 8)};
  int r = vq_bluez_gatt_write(sub, ka_path, v, 2, on_keepalive);
  if (r < 0) say("KEEPALIVE FAIL %s%s", "", "");
}

static void on_chars(void *arg, int err, const struct vq_bluez_char *c, size_t n) {
  size_t i;
  (void)arg;
  if (err < 0) {
    say("LOOKUP ERR%s%s", "", "");
    return;
  }
  if (n == 0) {
    say("NOSERVICE%s%s", "", "");
    return;
  }
  nchars = 0;
  ka_path[0] = '\0';
  for (i = 0; i < n && nchars < MAX_CHARS; i++) {
    snprintf(paths[nchars], sizeof paths[0], "%s", c[i].path);
    snprintf(uuids[nchars], sizeof uuids[0], "%s", c[i].uuid);
    notifiable[nchars] = c[i].can_notify;
    if (strcmp(c[i].uuid, KEEPALIVE_UUID) == 0) snprintf(ka_path, sizeof ka_path, "%s", c[i].path);
    nchars++;
  }
  printf("CHARS %zu\n", nchars);
  fflush(stdout);
  looked_up = 1;
  write_keepalive();
}

static void maybe_lookup(void) {
  if (trusted && resolved && !looked_up && vq_bluez_gatt_lookup(sub, SERVICE, on_chars) < 0)
    say("LOOKUP FAIL%s%s", "", "");
}

static void on_trusted(void *arg, int err, const char *name, const char *msg) {
  (void)arg;
  (void)msg;
  vq_bluez_discovery_resume(sub);
  if (err < 0) {
    say("TRUST ERR %s%s", name, "");
    return;
  }
  say("TRUSTED%s%s", "", "");
  trusted = 1;
  maybe_lookup();
}

static void on_paired(void *arg, int err, const char *name, const char *msg) {
  (void)arg;
  (void)msg;
  if (err < 0) {
    say("PAIR ERR %s%s", name, "");
    return;
  }
  say("PAIRED%s%s", "", "");
  vq_bluez_trust(sub, on_trusted);
}

static int paired_now;
static void try_start(uv_timer_t *t);

static void on_connected(void *arg, int err, const char *name, const char *msg) {
  (void)arg;
  (void)msg;
  if (err < 0) {
    vq_bluez_discovery_resume(sub);
    say("CONNECT ERR %s%s", name, "");
    return;
  }
  say("CONNECTED%s%s", "", "");
  if (!paired_now) vq_bluez_pair(sub, on_paired);
  else vq_bluez_trust(sub, on_trusted);
}

static void on_state(void *arg, int err, const struct vq_bluez_device_state *st) {
  (void)arg;
  if (err < 0 || !st->known) {
    uv_timer_start(&start_timer, try_start, 50, 0);
    return;
  }
  printf("STATE paired=%d connected=%d\n", st->paired, st->connected);
  fflush(stdout);
  paired_now = st->paired;
  resolved = st->services_resolved;
  vq_bluez_discovery_pause(sub);
  if (vq_bluez_connect(sub, on_connected) < 0) say("CONNECT FAIL%s%s", "", "");
}

static void on_event(void *arg, const struct vq_bluez_event *ev) {
  (void)arg;
  switch (ev->kind) {
  case VQ_BLUEZ_EV_CONNECTED:
    printf("EV connected %d\n", ev->flag);
    if (!ev->flag) {
      uv_timer_stop(&ka_timer);
      looked_up = 0;
      trusted = 0;
      resolved = 0;
    }
    break;
  case VQ_BLUEZ_EV_PAIRED: printf("EV paired %d\n", ev->flag); break;
  case VQ_BLUEZ_EV_SERVICES_RESOLVED:
    printf("EV resolved %d\n", ev->flag);
    resolved = ev->flag;
    maybe_lookup();
    break;
  case VQ_BLUEZ_EV_VALUE: hex_line("VALUE", ev->char_path, ev->value, ev->len); break;
  case VQ_BLUEZ_EV_GONE: printf("EV gone\n"); break;
  }
  fflush(stdout);
}

static void try_start(uv_timer_t *t) {
  int r = vq_bluez_device_state(sub, on_state);
  (void)t;
  if (r < 0) uv_timer_start(&start_timer, try_start, 50, 0);
}

static void on_done(void *arg) {
  (void)arg;
  printf("DONE\n");
  fflush(stdout);
  uv_close((uv_handle_t *)&start_timer, NULL);
  uv_close((uv_handle_t *)&ka_timer, NULL);
  uv_close((uv_handle_t *)&in, NULL);
}

static void on_result(void *arg, int err, const char *name, const char *msg) {
  (void)arg;
  (void)msg;
  say(err < 0 ? "RESULT ERR %s%s" : "RESULT ok%s%s", err < 0 ? name : "", "");
}

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  static char mem[256];
  (void)h;
  (void)size;
  *buf = uv_buf_init(mem, sizeof mem - 1);
}

static void on_line(char *line) {
  if (strncmp(line, "pin ", 4) == 0) {
    printf("OWN %d\n", vq_bluez_own_device(sub, addr, line + 4, on_event));
    vq_bluez_pair(sub, on_paired);
  } else if (strcmp(line, "disconnect") == 0) {
    vq_bluez_disconnect(sub, on_result);
  } else if (strcmp(line, "stats") == 0) {
    struct vq_bluez_stats st;
    vq_bluez_get_stats(&st);
    printf("STATS devices=%u\n", st.devices);
  } else if (strcmp(line, "quit") == 0) {
    struct vq_bluez_sub *s = sub;
    uv_read_stop((uv_stream_t *)&in);
    uv_timer_stop(&ka_timer);
    sub = NULL;
    vq_bluez_unsubscribe(s, on_done, NULL);
  }
  fflush(stdout);
}

static void on_read_stdin(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  static char acc[512];
  static size_t used;
  char *nl;
  (void)s;
  if (n < 0) {
    on_line("quit");
    return;
  }
  if ((size_t)n > sizeof acc - 1 - used) n = (ssize_t)(sizeof acc - 1 - used);
  memcpy(acc + used, buf->base, (size_t)n);
  used += (size_t)n;
  acc[used] = '\0';
  while ((nl = strchr(acc, '\n')) != NULL) {
    *nl = '\0';
    on_line(acc);
    used -= (size_t)(nl + 1 - acc);
    memmove(acc, nl + 1, used + 1);
  }
}

int main(int argc, char **argv) {
  unsigned v[6];
  int i, r;
  if (argc < 4 || sscanf(argv[1], "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3],
                         &v[4], &v[5]) != 6) {
    fprintf(stderr, "usage: gatt_driver ADDRESS PIN KEEPALIVE_MS [--no-rewrite]\n");
    return 2;
  }
  for (i = 0; i < 6; i++) addr[i] = (uint8_t)v[i];
  ka_ms = (unsigned)strtoul(argv[3], NULL, 10);
  rewrite = !(argc > 4 && strcmp(argv[4], "--no-rewrite") == 0);
  loop = uv_default_loop();
  uv_timer_init(loop, &start_timer);
  uv_timer_init(loop, &ka_timer);
  uv_pipe_init(loop, &in, 0);
  uv_pipe_open(&in, 0);
  uv_read_start((uv_stream_t *)&in, alloc_cb, on_read_stdin);
  if ((r = vq_bluez_subscribe(loop, NULL, 0x02E1, on_adv, on_log, NULL, &sub)) < 0 ||
      (r = vq_bluez_own_device(sub, addr, argv[2], on_event)) < 0) {
    fprintf(stderr, "setup: %s\n", strerror(-r));
    return 1;
  }
  uv_timer_start(&start_timer, try_start, 0, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}

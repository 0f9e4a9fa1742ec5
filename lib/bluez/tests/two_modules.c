/* Loads two modules that each link libvqbluez (tests/bluez_user_a.la and
 * _b.la) into one process, as the daemon loads ble-adv and ble-gatt, and
 * runs commands read from stdin, one a line:
 *   start a|b   pause a|b   resume a|b   stop a|b   stats   quit
 * Replies "OK <command> <rc>", the modules print ADV/LOG/DONE lines and
 * stats prints "STATS connections=N starts=N stops=N subscribers=N
 * discovering=N".  For tests/test_one_client.py. */
#include <ltdl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bluez_user.h"
#include "vq_bluez.h"

struct user {
  lt_dlhandle h;
  bluez_user_start_fn start;
  bluez_user_call_fn pause, resume, stop;
};

static struct user users[2];
static uv_loop_t *loop;
static uv_poll_t input;
static char buf[256];
static size_t used;

static int load(struct user *u, const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  u->h = lt_dlopen(path);
  if (u->h == NULL) {
    fprintf(stderr, "cannot load %s: %s\n", path, lt_dlerror());
    return -1;
  }
  u->start = (bluez_user_start_fn)(uintptr_t)lt_dlsym(u->h, BLUEZ_USER_START);
  u->pause = (bluez_user_call_fn)(uintptr_t)lt_dlsym(u->h, BLUEZ_USER_PAUSE);
  u->resume = (bluez_user_call_fn)(uintptr_t)lt_dlsym(u->h, BLUEZ_USER_RESUME);
  u->stop = (bluez_user_call_fn)(uintptr_t)lt_dlsym(u->h, BLUEZ_USER_STOP);
  if (!u->start || !u->pause || !u->resume || !u->stop) {
    fprintf(stderr, "%s lacks the bluez_user symbols\n", path);
    return -1;
  }
  return 0;
}

static void command(const char *line) {
  struct vq_bluez_stats st;
  struct user *u = NULL;
  const char *sp = strchr(line, ' ');
  int rc = -1;
  if (sp != NULL && (sp[1] == 'a' || sp[1] == 'b') && sp[2] == '\0')
    u = &users[sp[1] - 'a'];
  if (strcmp(line, "stats") == 0) {
    vq_bluez_get_stats(&st);
    printf("STATS connections=%u starts=%u stops=%u subscribers=%u discovering=%d\n",
           st.bus_connections, st.discovery_starts, st.discovery_stops, st.subscribers,
           st.discovering);
    rc = 0;
  } else if (strcmp(line, "quit") == 0) {
    uv_poll_stop(&input);
    uv_close((uv_handle_t *)&input, NULL);
    rc = 0;
  } else if (u != NULL && strncmp(line, "start ", 6) == 0) {
    rc = u->start(loop);
  } else if (u != NULL && strncmp(line, "pause ", 6) == 0) {
    rc = u->pause();
  } else if (u != NULL && strncmp(line, "resume ", 7) == 0) {
    rc = u->resume();
  } else if (u != NULL && strncmp(line, "stop ", 5) == 0) {
    rc = u->stop();
  }
  printf("OK %s %d\n", line, rc);
  fflush(stdout);
}

static void on_input(uv_poll_t *h, int status, int events) {
  ssize_t n;
  char *nl;
  (void)events;
  if (status < 0) {
    command("quit");
    return;
  }
  n = read(0, buf + used, sizeof buf - 1 - used);
  if (n <= 0) {
    command("quit");
    return;
  }
  used += (size_t)n;
  buf[used] = '\0';
  while ((nl = strchr(buf, '\n')) != NULL) {
    *nl = '\0';
    command(buf);
    if (uv_is_closing((uv_handle_t *)h)) return;
    used -= (size_t)(nl + 1 - buf);
    memmove(buf, nl + 1, used + 1);
  }
  if (used == sizeof buf - 1) used = 0; /* an overlong line is dropped */
}

int main(int argc, char **argv) {
  int i;
  if (argc != 2) {
    fprintf(stderr, "usage: two_modules DIR (where bluez_user_a.la and _b.la are)\n");
    return 2;
  }
  if (lt_dlinit() != 0) return 1;
  if (load(&users[0], argv[1], "bluez_user_a.la") != 0 ||
      load(&users[1], argv[1], "bluez_user_b.la") != 0)
    return 1;
  loop = uv_default_loop();
  if (uv_poll_init(loop, &input, 0) != 0 || uv_poll_start(&input, UV_READABLE, on_input) != 0)
    return 1;
  uv_run(loop, UV_RUN_DEFAULT);
  /* Every handle, the client's too, is closed once the modules stopped. */
  i = uv_loop_close(loop);
  printf("EXIT %s\n", i == 0 ? "clean" : "handles left open");
  lt_dlexit();
  return i == 0 ? 0 : 1;
}

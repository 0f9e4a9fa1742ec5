/* A GX Modbus-TCP server for the tests, built on libmodbus's server side.
 *
 *   gx_sim --system FILE [--port N] [--log FILE] [--control FILE]
 *          [--old-firmware] [--first-delay MS]
 *
 * It serves the register image of a Victron system the way dbus-modbustcp
 * does (doc/protocols/modbus-gx.md §1, §2, §4): the register map is the
 * plugin's own table, generated from attributes.csv; each unit id serves
 * the service types the system file gives it; unit 0 and unit 100 reach the
 * same services (instance 0).  Answers: 0x01 for other function codes,
 * 0x03 for more than 125 registers, 0x02 for an address no register covers,
 * a gap, a register of a service absent at that unit, a write to an R
 * register or any write while the read/write switch is off; 0x0A for a
 * service type absent at the unit (0x0B for a unit with nothing at all in
 * --old-firmware mode, which also has the system block's old gaps).
 *
 * System file, one line per (unit, service):
 *   UNIT SERVICE [/Path=VALUE | @ADDR=WORD[,WORD...]] ...
 * VALUE is in the point's unit (encoded with the row's scale and type);
 * @ADDR gives raw words.  '#' starts a comment.
 *
 * Control file, read again on SIGHUP, one command per line:
 *   disconnect        close every client connection now
 *   delay MS          answer every request MS milliseconds late (0: off)
 *   absent UNIT       the unit answers as if it had nothing
 *   present UNIT      undo absent
 *   rw on|off         the GX's global read/write switch
 *   move UNIT NEW     the unit's services answer on NEW instead (a device
 *                     moved to another port)
 *
 * It prints "PORT n" on stdout once listening (port 0 picks a free one)
 * and logs every request to --log as "UNIT FC ADDR COUNT RESULT" (RESULT
 * "ok" or "exNN"), writes with their values.
 */
#include <errno.h>
#include <modbus.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../gx_registers.h"

#define MAX_UNITS 32
#define MAX_SERVICES_PER_UNIT 8
#define OLD_GAPS_N 4

struct unit {
  int id;           /* 0 stands for 0 and 100 */
  int absent;
  int nservices;
  int services[MAX_SERVICES_PER_UNIT];
  int read_before[MAX_SERVICES_PER_UNIT];
  uint16_t *words;  /* 65536 words, by address */
};

static struct unit units[MAX_UNITS];
static int nunits;
static int old_firmware, first_delay_ms, delay_ms, rw_on = 1;
static FILE *req_log;
static const char *control_path;
static volatile sig_atomic_t reload_control;

/* The system block's gaps before dbus-modbustcp v1.0.95
 * (doc/protocols/modbus-gx.md §4). */
static const int old_gaps[OLD_GAPS_N][2] = {
    {847, 849}, {852, 854}, {856, 859}, {861, 864}};

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static struct unit *unit_find(int id) {
  int i;
  if (id == 100) id = 0;
  for (i = 0; i < nunits; i++)
    if (units[i].id == id) return &units[i];
  return NULL;
}

static struct unit *unit_get(int id) {
  struct unit *u = unit_find(id);
  if (u != NULL) return u;
  if (nunits == MAX_UNITS) {
    fprintf(stderr, "gx_sim: too many units\n");
    exit(2);
  }
  u = &units[nunits++];
  u->id = id == 100 ? 0 : id;
  u->words = calloc(65536, sizeof *u->words);
  if (u->words == NULL) exit(2);
  return u;
}

static int unit_has(const struct unit *u, int service) {
  int i;
  for (i = 0; i < u->nservices; i++)
    if (u->services[i] == service) return i;
  return -1;
}

/* The row covering `address`, in any service. */
static const struct gx_register *row_covering(int address) {
  size_t i;
  for (i = 0; i < gx_nregisters; i++) {
    const struct gx_register *r = &gx_registers[i];
    if (address >= r->address && address < r->address + r->count) return r;
  }
  return NULL;
}

static int in_old_gap(int address) {
  int i;
  if (!old_firmware) return 0;
  for (i = 0; i < OLD_GAPS_N; i++)
    if (address >= old_gaps[i][0] && address <= old_gaps[i][1]) return 1;
  return 0;
}

/* Plausible default words so that every register reads something
 * deterministic; reserved rows read 0xFFFF as on a real GX. */
static void fill_defaults(struct unit *u, int service) {
  size_t first, count, i;
  gx_service_registers(service, &first, &count);
  for (i = first; i < first + count; i++) {
    const struct gx_register *r = &gx_registers[i];
    int k;
    for (k = 0; k < r->count; k++)
      u->words[r->address + k] =
          r->kind == GX_RESERVED ? 0xFFFF
          : r->kind == GX_STRING ? 0
          : (k == r->count - 1 ? (uint16_t)((r->address * 7) % 500) : 0);
  }
}

static int set_value(struct unit *u, int service, const char *spec) {
  const char *eq = strchr(spec, '=');
  size_t first, count, i;
  if (eq == NULL) return -1;
  if (spec[0] == '@') {
    int address = atoi(spec + 1);
    const char *p = eq + 1;
    while (*p) {
      char *end;
      unsigned long w = strtoul(p, &end, 0);
      if (end == p || w > 0xFFFF || address > 0xFFFF) return -1;
      u->words[address++] = (uint16_t)w;
      p = *end == ',' ? end + 1 : end;
      if (*end != ',' && *end != '\0') return -1;
    }
    return 0;
  }
  gx_service_registers(service, &first, &count);
  for (i = first; i < first + count; i++) {
    const struct gx_register *r = &gx_registers[i];
    const struct gx_point *pt;
    if (r->point < 0) continue;
    pt = &gx_points[r->point];
    if (strlen(pt->path) != (size_t)(eq - spec) ||
        strncmp(pt->path, spec, (size_t)(eq - spec)) != 0)
      continue;
    if (r->kind == GX_STRING) {
      const char *s = eq + 1;
      size_t n = strlen(s), k;
      for (k = 0; k < r->count; k++) {
        unsigned hi = 2 * k < n ? (unsigned char)s[2 * k] : 0;
        unsigned lo = 2 * k + 1 < n ? (unsigned char)s[2 * k + 1] : 0;
        u->words[r->address + k] = (uint16_t)(hi << 8 | lo);
      }
    } else {
      uint16_t w[2];
      /* Every register of the path gets it, as the GX serves one D-Bus
       * value through all of them; one a type cannot hold wraps, like a
       * double on the GX does (doc/protocols/modbus-gx.md §3). */
      if (gx_encode_value(r, atof(eq + 1), w) != 0) {
        double raw = atof(eq + 1) / pt->unit_factor * r->scale;
        long long v = (long long)(raw < 0 ? raw - 0.5 : raw + 0.5);
        w[0] = (uint16_t)(r->count == 1 ? v & 0xffff : (v >> 16) & 0xffff);
        w[1] = (uint16_t)(v & 0xffff);
      }
      u->words[r->address] = w[0];
      if (r->count == 2) u->words[r->address + 1] = w[1];
    }
  }
  return 0;
}

static void load_system(const char *path) {
  FILE *f = fopen(path, "r");
  char line[4096];
  int lineno = 0;
  if (f == NULL) {
    perror(path);
    exit(2);
  }
  while (fgets(line, sizeof line, f)) {
    char *save = NULL, *tok, *hash = strchr(line, '#');
    struct unit *u;
    int service;
    lineno++;
    if (hash) *hash = '\0';
    tok = strtok_r(line, " \t\r\n", &save);
    if (tok == NULL) continue;
    u = unit_get(atoi(tok));
    tok = strtok_r(NULL, " \t\r\n", &save);
    service = tok ? gx_service_index(tok) : -1;
    if (service < 0 || u->nservices == MAX_SERVICES_PER_UNIT) {
      fprintf(stderr, "%s:%d: bad service\n", path, lineno);
      exit(2);
    }
    if (unit_has(u, service) < 0) {
      u->services[u->nservices++] = service;
      fill_defaults(u, service);
    }
    while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL)
      if (set_value(u, service, tok) != 0) {
        fprintf(stderr, "%s:%d: bad value %s\n", path, lineno, tok);
        exit(2);
      }
  }
  fclose(f);
}

static int nclients;
static int clients[64];

static void drop_clients(fd_set *all) {
  int i;
  for (i = 0; i < nclients; i++) {
    FD_CLR(clients[i], all);
    close(clients[i]);
  }
  nclients = 0;
}

static void apply_control(fd_set *all) {
  FILE *f;
  char line[256];
  if (control_path == NULL || (f = fopen(control_path, "r")) == NULL) return;
  while (fgets(line, sizeof line, f)) {
    int n, m;
    char word[16];
    if (strncmp(line, "disconnect", 10) == 0) {
      drop_clients(all);
    } else if (sscanf(line, "delay %d", &n) == 1) {
      delay_ms = n;
    } else if (sscanf(line, "absent %d", &n) == 1 && unit_find(n)) {
      unit_find(n)->absent = 1;
    } else if (sscanf(line, "present %d", &n) == 1 && unit_find(n)) {
      unit_find(n)->absent = 0;
    } else if (sscanf(line, "move %d %d", &n, &m) == 2 && unit_find(n) &&
               !unit_find(m)) {
      unit_find(n)->id = m;
    } else if (sscanf(line, "rw %15s", word) == 1) {
      rw_on = strcmp(word, "on") == 0;
    }
  }
  fclose(f);
}

/* 0 when the request may be served, else the exception code. */
static int resolve(int unit_id, int fc, int address, int count,
                   struct unit **out) {
  const struct gx_register *start;
  struct unit *u = unit_find(unit_id);
  int a, slot;
  if (fc != 3 && fc != 4 && fc != 6 && fc != 16) return 0x01;
  if (count < 1 || count > 125) return 0x03;
  start = row_covering(address);
  if (start == NULL || in_old_gap(address)) return 0x02;
  if (u != NULL && u->absent) u = NULL;
  if (u == NULL) return old_firmware ? 0x0B : 0x0A;
  slot = unit_has(u, start->service);
  if (slot < 0) return 0x0A;
  for (a = address; a < address + count; a++) {
    const struct gx_register *r = row_covering(a);
    if (r == NULL || in_old_gap(a) || unit_has(u, r->service) < 0)
      return 0x02;
    if (fc == 6 || fc == 16) {
      if (!rw_on) return 0x02;
      if (!r->writable) return 0x02;
    }
  }
  if ((fc == 3 || fc == 4) && !u->read_before[slot]) {
    u->read_before[slot] = 1;
    if (first_delay_ms > 0) sleep_ms(first_delay_ms);
  }
  *out = u;
  return 0;
}

static void serve(modbus_t *ctx, const uint8_t *req, int len) {
  int hl = modbus_get_header_length(ctx);
  int unit_id = req[hl - 1], fc = req[hl];
  int address = req[hl + 1] << 8 | req[hl + 2];
  int count = fc == 6 ? 1 : req[hl + 3] << 8 | req[hl + 4];
  struct unit *u = NULL;
  modbus_mapping_t *map;
  int ex = resolve(unit_id, fc, address, count, &u), i;

  if (delay_ms > 0) sleep_ms(delay_ms);
  if (ex != 0) {
    fprintf(req_log, "%d %d %d %d ex%02x\n", unit_id, fc, address, count, ex);
    modbus_reply_exception(ctx, req, ex);
    return;
  }
  map = modbus_mapping_new_start_address(0, 0, 0, 0, address, count, 0, 0);
  if (map == NULL) exit(2);
  memcpy(map->tab_registers, &u->words[address], count * sizeof(uint16_t));
  modbus_reply(ctx, req, len, map);
  fprintf(req_log, "%d %d %d %d ok", unit_id, fc, address, count);
  if (fc == 6 || fc == 16) {
    for (i = 0; i < count; i++) {
      const struct gx_register *r = row_covering(address + i);
      /* Writable padding inside a write is skipped, as the GX does. */
      if (r->kind != GX_RESERVED) u->words[address + i] = map->tab_registers[i];
      fprintf(req_log, " %u", map->tab_registers[i]);
    }
  }
  fputc('\n', req_log);
  modbus_mapping_free(map);
}

static void on_hup(int sig) {
  (void)sig;
  reload_control = 1;
}

int main(int argc, char **argv) {
  const char *system_path = NULL, *log_path = NULL;
  int port = 0, listen_fd, i, maxfd;
  modbus_t *ctx;
  fd_set all;
  struct sockaddr_in sin;
  socklen_t slen = sizeof sin;
  struct sigaction sa;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--system") == 0 && i + 1 < argc) system_path = argv[++i];
    else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
    else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) log_path = argv[++i];
    else if (strcmp(argv[i], "--control") == 0 && i + 1 < argc) control_path = argv[++i];
    else if (strcmp(argv[i], "--first-delay") == 0 && i + 1 < argc) first_delay_ms = atoi(argv[++i]);
    else if (strcmp(argv[i], "--old-firmware") == 0) old_firmware = 1;
    else {
      fprintf(stderr, "usage: gx_sim --system FILE [--port N] [--log FILE] "
                      "[--control FILE] [--old-firmware] [--first-delay MS]\n");
      return 2;
    }
  }
  if (system_path == NULL) return 2;
  load_system(system_path);
  req_log = log_path ? fopen(log_path, "a") : stderr;
  if (req_log == NULL) return 2;
  setvbuf(req_log, NULL, _IOLBF, 0);

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_hup;
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  ctx = modbus_new_tcp("127.0.0.1", port);
  if (ctx == NULL) return 2;
  listen_fd = modbus_tcp_listen(ctx, 16);
  if (listen_fd < 0) {
    fprintf(stderr, "gx_sim: listen: %s\n", modbus_strerror(errno));
    return 2;
  }
  if (getsockname(listen_fd, (struct sockaddr *)&sin, &slen) != 0) return 2;
  printf("PORT %d\n", ntohs(sin.sin_port));
  fflush(stdout);

  FD_ZERO(&all);
  FD_SET(listen_fd, &all);
  for (;;) {
    fd_set ready = all;
    if (reload_control) {
      reload_control = 0;
      apply_control(&all);
    }
    maxfd = listen_fd;
    for (i = 0; i < nclients; i++)
      if (clients[i] > maxfd) maxfd = clients[i];
    if (select(maxfd + 1, &ready, NULL, NULL, NULL) < 0) {
      if (errno == EINTR) continue;
      return 2;
    }
    if (FD_ISSET(listen_fd, &ready)) {
      int fd = accept(listen_fd, NULL, NULL);
      if (fd >= 0 && nclients < 64) {
        clients[nclients++] = fd;
        FD_SET(fd, &all);
      } else if (fd >= 0) {
        close(fd);
      }
    }
    for (i = 0; i < nclients; i++) {
      uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
      int len;
      if (!FD_ISSET(clients[i], &ready)) continue;
      modbus_set_socket(ctx, clients[i]);
      len = modbus_receive(ctx, req);
      if (len > 0) {
        serve(ctx, req, len);
      } else if (len < 0) {
        FD_CLR(clients[i], &all);
        close(clients[i]);
        clients[i--] = clients[--nclients];
      }
    }
  }
}

/* libFuzzer target for what lib/bluez reads from bluetoothd: the
 * GetManagedObjects replies (adapter choice, devices, GATT lookup),
 * InterfacesAdded/Removed, PropertiesChanged of adapters, devices and
 * characteristics, NameOwnerChanged, the replies to GetAll and ReadValue,
 * and the agent's RequestPasskey.
 *
 * sd-bus cannot parse raw message bytes through its API, so the input is
 * a recipe.  The client is the real one (vq_bluez_subscribe on a libuv
 * loop) whose "system bus" (DBUS_SYSTEM_BUS_ADDRESS) is a socket of this
 * process; the other end is an sd-bus server connection playing the bus
 * and bluetoothd.  Each recipe step sends it a signal, answers a call the
 * client made, or makes the client call (lookup, read, pair...), then
 * both ends run until neither has work.  Bodies have the BlueZ shape with
 * BlueZ property names and mostly the right variant types, or any types:
 * nested variants, structs, empty and long arrays, odd UTF-8, long paths.
 *
 * Recipe: a flags byte (bit 0 adapter "hci0", else the first powered;
 * bit 1 the owned device has a PIN), then up to MAX_OPS steps (step());
 * every choice is one byte modulo its count, 0 once the input is used up.
 * fuzz/make_seeds.py writes seeds in it.
 *
 * Checked beyond the sanitizers: an advertisement's address was sent as
 * a well-formed address (property or object path), names fit, events and
 * characteristics belong to the owned device, the passkey goes only to
 * the owned device, a reply of the right shape always parses (whatever
 * its variants hold), and the client closes cleanly afterwards.
 *   make -C lib/bluez fuzz/fuzz_bluez &&
 *     lib/bluez/fuzz/fuzz_bluez lib/bluez/fuzz/corpus/fuzz_bluez
 * FUZZ_BLUEZ_TRACE=1 in the environment prints the recipe's steps. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bluez_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEV "/org/bluez/hci0/dev_C0_FF_EE_00_00_01"
#define PIN "123456"
#define VICTRON 0x02e1
#define CLIENT_NAME ":1.7" /* the client's unique name, from Hello */
#define MAX_OPS 48       /* recipe steps per input */
#define MAX_PENDING 16   /* calls from the client waiting for an answer */
#define MAX_VALUES 2048  /* values in one generated message */
#define MAX_NEST 12      /* container nesting in one generated message */
#define SIG_MAX 48       /* one generated complete type */
#define MAX_ADDRS 64     /* well-formed addresses sent by one input */

static const uint8_t own_addr[6] = {0xC0, 0xFF, 0xEE, 0x00, 0x00, 0x01};

static const char *const paths[] = {
    "/", "/org/bluez", "/org/bluez/hci0", "/org/bluez/hci1", DEV, DEV "/service000c",
    DEV "/service000c/char000d", DEV "/service000c/char0010", DEV "/service0020/char0021",
    "/org/bluez/hci0/dev_12_34_56_78_9A_BC", "/org/bluez/hci1/dev_C0_FF_EE_00_00_01",
    "/org/bluez/hci0/dev_12_34_56", "/org/bluez/hci0/dev_12_34_56_78_9A_BC_DE",
    "/org/bluez/hci0/dev_0x_34_56_78_9A_BC", "/org/bluez/hci0/dev_c0_ff_ee_00_00_01"};

static const char *const ifaces[] = {
    "org.bluez.Adapter1", "org.bluez.Device1", "org.bluez.GattService1",
    "org.bluez.GattCharacteristic1", "org.bluez.GattDescriptor1",
    "org.freedesktop.DBus.Properties", "org.bluez.Battery1"};

/* BlueZ properties and the type bluetoothd gives them. */
static const struct {
  const char *name, *sig;
} props[] = {
    {"Address", "s"},  {"AddressType", "s"},   {"Name", "s"},
    {"Alias", "s"},    {"RSSI", "n"},          {"TxPower", "n"},
    {"ManufacturerData", "a{qv}"}, {"ServiceData", "a{sv}"}, {"UUIDs", "as"},
    {"Connected", "b"}, {"Paired", "b"},       {"Trusted", "b"},
    {"ServicesResolved", "b"}, {"Powered", "b"}, {"Discovering", "b"},
    {"UUID", "s"},     {"Service", "o"},       {"Flags", "as"},
    {"Value", "ay"},   {"Notifying", "b"},     {"Device", "o"},
    {"Bonded", "b"}};

static const char *const strings[] = {
    "C0:FF:EE:00:00:01", "12:34:56:78:9A:BC", "c0:ff:ee:00:00:01", " 0:FF:EE:00:00:01",
    "-1:FF:EE:00:00:01", "+1:FF:EE:00:00:01", "0x:FF:EE:00:00:01", "C0:FF:EE:00:00:0",
    "C0:FF:EE:00:00:01:02", "C0-FF-EE-00-00-01", "C0:FF:EE:00:00: 1", "", "SmartShunt HQ2203ABCDE",
    "A name longer than the sixty-three bytes the client keeps for a device name",
    "65970000-4bda-4c1e-af4b-551c4cf74769", "65970000-4BDA-4C1E-AF4B-551C4CF74769",
    "6597ed8c-4bda-4c1e-af4b-551c4cf74769", "read", "write", "notify", "indicate",
    "write-without-response", "org.bluez.Device1", "org.bluez.GattCharacteristic1",
    "org.bluez.Adapter1", "org.bluez", "h\xc3\xa9llo", "\xe2\x82\xac", "\xf0\x9f\x94\x8b"};

static const char *const uuids[] = {"65970000-4bda-4c1e-af4b-551c4cf74769",
                                    "65970000-4BDA-4C1E-AF4B-551C4CF74769",
                                    "0000180f-0000-1000-8000-00805f9b34fb"};

static const char *const errors[] = {
    "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod",
    "org.freedesktop.DBus.Error.InvalidArgs", "org.freedesktop.DBus.Error.NoReply",
    "org.bluez.Error.Failed", "org.bluez.Error.InProgress", "org.bluez.Error.NotReady",
    "org.bluez.Error.AlreadyExists", "org.bluez.Error.AuthenticationFailed", "x.y"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct in {
  const uint8_t *p;
  size_t n;
};

/* The state of one input: the recipe, both ends, what was sent. */
struct fz {
  struct in in;
  uv_loop_t *loop;
  sd_bus *peer;
  struct vq_bluez_sub *adv_sub, *gatt_sub;
  int adv_done, gatt_done;
  int unsub_on_adv; /* the next advertisement unsubscribes its subscriber */
  int has_pin;
  sd_bus_message *pending[MAX_PENDING];
  size_t npending;
  uint8_t addrs[MAX_ADDRS][6];
  size_t naddrs;
  int addrs_full;
  int peer_dead; /* the client dropped the connection */
  int shaped;    /* the reply being answered has the right shape */
};

/* One generated message. */
struct gen {
  struct fz *f;
  sd_bus_message *m;
  unsigned values, nest;
};

static struct fz F;
static int listen_fd = -1;
static int trace;

static unsigned take(struct in *in, unsigned mod) {
  uint8_t b;
  if (in->n == 0) return 0;
  b = *in->p++;
  in->n--;
  return mod ? b % mod : b;
}

static unsigned take16(struct in *in) {
  unsigned hi = take(in, 0);
  return hi << 8 | take(in, 0);
}

static size_t take_bytes(struct in *in, size_t want, const uint8_t **out) {
  if (want > in->n) want = in->n;
  *out = in->p;
  in->p += want;
  in->n -= want;
  return want;
}

static void fail(const char *what) {
  fprintf(stderr, "fuzz_bluez: %s\n", what);
  abort();
}

/* ---- well-formed addresses sent, the oracle for advertisements ---- */

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* "AA:BB:CC:DD:EE:FF" with sep for ':'; strict, written independently of
 * bluez_parse_addr.  0 or -1. */
static int strict_addr(const char *s, char sep, uint8_t out[6]) {
  int i;
  for (i = 0; i < 6; i++) {
    int hi = hexval(s[3 * i]), lo = hi < 0 ? -1 : hexval(s[3 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    if (s[3 * i + 2] != (i < 5 ? sep : '\0')) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

static void note_addr(struct fz *f, const uint8_t a[6]) {
  size_t i;
  for (i = 0; i < f->naddrs; i++)
    if (memcmp(f->addrs[i], a, 6) == 0) return;
  if (f->naddrs == MAX_ADDRS) {
    f->addrs_full = 1;
    return;
  }
  memcpy(f->addrs[f->naddrs++], a, 6);
}

/* Any string or path sent may end up as a device's address. */
static void note_string(struct fz *f, const char *s) {
  uint8_t a[6];
  const char *p;
  if (trace) fprintf(stderr, "  \"%s\"\n", s);
  if (strict_addr(s, ':', a) == 0) note_addr(f, a);
  for (p = s; (p = strstr(p, "/dev_")) != NULL; p++)
    if (strlen(p + 5) >= 17) {
      char text[18];
      memcpy(text, p + 5, 17);
      text[17] = '\0';
      if (strict_addr(text, '_', a) == 0) note_addr(f, a);
    }
}

/* ---- values of any type ---- */

static int put(char *buf, size_t *len, char ch) {
  if (*len + 1 >= SIG_MAX) return -1;
  buf[(*len)++] = ch;
  buf[*len] = '\0';
  return 0;
}

/* A complete type chosen by the input into buf (NUL-terminated). */
static int gen_sig_at(struct in *in, char *buf, size_t *len, int depth) {
  static const char basic[] = "ybnqiuxtdsog";
  unsigned c = take(in, 16), i, n;
  if (depth >= 4 || *len + 8 >= SIG_MAX) c %= 12;
  if (c < 12) return put(buf, len, basic[c]);
  if (c == 12) return put(buf, len, 'v');
  if (c == 13) return put(buf, len, 'a') < 0 ? -1 : gen_sig_at(in, buf, len, depth + 1);
  if (c == 14) {
    if (put(buf, len, 'a') < 0 || put(buf, len, '{') < 0 ||
        put(buf, len, basic[take(in, 12)]) < 0 || gen_sig_at(in, buf, len, depth + 1) < 0)
      return -1;
    return put(buf, len, '}');
  }
  if (put(buf, len, '(') < 0) return -1;
  n = 1 + take(in, 3);
  for (i = 0; i < n; i++)
    if (gen_sig_at(in, buf, len, depth + 1) < 0) return -1;
  return put(buf, len, ')');
}

static void gen_sig(struct in *in, char buf[SIG_MAX]) {
  size_t len = 0;
  buf[0] = '\0';
  if (gen_sig_at(in, buf, &len, 0) < 0) strcpy(buf, "y");
}

/* Length of the complete type at s. */
static size_t type_len(const char *s) {
  size_t n = 1;
  int depth = 1;
  char open = *s, close = open == '(' ? ')' : '}';
  if (open == 'a') return 1 + type_len(s + 1);
  if (open != '(' && open != '{') return 1;
  for (; s[n] != '\0' && depth > 0; n++) {
    if (s[n] == open) depth++;
    else if (s[n] == close) depth--;
  }
  return n;
}

/* A string: one of the interesting ones, or bytes of the input made valid
 * UTF-8 without NUL (bytes >= 0x80 become U+0080..U+00FF). */
static int gen_string(struct gen *g, char *out, size_t size) {
  const uint8_t *p;
  size_t n, i, o = 0;
  unsigned mode = take(&g->f->in, 4);
  if (mode == 0) {
    snprintf(out, size, "%s", strings[take(&g->f->in, COUNT(strings))]);
  } else {
    n = take_bytes(&g->f->in, take(&g->f->in, mode == 3 ? 0 : 24), &p);
    for (i = 0; i < n && o + 3 < size; i++) {
      if (p[i] == 0) {
        out[o++] = '.';
      } else if (p[i] < 0x80) {
        out[o++] = (char)p[i];
      } else {
        out[o++] = (char)(0xc0 | p[i] >> 6);
        out[o++] = (char)(0x80 | (p[i] & 0x3f));
      }
    }
    out[o] = '\0';
  }
  note_string(g->f, out);
  return 0;
}

/* An object path: a known one, a device path with any address-like
 * characters, one under hci0, or a long one. */
static void gen_path(struct gen *g, char *out, size_t size) {
  static const char alpha[] = "0123456789ABCDEFabcdefxZ_";
  struct in *in = &g->f->in;
  unsigned mode = take(in, 8), i, n;
  size_t o;
  if (mode < 5) {
    snprintf(out, size, "%s", paths[take(in, COUNT(paths))]);
  } else if (mode == 5) {
    o = (size_t)snprintf(out, size, "/org/bluez/hci0/dev_");
    for (i = 0; i < 17 && o + 1 < size; i++) out[o++] = alpha[take(in, sizeof alpha - 1)];
    out[o] = '\0';
  } else {
    /* Elements of [A-Za-z0-9_], the only characters a path may have. */
    o = (size_t)snprintf(out, size, "%s", mode == 6 ? "/org/bluez/hci0" : DEV);
    n = mode == 6 ? 1 + take(in, 3) : take(in, 0);
    for (i = 0; i < n && o + 3 < size; i++) {
      unsigned len = 1 + take(in, 12), j;
      out[o++] = '/';
      for (j = 0; j < len && o + 1 < size; j++) {
        unsigned ch = take(in, 63);
        out[o++] = (char)(ch < 26 ? 'a' + ch : ch < 52 ? 'A' + ch - 26 : ch < 62 ? '0' + ch - 52 : '_');
      }
    }
    out[o] = '\0';
  }
  note_string(g->f, out);
}

static int gen_value(struct gen *g, const char *sig);

/* A variant: mostly of the type `hint` when there is one. */
static int gen_variant(struct gen *g, const char *hint) {
  char sig[SIG_MAX];
  int r;
  if (hint != NULL && take(&g->f->in, 4) != 3) snprintf(sig, sizeof sig, "%s", hint);
  else gen_sig(&g->f->in, sig);
  if (g->nest >= MAX_NEST) strcpy(sig, "y");
  g->nest++;
  if ((r = sd_bus_message_open_container(g->m, 'v', sig)) < 0 ||
      (r = gen_value(g, sig)) < 0 || (r = sd_bus_message_close_container(g->m)) < 0)
    return r;
  g->nest--;
  return 0;
}

/* A dictionary entry {KV}: a{sv} keys are BlueZ property names (or any
 * string) with their types as the variant's hint, a{sa{sv}} keys are
 * interface names. */
static int gen_entry(struct gen *g, const char *contents) {
  const char *vsig = contents + 1;
  char key[300];
  int r;
  if ((r = sd_bus_message_open_container(g->m, 'e', contents)) < 0) return r;
  if (contents[0] == 's' && strcmp(vsig, "v") == 0 && take(&g->f->in, 8) != 7) {
    unsigned k = take(&g->f->in, COUNT(props));
    if ((r = sd_bus_message_append_basic(g->m, 's', props[k].name)) < 0 ||
        (r = gen_variant(g, props[k].sig)) < 0)
      return r;
  } else if (contents[0] == 's' && strcmp(vsig, "a{sv}") == 0 && take(&g->f->in, 8) != 7) {
    if ((r = sd_bus_message_append_basic(g->m, 's', ifaces[take(&g->f->in, COUNT(ifaces))])) < 0 ||
        (r = gen_value(g, vsig)) < 0)
      return r;
  } else if (contents[0] == 'q' && strcmp(vsig, "v") == 0) {
    uint16_t company = take(&g->f->in, 2) ? VICTRON : (uint16_t)take16(&g->f->in);
    if ((r = sd_bus_message_append_basic(g->m, 'q', &company)) < 0 ||
        (r = gen_variant(g, "ay")) < 0)
      return r;
  } else {
    snprintf(key, sizeof key, "%c", contents[0]);
    if ((r = gen_value(g, key)) < 0 || (r = gen_value(g, vsig)) < 0) return r;
  }
  return sd_bus_message_close_container(g->m);
}

/* Element count of an array: mostly small, sometimes up to 255. */
static unsigned gen_count(struct gen *g) {
  unsigned n = take(&g->f->in, 8);
  if (n == 7) n = take(&g->f->in, 0);
  if (g->values >= MAX_VALUES) n = 0;
  return n;
}

static int gen_array(struct gen *g, const char *elem) {
  char contents[SIG_MAX];
  size_t len = type_len(elem);
  unsigned n = gen_count(g), i;
  int r;
  snprintf(contents, sizeof contents, "%.*s", (int)len, elem);
  if (strcmp(contents, "y") == 0) {
    const uint8_t *p;
    size_t got = take_bytes(&g->f->in, n, &p);
    return sd_bus_message_append_array(g->m, 'y', p, got);
  }
  if (g->nest >= MAX_NEST) n = 0;
  g->nest++;
  if ((r = sd_bus_message_open_container(g->m, 'a', contents)) < 0) return r;
  for (i = 0; i < n; i++) {
    if (contents[0] == '{') {
      char inner[SIG_MAX];
      snprintf(inner, sizeof inner, "%.*s", (int)(len - 2), contents + 1);
      r = gen_entry(g, inner);
    } else {
      r = gen_value(g, contents);
    }
    if (r < 0) return r;
  }
  g->nest--;
  return sd_bus_message_close_container(g->m);
}

static int gen_struct(struct gen *g, const char *sig) {
  char contents[SIG_MAX];
  size_t len = type_len(sig), i;
  int r;
  snprintf(contents, sizeof contents, "%.*s", (int)(len - 2), sig + 1);
  g->nest++;
  if ((r = sd_bus_message_open_container(g->m, 'r', contents)) < 0) return r;
  for (i = 0; i < len - 2; i += type_len(contents + i))
    if ((r = gen_value(g, contents + i)) < 0) return r;
  g->nest--;
  return sd_bus_message_close_container(g->m);
}

static int gen_basic(struct gen *g, char type) {
  struct in *in = &g->f->in;
  union {
    uint8_t y;
    int b;
    uint16_t q;
    uint32_t u;
    uint64_t t;
    double d;
  } v;
  char text[300];
  const uint8_t *p;
  size_t got;
  memset(&v, 0, sizeof v);
  switch (type) {
  case 's':
    gen_string(g, text, sizeof text);
    return sd_bus_message_append_basic(g->m, 's', text);
  case 'o':
    gen_path(g, text, sizeof text);
    return sd_bus_message_append_basic(g->m, 'o', text);
  case 'g':
    gen_sig(in, text);
    return sd_bus_message_append_basic(g->m, 'g', text);
  case 'b':
    v.b = (int)take(in, 0) % 3 != 0; /* 0 or 1: sd-bus refuses other booleans */
    return sd_bus_message_append_basic(g->m, 'b', &v.b);
  default:
    got = take_bytes(in, type == 'y' ? 1 : type == 'n' || type == 'q' ? 2 : type == 'i' || type == 'u' ? 4 : 8, &p);
    memcpy(&v, p, got);
    return sd_bus_message_append_basic(g->m, type, &v);
  }
}

/* One value of the complete type at sig. */
static int gen_value(struct gen *g, const char *sig) {
  g->values++;
  switch (sig[0]) {
  case 'v':
    return gen_variant(g, NULL);
  case 'a':
    return gen_array(g, sig + 1);
  case '(':
    return gen_struct(g, sig);
  default:
    return gen_basic(g, sig[0]);
  }
}

/* The body `sig` (several complete types), or with the input's say-so one
 * of any types.  0 (of sig), 1 (of any types), or <0. */
static int gen_body(struct fz *f, sd_bus_message *m, const char *sig) {
  struct gen g = {f, m, 0, 0};
  char any[SIG_MAX * 3];
  size_t i;
  int r;
  if (take(&f->in, 8) == 7) {
    unsigned n = take(&f->in, 4), k;
    any[0] = '\0';
    for (k = 0; k < n; k++) {
      char one[SIG_MAX];
      gen_sig(&f->in, one);
      strcat(any, one);
    }
    sig = any;
  }
  for (i = 0; sig[i] != '\0'; i += type_len(sig + i))
    if ((r = gen_value(&g, sig + i)) < 0) return r;
  return sig == any;
}

/* ---- the bus and bluetoothd end ---- */

static int send_msg(struct fz *f, sd_bus_message *m, const char *sender) {
  int r = sender != NULL ? sd_bus_message_set_sender(m, sender) : 0;
  if (r >= 0) r = sd_bus_send(f->peer, m, NULL);
  /* Only when the client dropped the connection. */
  if (r < 0 && trace) fprintf(stderr, "  send: %s\n", strerror(-r));
  sd_bus_message_unref(m);
  return r;
}

static int reply_empty(struct fz *f, sd_bus_message *call, const char *sig, ...) {
  sd_bus_message *m = NULL;
  int r = sd_bus_message_new_method_return(call, &m);
  if (r < 0) return r;
  if (sig != NULL) {
    va_list ap;
    va_start(ap, sig);
    r = sd_bus_message_appendv(m, sig, ap);
    va_end(ap);
  }
  if (r < 0) {
    sd_bus_message_unref(m);
    return r;
  }
  return send_msg(f, m, sd_bus_message_get_destination(call));
}

/* A call from the client: the bus daemon's part answered at once, the
 * rest kept for the recipe to answer. */
static void peer_call(struct fz *f, sd_bus_message *m) {
  const char *member = sd_bus_message_get_member(m);
  const char *iface = sd_bus_message_get_interface(m);
  if (iface != NULL && strcmp(iface, "org.freedesktop.DBus") == 0) {
    if (member != NULL && strcmp(member, "Hello") == 0) reply_empty(f, m, "s", CLIENT_NAME);
    else reply_empty(f, m, NULL);
    return;
  }
  if (trace) {
    uint64_t cookie = 0;
    sd_bus_message_get_cookie(m, &cookie);
    fprintf(stderr, "  call %s.%s %s #%llu\n", iface, member, sd_bus_message_get_path(m),
            (unsigned long long)cookie);
  }
  if (f->npending == MAX_PENDING) {
    sd_bus_reply_method_errorf(m, "org.bluez.Error.Failed", "busy");
    return;
  }
  f->pending[f->npending++] = sd_bus_message_ref(m);
}

static int peer_process(struct fz *f) {
  int r, any = 0;
  for (;;) {
    sd_bus_message *m = NULL;
    if (f->peer_dead) return 0;
    r = sd_bus_process(f->peer, &m);
    if (r < 0) {
      /* The client may close a connection it cannot use. */
      if (trace) fprintf(stderr, "  peer: %s\n", strerror(-r));
      f->peer_dead = 1;
      return any;
    }
    if (r == 0) return any;
    any = 1;
    if (m != NULL && sd_bus_message_is_method_call(m, NULL, NULL))
      peer_call(f, m);
    sd_bus_message_unref(m);
  }
}

/* Both ends until neither has work: the client on its libuv loop as in
 * the daemon, the peer by hand. */
static void pump(struct fz *f) {
  int round;
  for (round = 0; round < 200; round++) {
    uv_run(f->loop, UV_RUN_NOWAIT);
    if (!peer_process(f)) {
      uv_run(f->loop, UV_RUN_NOWAIT);
      if (!peer_process(f)) return;
    }
  }
}

/* Answer a kept call: the reply of its shape, one of any body, an error
 * or an empty reply. */
static void answer(struct fz *f) {
  sd_bus_message *call, *m = NULL;
  const char *member, *sig = "";
  size_t i;
  unsigned mode;
  int r;
  if (f->npending == 0) return;
  i = take(&f->in, (unsigned)f->npending);
  call = f->pending[i];
  f->pending[i] = f->pending[--f->npending];
  member = sd_bus_message_get_member(call);
  mode = take(&f->in, 4);
  if (trace) fprintf(stderr, "  answer %s mode %u\n", member, mode);
  if (mode == 2) {
    const char *name = errors[take(&f->in, COUNT(errors))];
    r = sd_bus_message_new_method_errorf(call, &m, name, "fuzzed %s", member);
  } else {
    r = sd_bus_message_new_method_return(call, &m);
    if (r >= 0 && mode < 2) {
      if (strcmp(member, "GetManagedObjects") == 0) sig = "a{oa{sa{sv}}}";
      else if (strcmp(member, "GetAll") == 0) sig = "a{sv}";
      else if (strcmp(member, "ReadValue") == 0) sig = "ay";
      if (mode == 1) {
        char one[SIG_MAX];
        gen_sig(&f->in, one);
        r = gen_body(f, m, one);
      } else {
        r = gen_body(f, m, sig);
      }
    }
  }
  /* Its callback runs in the pump after this step: a reply of the right
   * shape (whatever its variants hold) must not fail to parse. */
  f->shaped = mode == 0 && r == 0;
  if (r >= 0) send_msg(f, m, "org.bluez");
  else sd_bus_message_unref(m);
  sd_bus_message_unref(call);
}

static void signal_msg(struct fz *f, const char *path, const char *iface, const char *member,
                       const char *sender, const char *sig) {
  sd_bus_message *m = NULL;
  int r = sd_bus_message_new_signal(f->peer, &m, path, iface, member);
  if (r < 0) fail("sd_bus_message_new_signal");
  if ((r = gen_body(f, m, sig)) < 0) {
    if (trace) fprintf(stderr, "  (body not built: %s)\n", strerror(-r));
    sd_bus_message_unref(m);
    return;
  }
  send_msg(f, m, sender);
}

static void interfaces_added(struct fz *f) {
  signal_msg(f, "/", "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", "org.bluez",
             "oa{sa{sv}}");
}

static void interfaces_removed(struct fz *f) {
  signal_msg(f, "/", "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", "org.bluez",
             "oas");
}

/* PropertiesChanged of an interface of BlueZ's on a path under /org/bluez
 * (the client's match). */
static void properties_changed(struct fz *f) {
  struct gen g = {f, NULL, 0, 0};
  sd_bus_message *m = NULL;
  char path[300];
  const char *iface;
  int r;
  gen_path(&g, path, sizeof path);
  iface = ifaces[take(&f->in, 4)];
  if (sd_bus_message_new_signal(f->peer, &m, path, "org.freedesktop.DBus.Properties",
                                "PropertiesChanged") < 0)
    fail("sd_bus_message_new_signal");
  g.m = m;
  if (take(&f->in, 8) == 7) r = gen_body(f, m, "sa{sv}as");
  else if ((r = sd_bus_message_append_basic(m, 's', iface)) >= 0) r = gen_body(f, m, "a{sv}as");
  if (r < 0) {
    sd_bus_message_unref(m);
    return;
  }
  send_msg(f, m, "org.bluez");
}

/* bluetoothd leaving (new owner "") or coming back. */
static void name_owner_changed(struct fz *f) {
  sd_bus_message *m = NULL;
  unsigned mode = take(&f->in, 4);
  int r = sd_bus_message_new_signal(f->peer, &m, "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                    "NameOwnerChanged");
  if (r < 0) fail("sd_bus_message_new_signal");
  if (mode == 3) r = gen_body(f, m, "sss");
  else r = sd_bus_message_append(m, "sss", "org.bluez", mode == 1 ? "" : ":1.3",
                                 mode == 1 ? ":1.8" : mode == 2 ? ":1.9" : "");
  if (r < 0) {
    sd_bus_message_unref(m);
    return;
  }
  send_msg(f, m, "org.freedesktop.DBus");
}

static int on_passkey(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct fz *f = userdata; /* NULL: asked for another device */
  uint32_t key;
  (void)ret_error;
  if (trace) {
    const sd_bus_error *e = sd_bus_message_get_error(m);
    fprintf(stderr, "  passkey reply: %s\n", e != NULL ? e->name : "given");
  }
  if (sd_bus_message_is_method_error(m, NULL)) return 0;
  /* The passkey is given only for the owned device, and is its PIN. */
  if (f == NULL || !f->has_pin || sd_bus_message_read(m, "u", &key) < 0 || key != 123456)
    fail("passkey given when it should not be");
  return 0;
}

/* bluetoothd asking the agent for a passkey. */
static void request_passkey(struct fz *f) {
  struct gen g = {f, NULL, 0, 0};
  sd_bus_message *m = NULL;
  char path[300];
  int want;
  struct bluez_client *c = bluez_active();
  char dev[160];
  gen_path(&g, path, sizeof path);
  /* The owned device's object on the adapter in use now: the client reads
   * the call before anything sent after it. */
  snprintf(dev, sizeof dev, "%s/dev_C0_FF_EE_00_00_01", c != NULL ? c->adapter_path : "");
  want = c != NULL && c->adapter_path[0] != '\0' && strcmp(path, dev) == 0;
  if (sd_bus_message_new_method_call(f->peer, &m, NULL, "/org/vicacq/agent", "org.bluez.Agent1",
                                     "RequestPasskey") < 0 ||
      sd_bus_message_append_basic(m, 'o', path) < 0)
    fail("RequestPasskey message");
  /* sd-bus does not answer a call without a destination (broadcast).  No
   * sender: sd-bus then checks the caller's privilege on the connection's
   * peer credentials (us, root or not as the client) instead of asking
   * the bus with a blocking call. */
  if (sd_bus_message_set_destination(m, CLIENT_NAME) < 0 ||
      sd_bus_call_async(f->peer, NULL, m, on_passkey, want ? f : NULL, 0) < 0)
    fail("RequestPasskey call");
  sd_bus_message_unref(m);
}

/* ---- the subscribers ---- */

static void on_log(void *arg, int level, const char *msg) {
  (void)arg;
  if (msg == NULL || level < 0 || level > 3) fail("bad log line");
  if (trace) fprintf(stderr, "  log %d: %s\n", level, msg);
}

static void check_adv(struct fz *f, const struct vq_bluez_adv *adv) {
  size_t i;
  unsigned sum = 0;
  if (adv->len > 0 && adv->data == NULL) fail("advertisement without data");
  for (i = 0; i < adv->len; i++) sum += adv->data[i]; /* ASan: readable */
  if (adv->name != NULL && strlen(adv->name) > 63) fail("name too long");
  if (adv->has_rssi && (adv->rssi < -32768 || adv->rssi > 32767)) fail("RSSI out of range");
  if (adv->bonded != 0 && adv->bonded != 1) fail("bonded not 0 or 1");
  if (!f->addrs_full) {
    for (i = 0; i < f->naddrs; i++)
      if (memcmp(f->addrs[i], adv->addr, 6) == 0) break;
    if (i == f->naddrs) fail("advertisement from an address that was never sent well-formed");
  }
  if (trace)
    fprintf(stderr, "  adv %04x %02X:%02X:%02X:%02X:%02X:%02X len %zu sum %u\n", adv->company,
            adv->addr[0], adv->addr[1], adv->addr[2], adv->addr[3], adv->addr[4], adv->addr[5],
            adv->len, sum);
}

static void on_adv(void *arg, const struct vq_bluez_adv *adv) {
  struct fz *f = arg;
  if (adv->company != VICTRON) fail("advertisement of another company");
  check_adv(f, adv);
  if (f->unsub_on_adv && f->adv_sub != NULL) {
    struct vq_bluez_sub *s = f->adv_sub;
    f->adv_sub = NULL;
    vq_bluez_unsubscribe(s, NULL, NULL);
    f->adv_done = 1;
  }
}

/* The GATT subscriber listens to company 0xffff. */
static void on_adv_gatt(void *arg, const struct vq_bluez_adv *adv) {
  if (adv->company != 0xffff) fail("advertisement of another company");
  check_adv(arg, adv);
}

/* A characteristic of the owned device, on whichever adapter the client
 * used when it asked or was told. */
static int under_dev(const char *path) {
  return path != NULL && strstr(path, "/dev_C0_FF_EE_00_00_01/") != NULL;
}

static void on_event(void *arg, const struct vq_bluez_event *ev) {
  size_t i;
  unsigned sum = 0;
  switch (ev->kind) {
  case VQ_BLUEZ_EV_CONNECTED:
  case VQ_BLUEZ_EV_PAIRED:
  case VQ_BLUEZ_EV_SERVICES_RESOLVED:
    if (ev->flag != 0 && ev->flag != 1) fail("event flag not 0 or 1");
    break;
  case VQ_BLUEZ_EV_VALUE:
    if (!under_dev(ev->char_path)) fail("value of another device");
    if (ev->len > 0 && ev->value == NULL) fail("value without bytes");
    for (i = 0; i < ev->len; i++) sum += ev->value[i];
    break;
  case VQ_BLUEZ_EV_GONE:
    break;
  default:
    fail("unknown event");
  }
  (void)arg;
  if (trace) fprintf(stderr, "  event %d flag %d sum %u\n", (int)ev->kind, ev->flag, sum);
}

static void on_result(void *arg, int err, const char *name, const char *msg) {
  (void)arg;
  if (err > 0 || (err == 0 && (name != NULL || msg != NULL))) fail("bad result");
}

static void on_chars(void *arg, int err, const struct vq_bluez_char *chars, size_t n) {
  struct fz *f = arg;
  size_t i;
  if (err > 0 || (err < 0 && n != 0) || n > 128) fail("bad lookup result");
  if (err < 0 && f->shaped) fail("lookup failed on a reply of the right shape");
  for (i = 0; i < n; i++) {
    const struct vq_bluez_char *ch = &chars[i];
    if (!under_dev(ch->path) || ch->uuid == NULL) fail("characteristic not of the device");
    if ((ch->can_read | ch->can_write | ch->can_notify) & ~1) fail("flag not 0 or 1");
    if (trace) fprintf(stderr, "  char %s %s\n", ch->path, ch->uuid);
  }
}

static void on_state(void *arg, int err, const struct vq_bluez_device_state *st) {
  struct fz *f = arg;
  if (err > 0 || st == NULL) fail("bad state result");
  if (err < 0 && f->shaped) fail("GetAll failed on a reply of the right shape");
  if ((st->known | st->connected | st->paired | st->trusted | st->services_resolved) & ~1)
    fail("state flag not 0 or 1");
}

static void on_value(void *arg, const char *char_path, int err, const char *name,
                     const uint8_t *value, size_t len) {
  struct fz *f = arg;
  size_t i;
  unsigned sum = 0;
  (void)name;
  if (!under_dev(char_path) || err > 0 || (len > 0 && value == NULL)) fail("bad read result");
  if (err < 0 && f->shaped) fail("ReadValue failed on a reply of the right shape");
  for (i = 0; i < len; i++) sum += value[i];
  (void)sum;
}

static void on_done(void *arg) { *(int *)arg = 1; }

/* ---- the recipe ---- */

/* The client's calls for a subscriber: 0 or -errno (no adapter yet, a
 * path not under the device...), never more. */
static void client_call(struct fz *f, unsigned which) {
  struct vq_bluez_sub *s = f->gatt_sub;
  struct gen g = {f, NULL, 0, 0};
  char path[300];
  int r = 0;
  switch (which) {
  case 0:
    r = vq_bluez_gatt_lookup(s, uuids[take(&f->in, COUNT(uuids))], on_chars);
    break;
  case 1:
    r = vq_bluez_device_state(s, on_state);
    break;
  case 2:
    gen_path(&g, path, sizeof path);
    r = vq_bluez_gatt_read(s, path, on_value);
    break;
  case 3:
    gen_path(&g, path, sizeof path);
    r = vq_bluez_gatt_notify(s, path, on_result);
    break;
  case 4:
    r = vq_bluez_connect(s, on_result);
    break;
  case 5:
    r = vq_bluez_pair(s, on_result);
    break;
  case 6:
    r = vq_bluez_trust(s, on_result);
    break;
  case 7:
    r = vq_bluez_disconnect(s, on_result);
    break;
  default:
    if (f->adv_sub == NULL) break;
    if (take(&f->in, 2)) r = vq_bluez_discovery_pause(f->adv_sub);
    else r = vq_bluez_discovery_resume(f->adv_sub);
    break;
  }
  if (r > 0) fail("a call returned more than 0");
}

static void step(struct fz *f) {
  unsigned op = take(&f->in, 10);
  f->shaped = 0;
  if (trace) fprintf(stderr, "op %u\n", op);
  switch (op) {
  case 0:
  case 1:
    answer(f);
    break;
  case 2:
    interfaces_added(f);
    break;
  case 3:
    properties_changed(f);
    break;
  case 4:
    interfaces_removed(f);
    break;
  case 5:
    name_owner_changed(f);
    break;
  case 6:
  case 7:
    client_call(f, take(&f->in, 9));
    break;
  case 8:
    request_passkey(f);
    break;
  default:
    f->unsub_on_adv = 1;
    break;
  }
  pump(f);
}

/* The client's "system bus" is a socket of ours, in the abstract
 * namespace: nothing to remove however the run ends. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  struct sockaddr_un sa;
  char name[64], addr[128];
  socklen_t len;
  (void)argc;
  (void)argv;
  trace = getenv("FUZZ_BLUEZ_TRACE") != NULL;
  snprintf(name, sizeof name, "vicacq-fuzz-bluez.%ld", (long)getpid());
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path + 1, name, strlen(name)); /* sun_path[0] = 0: abstract */
  len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
  listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, len) < 0 ||
      listen(listen_fd, 4) < 0)
    fail("cannot listen on the bus socket");
  snprintf(addr, sizeof addr, "unix:abstract=%s", name);
  setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);
  return 0;
}

static void open_peer(struct fz *f) {
  sd_id128_t id = {{0x7a, 0x1c, 0x22, 0x03, 0x5e, 0x91, 0x4d, 0x3b, 0x8f, 0x00, 0x11, 0x22,
                    0x33, 0x44, 0x55, 0x66}};
  int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) fail("the client did not connect");
  if (sd_bus_new(&f->peer) < 0 || sd_bus_set_fd(f->peer, fd, fd) < 0 ||
      sd_bus_set_server(f->peer, 1, id) < 0 || sd_bus_start(f->peer) < 0)
    fail("cannot start the peer connection");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uv_loop_t loop;
  static int loop_ready;
  struct fz *f = &F;
  unsigned flags, ops;
  size_t i;
  if (!loop_ready) {
    if (uv_loop_init(&loop) != 0) fail("uv_loop_init");
    loop_ready = 1;
  }
  if (trace) fprintf(stderr, "input of %zu bytes\n", size);
  memset(f, 0, sizeof *f);
  f->in.p = data;
  f->in.n = size;
  f->loop = &loop;
  flags = take(&f->in, 0);
  f->has_pin = (flags & 2) != 0;
  if (vq_bluez_subscribe(&loop, flags & 1 ? "hci0" : NULL, VICTRON, on_adv, on_log, f,
                         &f->adv_sub) != 0 ||
      vq_bluez_subscribe(&loop, flags & 1 ? "hci0" : NULL, 0xffff, on_adv_gatt, on_log, f,
                         &f->gatt_sub) != 0 ||
      vq_bluez_own_device(f->gatt_sub, own_addr, f->has_pin ? PIN : NULL, on_event) != 0)
    fail("cannot subscribe");
  open_peer(f);
  pump(f);
  for (ops = 0; ops < MAX_OPS && f->in.n > 0; ops++) step(f);

  if (f->adv_sub != NULL) vq_bluez_unsubscribe(f->adv_sub, on_done, &f->adv_done);
  vq_bluez_unsubscribe(f->gatt_sub, on_done, &f->gatt_done);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (!f->adv_done || !f->gatt_done || bluez_active() != NULL)
    fail("the client did not close");
  for (i = 0; i < f->npending; i++) sd_bus_message_unref(f->pending[i]);
  sd_bus_close(f->peer);
  f->peer = sd_bus_unref(f->peer);
  return 0;
}

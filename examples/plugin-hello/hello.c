/*
 * hello: the smallest useful vicacq source plugin, built out of tree.
 *
 * Copy this directory to start a plugin of your own.  It shows everything a
 * source needs:
 *
 *   - one exported symbol, made by VQ_PLUGIN_DECLARE (see the end);
 *   - a descriptor: name, version, kind, an options schema, callbacks;
 *   - options bound into the struct by the host (cfg_bind: the core has
 *     already validated them against the schema, so no parsing or range
 *     checks are needed here, and each default is written once);
 *   - a check() of what the schema cannot say, reported with FILE:LINE;
 *   - a command-line tool (`vicacq greet hello --count 2`);
 *   - a host timer instead of a private event loop or thread;
 *   - readings emitted through host->emit;
 *   - host->finished when a finite input is done, so that a pipeline made
 *     only of finite sources exits by itself;
 *   - an asynchronous stop.
 *
 * With
 *
 *   [source.greeter]
 *   plugin = hello
 *   greeting = ahoy
 *   interval = 500ms
 *   count = 3
 *
 * it emits, every half second, one reading of device "hello" holding
 * hello.count (1, 2, 3) and hello.greeting ("ahoy"), then finishes.
 *
 * Rules of the ABI (include/vicacq/plugin.h, vicacq-plugin(3)):
 *   - every callback runs on the daemon's one loop thread: never block in
 *     it (no sleep, no blocking read, no waiting for a network peer);
 *   - talk to the daemon only through the struct vq_host table handed to
 *     create(); the daemon exports no other symbols;
 *   - errors are negative errno values.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vicacq/plugin.h>

/* One instance per [source.ID] section that says `plugin = hello`. */
struct hello {
  const struct vq_host *host; /* the daemon's services */
  struct vq_ctx *ctx;         /* who we are, for every host call */
  const char *greeting;       /* owned by the host, valid until destroy */
  uint64_t interval_ms;
  int64_t count; /* readings to emit; 0: forever */
  int64_t sent;
  struct vq_timer *timer;
};

/*
 * The options schema.  The daemon checks every key of the section against
 * it before anything starts (unknown key, wrong type, out of bounds: an
 * error naming file:line and the key) and prints it for
 * `vicacq --help-plugin hello`.  Fields: key, type, flags, default, choices
 * (for VQ_OPT_ENUM), min, max (ignored when min > max), help.
 */
static const struct vq_option options[] = {
    {"greeting", VQ_OPT_STRING, 0, "hello", NULL, 1, 0,
     "text sent as hello.greeting with every reading"},
    {"interval", VQ_OPT_DURATION, 0, "1s", NULL, 1, 86400000,
     "time between readings (e.g. 500ms, 2s, 1m)"},
    {"count", VQ_OPT_INT, 0, "0", NULL, 0, 1e9,
     "readings to emit before finishing (0: never finish)"},
    {NULL, 0, 0, NULL, NULL, 0, 0, NULL}};

/* Where each option lands in struct hello.  A key missing from the file
 * yields its schema default, so the defaults above are the only ones.
 * Strings stay owned by the host and valid until destroy. */
static const struct vq_cfg_bind bindings[] = {
    VQ_CFG_BIND(struct hello, greeting, "greeting", VQ_OPT_STRING),
    VQ_CFG_BIND(struct hello, interval_ms, "interval", VQ_OPT_DURATION),
    VQ_CFG_BIND(struct hello, count, "count", VQ_OPT_INT),
    {NULL, 0, 0}};

/* check: what the schema cannot say.  Runs at `vicacq --check`, at start
 * and on reload, before create; each problem goes to cfg_error, which
 * prints "FILE:LINE: [source.ID] key 'greeting': why".  Open nothing here. */
static int hello_check(const struct vq_host *host, struct vq_ctx *ctx) {
  const char *greeting = host->cfg_string(ctx, "greeting");
  if (greeting != NULL && *greeting != '\0' && strlen(greeting) <= 64)
    return 0;
  host->cfg_error(ctx, "greeting", "must be 1 to 64 characters");
  return -EINVAL;
}

/* create: keep the host table and our context, read the options.  Nothing
 * runs yet; that is start's job. */
static int hello_create(const struct vq_host *host, struct vq_ctx *ctx,
                        void **instance) {
  struct hello *h = calloc(1, sizeof *h);
  if (h == NULL) return -ENOMEM;
  h->host = host;
  h->ctx = ctx;
  if (host->cfg_bind(ctx, bindings, h) != 0) { /* a bug in the table */
    free(h);
    return -EINVAL;
  }
  *instance = h;
  return 0;
}

/* The timer callback: emit one reading. */
static void hello_tick(void *arg) {
  struct hello *h = arg;
  struct vq_record records[2];
  struct vq_tag tag = {"product", "Hello example"};
  struct vq_reading reading = VQ_READING_INIT;

  h->sent++;
  memset(records, 0, sizeof records); /* flags 0, text NULL */
  /* Quantities outside the vocabulary (doc/quantities.md) carry the
   * plugin's name as prefix.  unit "" means unitless. */
  records[0].quantity = "hello.count";
  records[0].unit = "";
  records[0].type = VQ_VALUE_INT;
  records[0].value.i64 = h->sent;
  records[1].quantity = "hello.greeting";
  records[1].unit = "";
  records[1].type = VQ_VALUE_STRING;
  records[1].value.str = h->greeting;

  reading.device = "hello"; /* a stable id of the device inside the source */
  reading.time_ns = 0;      /* 0: now */
  reading.tags = &tag;
  reading.ntags = 1;
  reading.records = records;
  reading.nrecords = 2;
  /* The host copies the reading before emit returns: stack data is fine. */
  h->host->emit(h->ctx, &reading);

  if (h->count > 0 && h->sent >= h->count) {
    h->host->timer_stop(h->ctx, h->timer); /* safe inside its callback */
    h->timer = NULL;
    h->host->finished(h->ctx); /* no more readings will come */
  }
}

/* start: begin working.  The first reading comes at once, then one every
 * interval. */
static int hello_start(void *instance) {
  struct hello *h = instance;
  h->timer = h->host->timer_start(h->ctx, 0, h->interval_ms, hello_tick, h);
  return h->timer != NULL ? 0 : -ENOMEM;
}

/* stop: stop working and call done once nothing of ours is left running.
 * A plugin with sockets or other libuv handles would close them here and
 * call done from the last close callback. */
static void hello_stop(void *instance, vq_stopped_cb done) {
  struct hello *h = instance;
  if (h->timer != NULL) {
    h->host->timer_stop(h->ctx, h->timer);
    h->timer = NULL;
  }
  done(h->ctx);
}

/* destroy: free what create allocated. */
static void hello_destroy(void *instance) { free(instance); }

/* A command-line tool: `vicacq greet hello [--count N] [-c FILE]` runs
 * this plugin as the only source of a pipeline with a text sink on
 * standard output.  preset: options the tool sets; options: the keys the
 * command line may set; from_config: with -c FILE, `greeting` comes from
 * the file's [source.ID] sections of this plugin. */
static const struct vq_tool tools[] = {
    {.name = "greet",
     .summary = "greet a few times, quickly",
     .preset = "interval=10ms\ncount=1",
     .options = "count",
     .from_config = "greeting=greeting"},
    {.name = NULL}};

/* The descriptor.  VQ_PLUGIN_HEADER fills in the magic number, the ABI
 * version this file was compiled against and the descriptor's size, so a
 * newer daemon knows which fields this plugin has. */
static const struct vq_plugin descriptor = {
    VQ_PLUGIN_HEADER,
    .name = "hello",                          /* plugin = hello */
    .version = "1.0.0",                       /* our version */
    .description = "example out-of-tree source: counts and greets",
    .kinds = VQ_KIND_SOURCE,
    .options = options,
    /* Designated fields: what a plugin does not use (writables, write,
     * command, ...) stays NULL, and fields added by later ABI minors are
     * NULL too. */
    .create = hello_create,
    .start = hello_start,
    .stop = hello_stop,
    .destroy = hello_destroy,
    .check = hello_check, /* ABI 1.2 */
    .tools = tools,       /* ABI 1.2 */
};

/*
 * The one exported symbol.  The first argument is the module's file name
 * without extension ("hello" for hello.so or hello.la), with any character
 * that is not a letter or digit written as '_'; it defines
 * hello_LTX_vq_plugin_entry, which libltdl finds when the daemon loads
 * `plugin = hello`.
 */
VQ_PLUGIN_DECLARE(hello, descriptor)

/*
 * vicacq plugin ABI.
 *
 * This header is the whole contract between the vicacq daemon (the "host")
 * and a plugin (a transport/source, a sink, a processor).  One file, long as
 * it is: a plugin includes one header, and every rule stands next to the
 * field it is about.  It is installed and
 * versioned; third-party plugins build against it with
 *   pkg-config --cflags vicacq
 * and install into
 *   pkg-config --variable=plugindir vicacq
 *
 * Rules that keep the ABI stable:
 *  - VQ_ABI_MAJOR changes only when an existing field changes meaning or
 *    position.  The host refuses a plugin whose major it does not speak.
 *  - VQ_ABI_MINOR grows when fields are appended.  Every struct that crosses
 *    the boundary starts (or, for struct vq_plugin, early on) with its own size,
 *    so either side reads only the fields both know.
 *  - Plugins reach the host only through struct vq_host; the daemon exports
 *    no other symbols to plugins.
 *
 * Threading: every callback runs on the host's one libuv loop thread and must
 * never block.  The single call that is safe from any other thread is
 * vq_host.post().
 *
 * Errors are negative errno values (e.g. -EINVAL), as in libuv.
 *
 * Lifetimes of what the host hands out (the plugin never frees any of it):
 *  - `host` and `ctx` given to create(): until destroy() returns.
 *  - Strings from cfg_string and cfg_bind, and instance_id/state_dir:
 *    until destroy() returns.  A reload (SIGHUP) that keeps the instance
 *    (its section unchanged) keeps them too; an instance whose section
 *    changed is destroyed and created anew.
 *  - In check(): `ctx` and the cfg_* strings only during the call.
 *  - A vq_batch and every reading, record, tag and string in it: until the
 *    sink calls batch_done for it (also when that is after stop()).
 *  - A vq_command passed to command(): only during the call; copy what
 *    the command_done needs (the ticket is a number).
 *  - The `message`/`reason` strings passed to a plugin's callbacks: only
 *    during the call.
 *  - Tool options: the key=value pairs of `vicacq TOOL` reach the plugin
 *    as an ordinary section, with the cfg_* lifetimes above.
 *  - Everything the plugin hands the host (readings on emit, commands on
 *    submit, log text) only during the call: the host copies what it keeps.
 *    Descriptor tables (options, writables, quantities, tools) must stay
 *    valid while the plugin is loaded.
 *
 * See vicacq-plugin(3) for a walk-through and examples/plugin-hello for a
 * complete out-of-tree plugin.
 */
#ifndef VICACQ_PLUGIN_H
#define VICACQ_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Versions                                                            */
/* ------------------------------------------------------------------ */

/** ABI major this header describes. */
#define VQ_ABI_MAJOR 1
/** ABI minor this header describes (number of append-only revisions). */
#define VQ_ABI_MINOR 3
/** First field of every plugin descriptor: "VQPL". */
#define VQ_PLUGIN_MAGIC 0x5651504cu

/** Name of the one symbol a plugin exports (see VQ_PLUGIN_DECLARE). */
#define VQ_PLUGIN_ENTRY_SYMBOL "vq_plugin_entry"

/* ------------------------------------------------------------------ */
/* Opaque host-side handles                                            */
/* ------------------------------------------------------------------ */

/** The host's view of one plugin instance (one [source.ID] or [sink.ID]
 *  section).  Passed back to every vq_host call. */
struct vq_ctx;
/** A host timer created with vq_host.timer_start. */
struct vq_timer;

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

/** Type of a record's value. */
enum vq_value_type {
  VQ_VALUE_DOUBLE = 1,  /**< value.f64 */
  VQ_VALUE_INT = 2,     /**< value.i64 */
  VQ_VALUE_BOOL = 3,    /**< value.i64, 0 or 1 */
  VQ_VALUE_STRING = 4,  /**< value.str (UTF-8, NUL-terminated) */
  VQ_VALUE_ENUM = 5,    /**< value.i64 is the code, text its label, or
                             "unknown_<code>" when the code has none (ABI
                             1.2; older producers may leave it NULL) */
  VQ_VALUE_BITMASK = 6  /**< value.i64 holds the bits, text the labels of the
                             set bits in bit order joined by ',' ("bit_<n>"
                             for a bit without a label), "none" when no bit
                             is set (ABI 1.2; older producers sent "") */
};

/** Record flags. */
#define VQ_RECORD_NA 0x1u       /**< The device reported "not available":
                                     the value is to be ignored; sinks show
                                     null / "unknown", never a number. */
#define VQ_RECORD_WRITABLE 0x2u /**< The quantity can be set through the
                                     control path (set by the host when the
                                     pipeline file grants a range). */

/** One value of one quantity.  Records are grouped in a vq_reading that
 *  gives them their device and time. */
struct vq_record {
  /** Quantity name from the vocabulary (doc/quantities.md), dotted,
   *  e.g. "battery.voltage".  Third-party plugins may use their own names;
   *  prefix them with the plugin name to avoid clashes. */
  const char *quantity;
  /** Unit, e.g. "V".  NULL means "the vocabulary's unit for this
   *  quantity"; the host fills it in before sinks see the record. */
  const char *unit;
  /** enum vq_value_type. */
  uint32_t type;
  /** VQ_RECORD_* flags. */
  uint32_t flags;
  /** The value; which member is valid follows from type. */
  union {
    double f64;
    int64_t i64;
    const char *str;
  } value;
  /** Label(s) for VQ_VALUE_ENUM and VQ_VALUE_BITMASK, else NULL. */
  const char *text;
};

/** A key/value tag describing the device that produced a reading.
 *  Well-known keys: "product" (name), "product_id" (hex, e.g. "0xA389"),
 *  "firmware", "serial". */
struct vq_tag {
  const char *key;
  const char *value;
};

/** One reading: records of one device taken at one time.
 *
 *  On emit, the plugin owns every pointer; the host copies what it keeps
 *  before emit returns.  On delivery to a sink, the host owns it; it stays
 *  valid until the sink completes the batch holding it. */
struct vq_reading {
  /** sizeof(struct vq_reading) as the producer knows it. */
  uint32_t size;
  /** sizeof(struct vq_record) as the producer knows it: the stride of
   *  records[].  Use VQ_READING_RECORD() to index. */
  uint32_t record_size;
  /** Source id (the ID of [source.ID]).  Ignored on emit; set by the host
   *  on delivery. */
  const char *source;
  /** Stable device id inside the source: BLE address as 12 lowercase hex
   *  digits, VE.Direct serial number, Modbus unit id. */
  const char *device;
  /** Acquisition time, nanoseconds since the Unix epoch (CLOCK_REALTIME).
   *  0 on emit means "now". */
  int64_t time_ns;
  /** Per-source sequence number, set by the host on delivery (emit: 0).
   *  Strictly increasing for the life of the process. */
  uint64_t seq;
  /** Tags (may be NULL when ntags is 0). */
  const struct vq_tag *tags;
  uint32_t ntags;
  /** Records (record_size bytes apart). */
  uint32_t nrecords;
  const struct vq_record *records;
};

/** The i-th record of a reading, whatever record size it was built with. */
#define VQ_READING_RECORD(reading, i)                                         \
  ((const struct vq_record *)(const void *)((const char *)(reading)->records + \
                                            (size_t)(i) * (reading)->record_size))

/** Initialise a reading for emit with this header's sizes. */
#define VQ_READING_INIT                                                         \
  { sizeof(struct vq_reading), sizeof(struct vq_record), NULL, NULL, 0, 0,      \
    NULL, 0, 0, NULL }

/* ------------------------------------------------------------------ */
/* Sinks: batches                                                      */
/* ------------------------------------------------------------------ */

/** A batch handed to a sink's write callback.  Owned by the host until the
 *  sink calls vq_host.batch_done for it (exactly once). */
struct vq_batch {
  /** sizeof(struct vq_batch) as the host knows it. */
  uint32_t size;
  /** Number of readings. */
  uint32_t nreadings;
  /** The readings, oldest first. */
  const struct vq_reading *const *readings;
  /** Total number of records in all readings. */
  uint32_t nrecords;
  /** How many times this batch was handed out before (0 on first try). */
  uint32_t attempt;
};

/** Outcome of a write, given to vq_host.batch_done. */
enum vq_write_status {
  /** Every reading was delivered. */
  VQ_WRITE_OK = 0,
  /** Nothing was delivered, try again later: the batch stays at the head
   *  of the queue and is handed out again after an exponential back-off
   *  with jitter (connection refused, HTTP 5xx, 429). */
  VQ_WRITE_RETRY = 1,
  /** The data can never be delivered (HTTP 4xx, type conflict): the batch
   *  is dropped and its records counted as rejected. */
  VQ_WRITE_REJECT = 2,
  /** The first `done` readings are finished (delivered, or rejected: count
   *  those records in `rejected`); the rest stays at the head and is
   *  retried after back-off.  done == nreadings ends the batch. */
  VQ_WRITE_PARTIAL = 3
};

/* ------------------------------------------------------------------ */
/* Control path                                                        */
/* ------------------------------------------------------------------ */

/** A quantity a source can write.  Listed in the descriptor so the host
 *  can validate `write.<quantity> = MIN..MAX` keys before anything starts. */
struct vq_writable {
  /** Vocabulary name, e.g. "charger.current_limit". */
  const char *quantity;
  /** Unit of the value the source expects, e.g. "A". */
  const char *unit;
  /** Hard limits of the device/protocol; a granted range must lie inside. */
  double min, max;
  /** Resolution of the setting (0.1 for a 0.1 A register). */
  double step;
  /** One line for --help-plugin. */
  const char *help;
};

/** A command: set one quantity of one device of one source. */
struct vq_command {
  /** sizeof(struct vq_command) as the sender knows it. */
  uint32_t size;
  /** Host-assigned id; pass it to command_done (sources) or match it in
   *  command_result (sinks).  Ignored on submit. */
  uint64_t ticket;
  /** Source id, device id and quantity addressed. */
  const char *source;
  const char *device;
  const char *quantity;
  /** Requested value. */
  double value;
  /** Unit of value, or NULL for the quantity's unit.  The host refuses a
   *  command whose unit differs from the source's. */
  const char *unit;
  /** Absolute deadline (CLOCK_REALTIME ns).  0 on submit: the host default.
   *  A command not completed by then fails with -ETIMEDOUT. */
  int64_t deadline_ns;
  /** Who sent it, for logs ("sink.ha"); set by the host. */
  const char *origin;
};

/* ------------------------------------------------------------------ */
/* Options schema                                                      */
/* ------------------------------------------------------------------ */

/** Type of an option value in the pipeline file. */
enum vq_option_type {
  VQ_OPT_STRING = 1,   /**< any text */
  VQ_OPT_INT = 2,      /**< decimal or 0x integer, within [min, max] */
  VQ_OPT_DOUBLE = 3,   /**< decimal number, within [min, max] */
  VQ_OPT_BOOL = 4,     /**< yes/no, true/false, on/off, 1/0 */
  VQ_OPT_ENUM = 5,     /**< one of the '|'-separated words in `choices` */
  VQ_OPT_DURATION = 6, /**< number with unit ms, s, m, h (bare: seconds);
                            read as milliseconds; within [min, max] ms */
  VQ_OPT_SECRET = 7    /**< text that is never logged; may instead be given
                            as `<key>_file = PATH` (first line of the file) */
};

/** Option flags. */
#define VQ_OPT_REQUIRED 0x1u /**< the key must be present */
#define VQ_OPT_LIST 0x2u     /**< comma-separated list of the type */
/** (ABI 1.3) The entry's key is a prefix ending in '.': every key that
 *  starts with it and goes on ("scale.battery.current" for "scale.") is
 *  valid, with the entry's type; the plugin lists them with
 *  vq_host.cfg_each.  The host reads this flag only from plugins built for
 *  ABI 1.3 or later. */
#define VQ_OPT_PREFIX 0x4u

/** One key of a plugin's section.  The array ends with a zeroed entry. */
struct vq_option {
  /** Key as written in the pipeline file. */
  const char *key;
  /** enum vq_option_type. */
  uint32_t type;
  /** VQ_OPT_* flags. */
  uint32_t flags;
  /** Default value as text, or NULL for none. */
  const char *default_value;
  /** For VQ_OPT_ENUM: the allowed words, '|'-separated ("json|influx"). */
  const char *choices;
  /** For INT, DOUBLE and DURATION: inclusive bounds (ignored if min > max). */
  double min, max;
  /** One line of help for --help-plugin and the man page. */
  const char *help;
};

/* ------------------------------------------------------------------ */
/* Host services                                                       */
/* ------------------------------------------------------------------ */

/** Log levels. */
enum vq_log_level {
  VQ_LOG_ERROR = 0,
  VQ_LOG_WARN = 1,
  VQ_LOG_INFO = 2,
  VQ_LOG_DEBUG = 3
};

/** One label of an enum code or bitmask bit (ABI 1.2).  Labels are
 *  snake_case ASCII ("bulk", "no_error"), the style Home Assistant's enum
 *  `options` expect. */
struct vq_label {
  int64_t code;
  const char *label;
};

/** What the vocabulary knows of a quantity (see quantity_info; plugins
 *  declare their own in vq_plugin.quantities).  Every pointer is static:
 *  it lives as long as the plugin (or the host) that owns the table. */
struct vq_quantity_info {
  /** sizeof(struct vq_quantity_info) as the host knows it. */
  uint32_t size;
  /** enum vq_value_type the quantity is always emitted with. */
  uint32_t type;
  const char *name;
  const char *unit;               /**< "" when unitless */
  const char *description;
  const char *ha_device_class;    /**< Home Assistant device_class, or NULL */
  const char *ha_state_class;     /**< Home Assistant state_class, or NULL */
  /** Non-zero for diagnostic quantities (rssi, error codes, firmware). */
  int diagnostic;

  /* ---- ABI 1.2 (check size before reading: VQ_HAS_FIELD) ---- */

  /** Short name for user interfaces, at most 40 characters, sentence case
   *  ("Battery current"); description stays the long text.  NULL: derive
   *  one from the name. */
  const char *short_name;
  /** Name of the label set of an ENUM or BITMASK quantity
   *  ("charger_state"), NULL for other types. */
  const char *label_set;
  /** The label set: for ENUM, code -> label; for BITMASK, bit number
   *  (0 = least significant) -> label.  Sorted by code, nlabels entries.
   *  Every label a record of this quantity can carry is here, so sinks
   *  know them all before the first value; a code outside the set is
   *  spelled "unknown_<code>" (bit: "bit_<n>"), a bitmask with no bit set
   *  is "none".  NULL/0 for other types. */
  const struct vq_label *labels;
  uint32_t nlabels;
};

/** Whether a struct that starts with its own `size` has `member`. */
#define VQ_HAS_FIELD(ptr, type, member)                                        \
  ((ptr)->size >= offsetof(type, member) + sizeof(((type *)0)->member))

/** One entry of a vq_host.cfg_bind table.  `type` is the key's schema
 *  type and decides the C type of the field:
 *    VQ_OPT_STRING, VQ_OPT_ENUM, VQ_OPT_SECRET  const char *
 *      (lists: the text as written, items separated by ',')
 *    VQ_OPT_INT       int64_t
 *    VQ_OPT_DOUBLE    double
 *    VQ_OPT_BOOL      int (0 or 1)
 *    VQ_OPT_DURATION  uint64_t, milliseconds */
struct vq_cfg_bind {
  const char *key;
  uint32_t type;
  size_t offset;
};

/** An entry binding `key` of type `type` to `member` of struct `stype`. */
#define VQ_CFG_BIND(stype, member, key, type)                                  \
  { (key), (type), offsetof(stype, member) }

/** Callback for vq_host.post and timers. */
typedef void (*vq_callback)(void *arg);

/** The function table the host hands to create().  Append-only: fields are
 *  only ever added at the end, and `size` says how many there are. */
struct vq_host {
  /** sizeof(struct vq_host) as the host knows it. */
  uint32_t size;
  /** ABI major and minor of the host. */
  uint16_t abi_major, abi_minor;

  /** The libuv loop (a uv_loop_t *).  Never block it.  Handles a plugin
   *  opens on it must be closed before stop() reports done. */
  void *(*loop)(struct vq_ctx *ctx);

  /** printf-style log line, prefixed with the instance ("source.shunt:"). */
  void (*log)(struct vq_ctx *ctx, int level, const char *fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 3, 4)))
#endif
      ;

  /** Emit one reading (sources).  The host copies it; it never blocks.
   *  A source may still emit from stop() until it calls done(ctx) (what it
   *  held back, e.g. values it groups into one reading): that is
   *  delivered, since sinks are stopped only after every source.  Later
   *  emits are dropped.  Returns 0, or -EINVAL for a malformed reading
   *  (nothing emitted). */
  int (*emit)(struct vq_ctx *ctx, const struct vq_reading *reading);

  /** A source with a finite input (a replay) calls this once at its end.
   *  When every source has finished, the daemon flushes its sinks and
   *  exits 0. */
  void (*finished)(struct vq_ctx *ctx);

  /** Start a timer: cb(arg) after `timeout_ms`, then every `repeat_ms` if
   *  non-zero.  The host closes it when the instance stops.  NULL on
   *  failure. */
  struct vq_timer *(*timer_start)(struct vq_ctx *ctx, uint64_t timeout_ms,
                                  uint64_t repeat_ms, vq_callback cb,
                                  void *arg);
  /** Stop and free a timer (safe from within its own callback). */
  void (*timer_stop)(struct vq_ctx *ctx, struct vq_timer *timer);

  /** Typed access to the instance's validated section.  A key that was not
   *  given yields its schema default; secrets come resolved from *_file.
   *  cfg_string returns NULL when there is neither value nor default; the
   *  string lives until destroy() (see "Lifetimes" above): keep the
   *  pointer, no copy needed.
   *  The other getters return 0 on success, -ENOENT when there is neither,
   *  -EINVAL for a key the schema does not have. */
  const char *(*cfg_string)(struct vq_ctx *ctx, const char *key);
  int (*cfg_int)(struct vq_ctx *ctx, const char *key, int64_t *out);
  int (*cfg_double)(struct vq_ctx *ctx, const char *key, double *out);
  int (*cfg_bool)(struct vq_ctx *ctx, const char *key, int *out);
  /** Durations in milliseconds. */
  int (*cfg_duration)(struct vq_ctx *ctx, const char *key, uint64_t *out);

  /** Sinks: complete the batch given to write().  May be called from
   *  within write().  `done` and `rejected` matter for VQ_WRITE_PARTIAL
   *  (readings finished from the head, records among them rejected);
   *  `reason` (may be NULL) is logged for RETRY/REJECT/PARTIAL. */
  void (*batch_done)(struct vq_ctx *ctx, const struct vq_batch *batch,
                     int status, uint32_t done, uint32_t rejected,
                     const char *reason);

  /** Sinks: submit a command.  The host validates it (granted range, unit,
   *  owning source) and later calls the sink's command_result with the
   *  returned ticket.  Returns the ticket (> 0) or a negative errno when
   *  the command is refused at once (the reason is logged and, if
   *  `reason` is non-NULL, stored there: a static string). */
  int64_t (*command_submit)(struct vq_ctx *ctx, const struct vq_command *cmd,
                            const char **reason);
  /** Sources: finish a command passed to command().  status 0 or a
   *  negative errno; message (may be NULL) says why. */
  void (*command_done)(struct vq_ctx *ctx, uint64_t ticket, int status,
                       const char *message);
  /** The granted range of a writable quantity of a source: 0 and min/max,
   *  or -ENOENT when the pipeline file grants none. */
  int (*command_range)(struct vq_ctx *ctx, const char *source,
                       const char *quantity, double *min, double *max,
                       double *step);

  /** Add delta to the instance's counter `name` ("decrypt_failed").
   *  Counters are logged on SIGUSR1 and at exit. */
  void (*stat_add)(struct vq_ctx *ctx, const char *name, int64_t delta);

  /** Run cb(arg) on the loop thread soon.  The only thread-safe call.
   *  Callable from any thread from create() until destroy() is called
   *  (a plugin's worker threads must be joined in stop() or destroy()).
   *  Callbacks run in the order posted, and only while the instance has
   *  not finished stopping: once stop() has called done(ctx), nothing
   *  posted runs any more (pending ones are discarded, not run) and post
   *  returns -ESHUTDOWN.  Returns 0, -ESHUTDOWN or -ENOMEM. */
  int (*post)(struct vq_ctx *ctx, vq_callback cb, void *arg);

  /** The vocabulary entry of a quantity, or NULL if it is not in it. */
  const struct vq_quantity_info *(*quantity_info)(struct vq_ctx *ctx,
                                                  const char *quantity);

  /** Instance id ("shunt" for [source.shunt]). */
  const char *(*instance_id)(struct vq_ctx *ctx);

  /** Directory for the plugin's state (may not exist yet: create it), or
   *  NULL.  One directory for every instance of every plugin: name files
   *  after the plugin and instance_id ("energy.meters.state"). */
  const char *(*state_dir)(struct vq_ctx *ctx);

  /* ---- ABI 1.1 ---- */

  /** Sources: how full the fullest sink queue this source feeds is, in
   *  percent (0..100) of its bound.  A source that can wait (a replay at
   *  full speed) pauses while it is high instead of making the queue drop
   *  its oldest records; a live device cannot wait and ignores it.
   *  Check VQ_HOST_HAS(host, backlog) first. */
  int (*backlog)(struct vq_ctx *ctx);

  /* ---- ABI 1.2 ---- */

  /** Report a problem with `key` of the instance's section (NULL: the
   *  section as a whole).  The host prints it as
   *  "FILE:LINE: [kind.id] key 'key': message" (the key's own line) and
   *  the check, create or start that is running fails.  Callable from
   *  check(), create() and start(). */
  void (*cfg_error)(struct vq_ctx *ctx, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
      __attribute__((format(printf, 3, 4)))
#endif
      ;

  /** Re-arm a running or stopped timer: cb after `timeout_ms`, then every
   *  `repeat_ms` if non-zero (uv_timer_start semantics on the same
   *  handle).  0, or -EINVAL for a timer this instance does not own. */
  int (*timer_again)(struct vq_ctx *ctx, struct vq_timer *timer,
                     uint64_t timeout_ms, uint64_t repeat_ms);

  /** Read the section into a struct (Fluent Bit's config map): for each
   *  entry of `table` (ended by key == NULL) the value of `key` (given or
   *  schema default) is parsed and stored at `(char *)base + offset` as
   *  the entry's type says; a key with neither value nor default leaves
   *  the field untouched, so a default lives only in the schema.  Strings
   *  follow cfg_string's lifetime.  0, or -EINVAL when an entry names a
   *  key the schema lacks or whose schema type differs from the entry's
   *  (a plugin bug, logged).  Callable from check() and create(). */
  int (*cfg_bind)(struct vq_ctx *ctx, const struct vq_cfg_bind *table,
                  void *base);

  /* ---- ABI 1.3 ---- */

  /** Call fn(arg, key, value) for every key of the section that starts
   *  with `prefix` (the keys of a VQ_OPT_PREFIX entry), in file order.
   *  key and value live as cfg_string's do.  Returns how many there were.
   *  Callable from check() and create(). */
  int (*cfg_each)(struct vq_ctx *ctx, const char *prefix,
                  void (*fn)(void *arg, const char *key, const char *value),
                  void *arg);
};

/** Whether the host table has `member` (it is older than this header
 *  when it does not): test before calling anything added after 1.0. */
#define VQ_HOST_HAS(host, member)                                              \
  ((host)->size >= offsetof(struct vq_host, member) + sizeof((host)->member) && \
   (host)->member != NULL)

/* ------------------------------------------------------------------ */
/* Plugin descriptor                                                   */
/* ------------------------------------------------------------------ */

/** Plugin kinds (bits). */
#define VQ_KIND_SOURCE 0x1u
#define VQ_KIND_SINK 0x2u
/** (ABI 1.3) A processor: [process.ID] sections, attached by name with
 *  `process = a, b` to sources (run on the source's readings, before
 *  routing) or to one sink (on what is routed to it).  See
 *  vq_plugin.process. */
#define VQ_KIND_PROCESSOR 0x4u

/** A command-line tool of a plugin (ABI 1.2), run as
 *    vicacq TOOL PLUGIN [--KEY VALUE | KEY=VALUE ...] [-o FILE] [-c FILE]
 *  e.g. `vicacq scan ble-adv --seconds 10`, `vicacq dump vedirect
 *  --port /dev/ttyUSB0 -o cap.txt` (-o is short for --output).  PLUGIN may
 *  be shortened to the part before its first '-' when that names one
 *  plugin with the tool ("ble" for "ble-adv"); `vicacq TOOL` without a
 *  plugin runs, side by side, the tool of every plugin that has one and
 *  whose `required` keys the command line gives.
 *  The host builds a one-source pipeline: the plugin as source "TOOL", the
 *  tool's `preset` options, then the command line's (each key must be in
 *  `options`), validated against the plugin's schema and check() like any
 *  section.  The source prints or writes by itself (its records, if any,
 *  go to a text sink on stdout).  Arrays of tools end with an entry whose
 *  name is NULL; use designated initialisers (the reserved slots are for
 *  later minors and must be NULL). */
struct vq_tool {
  /** Verb: "scan", "dump", or the plugin's own. */
  const char *name;
  /** One line for `vicacq --help-plugin` and `vicacq TOOL --help`. */
  const char *summary;
  /** Options the tool sets, "key=value" lines separated by '\n'
   *  ("mode=scan"), or NULL. */
  const char *preset;
  /** Comma-separated schema keys the command line may set ("adapter,
   *  seconds"); NULL: none. */
  const char *options;
  /** Of those, comma-separated keys that must be given; NULL: none. */
  const char *required;
  /** What the tool learns from a pipeline file given with -c FILE (or
   *  NULL), as one spec "KEY=FROM[+ALSO...]" without spaces: KEY (a
   *  schema key of this plugin that the command line cannot set) gets the
   *  comma-separated values of FROM of every [source.ID] of this plugin in
   *  FILE that also has every ALSO key; when no section qualifies KEY is
   *  not set.  A malformed spec makes the tool fail (exit status 2).
   *  ble-adv's scan says "known_addresses=address+key": the devices the
   *  file has a key for are marked known. */
  const char *from_config;
  /** ABI 1.3: more of the same (or NULL), specs separated by ';', each
   *  "KEY=[PLUGIN:]FROM[+ALSO...]": PLUGIN names the plugin whose sources
   *  are read (default: this plugin); each KEY in one spec only.  It is
   *  a field of its own so that a 1.2 host, which ignores it, still reads
   *  from_config right.  ble-adv's scan says
   *  "gatt_addresses=ble-gatt:address": the devices a ble-gatt source
   *  reads are marked as such. */
  const char *from_config_more;
  /** Reserved for later minors; NULL. */
  const void *reserved[2];
};

/** Called when an instance has fully stopped (all its handles closed). */
typedef void (*vq_stopped_cb)(struct vq_ctx *ctx);

/** The descriptor a plugin returns from its entry point.  Constant and
 *  owned by the plugin for as long as it is loaded. */
struct vq_plugin {
  /** VQ_PLUGIN_MAGIC. */
  uint32_t magic;
  /** ABI the plugin was built for: VQ_ABI_MAJOR / VQ_ABI_MINOR. */
  uint16_t abi_major, abi_minor;
  /** sizeof(struct vq_plugin) as the plugin knows it. */
  uint32_t size;

  /** Name used in `plugin = NAME` ("vedirect"). */
  const char *name;
  /** Plugin version ("1.0.0"). */
  const char *version;
  /** One line description. */
  const char *description;
  /** VQ_KIND_* bits. */
  uint32_t kinds;
  /** Options schema, ended by an entry with key == NULL.  The host
   *  validates every key of the section against it before create(). */
  const struct vq_option *options;
  /** Writable quantities (sources), ended by quantity == NULL; or NULL. */
  const struct vq_writable *writables;

  /** Create an instance for a validated section.  Keep `host` and `ctx`;
   *  they stay valid until destroy().  Set *instance.  0 or -errno (the
   *  plugin logs why). */
  int (*create)(const struct vq_host *host, struct vq_ctx *ctx,
                void **instance);
  /** Start working (open sockets, start timers).  0 or -errno.  A sink
   *  whose server is down must still start, and keep trying. */
  int (*start)(void *instance);
  /** Stop working: close handles, then call done(ctx) once everything is
   *  closed (may be called before stop returns).  Sinks: no write() is
   *  made after stop; a batch in flight must still be completed. */
  void (*stop)(void *instance, vq_stopped_cb done);
  /** Free the instance. */
  void (*destroy)(void *instance);

  /** Sinks: write a batch.  Complete it with host->batch_done (now or
   *  later); there is at most one batch in flight per instance.  Returning
   *  a negative errno is the same as batch_done(VQ_WRITE_RETRY). */
  int (*write)(void *instance, const struct vq_batch *batch);

  /** Sources with writables: carry out a validated command; complete it
   *  with host->command_done(ctx, cmd->ticket, ...).  The command struct
   *  is valid only during the call.  0, or -errno to fail it at once. */
  int (*command)(void *instance, const struct vq_command *cmd);

  /** Sinks that submit commands: the outcome of one (status 0 or -errno,
   *  message may be NULL).  May be NULL. */
  void (*command_result)(void *instance, uint64_t ticket, int status,
                         const char *message);

  /* ---- ABI 1.2: these take the place of the first reserved slots, so
   * the descriptor's size is unchanged and a 1.1 plugin (which set them
   * NULL) is read correctly.  The host reads them only when abi_minor >= 2. */

  /** Check the section beyond the schema (a key's shape, keys that go
   *  together) without opening anything; report each problem with
   *  host->cfg_error.  Runs at --check, and before create() at start and
   *  at reload, so a file that passes --check starts.  The cfg_* getters,
   *  cfg_bind, cfg_error, log and instance_id work; nothing else of the
   *  host may be called.  `ctx` is valid only during the call (it is not
   *  the ctx create() will get).  0 or -EINVAL (a non-zero return
   *  without a cfg_error call still fails, naming the section).  May be
   *  NULL. */
  int (*check)(const struct vq_host *host, struct vq_ctx *ctx);
  /** Quantities the plugin emits that the core vocabulary lacks, ended by
   *  an entry with name == NULL, each `size` = sizeof as the plugin knows
   *  it (the host reads only what both know).  Merged at load: a name the
   *  core or another loaded plugin already declares is refused, naming
   *  both.  Name them "<plugin-ish prefix>.<what>" ("gx.vebus.ac.f").
   *  Or NULL. */
  const struct vq_quantity_info *quantities;
  /** Command-line tools, ended by an entry with name == NULL; or NULL. */
  const struct vq_tool *tools;

  /* ---- ABI 1.3 (read only when abi_minor >= 3) ---- */

  /** Processors, and derived sources: one reading of the chain.
   *
   *  A processor (VQ_KIND_PROCESSOR) gets each reading of its chain after
   *  the core applied the section's `match` globs: only the records they
   *  select are in `reading` (the others go on past it untouched, as a
   *  reading of their own); a reading none of whose records match does not
   *  reach it.  `reading` and everything it points to are valid only during
   *  the call; source, device and time_ns are set.  What the processor
   *  passes on it hands to host->emit(ctx, r), at once or later (a window's
   *  end, in stop() for what is still open): r->source must name the
   *  source of the readings it came from (a processor keeps source and
   *  device), r->time_ns is kept as given.  Emitting the very pointer it
   *  was given passes the reading on without a copy.  What it does not
   *  emit goes no further; a processor never blocks.  Processors in a sink
   *  chain are stopped before the sink, after the sources, so what they
   *  emit in stop() still reaches it.
   *
   *  A source plugin with process() is a derived source (the `group`
   *  plugin): the core hands it the readings, after their source chains,
   *  of the sources its `members` option names (a VQ_OPT_LIST of ids or
   *  ID/DEVICE); it emits its own readings as any source does, and is
   *  finished when every member is.
   *
   *  0, or -errno (logged; the reading goes no further). */
  int (*process)(void *instance, const struct vq_reading *reading);

  /** Reserved for future minors; set to NULL. */
  void *reserved[4];
};

/** Signature of the entry point.  The host passes the ABI majors it can
 *  load; the plugin returns its descriptor if it speaks one of them, else
 *  NULL. */
typedef const struct vq_plugin *(*vq_plugin_entry_fn)(const uint16_t *majors,
                                                      size_t nmajors);

/* Symbol naming: libltdl's "MODULE_LTX_symbol" convention lets in-tree
 * modules be preloaded (-dlpreopen) without symbol clashes.  MODULE is the
 * module's file name without extension, with every character that is not
 * a letter or digit written as '_' (ble-adv.la -> ble_adv). */
#define VQ_PLUGIN_ENTRY_NAME_(module) module##_LTX_vq_plugin_entry
#define VQ_PLUGIN_ENTRY_NAME(module) VQ_PLUGIN_ENTRY_NAME_(module)

/** Define the entry point of module `module` (see above) returning
 *  `descriptor` (a struct vq_plugin) when the host speaks VQ_ABI_MAJOR. */
#define VQ_PLUGIN_DECLARE(module, descriptor)                                  \
  const struct vq_plugin *VQ_PLUGIN_ENTRY_NAME(module)(const uint16_t *majors, \
                                                       size_t nmajors);        \
  const struct vq_plugin *VQ_PLUGIN_ENTRY_NAME(module)(const uint16_t *majors, \
                                                       size_t nmajors) {       \
    size_t i_;                                                                 \
    for (i_ = 0; i_ < nmajors; i_++)                                           \
      if (majors[i_] == VQ_ABI_MAJOR) return &(descriptor);                    \
    return NULL;                                                               \
  }

/** Initialiser for the first fields of a descriptor (designated; the
 *  fields that follow may be designated too, or positional from `name`). */
#define VQ_PLUGIN_HEADER                                                       \
  .magic = VQ_PLUGIN_MAGIC, .abi_major = VQ_ABI_MAJOR,                         \
  .abi_minor = VQ_ABI_MINOR, .size = sizeof(struct vq_plugin)

#ifdef __cplusplus
}
#endif

#endif /* VICACQ_PLUGIN_H */

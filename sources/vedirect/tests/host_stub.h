/* A small stand-in for the vicacq host, enough to run the vedirect plugin
 * on a libuv loop in unit tests: options from key/value pairs (defaults
 * from the plugin's schema), emitted readings kept as text lines, timers,
 * command completion. */
#ifndef VED_HOST_STUB_H
#define VED_HOST_STUB_H

#include <stdint.h>
#include <uv.h>

#include "vicacq/plugin.h"

#define STUB_LINES 100000

struct stub {
  struct vq_host host;
  uv_loop_t *loop;
  const struct vq_plugin *plugin;
  void *instance;
  const char *const *kv; /* "key", "value", ..., NULL */
  char *lines[STUB_LINES]; /* "device quantity=value [text] [NA]" */
  size_t nlines;
  uint64_t readings;
  int finished, stopped, verbose;
  /* last command completion */
  uint64_t done_ticket;
  int done_status, done_count;
  char done_msg[256];
  /* log lines containing "lost" / "again" */
  int lost_logs, again_logs;
};

/* Set up with the vedirect descriptor and create + start the instance. */
int stub_start(struct stub *s, uv_loop_t *loop, const char *const *kv);
/* Stop the instance and run the loop until it has stopped; destroy it. */
void stub_stop(struct stub *s);
/* Number of lines containing `needle`, and the last such line. */
size_t stub_count(const struct stub *s, const char *needle, const char **last);
/* Send a command to the plugin; returns its ticket. */
uint64_t stub_command(struct stub *s, const char *device, double value,
                      int64_t deadline_ms_from_now);
void stub_free(struct stub *s);

#endif

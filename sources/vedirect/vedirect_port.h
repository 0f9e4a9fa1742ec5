/* VE.Direct ports on the libuv loop (doc/design.md §7):
 *   /dev/ttyUSB0     serial device through libserialport, 19200 8N1, no
 *                    flow control, DTR and RTS on (they power the isolated
 *                    side of Victron's VE.Direct-to-RS232 cable)
 *   tcp://HOST:PORT  a serial-to-TCP bridge (ser2net, ESP-Link)
 *   file:PATH        replay of raw bytes (a capture or a `vicacq dump`)
 * Serial and TCP ports reconnect on their own with exponential back-off;
 * nothing here blocks the loop. */
#ifndef VEDIRECT_PORT_H
#define VEDIRECT_PORT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

enum ved_port_kind { VED_PORT_SERIAL = 1, VED_PORT_TCP, VED_PORT_FILE };

struct ved_port_cb {
  /* Bytes arrived.  Return how many were used; a file port keeps the rest
   * and reads nothing more until ved_port_resume() (replay pacing).  Live
   * ports drop what is not used. */
  size_t (*data)(void *arg, const uint8_t *buf, size_t len);
  /* The port opened (up = 1) or was lost / failed to open (up = 0, err a
   * negative errno, what a short description).  Called once per change,
   * not per retry. */
  void (*state)(void *arg, int up, int err, const char *what);
  /* A file port reached its end (without loop). */
  void (*eof)(void *arg);
  /* A looping file port starts over at its first byte (may be NULL). */
  void (*rewound)(void *arg);
  void *arg;
};

struct ved_port_opts {
  int loop;                 /* file: start over at the end */
  uint64_t backoff_min_ms;  /* first reconnect delay */
  uint64_t backoff_max_ms;  /* cap of the doubling delay */
};

struct ved_port;

/* Parse `spec` and create the port (nothing is opened yet).  0, or
 * -EINVAL with *why set to a static reason. */
int ved_port_new(uv_loop_t *loop, const char *spec,
                 const struct ved_port_opts *opts,
                 const struct ved_port_cb *cb, struct ved_port **out,
                 const char **why);
int ved_port_kind(const struct ved_port *p);
/* Check a spec's shape as ved_port_new does, without creating anything:
 * 0 with *kind set, or -EINVAL with *why a static reason. */
int ved_port_check(const char *spec, int *kind, const char **why);
/* Start opening (and keep reconnecting). */
int ved_port_start(struct ved_port *p);
/* Write bytes (HEX frames).  0, -ENOTCONN when the port is down,
 * -ENOTSUP for file ports, -ENOBUFS when the output buffer is full. */
int ved_port_write(struct ved_port *p, const void *buf, size_t len);
/* File ports, from within data(): read nothing more until
 * ved_port_resume(), also when data() used every byte it was given (a
 * pause asked for on the last byte of a read holds). */
void ved_port_pause(struct ved_port *p);
/* File ports: continue after a pause, or after data() used less than it
 * was given. */
void ved_port_resume(struct ved_port *p);
/* Drop the connection now and reconnect after the back-off (used when a
 * live link stops delivering data). */
void ved_port_reconnect(struct ved_port *p);
/* Close everything; closed(arg) runs once all handles are closed, then
 * the port is freed. */
void ved_port_close(struct ved_port *p, void (*closed)(void *), void *arg);

#endif

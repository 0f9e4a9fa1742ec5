/* The client's system bus connection driven by the libuv loop: uv_poll on
 * the bus fd, a uv_timer for sd-bus timeouts, reconnection when the bus
 * goes away. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "bluez_internal.h"

static void bus_process(struct bluez_client *c) {
  int r;
  if (c->bus == NULL) return;
  do {
    r = sd_bus_process(c->bus, NULL);
  } while (r > 0 && c->bus != NULL);
  if (r < 0 && c->bus != NULL) {
    bluez_log(c, 0, "lost the system bus (%s); reconnecting in %u s", strerror(-r),
              BLUEZ_RECONNECT_MS / 1000);
    bluez_bus_disconnect(c);
    bluez_schedule_retry(c, BLUEZ_RECONNECT_MS);
    return;
  }
  bluez_bus_update(c);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)status; /* errors surface from sd_bus_process */
  (void)events;
  bus_process(h->data);
}

static void on_bus_timer(uv_timer_t *t) { bus_process(t->data); }

/* Follow what sd-bus waits for: fd events and its next timeout. */
void bluez_bus_update(struct bluez_client *c) {
  int ev, uvev = 0, r;
  uint64_t usec;
  if (c->bus == NULL || c->closing) return;
  ev = sd_bus_get_events(c->bus);
  if (ev < 0) return;
  if (ev & POLLIN) uvev |= UV_READABLE;
  if (ev & POLLOUT) uvev |= UV_WRITABLE;
  if ((r = uv_poll_start(&c->poll, uvev, on_poll)) != 0)
    bluez_log(c, 0, "uv_poll_start: %s", uv_strerror(r));
  if (sd_bus_get_timeout(c->bus, &usec) >= 0 && usec != UINT64_MAX) {
    struct timespec ts;
    uint64_t now, delay_ms = 0;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    if (usec > now) delay_ms = (usec - now + 999) / 1000;
    if ((r = uv_timer_start(&c->bus_timer, on_bus_timer, delay_ms, 0)) != 0)
      bluez_log(c, 0, "cannot start the bus timer: %s", uv_strerror(r));
  } else {
    uv_timer_stop(&c->bus_timer);
  }
}

static void retry_cb(uv_timer_t *t) {
  struct bluez_client *c = t->data;
  if (c->closing) return;
  if (c->bus == NULL) {
    if (bluez_bus_connect(c) != 0) bluez_schedule_retry(c, BLUEZ_RECONNECT_MS);
  } else {
    bluez_discovery_retry(c);
  }
  bluez_bus_update(c);
}

void bluez_schedule_retry(struct bluez_client *c, unsigned ms) {
  int r = uv_timer_start(&c->retry_timer, retry_cb, ms, 0);
  if (r != 0) bluez_log(c, 0, "cannot start the retry timer: %s", uv_strerror(r));
}

void bluez_bus_disconnect(struct bluez_client *c) {
  if (c->poll_open) {
    /* The poll handle is bound to the fd; it goes with the connection. */
    c->poll_open = 0;
    uv_close((uv_handle_t *)&c->poll, bluez_handle_closed);
  }
  uv_timer_stop(&c->bus_timer);
  c->agent_slot = sd_bus_slot_unref(c->agent_slot);
  if (c->bus != NULL) {
    sd_bus_close(c->bus);
    c->bus = sd_bus_unref(c->bus);
  }
  bluez_agent_reset(c);
  bluez_link_gone(c, NULL);
  bluez_calls_fail(c, -ECONNRESET);
  c->bluez_present = 0;
  c->adapter_path[0] = '\0';
  bluez_discovery_reset(c);
  bluez_devices_clear(c);
}

int bluez_bus_connect(struct bluez_client *c) {
  int r, fd;
  /* sd_bus_open_system honours DBUS_SYSTEM_BUS_ADDRESS. */
  if ((r = sd_bus_open_system(&c->bus)) < 0) {
    bluez_log(c, 0, "cannot connect to the system bus: %s", strerror(-r));
    c->bus = NULL;
    return r;
  }
  if ((fd = sd_bus_get_fd(c->bus)) < 0 || uv_poll_init(c->loop, &c->poll, fd) != 0) {
    bluez_log(c, 0, "cannot watch the system bus connection");
    c->bus = sd_bus_unref(c->bus);
    return -EIO;
  }
  bluez_stats.bus_connections++;
  c->poll.data = c;
  c->poll_open = 1;
  c->open_handles++;
  if ((r = bluez_objects_watch(c)) < 0) {
    bluez_bus_disconnect(c);
    return r;
  }
  bluez_objects_load(c);
  bluez_bus_update(c);
  return 0;
}

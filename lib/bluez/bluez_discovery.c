/* The process's one LE discovery session on the chosen adapter: filter
 * (Transport=le, DuplicateData=true so every advertisement is reported),
 * start, restart after another program stopped it, and pauses while a
 * subscriber sets up a connection. */
#include <string.h>

#include "bluez_internal.h"

/* Restart delays after discovery was stopped or failed: doubled while it
 * keeps happening, so a fight with another program is not a busy loop. */
#define RETRY_MIN_MS 1000u
#define RETRY_MAX_MS 60000u
/* A restart this long after the last one counts as a fresh start. */
#define RETRY_FORGET_MS 60000u

static unsigned next_retry(struct bluez_client *c) {
  unsigned ms = c->retry_ms;
  c->retry_ms = c->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : c->retry_ms * 2;
  return ms;
}

/* No start in flight any more; one that failed is news when retried.
 * Dropping the call's slot cancels a reply still to come, so that an
 * adapter powered off and on again during SetDiscoveryFilter does not end
 * with two filter and start sequences. */
static void discovery_settled(struct bluez_client *c) {
  c->discovery_pending = 0;
  c->discovery_resuming = 0;
  c->discovery_call = sd_bus_slot_unref(c->discovery_call);
}

void bluez_discovery_reset(struct bluez_client *c) {
  c->discovery_started = 0;
  discovery_settled(c);
  c->retry_ms = RETRY_MIN_MS;
  uv_timer_stop(&c->retry_timer);
}

static int on_stop_discovery(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct bluez_client *c = userdata;
  const sd_bus_error *e = sd_bus_message_get_error(m);
  (void)ret_error;
  if (e != NULL && !c->closing)
    bluez_log(c, 3, "StopDiscovery for a pause failed (%s)", bluez_error_text(e));
  return 0;
}

/* Our discovery runs but a subscriber holds a pause: stop it.  The
 * Discovering=false that follows is ours, not another program's: the
 * session is marked stopped first. */
static void stop_for_pause(struct bluez_client *c) {
  int r;
  c->discovery_started = 0;
  bluez_stats.discovery_stops++;
  r = sd_bus_call_method_async(c->bus, NULL, BLUEZ_SERVICE, c->adapter_path,
                               BLUEZ_ADAPTER_IFACE, "StopDiscovery", on_stop_discovery, c,
                               "");
  if (r < 0) bluez_log(c, 0, "cannot call StopDiscovery: %s", strerror(-r));
  else bluez_log(c, 3, "discovery on %s paused for a connection", bluez_adapter_name(c));
}

static int on_start_discovery(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct bluez_client *c = userdata;
  const sd_bus_error *e = sd_bus_message_get_error(m);
  int resuming = c->discovery_resuming;
  (void)ret_error;
  discovery_settled(c);
  if (c->closing || c->adapter_path[0] == '\0') return 0;
  if (e != NULL) {
    unsigned ms = next_retry(c);
    bluez_log(c, 1, "StartDiscovery on %s failed (%s); trying again in %u s",
              bluez_adapter_name(c), bluez_error_text(e), ms / 1000);
    bluez_schedule_retry(c, ms);
    return 0;
  }
  c->discovery_started = 1;
  c->started_at_ms = uv_now(c->loop);
  bluez_stats.discovery_starts++;
  /* A resume after a pause is no news: said at info it would be a line
   * per connection (per poll in ble-gatt's poll mode). */
  bluez_log(c, resuming ? 3 : 2, "LE discovery running on %s", bluez_adapter_name(c));
  /* A pause that came while the start was in flight. */
  if (c->npaused > 0) stop_for_pause(c);
  return 0;
}

static int on_set_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct bluez_client *c = userdata;
  const sd_bus_error *e = sd_bus_message_get_error(m);
  int r;
  (void)ret_error;
  if (c->closing || c->adapter_path[0] == '\0') {
    discovery_settled(c);
    return 0;
  }
  if (e != NULL)
    /* Old BlueZ without DuplicateData still scans, with fewer reports. */
    bluez_log(c, 1, "SetDiscoveryFilter on %s failed (%s); scanning without it",
              bluez_adapter_name(c), bluez_error_text(e));
  c->discovery_call = sd_bus_slot_unref(c->discovery_call); /* its reply is this one */
  r = sd_bus_call_method_async(c->bus, &c->discovery_call, BLUEZ_SERVICE, c->adapter_path,
                               BLUEZ_ADAPTER_IFACE, "StartDiscovery", on_start_discovery, c,
                               "");
  if (r < 0) {
    discovery_settled(c);
    bluez_log(c, 0, "cannot call StartDiscovery: %s", strerror(-r));
    bluez_schedule_retry(c, next_retry(c));
  }
  return 0;
}

void bluez_discovery_start(struct bluez_client *c) {
  int r;
  if (c->closing || c->bus == NULL || c->adapter_path[0] == '\0' || c->discovery_pending ||
      c->discovery_started || c->npaused > 0)
    return;
  c->discovery_pending = 1;
  r = sd_bus_call_method_async(c->bus, &c->discovery_call, BLUEZ_SERVICE, c->adapter_path,
                               BLUEZ_ADAPTER_IFACE, "SetDiscoveryFilter", on_set_filter, c,
                               "a{sv}", 2, "Transport", "s", "le", "DuplicateData", "b", 1);
  if (r < 0) {
    discovery_settled(c);
    bluez_log(c, 0, "cannot call SetDiscoveryFilter: %s", strerror(-r));
    bluez_schedule_retry(c, next_retry(c));
  }
}

void bluez_discovery_retry(struct bluez_client *c) {
  if (c->bluez_present && c->adapter_path[0] != '\0') bluez_discovery_start(c);
}

/* Powered or Discovering of the chosen adapter changed (-1: not in the
 * change). */
void bluez_discovery_adapter_changed(struct bluez_client *c, int powered,
                                     int discovering) {
  if (powered == 0) {
    bluez_log(c, 1, "Bluetooth adapter %s was powered off; waiting for it",
              bluez_adapter_name(c));
    bluez_discovery_reset(c);
    return;
  }
  if (powered == 1 && !c->discovery_started) {
    bluez_log(c, 2, "Bluetooth adapter %s was powered on", bluez_adapter_name(c));
    c->retry_ms = RETRY_MIN_MS;
    bluez_discovery_start(c);
    return;
  }
  if (discovering == 0 && c->discovery_started) {
    unsigned ms;
    /* Someone stopped discovery (bluetoothctl, another client taking the
     * adapter down...).  Restart after a delay that grows while it keeps
     * happening soon after each restart. */
    if (uv_now(c->loop) - c->started_at_ms > RETRY_FORGET_MS) c->retry_ms = RETRY_MIN_MS;
    ms = next_retry(c);
    c->discovery_started = 0;
    bluez_log(c, 1, "discovery on %s was stopped by someone else; restarting in %u s",
              bluez_adapter_name(c), ms / 1000);
    bluez_schedule_retry(c, ms);
  }
}

/* The number of pausing subscribers changed. */
void bluez_discovery_pause_changed(struct bluez_client *c) {
  if (c->closing || c->bus == NULL) return;
  if (c->npaused > 0) {
    uv_timer_stop(&c->retry_timer);
    if (c->discovery_started) stop_for_pause(c);
    /* A start in flight is stopped when its reply comes. */
    return;
  }
  if (c->bluez_present && c->adapter_path[0] != '\0' && !c->discovery_started) {
    bluez_log(c, 3, "discovery on %s resumed", bluez_adapter_name(c));
    c->retry_ms = RETRY_MIN_MS;
    if (!c->discovery_pending) c->discovery_resuming = 1;
    bluez_discovery_start(c);
  }
}

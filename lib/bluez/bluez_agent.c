/* The process's pairing agent: one org.bluez.Agent1 object, registered as
 * KeyboardOnly (a SmartShunt shows nothing; we type its PIN), answering
 * RequestPasskey for a device some subscriber owns with that subscriber's
 * PIN and rejecting everything else.  The PIN is never logged. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bluez_internal.h"

#define AGENT_PATH "/org/vicacq/agent"
#define AGENT_IFACE "org.bluez.Agent1"
#define REJECTED "org.bluez.Error.Rejected"

static struct vq_bluez_sub *owner_with_pin(struct bluez_client *c, const char *dev_path) {
  struct vq_bluez_sub *sub;
  char path[160];
  for (sub = c->subs; sub != NULL; sub = sub->next)
    if (!sub->dead && sub->pin[0] != '\0' &&
        bluez_sub_dev_path(c, sub, path, sizeof path) == 0 && strcmp(path, dev_path) == 0)
      return sub;
  return NULL;
}

static int request_passkey(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct bluez_client *c = userdata;
  struct vq_bluez_sub *sub;
  const char *dev, *sender = sd_bus_message_get_sender(m);
  int r;
  if ((r = sd_bus_message_read(m, "o", &dev)) < 0) return r;
  /* Only bluetoothd may learn a PIN.  On a bus the daemon stamps every
   * sender; a message without one comes over a direct connection, whose
   * peer is the address the client chose. */
  if (sender != NULL && strcmp(sender, c->bluez_owner) != 0) {
    bluez_log(c, 1, "pairing agent: rejected a passkey request from %s (not bluetoothd)",
              sender);
    return sd_bus_error_set(ret_error, REJECTED, "only bluetoothd may ask");
  }
  if ((sub = owner_with_pin(c, dev)) == NULL) {
    bluez_log(c, 1, "pairing agent: rejected a passkey request for %s (no source owns it)",
              dev);
    return sd_bus_error_set(ret_error, REJECTED, "no passkey for this device");
  }
  bluez_log(c, 3, "pairing agent: passkey given for %s", dev);
  return sd_bus_reply_method_return(m, "u", (uint32_t)strtoul(sub->pin, NULL, 10));
}

static int reject(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  (void)m;
  (void)userdata;
  return sd_bus_error_set(ret_error, REJECTED, "vicacq only enters passkeys");
}

static int nothing(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  (void)userdata;
  (void)ret_error;
  return sd_bus_reply_method_return(m, "");
}

/* UNPRIVILEGED: without it sd-bus checks a system-bus caller's
 * capabilities with a blocking call to the bus on the loop thread; the
 * agent checks instead that the caller is bluetoothd (request_passkey),
 * and the other methods give nothing away. */
#define AGENT_METHOD_FLAGS SD_BUS_VTABLE_UNPRIVILEGED
static const sd_bus_vtable agent_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("RequestPasskey", "o", "u", request_passkey, AGENT_METHOD_FLAGS),
    SD_BUS_METHOD("RequestPinCode", "o", "s", reject, AGENT_METHOD_FLAGS),
    SD_BUS_METHOD("RequestConfirmation", "ou", "", reject, AGENT_METHOD_FLAGS),
    SD_BUS_METHOD("RequestAuthorization", "o", "", reject, AGENT_METHOD_FLAGS),
    SD_BUS_METHOD("AuthorizeService", "os", "", reject, AGENT_METHOD_FLAGS),
    SD_BUS_METHOD("DisplayPasskey", "ouq", "", nothing, AGENT_METHOD_FLAGS),
    SD_BUS_METHOD("Release", "", "", nothing, AGENT_METHOD_FLAGS),
    SD_BUS_METHOD("Cancel", "", "", nothing, AGENT_METHOD_FLAGS),
    SD_BUS_VTABLE_END};

static int on_registered(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
  struct bluez_client *c = userdata;
  const sd_bus_error *e = sd_bus_message_get_error(m);
  (void)ret_error;
  if (c->closing || e == NULL) return 0;
  if (strcmp(e->name, "org.bluez.Error.AlreadyExists") == 0) return 0;
  c->agent_registered = 0;
  bluez_log(c, 0, "cannot register the pairing agent: %s", bluez_error_text(e));
  return 0;
}

/* Export the agent and register it with this bluetoothd, once. */
int bluez_agent_ensure(struct bluez_client *c) {
  int r;
  if (c->agent_registered) return 0;
  if (c->agent_slot == NULL &&
      (r = sd_bus_add_object_vtable(c->bus, &c->agent_slot, AGENT_PATH, AGENT_IFACE,
                                    agent_vtable, c)) < 0) {
    bluez_log(c, 0, "cannot export the pairing agent: %s", strerror(-r));
    return r;
  }
  if ((r = sd_bus_call_method_async(c->bus, NULL, BLUEZ_SERVICE, "/org/bluez",
                                    "org.bluez.AgentManager1", "RegisterAgent",
                                    on_registered, c, "os", AGENT_PATH, "KeyboardOnly")) < 0 ||
      (r = sd_bus_call_method_async(c->bus, NULL, BLUEZ_SERVICE, "/org/bluez",
                                    "org.bluez.AgentManager1", "RequestDefaultAgent",
                                    on_registered, c, "o", AGENT_PATH)) < 0) {
    bluez_log(c, 0, "cannot register the pairing agent: %s", strerror(-r));
    return r;
  }
  c->agent_registered = 1;
  return 0;
}

/* bluetoothd or the bus went away: register again next time.  The object
 * goes with the bus connection. */
void bluez_agent_reset(struct bluez_client *c) {
  c->agent_registered = 0;
  if (c->bus == NULL) c->agent_slot = sd_bus_slot_unref(c->agent_slot);
}

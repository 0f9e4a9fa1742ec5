/* Small D-Bus message and address helpers of the BlueZ client. */
#include <stdio.h>
#include <string.h>

#include "bluez_internal.h"
#include "vq_hex.h"

/* Read a variant holding the basic type `type` into *out; a variant of
 * another type is skipped.  1 read, 0 skipped, <0 error. */
int bluez_read_variant(sd_bus_message *m, char type, void *out) {
  char t;
  const char *contents;
  char sig[2] = {type, '\0'};
  int r = sd_bus_message_peek_type(m, &t, &contents);
  if (r < 0) return r;
  if (t != 'v' || contents == NULL || strcmp(contents, sig) != 0) {
    r = sd_bus_message_skip(m, "v");
    return r < 0 ? r : 0;
  }
  if ((r = sd_bus_message_enter_container(m, 'v', sig)) < 0) return r;
  if ((r = sd_bus_message_read_basic(m, type, out)) < 0) return r;
  r = sd_bus_message_exit_container(m);
  return r < 0 ? r : 1;
}

/* "AA:BB:CC:DD:EE:FF" as BlueZ writes it: hex digits only (sscanf's %2x
 * also took " A", "+A", "-1" and "0x", so a malformed Address or object
 * path gave a device a wrong address).  0, or -1 with addr untouched. */
int bluez_parse_addr(const char *text, uint8_t addr[6]) {
  if (text == NULL) return -1;
  return vq_mac_parse(text, addr);
}

int vq_bluez_parse_addr(const char *text, uint8_t addr[6]) {
  return bluez_parse_addr(text, addr);
}

/* BlueZ device paths end in dev_AA_BB_CC_DD_EE_FF. */
int bluez_addr_from_path(const char *path, uint8_t addr[6]) {
  const char *p = strstr(path, "/dev_");
  char text[18];
  int i;
  if (p == NULL || strlen(p + 5) < 17) return -1;
  memcpy(text, p + 5, 17);
  text[17] = '\0';
  for (i = 2; i < 17; i += 3) {
    if (text[i] != '_') return -1;
    text[i] = ':';
  }
  return bluez_parse_addr(text, addr);
}

const char *bluez_error_text(const sd_bus_error *e) {
  if (e == NULL) return "unknown error";
  return e->message != NULL ? e->message : e->name;
}

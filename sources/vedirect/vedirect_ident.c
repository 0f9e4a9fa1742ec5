/* Device identity of a VE.Direct port (see vedirect_ident.h). */
#include "vedirect_ident.h"

#include <stdio.h>
#include <string.h>

#include "vedirect_fields.h"
#include "victron.h"

void ved_ident_init(struct ved_ident *id, const char *device_opt) {
  memset(id, 0, sizeof *id);
  id->device_opt = device_opt && device_opt[0] ? device_opt : NULL;
  id->pid = -1;
  if (id->device_opt)
    snprintf(id->device, sizeof id->device, "%s", id->device_opt);
}

static void update_device(struct ved_ident *id) {
  if (id->device_opt)
    snprintf(id->device, sizeof id->device, "%s", id->device_opt);
  else if (id->serial[0])
    snprintf(id->device, sizeof id->device, "%s", id->serial);
  else if (id->hex_serial[0])
    snprintf(id->device, sizeof id->device, "%s", id->hex_serial);
  else if (id->pid >= 0)
    snprintf(id->device, sizeof id->device, "pid-%04x", (unsigned)id->pid);
  else
    id->device[0] = '\0';
}

int ved_ident_update(struct ved_ident *id, const struct ved_field *fields,
                     size_t n) {
  int has_pid = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    const char *l = fields[i].label, *val = fields[i].value;
    if (strcmp(l, "PID") == 0) {
      int64_t pid;
      has_pid = 1;
      if (ved_parse_int(val, &pid) == 0 && pid >= 0 && pid <= 0xFFFF &&
          pid != id->pid) {
        id->pid = (int32_t)pid;
        vic_product_id_text((uint16_t)pid, id->pid_text);
        id->product = vic_product_name((unsigned)pid);
      }
    } else if (strcmp(l, "SER#") == 0 && val[0]) {
      snprintf(id->serial, sizeof id->serial, "%s", val);
    } else if (strcmp(l, "FWE") == 0 ||
               (strcmp(l, "FW") == 0 && !id->firmware[0])) {
      ved_format_fw(val, l[2] == 'E', id->firmware, sizeof id->firmware);
    } else if (strcmp(l, "BMV") == 0) {
      snprintf(id->model, sizeof id->model, "%s", val);
    } else if (strcmp(l, "HC#") == 0) {
      snprintf(id->hc, sizeof id->hc, "%s", val);
    }
  }
  if (id->product == NULL && id->model[0]) {
    /* the BMV-60x has no PID; its BMV field names the model */
    snprintf(id->product_buf, sizeof id->product_buf, "BMV-%s", id->model);
    id->product = id->product_buf;
  }
  if (id->product == NULL && id->pid >= 0) {
    snprintf(id->product_buf, sizeof id->product_buf, "VE.Direct product %s",
             id->pid_text);
    id->product = id->product_buf;
  }
  update_device(id);
  return has_pid;
}

int ved_ident_hex_serial(struct ved_ident *id, const uint8_t *value,
                         size_t vlen) {
  size_t n = strnlen((const char *)value, vlen), i;
  if (id->serial[0] || id->device_opt) return 0;
  if (n == 0 || n >= sizeof id->hex_serial) return 0;
  for (i = 0; i < n; i++)
    if (value[i] < 0x21 || value[i] > 0x7e) return 0;
  memcpy(id->hex_serial, value, n);
  id->hex_serial[n] = '\0';
  update_device(id);
  return 1;
}

int ved_ident_known(const struct ved_ident *id) { return id->device[0] != 0; }

uint32_t ved_ident_tags(const struct ved_ident *id, struct vq_tag *tags) {
  uint32_t nt = 0;
  if (id->product) tags[nt++] = (struct vq_tag){"product", id->product};
  if (id->pid >= 0) tags[nt++] = (struct vq_tag){"product_id", id->pid_text};
  if (id->firmware[0]) tags[nt++] = (struct vq_tag){"firmware", id->firmware};
  if (id->serial[0] || id->hex_serial[0])
    tags[nt++] = (struct vq_tag){"serial",
                                 id->serial[0] ? id->serial : id->hex_serial};
  /* HC#: undocumented Blue Smart field, passed on as sent */
  if (id->hc[0]) tags[nt++] = (struct vq_tag){"hc", id->hc};
  return nt;
}

/* Looking labels up and spelling enum and bitmask values as text, with the
 * one fallback for codes no document names (doc/victron.md "Text"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "victron.h"

const struct vic_label_set *vic_label_set_find(const char *name) {
  size_t i;
  for (i = 0; vic_label_sets[i] != NULL; i++)
    if (strcmp(vic_label_sets[i]->name, name) == 0) return vic_label_sets[i];
  return NULL;
}

const char *vic_label(const struct vic_label_set *set, int64_t code) {
  uint32_t lo = 0, hi = set->nlabels;
  /* Sorted by code: bisect (the charger error list has 70 entries). */
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (set->labels[mid].code < code)
      lo = mid + 1;
    else if (set->labels[mid].code > code)
      hi = mid;
    else
      return set->labels[mid].label;
  }
  return NULL;
}

const char *vic_enum_text(const struct vic_label_set *set, int64_t code,
                          char *buf, size_t bufsz) {
  const char *label = vic_label(set, code);
  if (label != NULL) return label;
  snprintf(buf, bufsz, "unknown_%" PRId64, code);
  return buf;
}

/* Append `a` (and `b` after '=' when not NULL) to out, with a ',' before
 * it unless it is the first item.  0 or -ENOSPC (out unchanged). */
static int append_item(char *out, size_t outsz, size_t *used, const char *a,
                       const char *b) {
  size_t la = strlen(a), lb = b ? strlen(b) + 1 : 0;
  size_t need = (*used ? 1 : 0) + la + lb;
  if (*used + need + 1 > outsz) return -ENOSPC;
  if (*used) out[(*used)++] = ',';
  memcpy(out + *used, a, la);
  *used += la;
  if (b) {
    out[(*used)++] = '=';
    memcpy(out + *used, b, lb - 1);
    *used += lb - 1;
  }
  out[*used] = '\0';
  return 0;
}

static int finish(char *out, size_t outsz, size_t used, int rc) {
  if (used == 0 && rc == 0) {
    if (outsz < sizeof "none") return -ENOSPC;
    memcpy(out, "none", sizeof "none");
  }
  return rc;
}

int vic_bits_text(const struct vic_label_set *set, uint64_t bits,
                  unsigned width, char *out, size_t outsz) {
  size_t used = 0;
  unsigned i;
  char tmp[VIC_CODE_TEXT_MAX];
  if (outsz == 0) return -ENOSPC;
  out[0] = '\0';
  if (width > 64) width = 64;
  if (set->kind == VIC_PAIRS) {
    for (i = 0; 2 * i + 1 < width; i++) { /* both bits of the field */
      unsigned v = (unsigned)(bits >> (2 * i)) & 3u;
      const char *field = vic_label(set, i);
      if (set->pair_states[v] == NULL) continue; /* not supported / NA */
      if (field == NULL) {
        snprintf(tmp, sizeof tmp, "field_%u", i + 1);
        field = tmp;
      }
      if (append_item(out, outsz, &used, field, set->pair_states[v]) != 0)
        return finish(out, outsz, used, -ENOSPC);
    }
    return finish(out, outsz, used, 0);
  }
  for (i = 0; i < width; i++) {
    const char *label;
    if (!(bits >> i & 1u)) continue;
    label = vic_label(set, i);
    if (label == NULL) {
      snprintf(tmp, sizeof tmp, "bit_%u", i);
      label = tmp;
    }
    if (append_item(out, outsz, &used, label, NULL) != 0)
      return finish(out, outsz, used, -ENOSPC);
  }
  return finish(out, outsz, used, 0);
}

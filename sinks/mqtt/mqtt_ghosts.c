/* The announced set of the mqtt sink; see mqtt_ghosts.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mqtt_ghosts.h"

static struct mqtt_ghost *find(struct mqtt_ghosts *g, const char *topic) {
  size_t i;
  for (i = 0; i < g->n; i++)
    if (strcmp(g->items[i].topic, topic) == 0) return &g->items[i];
  return NULL;
}

static int add(struct mqtt_ghosts *g, const char *topic, int seen) {
  if (g->n == g->cap) {
    size_t cap = g->cap ? g->cap * 2 : 64;
    struct mqtt_ghost *grown = realloc(g->items, cap * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    g->items = grown;
    g->cap = cap;
  }
  if ((g->items[g->n].topic = strdup(topic)) == NULL) return -ENOMEM;
  g->items[g->n++].seen = seen;
  return 0;
}

int mqtt_ghosts_open(struct mqtt_ghosts *g, const char *state_dir,
                     const char *sink_id) {
  char line[4096];
  size_t len;
  FILE *f;
  int rc = 0;

  memset(g, 0, sizeof *g);
  /* The host's state directory "may not exist yet". */
  if (mkdir(state_dir, 0750) != 0 && errno != EEXIST) return -errno;
  len = strlen(state_dir) + strlen(sink_id) + 32;
  if ((g->path = malloc(len)) == NULL) return -ENOMEM;
  snprintf(g->path, len, "%s/mqtt-%s.announced", state_dir, sink_id);
  if ((f = fopen(g->path, "r")) == NULL) {
    if (errno == ENOENT) return 0;
    rc = -errno;
    free(g->path);
    g->path = NULL;
    return rc;
  }
  while (fgets(line, sizeof line, f) != NULL) {
    size_t n = strlen(line);
    if (n == 0 || line[n - 1] != '\n') { /* overlong or cut: not ours */
      int c;
      while (n > 0 && line[n - 1] != '\n' && (c = fgetc(f)) != EOF && c != '\n') {
      }
      continue;
    }
    line[n - 1] = '\0';
    if (line[0] == '\0' || find(g, line) != NULL) continue;
    if ((rc = add(g, line, 0)) < 0) break;
  }
  if (ferror(f) && rc == 0) rc = -EIO;
  fclose(f);
  return rc;
}

void mqtt_ghosts_seen(struct mqtt_ghosts *g, const char *topic) {
  struct mqtt_ghost *it = find(g, topic);
  if (it != NULL) {
    it->seen = 1;
    return;
  }
  if (strchr(topic, '\n') != NULL) return; /* cannot be kept line-wise */
  if (add(g, topic, 1) == 0) g->dirty = 1;
}

int mqtt_ghosts_save(struct mqtt_ghosts *g) {
  char *tmp;
  size_t i, len;
  FILE *f;
  int rc = 0;

  if (g->path == NULL || !g->dirty) return 0;
  len = strlen(g->path) + 8;
  if ((tmp = malloc(len)) == NULL) return -ENOMEM;
  snprintf(tmp, len, "%s.new", g->path);
  if ((f = fopen(tmp, "w")) == NULL) {
    rc = -errno;
    free(tmp);
    return rc;
  }
  for (i = 0; i < g->n; i++) fprintf(f, "%s\n", g->items[i].topic);
  if (fflush(f) != 0 || ferror(f)) rc = errno ? -errno : -EIO;
  if (fclose(f) != 0 && rc == 0) rc = -errno;
  if (rc == 0 && rename(tmp, g->path) != 0) rc = -errno;
  if (rc != 0) remove(tmp);
  else g->dirty = 0;
  free(tmp);
  return rc;
}

size_t mqtt_ghosts_stale(const struct mqtt_ghosts *g) {
  size_t i, n = 0;
  for (i = 0; i < g->n; i++) n += !g->items[i].seen;
  return n;
}

size_t mqtt_ghosts_sweep(struct mqtt_ghosts *g,
                         int (*clear)(void *arg, const char *topic),
                         void *arg) {
  size_t i, kept = 0, cleared = 0;
  for (i = 0; i < g->n; i++) {
    struct mqtt_ghost it = g->items[i];
    if (!it.seen && clear(arg, it.topic) == 0) {
      free(it.topic);
      cleared++;
      continue;
    }
    g->items[kept++] = it;
  }
  g->n = kept;
  if (cleared > 0) {
    g->dirty = 1;
    mqtt_ghosts_save(g);
  }
  return cleared;
}

void mqtt_ghosts_free(struct mqtt_ghosts *g) {
  size_t i;
  for (i = 0; i < g->n; i++) free(g->items[i].topic);
  free(g->items);
  free(g->path);
  memset(g, 0, sizeof *g);
}

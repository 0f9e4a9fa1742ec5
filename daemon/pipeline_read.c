/* The pipeline file's grammar (vicacq.ini(5)): [kind.ID] headers, key =
 * value lines, comments.  The core reads it itself rather than through
 * libinih, whose line length and inline comments depend on how it was
 * built (doc/design.md §10). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pipeline_int.h"
#include "section_kind.h"
#include "vq_secret.h"

char *vq_trim(char *s) {
  char *end;
  while (isspace((unsigned char)*s)) s++;
  end = s + strlen(s);
  while (end > s && isspace((unsigned char)end[-1])) *--end = '\0';
  return s;
}

static int valid_id(const char *id) {
  const char *c;
  if (*id == '\0') return 0;
  for (c = id; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-') return 0;
  return 1;
}

static void open_section(struct parse_state *st, const char *name) {
  struct vq_pipeline *p = st->p;
  struct vq_section *grown, *s;
  const char *dot = strchr(name, '.');
  const struct vq_kind_row *kind;
  char kinds[256];
  size_t i;

  st->current = NULL;
  kind = vq_kind_row_by_prefix(name, dot ? (size_t)(dot - name) : strlen(name));
  if (kind == NULL || (kind->has_id != (dot != NULL))) {
    vq_kind_list(kinds, sizeof kinds);
    report(st, st->line, "[%s]: unknown section (expected %s)", name, kinds);
    return;
  }
  if (kind->has_id && !valid_id(dot + 1)) {
    report(st, st->line,
           "[%s]: invalid id '%s' (letters, digits, '_' and '-' only)", name,
           dot + 1);
    return;
  }
  if (kind->reserved_id != NULL && strcmp(dot + 1, kind->reserved_id) == 0) {
    report(st, st->line, "[%s]: the %s id '%s' is reserved", name,
           kind->prefix, kind->reserved_id);
    return;
  }
  for (i = 0; i < p->nsections; i++) {
    if (strcmp(p->sections[i].name, name) == 0) {
      report(st, st->line, "[%s]: duplicate section (first at line %d)", name,
             p->sections[i].line);
      return;
    }
  }
  grown = realloc(p->sections, (p->nsections + 1) * sizeof *grown);
  if (grown == NULL) {
    report(st, st->line, "out of memory");
    return;
  }
  p->sections = grown;
  s = &p->sections[p->nsections];
  memset(s, 0, sizeof *s);
  s->kind = kind->section;
  s->line = st->line;
  s->name = strdup(name);
  s->id = strdup(kind->has_id ? dot + 1 : name);
  if (s->name == NULL || s->id == NULL) {
    free(s->name);
    free(s->id);
    report(st, st->line, "out of memory");
    return;
  }
  p->nsections++;
  st->current = s;
}

/* The next byte of the input, or EOF. */
static int next_byte(struct parse_state *st) {
  if (st->consumed >= MAX_FILE) return EOF;
  st->consumed++;
  if (st->file != NULL) return fgetc(st->file);
  if (*st->text == '\0') return EOF;
  return (unsigned char)*st->text++;
}

/* Read one line (without its end) into line[MAX_LINE].  Returns its
 * length, or -1 at the end of the input.  A line that is too long or
 * holds a NUL byte is reported and comes back empty. */
static long read_line(struct parse_state *st, char *line) {
  size_t len = 0;
  int c, too_long = 0, nul = 0, any = 0;
  while ((c = next_byte(st)) != EOF && c != '\n') {
    any = 1;
    if (c == '\0') nul = 1;
    else if (len + 1 < MAX_LINE) line[len++] = (char)c;
    else too_long = 1;
  }
  if (!any && c == EOF) return -1;
  st->line++;
  if (len > 0 && line[len - 1] == '\r') len--;
  line[len] = '\0';
  if (nul) report(st, st->line, "NUL byte in the line (not a text file?)");
  else if (too_long)
    report(st, st->line, "line too long (at most %d characters)", MAX_LINE - 2);
  if (nul || too_long) line[0] = '\0';
  return (long)len;
}

/* Cut an inline comment: ';' after a blank starts one (as in libinih).
 * '#' after a blank is refused rather than kept in the value: it starts a
 * comment only at the start of a line, and a value that silently carries
 * "# ..." is the kind of file that passes --check and fails later. */
static int cut_comment(struct parse_state *st, char *value) {
  char *c;
  for (c = value; *c != '\0'; c++) {
    if (c > value && (c[-1] == ' ' || c[-1] == '\t')) {
      if (*c == ';') {
        *c = '\0';
        return 0;
      }
      if (*c == '#') {
        report(st, st->line,
               "'#' after a value: comments after a value start with ' ;' "
               "('#' only at the start of a line)");
        return -1;
      }
    }
  }
  return 0;
}

static void on_key(struct parse_state *st, const char *name,
                   const char *value);

/* Parse the whole input: [section] headers, key = value lines, comments
 * (';' or '#' first on a line, ' ;' after a value), blank lines.  A UTF-8
 * byte-order mark at the start is skipped. */
void vq_pipeline_parse(struct parse_state *st) {
  char *line = malloc(MAX_LINE), *start;
  long len;
  if (line == NULL) {
    report(st, 0, "out of memory");
    return;
  }
  while ((len = read_line(st, line)) >= 0) {
    char *eq;
    start = line;
    if (st->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0) start += 3;
    start = vq_trim(start);
    if (*start == '\0' || *start == ';' || *start == '#') continue;
    if (*start == '[') {
      char *close = strchr(start, ']');
      char *rest = close ? vq_trim(close + 1) : NULL;
      if (close == NULL || (*rest != '\0' && *rest != ';' && *rest != '#')) {
        report(st, st->line, "syntax error (expected '[section]')");
        st->current = NULL;
        continue;
      }
      *close = '\0';
      st->headers++;
      open_section(st, vq_trim(start + 1));
      continue;
    }
    eq = strchr(start, '=');
    if (eq == NULL || eq == start) {
      report(st, st->line,
             "syntax error (expected 'key = value' or '[section]')");
      continue;
    }
    *eq = '\0';
    if (cut_comment(st, eq + 1) != 0) continue;
    on_key(st, vq_trim(start), vq_trim(eq + 1));
  }
  if (st->consumed >= MAX_FILE)
    report(st, 0, "more than %u bytes: not a pipeline file", MAX_FILE);
  else if (st->file != NULL && ferror(st->file))
    report(st, 0, "cannot read: %s", strerror(errno));
  /* Lines held inline secrets (password = ...). */
  vq_secret_clear(line, MAX_LINE);
  free(line);
}

static void on_key(struct parse_state *st, const char *name,
                   const char *value) {
  struct vq_section *s = st->current;
  struct vq_kv *grown;
  size_t i;

  if (s == NULL) {
    /* Outside any section, or inside one already reported as bad. */
    if (st->headers == 0)
      report(st, st->line, "key '%s' outside of any section", name);
    return;
  }
  for (i = 0; i < s->nkv; i++) {
    if (strcmp(s->kv[i].key, name) == 0) {
      report(st, st->line, "[%s] key '%s': given twice (first at line %d)",
             s->name, name, s->kv[i].line);
      return;
    }
  }
  grown = realloc(s->kv, (s->nkv + 1) * sizeof *grown);
  if (grown == NULL) {
    report(st, st->line, "out of memory");
    return;
  }
  s->kv = grown;
  s->kv[s->nkv].key = strdup(name);
  s->kv[s->nkv].value = strdup(value);
  s->kv[s->nkv].line = st->line;
  s->kv[s->nkv].secret = 0;
  if (s->kv[s->nkv].key == NULL || s->kv[s->nkv].value == NULL) {
    free(s->kv[s->nkv].key);
    free(s->kv[s->nkv].value);
    report(st, st->line, "out of memory");
    return;
  }
  s->nkv++;
}

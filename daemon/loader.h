/* Finding and loading plugin modules with libltdl, and checking that they
 * speak our ABI. */
#ifndef VQ_LOADER_H
#define VQ_LOADER_H

#include <stddef.h>

#include "vicacq/plugin.h"

/* Set up libltdl and the search path: `extra` (colon-separated, may be
 * NULL, e.g. plugin_path from the pipeline file), then $VICACQ_PLUGIN_PATH,
 * then the installed plugin directory.  Calling it again replaces the
 * path.  0 or -errno. */
int vq_loader_init(const char *extra);
void vq_loader_shutdown(void);

/* The search path in effect (for messages). */
const char *vq_loader_search_path(void);

/* Load plugin `name` (or return it when already loaded).  On failure
 * returns NULL and writes a message for the user to err. */
const struct vq_plugin *vq_loader_get(const char *name, char *err,
                                      size_t errlen);

/* Check a descriptor returned by an entry point; 0, or -EPROTO with a
 * message in err.  Exposed for the ABI tests. */
int vq_loader_check_descriptor(const struct vq_plugin *p, const char *where,
                               char *err, size_t errlen);

/* Names of the plugin modules found in the search path, sorted; returns
 * their number (and the array in *names: free each and the array). */
size_t vq_loader_list(char ***names);

/* Load every plugin module in the search path (so that the quantities
 * they declare are in the vocabulary); each one that fails to load is
 * logged as a warning.  Returns how many failed. */
size_t vq_loader_load_all(void);

/* The process callback of a plugin built for ABI 1.3 or later (processors
 * and derived sources), else NULL: older plugins had a reserved slot
 * there. */
static inline int (*vq_plugin_process(const struct vq_plugin *p))(
    void *, const struct vq_reading *) {
  return p->abi_minor >= 3 ? p->process : NULL;
}

/* The oldest descriptor size the host accepts: everything up to and
 * including command_result existed in ABI 1.0. */
#define VQ_PLUGIN_MIN_SIZE                                                     \
  (offsetof(struct vq_plugin, command_result) +                                \
   sizeof(((struct vq_plugin *)0)->command_result))

#endif

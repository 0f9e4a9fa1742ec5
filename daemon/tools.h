/* `vicacq TOOL [PLUGIN] ...`: the plugins' command-line tools (ABI 1.2
 * vq_tool), each run as a one-source pipeline built from its descriptor. */
#ifndef VQ_TOOLS_H
#define VQ_TOOLS_H

#include <stdio.h>

/* argv[0] is the tool's name.  `plugin_path` (may be NULL) is the
 * --plugin-path the command line gave.  Returns a vq_exit_status. */
int vq_tools_run(int argc, char **argv, const char *plugin_path);

/* Print the tools of a plugin (for --help-plugin). */
struct vq_plugin;
void vq_tools_describe(FILE *out, const struct vq_plugin *p);

#endif

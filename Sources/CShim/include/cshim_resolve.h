// Paths resolved inside a root directory (resolve.c), as the child resolves mount
// destinations. Depends on cshim_plan.h (CS_DEST_*).
#ifndef CSHIM_RESOLVE_H
#define CSHIM_RESOLVE_H

#include "cshim_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

// Resolves `path` inside the directory `root_fd` the way the child does it for mount
// destinations: every symlink is resolved as if `root_fd` were "/", missing components are
// created (directories, and a file at the end when `kind` is CS_DEST_FILE). Returns an O_PATH
// fd or -errno. Exposed for tests.
int cs_resolve_in_root(int root_fd, const char *path, int kind, int create);

#ifdef __cplusplus
}
#endif
#endif

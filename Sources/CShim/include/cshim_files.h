// Small file helpers of the runtime (files.c): id maps, a hook's stdin. Depends on nothing of
// CShim but child.h (CS_RETRY, cs_write_all) in files.c.
#ifndef CSHIM_FILES_H
#define CSHIM_FILES_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// Writes `data` to a file (uid_map, gid_map, setgroups). Returns 0 or -errno.
int cs_write_file(const char *path, const char *data);

// A close-on-exec memfd holding `len` bytes of `data`, positioned at its start: a hook's stdin
// (the state can be far larger than a pipe holds). Returns the fd or -errno.
int cs_memfd_with(const char *name, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif

// Internal to the C shim: what the child-path files share. Nothing here allocates.
#ifndef CSHIM_CHILD_H
#define CSHIM_CHILD_H

#include "cshim.h"

// Reports a failed step on the channel and ends the child. Never returns.
__attribute__((noreturn)) void cs_fail(const struct cs_plan *plan, int step, int err, int index,
                                       const char *detail);

// Retries a call while it fails with EINTR.
#define CS_RETRY(expr)                                                                        \
  ({                                                                                          \
    long __r;                                                                                 \
    do { __r = (long)(expr); } while (__r == -1 && errno == EINTR);                           \
    __r;                                                                                      \
  })

// Formats "/proc/self/fd/<fd>" into buf (at least 32 bytes).
void cs_fd_path(char *buf, int fd);

// Writes a whole string to a path (async-signal-safe). Returns 0 or -errno.
int cs_write_all(const char *path, const char *data);

// procfs.c: a verified procfs descriptor and writes beneath it.
int cs_procfs_open(void);
int cs_procfs_write(int proc_fd, const char *rel, const char *data);
// The procfs descriptor of this child (opened before entering the container), or -1.
extern int cs_proc_fd;

// Sends `kind` to the runtime and waits for its release byte.
void cs_pause(const struct cs_plan *plan, char kind);

// Steps of the root filesystem setup (rootfs.c).
void cs_setup_rootfs(const struct cs_plan *plan);
void cs_finish_rootfs(const struct cs_plan *plan);
// Opens the pty, sends its master to the runtime and makes the peer fds 0-2; with
// `controlling`, also a new session whose controlling terminal it is (else the process that
// execs does that: cs_take_console).
void cs_setup_console(const struct cs_plan *plan, int controlling);

#endif

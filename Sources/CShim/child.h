// Internal to the C shim: the base of the child path, which every child-path file uses (child.c).
// Nothing here allocates. Depends on cshim_plan.h only.
#ifndef CSHIM_CHILD_H
#define CSHIM_CHILD_H

#include "cshim_plan.h"

// Reports a failed step on the channel and ends the child. Never returns.
__attribute__((noreturn)) void cs_fail(const struct cs_plan *plan, int step, int err, int index,
                                       const char *detail);
// From now on failures go to `fd` (the connection from `start`) instead of the plan's channel.
void cs_report_to(int fd);

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

// Sends `kind` to the runtime and waits for its release byte.
void cs_pause(const struct cs_plan *plan, char kind);

// Sends the pid of the process the container sees (CS_MSG_PID). Returns 0 or -1.
int cs_report_pid(const struct cs_plan *plan, pid_t pid);

#endif

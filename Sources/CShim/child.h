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
// Read-only and masked paths, then the read-only root; `second`: only those on a proc that the
// second step mounts (pidns.c), else all the others.
void cs_finish_rootfs(const struct cs_plan *plan, int second);
// Mounts plan->mounts[i] inside `root_fd`; `tree_fd` (>= 0): a detached tree to attach instead.
void cs_mount_one(const struct cs_plan *plan, int root_fd, int i, int tree_fd);

// pidns.c: proc of a joined pid namespace, made by the second step (inside it).
int cs_proc_later(const struct cs_plan *plan);
int cs_proc_later_mount(const struct cs_plan *plan, int i);
int cs_proc_later_path(const struct cs_plan *plan, const char *path);
// First step, after joining the pid namespace: keeps its descriptor `fd` for proc's pidns
// option when the plan mounts proc, else closes it.
void cs_proc_keep_pidns(const struct cs_plan *plan, int fd);
// First step, before its first mount: whether the kernel makes a proc of the joined pid
// namespace here (procfs's pidns option, Linux 6.18; in a user namespace, only of a pid
// namespace it owns). If so proc and everything on it are mounted here in the planned order
// and the cs_proc_later* functions say 0; if not, the descriptor is closed.
void cs_proc_try_pidns_option(const struct cs_plan *plan);
// The pid namespace descriptor to make plan->mounts[i] with (a proc the first step makes with
// the pidns option), else -1.
int cs_proc_pidns_fd(const struct cs_plan *plan, int i);
// After the first step's mounts: closes the kept pid namespace descriptor.
void cs_proc_release_pidns(void);
// A detached proc mount for `m` (its options and flags); of `pidns_fd`'s pid namespace when >= 0,
// else of this process's. Returns the mount's descriptor, or -1 with errno.
int cs_proc_fsmount(const struct cs_mount *m, int pidns_fd);
// Whether the first step binds the runtime's /proc on a proc destination until the second
// step's proc takes its place (needed in a user namespace).
int cs_proc_placeholder(const struct cs_plan *plan);
// First step: what a mount made by the second needs from here (its destination, its source).
void cs_proc_prepare(const struct cs_plan *plan, int root_fd, int i);
// Second step, in the container's root: the mounts on proc, then the paths under it.
void cs_proc_mount_later(const struct cs_plan *plan);
// pidns.c: a new pid namespace under a joined user namespace. In the first child: joins the
// user namespace (joins[0]), creates the pid namespace, clones the process that becomes its
// pid 1, reports it and exits; returns only in that process, with the number of joins done.
int cs_pid_after_user(const struct cs_plan *plan);
// Sends the pid of the process the container sees (CS_MSG_PID). Returns 0 or -1.
int cs_report_pid(const struct cs_plan *plan, pid_t pid);
// Opens the pty, sends its master to the runtime and makes the peer fds 0-2; with
// `controlling`, also a new session whose controlling terminal it is (else the process that
// execs does that: cs_take_console).
void cs_setup_console(const struct cs_plan *plan, int controlling);

#endif

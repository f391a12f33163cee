// Internal to the C shim: proc of a pid namespace joined by path, made by the first step with
// procfs's pidns option or by the second (procmount.c). Depends on child.h, cshim_resolve.h
// (in procmount.c).
#ifndef CSHIM_PROCMOUNT_H
#define CSHIM_PROCMOUNT_H

#include "cshim_plan.h"

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

// What the second step makes: proc, the mounts on it, the paths under it (0 when the first
// step makes proc).
int cs_proc_later(const struct cs_plan *plan);
int cs_proc_later_mount(const struct cs_plan *plan, int i);
int cs_proc_later_path(const struct cs_plan *plan, const char *path);
// Whether the first step binds the runtime's /proc on a proc destination until the second
// step's proc takes its place (needed in a user namespace).
int cs_proc_placeholder(const struct cs_plan *plan);
// First step: what a mount made by the second needs from here (its destination, its source).
void cs_proc_prepare(const struct cs_plan *plan, int root_fd, int i);
// The detached tree the first step opened for plan->mounts[i] (a bind onto proc), or -1.
int cs_proc_later_bind(int i);

#endif

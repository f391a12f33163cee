// Internal to the C shim: the root filesystem in the child (rootfs.c). Depends on child.h,
// cshim_resolve.h, procmount.h (in rootfs.c).
#ifndef CSHIM_ROOTFS_H
#define CSHIM_ROOTFS_H

#include "cshim_plan.h"

// Steps of the root filesystem setup: mounts, devices, pivot_root.
void cs_setup_rootfs(const struct cs_plan *plan);
// Read-only and masked paths, then the read-only root; `second`: only those on a proc that the
// second step mounts (pidns.c), else all the others.
void cs_finish_rootfs(const struct cs_plan *plan, int second);
// Mounts plan->mounts[i] inside `root_fd`; `tree_fd` (>= 0): a detached tree to attach instead.
void cs_mount_one(const struct cs_plan *plan, int root_fd, int i, int tree_fd);
// Opens the pty, sends its master to the runtime and makes the peer fds 0-2; with
// `controlling`, also a new session whose controlling terminal it is (else the process that
// execs does that: cs_take_console).
void cs_setup_console(const struct cs_plan *plan, int controlling);

#endif

// Internal to the C shim: pid namespaces the init's clone does not create (pidns.c). Depends on
// child.h, procmount.h, rootfs.h (in pidns.c).
#ifndef CSHIM_PIDNS_H
#define CSHIM_PIDNS_H

#include "cshim_plan.h"

// Second step, in the container's root: the mounts on proc, then the paths under it.
void cs_proc_mount_later(const struct cs_plan *plan);
// A new pid namespace under a joined user namespace. In the first child: joins the user
// namespace (joins[0]), creates the pid namespace, clones the process that becomes its pid 1,
// reports it and exits; returns only in that process, with the number of joins done.
int cs_pid_after_user(const struct cs_plan *plan);

#endif

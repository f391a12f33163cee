// The child path (spawn.c): the container's init cloned into its namespaces, running the plan
// until execve. Depends on cshim_plan.h.
#ifndef CSHIM_SPAWN_H
#define CSHIM_SPAWN_H

#include "cshim_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

// Clones the container's init and returns its pid in the parent (or -1 with errno set).
// The child never returns. When cs_plan_two_step(plan), the pid is the first child's, which
// sets up outside the container's pid namespace and reports the pid of the process the
// container sees (CS_MSG_PID, the runtime's child too) before it exits: reap both.
pid_t cs_spawn(const struct cs_plan *plan);

#ifdef __cplusplus
}
#endif
#endif

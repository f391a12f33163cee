// What a plan asks of the spawn, as the runtime and the child both read it. Depends on
// cshim_plan.h only.
#include <sched.h>

#include "cshim_plan.h"

int cs_plan_two_step(const struct cs_plan *p) { return p->pidns_fd >= 0; }

// A two-step init that creates a user namespace: C1 is cloned with none of its namespaces,
// joins the pid namespace while it still has the runtime's privileges (the new user namespace
// would have none over it), then unshares the user namespace (the runtime writes its maps) and
// the namespaces it owns.
int cs_plan_user_after_clone(const struct cs_plan *p) {
  return p->pidns_fd >= 0 && (p->clone_flags & CLONE_NEWUSER);
}

int cs_plan_pid_after_user(const struct cs_plan *p) {
  return p->pidns_fd < 0 && (p->clone_flags & CLONE_NEWPID) && p->njoins > 0 && p->joins[0].nstype == CLONE_NEWUSER;
}

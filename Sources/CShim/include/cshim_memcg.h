// cgroup v1 memory controller notifications.
#ifndef CSHIM_MEMCG_H
#define CSHIM_MEMCG_H

/// An eventfd (close-on-exec, non-blocking) that the kernel signals when the v1 memory cgroup
/// at `dir` runs out of memory and when the cgroup is removed: registered by writing
/// "<eventfd> <fd of memory.oom_control>" to its cgroup.event_control. -errno on failure
/// (-ENOENT: no memory.oom_control or cgroup.event_control there).
int cs_memcg_oom_eventfd(const char *dir);

#endif

// The C side of crun-swift.
//
// Swift parses the bundle, validates it and builds one flat `cs_plan`. `cs_spawn` clones the
// container's init into its new namespaces; from then on the child runs only the C in this
// module (no allocation, async-signal-safe calls), executes the plan and ends in execve or in
// `_exit` after reporting `{step, errno, index}` on the channel socket.
//
// One .c/.h pair per concern; the public headers are here (include/, all of which `import
// CShim` sees), those of the child path's internals beside the .c files. Each header says what
// it depends on. The order, lowest first (a file uses only those before it; scripts/shim-layers
// checks that the includes have no cycle):
//
//   cshim_plan.h (plan.c)         the plan, kernel constants, steps, channel messages
//   cshim_arch.h, cshim_build.h   per-architecture constants; the build's commit
//   child.h (child.c)             the child's base: failure reports, CS_RETRY, writes, pause
//   procfs.h, cshim_resolve.h     procfs writes; paths resolved inside the root
//   procmount.h                   who makes proc of a joined pid namespace, and how
//   rootfs.h                      mounts, devices, console, pivot_root, masked/read-only paths
//   pidns.h                       the second step's proc; a pid namespace after a joined user ns
//   cshim_spawn.h (spawn.c)       the child path from clone to execve
//   beside it, for the runtime:   cshim_channel.h, cshim_files.h, cshim_supervise.h,
//                                 cshim_seccomp.h, cshim_caps.h, cshim_cgroup.h, cshim_idmap.h,
//                                 cshim_netns.h, cshim_memcg.h, cshim_exeseal.h
#ifndef CSHIM_H
#define CSHIM_H

#include "cshim_plan.h"
#include "cshim_spawn.h"
#include "cshim_channel.h"
#include "cshim_files.h"
#include "cshim_supervise.h"
#include "cshim_seccomp.h"
#include "cshim_caps.h"
#include "cshim_cgroup.h"
#include "cshim_idmap.h"
#include "cshim_netns.h"
#include "cshim_resolve.h"
#include "cshim_memcg.h"
#include "cshim_exeseal.h"
#include "cshim_build.h"

#endif

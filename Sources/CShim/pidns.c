// Pid namespaces the init's clone does not create.
//
// proc shows the pid namespace of the process that mounts it, unless procfs's `pidns` option
// names another one (Linux 6.18). Two cases need care:
//
// - A pid namespace joined by path (two steps, spawn.c): the first child (C1) stays outside it
//   on purpose and only its children are born in it. Nothing visible in the container may hold
//   more than the container's process will, so C1 makes proc itself, naming the namespace
//   (fsconfig pidns = the joined namespace's descriptor), in the planned order with every
//   other mount, and the second child (C2), born in the namespace, only execs. Whether the
//   kernel takes the option there (and, in a user namespace, lets C1 make that proc) is tried
//   once before the first mount (cs_proc_try_pidns_option). When it does not (older kernels,
//   or a pid namespace the container's user namespace does not own), the fallback: C1 makes
//   every mount but proc and what lies on it, pivots into the container's root and applies
//   the process's identity (keeping CAP_SYS_ADMIN for this, spawn.c); C2, born in the
//   namespace with the container's root and no host descriptor, mounts proc, then the mounts
//   whose destination is on it (binds whose sources C1 opened as detached trees before
//   pivot_root) and the masked and read-only paths under it, in the planned order.
//
// - A joined user namespace and a new pid namespace (containerd 2.x's app container of a
//   hostUsers: false pod): the pid namespace must belong to the joined user namespace, so it
//   is created after the setns. C1 joins the user namespace, unshares the pid namespace and
//   clones C2 as the runtime's child, which becomes its pid 1 and sets up as a one-step init
//   (only the host sees it).
//
// Which proc mounts C1 or C2 makes: procmount.c. Depends on child.h, procmount.h, rootfs.h.
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "cshim_arch.h"
#include "pidns.h"
#include "procmount.h"
#include "rootfs.h"

// ---- proc of a joined pid namespace, in the second step ---------------------------------

void cs_proc_mount_later(const struct cs_plan *p) {
  int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) cs_fail(p, CS_STEP_ROOTFS_OPEN, errno, -1, "/");
  for (int i = 0; i < p->nmounts; i++) {
    if (!cs_proc_later_mount(p, i)) continue;
    cs_mount_one(p, root_fd, i, cs_proc_later_bind(i));
  }
  close(root_fd);
  cs_finish_rootfs(p, 1);
}

// ---- a pid namespace of a joined user namespace ---------------------------------------------

int cs_pid_after_user(const struct cs_plan *p) {
  if (setns(p->joins[0].fd, CLONE_NEWUSER) < 0) cs_fail(p, CS_STEP_SETNS, errno, 0, NULL);
  close(p->joins[0].fd);
  if (unshare(CLONE_NEWPID) < 0) cs_fail(p, CS_STEP_UNSHARE, errno, -1, "pid");
  // C2 starts once its pid is reported: everything it sends must come after that.
  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0) cs_fail(p, CS_STEP_CLONE, errno, -1, "pipe");
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  } args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_PARENT;  // the runtime's child, as a one-step init; exit_signal is C1's
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) pid = CS_RAW_CLONE(CLONE_PARENT);
  if (pid < 0) cs_fail(p, CS_STEP_CLONE, errno, -1, NULL);
  if (pid == 0) {
    // A child's parent-death signal is cleared by the clone.
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    close(go[1]);
    char c;
    if (CS_RETRY(read(go[0], &c, 1)) != 1) _exit(127);
    close(go[0]);
    return 1;  // the user namespace is joined
  }
  close(go[0]);
  if (cs_report_pid(p, (pid_t)pid) < 0 || CS_RETRY(write(go[1], "", 1)) != 1) {
    kill((pid_t)pid, SIGKILL);
    _exit(127);
  }
  _exit(0);
}

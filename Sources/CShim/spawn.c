// cs_spawn: clone the container's init straight into its namespaces and run the plan.
//
// After clone only the child path (this file, child.c, rootfs.c, pidns.c, procmount.c,
// resolve.c, procfs.c) runs in the child: no allocation, no stdio, no Swift. Every failure goes
// back to the parent as {step, errno, index} and the child ends with _exit.
//
// A process that joins a pid namespace other processes already live in (exec, the hooks that
// run in the container, an init joining a pod's pid namespace) is built in two steps, as
// runc's nsexec does: the first child (C1) is cloned in the runtime's pid namespace, where the
// container cannot see it; it joins every namespace, moves into the container's root and cwd,
// closes every host descriptor and applies the process's limits, identity and capabilities.
// Only then does it clone the second child (C2) into the container's pid namespace, with
// CLONE_PARENT so that C2 is the runtime's child (waitpid, pidfd, exit status, signals and the
// terminal work as for a one-step child), reports C2's pid and exits. C2 makes itself a
// session (leader), loads the seccomp filter and execs: nothing of the host is ever visible in
// the container, and C2 is not dumpable until execve (its memory is a copy of the runtime's).
//
// Depends on child.h, procfs.h, procmount.h, rootfs.h, pidns.h, cshim_idmap.h (the plan's
// limit on idmapped trees). The runtime's side of the channel is channel.c.
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "cshim_arch.h"
#include "cshim_idmap.h"
#include "cshim_spawn.h"
#include "pidns.h"
#include "procfs.h"
#include "procmount.h"
#include "rootfs.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

// ---- namespaces -----------------------------------------------------------------------------

static void join_and_unshare(const struct cs_plan *p, int joined) {
  for (int i = joined; i < p->njoins; i++) {
    if (setns(p->joins[i].fd, p->joins[i].nstype) < 0) cs_fail(p, CS_STEP_SETNS, errno, i, NULL);
    close(p->joins[i].fd);
  }
  if (cs_plan_two_step(p) && !cs_plan_user_after_clone(p)) {
    // Only this process's children are born in the container's pid namespace; needs
    // CAP_SYS_ADMIN over it, so before any identity change.
    if (setns(p->pidns_fd, CLONE_NEWPID) < 0) cs_fail(p, CS_STEP_SETNS, errno, -1, "pid");
    cs_proc_keep_pidns(p, p->pidns_fd);  // names it to proc (procmount.c), else closed
  }
  if (p->unshare_flags && unshare((int)p->unshare_flags) < 0)
    cs_fail(p, CS_STEP_UNSHARE, errno, -1, NULL);
  if (p->become_root) {
    // In a fresh user namespace our ids are unmapped until the parent wrote the maps; now
    // become the namespace's root so that setup runs with its full capabilities.
    if (setresgid(0, 0, 0) < 0) cs_fail(p, CS_STEP_BECOME_ROOT, errno, -1, "setresgid");
    if (setresuid(0, 0, 0) < 0) cs_fail(p, CS_STEP_BECOME_ROOT, errno, -1, "setresuid");
    // Not dumpable, /proc/self/* belongs to the host's root and cannot be written from this
    // user namespace (timens_offsets, oom_score_adj): dumpable only until those writes are done.
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  }
  if (p->timens) {
    // The offsets must be written before any process lives in the namespace; execve moves
    // this process into it (time_for_children).
    if (unshare(CLONE_NEWTIME) < 0) cs_fail(p, CS_STEP_UNSHARE, errno, -1, "time");
    if (p->timens_offsets && p->timens_offsets[0]) {
      int r = cs_procfs_write(cs_proc_fd, "self/timens_offsets", p->timens_offsets);
      if (r < 0) cs_fail(p, CS_STEP_TIMENS_OFFSETS, -r, -1, NULL);
    }
  }
  if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
    cs_fail(p, CS_STEP_HOSTNAME, errno, -1, NULL);
  if (p->domainname && setdomainname(p->domainname, strlen(p->domainname)) < 0)
    cs_fail(p, CS_STEP_DOMAINNAME, errno, -1, NULL);
}

// ---- process attributes ---------------------------------------------------------------------

static void apply_limits(const struct cs_plan *p) {
  for (int i = 0; i < p->nrlimits; i++) {
    struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
    if (setrlimit(p->rlimits[i].resource, &rl) < 0) cs_fail(p, CS_STEP_RLIMIT, errno, i, NULL);
  }
  if (p->set_oom_score_adj) {
    char buf[16];
    int v = p->oom_score_adj, n = 0, neg = v < 0;
    unsigned int u = neg ? (unsigned int)(-v) : (unsigned int)v;
    char tmp[16];
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    int i = 0;
    if (neg) buf[i++] = '-';
    while (n) buf[i++] = tmp[--n];
    buf[i] = 0;
    int r = cs_procfs_write(cs_proc_fd, "self/oom_score_adj", buf);
    if (r < 0) cs_fail(p, CS_STEP_OOM_SCORE_ADJ, -r, -1, NULL);
  }
  if (p->personality >= 0 && personality((unsigned long)p->personality) < 0)
    cs_fail(p, CS_STEP_PERSONALITY, errno, -1, NULL);
  if (p->umask >= 0) umask((mode_t)p->umask);
}

static int capset_raw(uint64_t eff, uint64_t perm, uint64_t inh) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2] = {
      {.effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh},
      {.effective = (uint32_t)(eff >> 32),
       .permitted = (uint32_t)(perm >> 32),
       .inheritable = (uint32_t)(inh >> 32)},
  };
  return (int)syscall(SYS_capset, &hdr, data);
}

// Bounding set first (needs CAP_SETPCAP), then the id change with KEEPCAPS so the permitted
// set survives it, then capset and the ambient set, which needs the new inheritable set.
// `keep` (CAP_SYS_ADMIN for a seccomp load without no_new_privs, or 0) stays in the effective
// and permitted sets beyond the process's own: execve computes the new sets from the bounding,
// inheritable and ambient sets and the file, never from these two, so it is gone at execve.
static void apply_identity(const struct cs_plan *p, uint64_t keep) {
  int last = p->cap_last;
  if (!p->set_caps && keep && p->uid != 0) {
    // No capabilities in the config: a non-root user gets none, except `keep` until execve.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) cs_fail(p, CS_STEP_CAPSET, errno, -1, "keepcaps");
  }
  if (p->set_caps) {
    for (int c = 0; c <= last; c++) {
      if (p->cap_bounding & (1ULL << c)) continue;
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
        cs_fail(p, CS_STEP_CAP_BOUNDING, errno, c, NULL);
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) cs_fail(p, CS_STEP_CAPSET, errno, -1, "keepcaps");
  }
  if (setgroups((size_t)p->ngroups, (const gid_t *)p->groups) < 0) {
    // setgroups is denied in a user namespace whose setgroups file says "deny"; that is only
    // an error when the config asks for supplementary groups.
    if (!(errno == EPERM && p->ngroups == 0)) cs_fail(p, CS_STEP_SETGROUPS, errno, -1, NULL);
  }
  if (setresgid(p->gid, p->gid, p->gid) < 0) cs_fail(p, CS_STEP_SETGID, errno, -1, NULL);
  if (setresuid(p->uid, p->uid, p->uid) < 0) cs_fail(p, CS_STEP_SETUID, errno, -1, NULL);
  if (!p->set_caps && keep && p->uid != 0) {
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) cs_fail(p, CS_STEP_CAPSET, errno, -1, "keepcaps");
    if (capset_raw(keep, keep, 0) < 0) cs_fail(p, CS_STEP_CAPSET, errno, -1, NULL);
  }
  if (p->set_caps) {
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) cs_fail(p, CS_STEP_CAPSET, errno, -1, "keepcaps");
    if (capset_raw(p->cap_effective | keep, p->cap_permitted | keep, p->cap_inheritable) < 0)
      cs_fail(p, CS_STEP_CAPSET, errno, -1, NULL);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
      cs_fail(p, CS_STEP_CAP_AMBIENT, errno, -1, NULL);
    for (int c = 0; c <= last; c++) {
      if (!(p->cap_ambient & (1ULL << c))) continue;
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
        cs_fail(p, CS_STEP_CAP_AMBIENT, errno, c, NULL);
    }
  }
}

// The executable, found on the container's PATH as execvpe would, into a static buffer (the
// child's own copy), so that a missing program fails before `create` returns, as with runc.
static char resolved[4096];

static void resolve_executable(const struct cs_plan *p) {
  const char *file = p->exec_path ? p->exec_path : p->argv[0];
  size_t flen = strlen(file);
  if (flen + 1 > sizeof resolved) cs_fail(p, CS_STEP_EXEC, ENAMETOOLONG, -1, file);
  if (p->exec_path || strchr(file, '/')) {
    memcpy(resolved, file, flen + 1);
    if (access(resolved, X_OK) < 0) cs_fail(p, CS_STEP_EXEC, errno, -1, file);
    return;
  }
  const char *path = (p->path_env && p->path_env[0]) ? p->path_env
                     : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int saw_eacces = 0;
  for (const char *dir = path;;) {
    const char *end = strchr(dir, ':');
    size_t dlen = end ? (size_t)(end - dir) : strlen(dir);
    if (dlen == 0) { dir = "."; dlen = 1; }
    if (dlen + 1 + flen + 1 <= sizeof resolved) {
      memcpy(resolved, dir, dlen);
      resolved[dlen] = '/';
      memcpy(resolved + dlen + 1, file, flen + 1);
      struct stat st;
      if (stat(resolved, &st) == 0 && S_ISREG(st.st_mode)) {
        if (access(resolved, X_OK) == 0) return;
        saw_eacces = 1;
      }
    }
    if (!end) break;
    dir = end + 1;
  }
  cs_fail(p, CS_STEP_EXEC, saw_eacces ? EACCES : ENOENT, -1, file);
}

static void exec_process(const struct cs_plan *p) {
  execve(resolved, (char *const *)p->argv, (char *const *)p->envp);
  cs_fail(p, CS_STEP_EXEC, errno, -1, resolved);
}

static void load_seccomp(const struct cs_plan *p) {
  struct sock_fprog prog = {.len = (unsigned short)(p->seccomp_len / sizeof(struct sock_filter)),
                            .filter = (struct sock_filter *)p->seccomp_filter};
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog);
  if (fd < 0) cs_fail(p, CS_STEP_SECCOMP, errno, -1, NULL);
  if (p->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
    char kind = CS_MSG_SECCOMP;
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = &kind, .iov_len = 1};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    int nfd = (int)fd;
    memcpy(CMSG_DATA(c), &nfd, sizeof(int));
    if (CS_RETRY(sendmsg(p->channel_fd, &mh, MSG_NOSIGNAL)) < 0) cs_fail(p, CS_STEP_SECCOMP, errno, -1, "send notify fd");
    close(nfd);
  }
}

static void close_inherited_fds(const struct cs_plan *p) {
  unsigned int first = 3u + (unsigned int)(p->preserve_fds > 0 ? p->preserve_fds : 0);
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  if (errno != ENOSYS && errno != EINVAL) cs_fail(p, CS_STEP_CLOSE_FDS, errno, -1, NULL);
  // Older kernels: mark every possible descriptor close-on-exec one by one.
  struct rlimit rl;
  unsigned int max = (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536) ? (unsigned)rl.rlim_cur : 65536;
  for (unsigned int fd = first; fd < max; fd++) {
    int flags = fcntl((int)fd, F_GETFD);
    if (flags >= 0) fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

// ---- the child ------------------------------------------------------------------------------

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

// Closes every descriptor inherited from the runtime except those the plan names, before the
// child does anything in the container: nothing of the host (a state directory, a log, a
// cgroup directory) stays reachable through /proc/self/fd (CVE-2024-21626).
static void close_extra_fds(const struct cs_plan *p) {
  int keep[80 + CS_MAX_IDMAPPED_MOUNTS];
  int n = 0;
  keep[n++] = p->channel_fd;
  if (p->stdin_fd >= 0) keep[n++] = p->stdin_fd;
  if (p->start_fd >= 0) keep[n++] = p->start_fd;
  if (p->pidns_fd >= 0) keep[n++] = p->pidns_fd;
  for (int i = 0; i < p->njoins && n < 78; i++) keep[n++] = p->joins[i].fd;
  // Idmapped trees (idmap.c; the planner allows CS_MAX_IDMAPPED_MOUNTS, which fit here).
  for (int i = 0; i < p->nmounts && n < 80 + CS_MAX_IDMAPPED_MOUNTS; i++)
    if (p->mounts[i].tree_fd >= 0) keep[n++] = p->mounts[i].tree_fd;
  qsort(keep, (size_t)n, sizeof keep[0], cmp_int);
  unsigned int next = 3u + (unsigned int)(p->preserve_fds > 0 ? p->preserve_fds : 0);
  for (int i = 0; i < n; i++) {
    if (keep[i] < 0 || (unsigned int)keep[i] < next) continue;
    if ((unsigned int)keep[i] > next) syscall(SYS_close_range, next, (unsigned int)keep[i] - 1, 0);
    next = (unsigned int)keep[i] + 1;
  }
  syscall(SYS_close_range, next, ~0U, 0);
}

// create: tell the runtime we are ready, then wait until `start` connects and releases us.
static void wait_for_start(const struct cs_plan *p) {
  // `create` exits now; the container must outlive it.
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  char kind = CS_MSG_READY;
  if (CS_RETRY(send(p->channel_fd, &kind, 1, MSG_NOSIGNAL)) != 1) cs_fail(p, CS_STEP_SYNC, errno, -1, "ready");
  close(p->channel_fd);
  // Everything else inherited from `create` goes now, not at execve: a copy of its locked
  // state directory would keep the lock held after create exits, and `start` would wait.
  unsigned int first = 3u + (unsigned int)(p->preserve_fds > 0 ? p->preserve_fds : 0);
  if ((unsigned int)p->start_fd > first) syscall(SYS_close_range, first, (unsigned int)p->start_fd - 1, 0);
  syscall(SYS_close_range, (unsigned int)p->start_fd + 1, ~0U, 0);
  int conn = (int)CS_RETRY(accept4(p->start_fd, NULL, NULL, SOCK_CLOEXEC));
  if (conn < 0) _exit(127);
  cs_report_to(conn);
  close(p->start_fd);
  char c;
  if (CS_RETRY(read(conn, &c, 1)) != 1) _exit(127);  // `start` went away: do not run
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#define CS_CAP_SYS_PTRACE 19
#define CS_CAP_SYS_ADMIN 21

struct cs_clone_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  uint64_t set_tid, set_tid_size, cgroup;
};

// CAP_SYS_ADMIN, when the seccomp load needs it (no no_new_privs) and the process would not
// hold it: kept in the effective and permitted sets until execve (apply_identity), 0 otherwise.
static uint64_t admin_for_seccomp(const struct cs_plan *p) {
  uint64_t admin = 1ULL << CS_CAP_SYS_ADMIN;
  if (!p->seccomp_len || p->no_new_privs) return 0;
  if (!p->set_caps) return p->uid == 0 ? 0 : admin;
  return (p->cap_effective & admin) ? 0 : admin;
}

// CAP_SYS_ADMIN for the second step's proc mounts (the fallback of procmount.c and pidns.c,
// when C1 could not make proc), when the process would not hold it: kept through
// apply_identity, dropped right after those mounts.
static uint64_t admin_for_proc(const struct cs_plan *p) {
  uint64_t admin = 1ULL << CS_CAP_SYS_ADMIN;
  if (!cs_proc_later(p)) return 0;
  if (!p->set_caps) return p->uid == 0 ? 0 : admin;
  return (p->cap_effective & admin) ? 0 : admin;
}

// Down to the process's own capabilities (what apply_identity set, without `keep`).
static int own_caps_only(const struct cs_plan *p) {
  return p->set_caps ? capset_raw(p->cap_effective, p->cap_permitted, p->cap_inheritable) : capset_raw(0, 0, 0);
}

// Whether a process of the container may hold CAP_SYS_PTRACE over the runtime's user namespace:
// it can then attach to any process it sees, dumpable or not, so no process it sees may hold a
// capability the container's process will not have.
static int ptrace_exposed(const struct cs_plan *p) {
  if (p->become_root) return 0;  // a user namespace: its capabilities stop at its border
  if (!p->set_caps) return 1;
  uint64_t any = p->cap_bounding | p->cap_permitted | p->cap_effective | p->cap_inheritable | p->cap_ambient;
  return (int)((any >> CS_CAP_SYS_PTRACE) & 1);
}

// A filter with a notify listener under `create`: loaded before the init reports ready, so the
// listener gets the fd while `create` runs (status "creating"), as with runc. Its profile must
// let the init wait for `start`.
static int listener_before_start(const struct cs_plan *p) {
  return (p->seccomp_flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) && p->start_fd >= 0;
}

// The last steps, in the process that becomes the container's. The filter goes in last: once
// it is in force nothing runs but execve (and, when execve fails, the report of it). `second`:
// this is C2, which makes its own session (C1 set the pty up as fds 0-2). `loaded`: C1 loaded
// the filter already; then what C2 still does before execve tolerates the filter's errors.
__attribute__((noreturn)) static void finish(const struct cs_plan *p, int second, int loaded) {
  if (second) {
    if (setsid() < 0 && !loaded) cs_fail(p, CS_STEP_SETSID, errno, -1, NULL);
    if (p->terminal && ioctl(0, TIOCSCTTY, 0) < 0 && !loaded) cs_fail(p, CS_STEP_CONSOLE, errno, -1, "TIOCSCTTY");
  }
  if (p->seccomp_len && !loaded && listener_before_start(p)) {
    load_seccomp(p);
    loaded = 1;
  }
  if (p->start_fd >= 0) wait_for_start(p);  // clears the parent-death signal
  else if (!second) prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  if (p->seccomp_len && !loaded) load_seccomp(p);
  exec_process(p);
  __builtin_unreachable();
}

// C1's last step: clone C2 into the container's pid namespace (joined in join_and_unshare) as
// the runtime's child, report its pid and exit. `load_here`: the filter needs CAP_SYS_ADMIN and
// the container may ptrace C2, so C1 loads it and drops CAP_SYS_ADMIN before C2 exists; the
// profile must then allow capset, clone3 or clone, sendmsg and exit_group.
// With proc to mount (procmount.c: only on kernels where C1 cannot make it with procfs's pidns
// option), C2 mounts it first and then does what C1 would have done:
// load the filter and drop CAP_SYS_ADMIN, or drop what only the mounts needed.
__attribute__((noreturn)) static void spawn_visible(const struct cs_plan *p, int load_here) {
  int proc_later = cs_proc_later(p);
  if (load_here && !proc_later) {
    load_seccomp(p);
    if (own_caps_only(p) < 0) cs_fail(p, CS_STEP_SECCOMP, errno, -1, "drop CAP_SYS_ADMIN after the load");
  }
  struct cs_clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_PARENT;  // clone3 wants exit_signal 0 here: C2 inherits C1's (SIGCHLD)
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && (errno == ENOSYS || errno == E2BIG || (load_here && errno == EPERM)))
    pid = CS_RAW_CLONE(CLONE_PARENT);
  if (pid < 0) cs_fail(p, CS_STEP_CLONE, errno, -1, NULL);
  if (pid == 0 && proc_later) {
    cs_proc_mount_later(p);
    if (load_here) load_seccomp(p);
    if ((load_here || (admin_for_proc(p) && !admin_for_seccomp(p))) && own_caps_only(p) < 0)
      cs_fail(p, CS_STEP_CAPSET, errno, -1, "drop CAP_SYS_ADMIN after mounting proc");
  }
  if (pid == 0) finish(p, 1, load_here);
  if (cs_report_pid(p, (pid_t)pid) < 0) {
    kill((pid_t)pid, SIGKILL);
    _exit(127);
  }
  _exit(0);
}

__attribute__((noreturn)) static void child_main(const struct cs_plan *p) {
  int two_step = cs_plan_two_step(p);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  close(p->parent_channel_fd);
  cs_report_to(p->channel_fd);
  close_extra_fds(p);
  // Until execve this process is a copy of the runtime: nothing in the container may open
  // its /proc/<pid>/exe (the runtime binary) or its memory (CVE-2019-5736). execve makes the
  // container's program dumpable again. A process waiting for its id maps stays dumpable until
  // they are written: a non-dumpable process's /proc/<pid> files belong to root, and a runtime
  // that is not root could then not open its setgroups, uid_map or gid_map (EACCES, whenever
  // this line ran before the runtime's write). Nothing runs in its namespaces before that.
  // Other waits (for the move into v1 cgroups) keep it non-dumpable throughout.
  if (!(p->wait_for_release && (p->clone_flags & CLONE_NEWUSER))) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // procfs of the runtime's mount namespace, taken before entering the container's.
  if (p->timens || p->nsysctl || p->set_oom_score_adj || p->apparmor_profile) {
    cs_proc_fd = cs_procfs_open();
    if (cs_proc_fd < 0) cs_fail(p, CS_STEP_PROCFS, -cs_proc_fd, -1, "open /proc");
  }
  // Die with the runtime while setting up; cleared right before execve.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  int user_after_clone = cs_plan_user_after_clone(p);
  if (user_after_clone) {
    if (setns(p->pidns_fd, CLONE_NEWPID) < 0) cs_fail(p, CS_STEP_SETNS, errno, -1, "pid");
    cs_proc_keep_pidns(p, p->pidns_fd);  // tried from the new user namespace (procmount.c)
    if (unshare(CLONE_NEWUSER) < 0) cs_fail(p, CS_STEP_UNSHARE, errno, -1, "user");
    char kind = CS_MSG_USERNS;
    if (CS_RETRY(send(p->channel_fd, &kind, 1, MSG_NOSIGNAL)) != 1) cs_fail(p, CS_STEP_SYNC, errno, -1, "user namespace");
  }
  if (p->wait_for_release) {
    char c;
    ssize_t r = CS_RETRY(read(p->channel_fd, &c, 1));
    if (r != 1) cs_fail(p, CS_STEP_SYNC, r < 0 ? errno : EPIPE, -1, NULL);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);  // the maps are written (or the cgroups joined)
  }
  if (user_after_clone) {
    unsigned long rest = (unsigned long)(p->clone_flags & ~(uint64_t)(CLONE_NEWUSER | CLONE_NEWPID));
    if (rest && unshare((int)rest) < 0) cs_fail(p, CS_STEP_UNSHARE, errno, -1, NULL);
  }
  // A new pid namespace of a joined user namespace: from here on, its pid 1 (pidns.c).
  int joined = cs_plan_pid_after_user(p) ? cs_pid_after_user(p) : 0;
  join_and_unshare(p, joined);
  if (!p->exec_mode) cs_setup_rootfs(p);  // mounts, devices, pivot_root
  if (p->stdin_fd >= 0) {
    if (dup2(p->stdin_fd, 0) < 0) cs_fail(p, CS_STEP_SETSID, errno, -1, "stdin");
    close(p->stdin_fd);
  }
  if (p->terminal) cs_setup_console(p, !two_step);
  else if (setsid() < 0) cs_fail(p, CS_STEP_SETSID, errno, -1, NULL);
  for (int i = 0; !p->exec_mode && i < p->nsysctl; i++) {
    char path[512] = "sys/";
    size_t n = strlen(p->sysctl_keys[i]);
    if (n + 5 > sizeof path) cs_fail(p, CS_STEP_SYSCTL, ENAMETOOLONG, i, NULL);
    for (size_t k = 0; k < n; k++) path[4 + k] = p->sysctl_keys[i][k] == '.' ? '/' : p->sysctl_keys[i][k];
    path[4 + n] = 0;
    int r = cs_procfs_write(cs_proc_fd, path, p->sysctl_values[i]);
    if (r < 0) cs_fail(p, CS_STEP_SYSCTL, -r, i, NULL);
  }
  if (!p->exec_mode) cs_finish_rootfs(p, 0);  // readonly paths, masked paths, read-only root
  apply_limits(p);
  if (p->apparmor_profile) {
    char attr[512] = "exec ";
    size_t n = strlen(p->apparmor_profile);
    if (n + 6 > sizeof attr) cs_fail(p, CS_STEP_PROCFS, ENAMETOOLONG, -1, "process.apparmorProfile");
    memcpy(attr + 5, p->apparmor_profile, n + 1);
    int r = cs_procfs_write(cs_proc_fd, "self/attr/apparmor/exec", attr);
    if (r == -ENOENT) r = cs_procfs_write(cs_proc_fd, "self/attr/exec", attr);
    if (r < 0) cs_fail(p, CS_STEP_PROCFS, -r, -1, "process.apparmorProfile: write the exec attribute");
  }
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Nothing of the host may be open when the container's cwd is resolved.
  if (cs_proc_fd >= 0) { close(cs_proc_fd); cs_proc_fd = -1; }
  if (chdir(p->cwd) < 0 && errno != EACCES && errno != EPERM) cs_fail(p, CS_STEP_CWD, errno, -1, NULL);
  // Loading the filter without no_new_privs needs CAP_SYS_ADMIN: kept until the load (or, for
  // a one-step process, until execve, which drops it; no syscall follows the load).
  uint64_t admin = admin_for_seccomp(p);
  apply_identity(p, admin | admin_for_proc(p));
  if (chdir(p->cwd) < 0) cs_fail(p, CS_STEP_CWD, errno, -1, NULL);
  // The working directory must be inside the container's root.
  // (glibc's getcwd fails with ENOENT for a directory not under the root.)
  static char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) {
    if (errno != ERANGE) cs_fail(p, CS_STEP_CWD, errno, -1, "outside the container");
  } else if (cwd[0] != '/') {
    cs_fail(p, CS_STEP_CWD, EXDEV, -1, "outside the container");
  }
  if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    cs_fail(p, CS_STEP_NO_NEW_PRIVS, errno, -1, NULL);
  close_inherited_fds(p);
  resolve_executable(p);
  if (two_step) spawn_visible(p, admin && ptrace_exposed(p));
  finish(p, 0, 0);
}

pid_t cs_spawn(const struct cs_plan *plan) {
  // The first of two steps creates its user namespace itself (cs_plan_user_after_clone).
  uint64_t flags = cs_plan_user_after_clone(plan) ? 0 : plan->clone_flags;
  if (cs_plan_pid_after_user(plan)) flags &= ~(uint64_t)CLONE_NEWPID;  // made after the setns
  struct cs_clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  if (plan->cgroup_fd >= 0) {
    // Born in its cgroup: no instant of the init (or of a process it forks) escapes the limits.
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = (uint64_t)plan->cgroup_fd;
  }
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0 && (errno == ENOSYS || errno == E2BIG)) {
    // Kernels before 5.7 (no clone3 or no CLONE_INTO_CGROUP): moved right after the clone,
    // while the child is still setting up (it has run no code of the container yet).
    pid = CS_RAW_CLONE(flags);
    if (pid > 0 && plan->cgroup_fd >= 0) {
      char buf[24];
      int n = snprintf(buf, sizeof buf, "%ld", pid);
      int fd = openat(plan->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write(fd, buf, (size_t)n) != n) {
        int e = errno;
        if (fd >= 0) close(fd);
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, NULL, 0);
        errno = e;
        pid = -1;
      } else {
        close(fd);
      }
    }
  }
  if (pid == 0) child_main(plan);
  return (pid_t)pid;
}


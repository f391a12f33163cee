// proc of a pid namespace joined by path: who makes it, and how (see pidns.c for the whole
// story). The first child (C1) decides before its first mount whether it makes proc itself with
// procfs's pidns option; if not, which mounts the second child (C2) makes, and what C1 prepares
// for them. Depends on child.h, cshim_resolve.h.
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "cshim_resolve.h"
#include "procmount.h"

// ---- proc of a joined pid namespace ----------------------------------------------------------

static int is_proc(const struct cs_mount *m) {
  return !(m->flags & MS_BIND) && m->tree_fd < 0 && m->fstype && strcmp(m->fstype, "proc") == 0;
}

// Whether `path` is `dir` or beneath it.
static int at_or_under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') n--;
  if (n == 1 && dir[0] == '/') return 1;
  return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

// The joined pid namespace's descriptor until C1's mounts are made, else -1; and whether C1
// makes proc with it (procfs's pidns option). This process's own copies.
static int pidns_for_proc = -1;
static int proc_in_first_step;

static int proc_in_second_step(const struct cs_plan *p) {
  return cs_plan_two_step(p) && !p->exec_mode && !proc_in_first_step;
}

void cs_proc_keep_pidns(const struct cs_plan *p, int fd) {
  int wanted = 0;
  for (int i = 0; !p->exec_mode && i < p->nmounts; i++)
    if (is_proc(&p->mounts[i])) wanted = 1;
  if (wanted) pidns_for_proc = fd;  // tried (and closed) by cs_proc_try_pidns_option
  else close(fd);
}

void cs_proc_try_pidns_option(const struct cs_plan *p) {
  if (pidns_for_proc < 0) return;
  struct cs_mount probe;
  memset(&probe, 0, sizeof probe);
  probe.fstype = "proc";
  probe.tree_fd = -1;
  int mnt = cs_proc_fsmount(&probe, pidns_for_proc);
  if (mnt >= 0) {
    close(mnt);  // made: every proc of the plan is made here the same way
    proc_in_first_step = 1;
    return;
  }
  // EINVAL (no such option), EPERM (a pid namespace our user namespace does not own, or a
  // user namespace without a fully visible proc): the second step mounts proc.
  close(pidns_for_proc);
  pidns_for_proc = -1;
}

int cs_proc_pidns_fd(const struct cs_plan *p, int i) {
  return proc_in_first_step && cs_plan_two_step(p) && is_proc(&p->mounts[i]) ? pidns_for_proc : -1;
}

void cs_proc_release_pidns(void) {
  if (pidns_for_proc >= 0) close(pidns_for_proc);
  pidns_for_proc = -1;
}

int cs_proc_later_mount(const struct cs_plan *p, int i) {
  if (!proc_in_second_step(p)) return 0;
  if (is_proc(&p->mounts[i])) return 1;
  for (int k = 0; k < i; k++)
    if (is_proc(&p->mounts[k]) && at_or_under(p->mounts[i].destination, p->mounts[k].destination)) return 1;
  return 0;
}

int cs_proc_later_path(const struct cs_plan *p, const char *path) {
  if (!proc_in_second_step(p)) return 0;
  for (int k = 0; k < p->nmounts; k++)
    if (is_proc(&p->mounts[k]) && at_or_under(path, p->mounts[k].destination)) return 1;
  return 0;
}

int cs_proc_later(const struct cs_plan *p) {
  for (int i = 0; proc_in_second_step(p) && i < p->nmounts; i++)
    if (is_proc(&p->mounts[i])) return 1;
  return 0;
}

// In a user namespace the kernel mounts a new proc only where one is fully visible in the
// mount namespace already (mount_too_revealing); after pivot_root none is left. So C1 binds
// the runtime's /proc onto the destination first, and C2, once its proc is made, detaches that
// placeholder and puts its own in its place. Outside a user namespace there is no such check.
int cs_proc_placeholder(const struct cs_plan *p) { return p->become_root; }

// The bind sources C1 opened for C2 (this process's own copy; C2 inherits it).
#define CS_MAX_LATER_BINDS 64
static struct { int index, fd; } later_binds[CS_MAX_LATER_BINDS];
static int nlater_binds;

int cs_proc_later_bind(int i) {
  for (int b = 0; b < nlater_binds; b++)
    if (later_binds[b].index == i) return later_binds[b].fd;
  return -1;
}

void cs_proc_prepare(const struct cs_plan *p, int root_fd, int i) {
  const struct cs_mount *m = &p->mounts[i];
  if (is_proc(m)) {
    // Made now, while the root may still be written (root.readonly comes after).
    int fd = cs_resolve_in_root(root_fd, m->destination, m->dest_kind, 1);
    if (fd < 0) cs_fail(p, CS_STEP_MOUNT_RESOLVE, -fd, i, m->destination);
    if (cs_proc_placeholder(p)) {
      char target[32];
      cs_fd_path(target, fd);
      if (mount("/proc", target, NULL, MS_BIND | MS_REC, NULL) < 0) cs_fail(p, CS_STEP_MOUNT, errno, i, "proc placeholder");
    }
    close(fd);
    return;
  }
  if (!(m->flags & MS_BIND) || m->tree_fd >= 0) return;  // made by C2 / an idmapped tree already
  if (nlater_binds == CS_MAX_LATER_BINDS) cs_fail(p, CS_STEP_MOUNT, E2BIG, i, "more than 64 binds on proc");
  // The source is a host path: C2, in the container's root, could not reach it.
  int fd = (int)syscall(SYS_open_tree, AT_FDCWD, m->source,
                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((m->flags & MS_REC) ? AT_RECURSIVE : 0));
  if (fd < 0) cs_fail(p, CS_STEP_MOUNT, errno, i, m->destination);
  later_binds[nlater_binds].index = i;
  later_binds[nlater_binds].fd = fd;
  nlater_binds++;
}

// ---- a proc made with fsopen ----------------------------------------------------------------
//
// Made with fsopen and attached to the destination's descriptor: in the second step /proc is not
// mounted yet, so /proc/self/fd/N cannot name the destination; in the first the pid namespace is
// named with procfs's pidns option, which only fsconfig takes as a descriptor.

static uint64_t attrs_of(unsigned long flags) {
  uint64_t a = 0;
  if (flags & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (flags & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  if (flags & MS_NOATIME) a |= MOUNT_ATTR_NOATIME;
  else if (flags & MS_STRICTATIME) a |= MOUNT_ATTR_STRICTATIME;
  return a;
}

int cs_proc_fsmount(const struct cs_mount *m, int pidns_fd) {
  int fs = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  if (pidns_fd >= 0 && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FD, "pidns", NULL, pidns_fd) < 0) {
    int e = errno;
    close(fs);
    errno = e;
    return -1;
  }
  // Filesystem options (hidepid=2, subset=pid): key[=value], comma-separated.
  char buf[512];
  const char *data = m->data ? m->data : "";
  size_t n = strlen(data);
  if (n >= sizeof buf) { close(fs); errno = E2BIG; return -1; }
  memcpy(buf, data, n + 1);
  int r = 0;
  for (char *opt = buf; r == 0 && opt && *opt;) {
    char *next = strchr(opt, ',');
    if (next) *next++ = 0;
    char *value = strchr(opt, '=');
    if (value) *value++ = 0;
    if (*opt) r = (int)syscall(SYS_fsconfig, fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, opt, value, 0);
    opt = next;
  }
  if (r == 0) r = (int)syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
  int mnt = r == 0 ? (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs_of(m->flags)) : -1;
  int e = errno;
  close(fs);
  errno = e;
  return mnt;
}

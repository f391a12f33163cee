// The root filesystem in the child: mounts resolved inside the rootfs, devices, the console,
// pivot_root, and the paths masked or made read-only afterwards.
//
// Every mount destination is opened with openat2(RESOLVE_IN_ROOT) relative to the rootfs, and
// the mount goes through /proc/self/fd/N of that descriptor, so a symlink in the image (or one
// swapped in during setup) can never point a mount outside the rootfs (resolve.c).
// Depends on child.h, cshim_resolve.h, procmount.h.
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#include "child.h"
#include "cshim_resolve.h"
#include "procmount.h"
#include "rootfs.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

// ---- fd-to-fd mounts (no path is resolved after the container could have changed it) ----

static int attach(int tree_fd, int target_fd) {
  return (int)syscall(SYS_move_mount, tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

// Binds what `src_fd` refers to onto what `dst_fd` refers to, optionally read-only.
static int bind_fd(int src_fd, int dst_fd, int recursive, uint64_t attrs) {
  int tree = (int)syscall(SYS_open_tree, src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) return -1;
  int r = 0;
  if (attrs) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = attrs;
    r = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
  }
  if (r == 0) r = attach(tree, dst_fd);
  int e = errno;
  close(tree);
  errno = e;
  return r;
}

// A fresh read-only tmpfs onto `dst_fd`.
static int empty_tmpfs_fd(int dst_fd) {
  int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  int r = (int)syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
  int m = r == 0 ? (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) : -1;
  int e = errno;
  close(fs);
  if (m < 0) { errno = e; return -1; }
  r = attach(m, dst_fd);
  e = errno;
  close(m);
  errno = e;
  return r;
}

// Opens a path inside the container's root after pivot_root without following any symlink
// (a masked path must be the file itself, never where a link in the image points).
static int open_nofollow(const char *path) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return (int)CS_RETRY(syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how));
}

static int mount_on_fd(const char *src, int fd, const char *type, unsigned long flags,
                       const char *data) {
  char target[32];
  cs_fd_path(target, fd);
  return mount(src, target, type, flags, data);
}

// The flags a remount must keep because the kernel locks them (e.g. nosuid on a mount that a
// user namespace inherited), read from the mount itself.
static unsigned long locked_flags(const char *path) {
  struct statvfs st;
  unsigned long f = 0;
  if (statvfs(path, &st) < 0) return 0;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int remount(const char *path, unsigned long flags) {
  if (mount(NULL, path, NULL, flags | MS_REMOUNT, NULL) == 0) return 0;
  if (errno != EPERM) return -1;
  return mount(NULL, path, NULL, flags | MS_REMOUNT | locked_flags(path), NULL);
}

void cs_mount_one(const struct cs_plan *p, int root_fd, int i, int tree_fd) {
  const struct cs_mount *m = &p->mounts[i];
  int fd = cs_resolve_in_root(root_fd, m->destination, m->dest_kind, 1);
  if (fd < 0) cs_fail(p, CS_STEP_MOUNT_RESOLVE, -fd, i, m->destination);

  int r;
  if (tree_fd < 0) tree_fd = m->tree_fd;
  if (tree_fd >= 0) {
    // A tree made before: idmapped by the runtime (idmap.c), or a bind source the first step
    // opened (procmount.c). Only moved into place here.
    r = attach(tree_fd, fd);
    if (r == 0) close(tree_fd);
  } else if (m->flags & MS_BIND) {
    r = mount_on_fd(m->source, fd, NULL, m->flags & (MS_BIND | MS_REC), NULL);
  } else if (cs_proc_pidns_fd(p, i) >= 0) {
    // proc of the joined pid namespace, made by the first step (procmount.c).
    int mnt = cs_proc_fsmount(m, cs_proc_pidns_fd(p, i));
    r = mnt < 0 ? -1 : attach(mnt, fd);
    int e = errno;
    if (mnt >= 0) close(mnt);
    errno = e;
  } else if (cs_proc_later_mount(p, i) && strcmp(m->fstype, "proc") == 0) {
    int mnt = cs_proc_fsmount(m, -1);
    r = mnt < 0 ? -1 : 0;
    if (r == 0 && cs_proc_placeholder(p)) {
      // Made (checked against the placeholder, procmount.c); the placeholder goes before this
      // takes its place.
      char target[32];
      cs_fd_path(target, fd);
      r = umount2(target, MNT_DETACH);
      close(fd);
      fd = r == 0 ? cs_resolve_in_root(root_fd, m->destination, m->dest_kind, 0) : -1;
      if (r == 0 && fd < 0) cs_fail(p, CS_STEP_MOUNT_RESOLVE, -fd, i, m->destination);
    }
    if (r == 0) r = attach(mnt, fd);
    int e = errno;
    if (mnt >= 0) close(mnt);
    errno = e;
  } else {
    r = mount_on_fd(m->source, fd, m->fstype, m->flags, m->data);
    if (r < 0 && errno == EPERM && m->sysfs_fallback) {
      // sysfs cannot be mounted without owning the network namespace: runc binds the host's.
      r = mount_on_fd("/sys", fd, NULL, MS_BIND | MS_REC, NULL);
      if (r == 0) r = mount_on_fd(NULL, fd, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    }
  }
  if (r < 0) cs_fail(p, CS_STEP_MOUNT, errno, i, m->destination);
  close(fd);

  if (!m->remount && !m->propagation && !m->attr_set && !m->attr_clr) return;
  // Reopen: the destination now resolves to the root of the new mount.
  fd = cs_resolve_in_root(root_fd, m->destination, m->dest_kind, 0);
  if (fd < 0) cs_fail(p, CS_STEP_MOUNT_RESOLVE, -fd, i, m->destination);
  char target[32];
  cs_fd_path(target, fd);
  if (m->remount && remount(target, m->flags & ~MS_REC) < 0)
    cs_fail(p, CS_STEP_MOUNT_REMOUNT, errno, i, m->destination);
  if (m->propagation && mount(NULL, target, NULL, m->propagation, NULL) < 0)
    cs_fail(p, CS_STEP_MOUNT_PROPAGATION, errno, i, m->destination);
  if (m->attr_set || m->attr_clr) {
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = m->attr_set;
    attr.attr_clr = m->attr_clr;
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
      cs_fail(p, CS_STEP_MOUNT_SETATTR, errno, i, m->destination);
  }
  close(fd);
}

// Creates a device node, or in a user namespace (where mknod is not allowed) bind-mounts the
// host's node of the same path over an empty file.
static int make_device(const struct cs_plan *p, int root_fd, const char *path, int type,
                       int64_t major, int64_t minor, uint32_t mode, uint32_t uid, uint32_t gid) {
  if (p->bind_devices) {
    int fd = cs_resolve_in_root(root_fd, path, CS_DEST_FILE, 1);
    if (fd < 0) return fd;
    int r = mount_on_fd(path, fd, NULL, MS_BIND, NULL);
    int e = errno;
    close(fd);
    return r < 0 ? -e : 0;
  }
  const char *slash = strrchr(path, '/');
  char dir[4096];
  size_t dlen = (size_t)(slash - path);
  if (dlen >= sizeof dir) return -ENAMETOOLONG;
  memcpy(dir, path, dlen);
  dir[dlen] = 0;
  int dfd = cs_resolve_in_root(root_fd, dlen ? dir : "/", CS_DEST_DIR, 1);
  if (dfd < 0) return dfd;
  mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
  dev_t dev = type == 'p' ? 0 : makedev((unsigned)major, (unsigned)minor);
  int r = mknodat(dfd, slash + 1, kind | (mode & 07777), dev);
  if (r < 0 && errno == EEXIST) { close(dfd); return 0; }
  if (r == 0) r = fchownat(dfd, slash + 1, uid, gid, AT_SYMLINK_NOFOLLOW);
  if (r == 0) r = fchmodat(dfd, slash + 1, mode & 07777, 0);
  int e = errno;
  close(dfd);
  return r < 0 ? -e : 0;
}

static void setup_devices(const struct cs_plan *p, int root_fd) {
  static const struct { const char *path; int64_t major, minor; } defaults[] = {
      {"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
      {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
  };
  static const struct { const char *target, *link; } links[] = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"}, {"/proc/kcore", "core"},
  };
  if (p->default_devices) {
    for (int i = 0; i < (int)(sizeof defaults / sizeof defaults[0]); i++) {
      int r = make_device(p, root_fd, defaults[i].path, 'c', defaults[i].major, defaults[i].minor, 0666, 0, 0);
      if (r < 0) cs_fail(p, CS_STEP_DEFAULT_DEVICE, -r, i, defaults[i].path);
    }
    int dev = cs_resolve_in_root(root_fd, "/dev", CS_DEST_DIR, 1);
    if (dev < 0) cs_fail(p, CS_STEP_DEV_SYMLINK, -dev, -1, "/dev");
    for (int i = 0; i < (int)(sizeof links / sizeof links[0]); i++) {
      // ptmx: a bind-mounted /dev may bring its own node; keep whatever is there.
      if (symlinkat(links[i].target, dev, links[i].link) < 0 && errno != EEXIST)
        cs_fail(p, CS_STEP_DEV_SYMLINK, errno, i, links[i].link);
    }
    close(dev);
  }
  for (int i = 0; i < p->ndevices; i++) {
    const struct cs_device *d = &p->devices[i];
    int r = make_device(p, root_fd, d->path, d->type, d->major, d->minor, d->mode, d->uid, d->gid);
    if (r < 0) cs_fail(p, CS_STEP_DEVICE, -r, i, d->path);
  }
}

// Whether the container has a mount namespace of its own (new or joined). Without one it
// shares the runtime's, whose mount table must not change: validation refused every field
// that mounts, and the rootfs is entered with chroot alone (as runc does there).
static int own_mount_namespace(const struct cs_plan *p) {
  if ((p->clone_flags | p->unshare_flags) & CLONE_NEWNS) return 1;
  for (int i = 0; i < p->njoins; i++)
    if (p->joins[i].nstype == CLONE_NEWNS) return 1;
  return 0;
}

static void enter_rootfs_without_mounts(const struct cs_plan *p) {
  if (p->hook_pause) cs_pause(p, CS_MSG_HOOKS);
  if (chdir(p->rootfs) < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "chdir");
  if (chroot(".") < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "chroot");
  if (chdir("/") < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "chdir /");
}

void cs_setup_rootfs(const struct cs_plan *p) {
  if (!own_mount_namespace(p)) {
    enter_rootfs_without_mounts(p);
    return;
  }
  if (mount(NULL, "/", NULL, p->root_propagation, NULL) < 0)
    cs_fail(p, CS_STEP_ROOT_PROPAGATION, errno, -1, NULL);
  if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    cs_fail(p, CS_STEP_ROOTFS_BIND, errno, -1, p->rootfs);
  int root_fd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) cs_fail(p, CS_STEP_ROOTFS_OPEN, errno, -1, p->rootfs);
  cs_proc_try_pidns_option(p);  // decides who makes proc of a joined pid namespace (procmount.c)
  for (int i = 0; i < p->nmounts; i++) {
    if (cs_proc_later_mount(p, i)) cs_proc_prepare(p, root_fd, i);  // the second step mounts it
    else cs_mount_one(p, root_fd, i, -1);
  }
  cs_proc_release_pidns();
  setup_devices(p, root_fd);
  close(root_fd);
  if (p->hook_pause) cs_pause(p, CS_MSG_HOOKS);  // createRuntime/createContainer hooks run now

  if (p->no_pivot) {
    if (chdir(p->rootfs) < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "chdir");
    if (mount(p->rootfs, "/", NULL, MS_MOVE, NULL) < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "move");
    if (chroot(".") < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "chroot");
  } else {
    int old_root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    int new_root = open(p->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (old_root < 0 || new_root < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "open");
    if (fchdir(new_root) < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "fchdir");
    // pivot_root(".", ".") stacks the old root on top of the new one; detach it from there.
    if (syscall(SYS_pivot_root, ".", ".") < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, NULL);
    if (fchdir(old_root) < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "fchdir");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
      cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "make old root rslave");
    if (umount2(".", MNT_DETACH) < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "umount old root");
    close(old_root);
    close(new_root);
  }
  if (chdir("/") < 0) cs_fail(p, CS_STEP_PIVOT_ROOT, errno, -1, "chdir /");
  if (p->rootfs_propagation && mount(NULL, "/", NULL, p->rootfs_propagation, NULL) < 0)
    cs_fail(p, CS_STEP_ROOTFS_PROPAGATION, errno, -1, NULL);
}

// A pty from the container's own devpts; the master goes to the parent, the slave becomes
// /dev/console and the controlling terminal of a new session.
void cs_setup_console(const struct cs_plan *p, int controlling) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) cs_fail(p, CS_STEP_CONSOLE, errno, -1, "open /dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) cs_fail(p, CS_STEP_CONSOLE, errno, -1, "unlockpt");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) cs_fail(p, CS_STEP_CONSOLE, errno, -1, "open pty peer");
  if (p->console_width || p->console_height) {
    struct winsize ws = {.ws_row = p->console_height, .ws_col = p->console_width};
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  if (!p->exec_mode && own_mount_namespace(p)) {
    // /dev/console must be a plain file or device node of our /dev, never a link elsewhere.
    int made = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (made >= 0) close(made);
    int console = open_nofollow("/dev/console");
    if (console < 0) cs_fail(p, CS_STEP_CONSOLE, errno, -1, "open /dev/console without following links");
    struct stat st;
    if (fstat(console, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))
      cs_fail(p, CS_STEP_CONSOLE, EINVAL, -1, "/dev/console is not a file or a device");
    if (bind_fd(slave, console, 0, 0) < 0) cs_fail(p, CS_STEP_CONSOLE, errno, -1, "bind /dev/console");
    close(console);
  }

  char kind = CS_MSG_CONSOLE;
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct iovec iov = {.iov_base = &kind, .iov_len = 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                      .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &master, sizeof(int));
  if (CS_RETRY(sendmsg(p->channel_fd, &mh, MSG_NOSIGNAL)) < 0)
    cs_fail(p, CS_STEP_CONSOLE, errno, -1, "send pty master");
  close(master);

  if (controlling) {
    if (setsid() < 0) cs_fail(p, CS_STEP_SETSID, errno, -1, NULL);
    if (ioctl(slave, TIOCSCTTY, 0) < 0) cs_fail(p, CS_STEP_CONSOLE, errno, -1, "TIOCSCTTY");
  }
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) cs_fail(p, CS_STEP_CONSOLE, errno, fd, "dup2");
  if (slave > 2) close(slave);
}

void cs_finish_rootfs(const struct cs_plan *p, int second) {
  if (!own_mount_namespace(p)) return;  // nothing was asked that mounts (validated)
  for (int i = 0; i < p->nreadonly; i++) {
    if (cs_proc_later_path(p, p->readonly_paths[i]) != second) continue;
    int fd = open_nofollow(p->readonly_paths[i]);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      cs_fail(p, CS_STEP_READONLY_PATH, errno, i, p->readonly_paths[i]);
    }
    if (bind_fd(fd, fd, 1, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) < 0)
      cs_fail(p, CS_STEP_READONLY_PATH, errno, i, p->readonly_paths[i]);
    close(fd);
  }
  if (p->nmasked > 0) {
    // The /dev/null that masks files must be the real null device, checked on the descriptor
    // that is then mounted (CVE-2025-31133).
    int null_fd = open_nofollow("/dev/null");
    struct stat st;
    if (null_fd < 0 || fstat(null_fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
      cs_fail(p, CS_STEP_MASKED_PATH, null_fd < 0 ? errno : EINVAL, -1, "/dev/null is not the null device");
    for (int i = 0; i < p->nmasked; i++) {
      const char *path = p->masked_paths[i];
      if (cs_proc_later_path(p, path) != second) continue;
      int fd = open_nofollow(path);
      if (fd < 0) {
        if (errno == ENOENT) continue;
        cs_fail(p, CS_STEP_MASKED_PATH, errno, i, path);
      }
      if (fstat(fd, &st) < 0) cs_fail(p, CS_STEP_MASKED_PATH, errno, i, path);
      int r = S_ISDIR(st.st_mode) ? empty_tmpfs_fd(fd) : bind_fd(null_fd, fd, 0, 0);
      if (r < 0) cs_fail(p, CS_STEP_MASKED_PATH, errno, i, path);
      close(fd);
    }
    close(null_fd);
  }
  if (!second && p->readonly_root && remount("/", MS_BIND | MS_RDONLY) < 0)
    cs_fail(p, CS_STEP_ROOT_READONLY, errno, -1, NULL);
}

// Idmapped mounts (mounts[].uidMappings/gidMappings, the idmap and ridmap options).
//
// The runtime makes each idmapped tree in its own mount and user namespace, before the
// container exists: open_tree(OPEN_TREE_CLONE) copies the source into a detached tree and
// mount_setattr(MOUNT_ATTR_IDMAP) attaches a user namespace's mapping to it. Both need
// CAP_SYS_ADMIN over the filesystem (the initial user namespace for ext4, xfs, btrfs...), which
// the container's init no longer has once it is in its own user namespace; the init only moves
// the finished tree into place (rootfs.c). The mapping is the namespace's maps at the time of
// the call, so a throwaway namespace with the same maps is as good as the container's own.
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "cshim_files.h"
#include "cshim_idmap.h"

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

static int write_map(pid_t pid, const char *name, const char *data) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  return cs_write_file(path, data);
}

int cs_userns_fd(const char *uid_map, const char *gid_map) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) return -errno;
  // A fork-like clone into a new user namespace. The child only blocks in read and exits:
  // nothing in it depends on the (multi-threaded) parent's state.
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) {
    int e = errno;
    close(pipefd[0]);
    close(pipefd[1]);
    return -e;
  }
  if (pid == 0) {
    char byte;
    close(pipefd[1]);
    while (read(pipefd[0], &byte, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(pipefd[0]);
  int r = write_map((pid_t)pid, "uid_map", uid_map);
  if (r == 0) r = write_map((pid_t)pid, "gid_map", gid_map);
  int fd = -1;
  if (r == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) r = -errno;
  }
  close(pipefd[1]);  // the child reads EOF and exits
  int status;
  while (waitpid((pid_t)pid, &status, 0) < 0 && errno == EINTR) {}
  return r < 0 ? r : fd;
}

int cs_idmapped_tree(const char *source, int recursive_tree, int recursive_attr, int userns_fd,
                     int *failed_call) {
  *failed_call = 0;
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source,
                          OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive_tree ? AT_RECURSIVE : 0));
  if (tree < 0) return -errno;
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = (uint64_t)userns_fd;
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive_attr ? AT_RECURSIVE : 0),
              &attr, sizeof attr) < 0) {
    int e = errno;
    close(tree);
    *failed_call = 1;
    return -e;
  }
  return tree;
}

int cs_idmap_kernel_support(void) {
  // mount_setattr (Linux 5.12) came with MOUNT_ATTR_IDMAP: with a bad fd it fails with EBADF
  // (or EINVAL) where it exists and ENOSYS where it does not.
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  if (syscall(SYS_mount_setattr, -1, "", AT_EMPTY_PATH, &attr, sizeof attr) == 0) return 1;
  return errno == ENOSYS ? 0 : 1;
}

long long cs_mount_id(const char *path) {
  struct statx st;
  memset(&st, 0, sizeof st);
  if (syscall(SYS_statx, AT_FDCWD, path, 0, STATX_MNT_ID, &st) < 0) return -errno;
  if (!(st.stx_mask & STATX_MNT_ID)) return -EOPNOTSUPP;
  return (long long)st.stx_mnt_id;
}

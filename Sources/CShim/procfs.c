// Writes to procfs that the container cannot redirect: every path is opened beneath a procfs
// descriptor taken before the child entered any namespace of the container, with no symlink
// followed, and the file must be on procfs (fstatfs) before a byte is written. Depends on
// procfs.h, child.h (CS_RETRY).
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "procfs.h"

int cs_proc_fd = -1;

int cs_procfs_open(void) {
  int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct statfs st;
  if (fstatfs(fd, &st) < 0 || st.f_type != PROC_SUPER_MAGIC) { close(fd); return -EXDEV; }
  return fd;
}

// `rel` beneath the procfs root; "self/..." is rewritten to "<our pid in that procfs>/...".
int cs_procfs_write(int proc_fd, const char *rel, const char *data) {
  char path[512];
  if (strncmp(rel, "self/", 5) == 0) {
    char pid[32];
    ssize_t n = readlinkat(proc_fd, "self", pid, sizeof pid - 1);
    if (n <= 0) return -errno;
    pid[n] = 0;
    size_t plen = (size_t)n, rlen = strlen(rel + 4);
    if (plen + rlen + 1 > sizeof path) return -ENAMETOOLONG;
    memcpy(path, pid, plen);
    memcpy(path + plen, rel + 4, rlen + 1);
  } else {
    size_t n = strlen(rel);
    if (n + 1 > sizeof path) return -ENAMETOOLONG;
    memcpy(path, rel, n + 1);
  }
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_WRONLY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  int fd = (int)CS_RETRY(syscall(SYS_openat2, proc_fd, path, &how, sizeof how));
  if (fd < 0) return -errno;
  struct statfs st;
  if (fstatfs(fd, &st) < 0 || st.f_type != PROC_SUPER_MAGIC) { close(fd); return -EXDEV; }
  size_t len = strlen(data), off = 0;
  while (off < len) {
    ssize_t w = CS_RETRY(write(fd, data + off, len - off));
    if (w < 0) { int e = errno; close(fd); return -e; }
    off += (size_t)w;
  }
  close(fd);
  return 0;
}

// Paths resolved inside a root directory: every symlink as if the root were "/", missing
// components created. The child resolves mount destinations this way. Depends on
// cshim_resolve.h, child.h (CS_RETRY).
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "cshim_resolve.h"

static int openat2_in_root(int root_fd, const char *path) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  while (*path == '/') path++;
  if (!*path) path = ".";
  return (int)CS_RETRY(syscall(SYS_openat2, root_fd, path, &how, sizeof how));
}

static int resolve(int root_fd, const char *path, int kind, int create, int depth) {
  int fd = openat2_in_root(root_fd, path);
  if (fd >= 0) return fd;
  if (errno != ENOENT || !create) return -errno;

  // Walk the prefixes: each one is resolved inside the root; the first missing component is
  // created inside the directory its parent resolved to.
  char buf[4096];
  size_t len = strlen(path);
  if (len >= sizeof buf) return -ENAMETOOLONG;
  memcpy(buf, path, len + 1);
  int parent = openat2_in_root(root_fd, ".");
  if (parent < 0) return -errno;
  size_t i = 0;
  while (i < len) {
    while (i < len && buf[i] == '/') i++;
    if (i >= len) break;
    size_t start = i;
    while (i < len && buf[i] != '/') i++;
    int last = 1;
    for (size_t k = i; k < len; k++) if (buf[k] != '/') { last = 0; break; }
    char saved = buf[i];
    buf[i] = 0;
    int next = openat2_in_root(root_fd, buf);
    if (next < 0 && errno == ENOENT) {
      const char *name = buf + start;
      int r;
      if (last && kind == CS_DEST_FILE) {
        r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0) close(r);
      } else {
        r = mkdirat(parent, name, 0755);
      }
      if (r < 0 && errno == EEXIST && depth < 8) {
        // A dangling symlink in the image: create what it points to, inside the root (a
        // relative target is relative to the directory holding the link).
        char target[4096], full[4096];
        ssize_t n = readlinkat(parent, name, target, sizeof target - 1);
        if (n > 0) {
          target[n] = 0;
          if (target[0] == '/') {
            memcpy(full, target, (size_t)n + 1);
          } else if (start + (size_t)n + 1 < sizeof full) {
            memcpy(full, buf, start);
            memcpy(full + start, target, (size_t)n + 1);
          } else {
            full[0] = 0;
          }
          int t = full[0] ? resolve(root_fd, full, last ? kind : CS_DEST_DIR, 1, depth + 1) : -ENOENT;
          if (t >= 0) close(t);
        }
      } else if (r < 0 && errno != EEXIST) {
        int e = errno;
        close(parent);
        return -e;
      }
      next = openat2_in_root(root_fd, buf);
    }
    buf[i] = saved;
    if (next < 0) { int e = errno; close(parent); return -e; }
    close(parent);
    parent = next;
  }
  return parent;
}

int cs_resolve_in_root(int root_fd, const char *path, int kind, int create) {
  return resolve(root_fd, path, kind, create, 0);
}

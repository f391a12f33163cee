// A sealed handle of the running binary to re-execute from (cshim_exeseal.h). Runs in the
// runtime before it clones anything, so ordinary libc is fine here.
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cshim_exeseal.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#define BASE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static void note(char *why, size_t len, const char *what, int err) {
  size_t used = strlen(why);
  if (used + 1 >= len) return;
  snprintf(why + used, len - used, "%s%s: %s", used ? "; " : "", what, strerror(err));
}

static int fsconfig_str(int ctx, const char *key, const char *value) {
  return (int)syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, key, value, 0);
}

// An overlayfs over the binary's directory (top) and `spare_dir` (overlayfs wants two lower
// layers when it has no upper one), mounted read-only and nowhere; `name` opened through it.
// Layers given by descriptor (by_fd) or by path. No tmpfs of our own for the second layer:
// every detached mount dissolved costs an RCU grace period.
static int overlay(int dir_fd, const char *dir, const char *name, const char *spare_dir, int by_fd,
                   const char **step) {
  int ctx = -1, spare = -1, mnt = -1, fd = -1, e = 0;
  *step = "fsopen overlay";
  ctx = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (ctx < 0) goto fail;
  if (by_fd) {
    *step = "open the second layer";
    spare = open(spare_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (spare < 0) goto fail;
    *step = "overlay lowerdir+ by descriptor";
    if (syscall(SYS_fsconfig, ctx, FSCONFIG_SET_FD, "lowerdir+", NULL, dir_fd) < 0) goto fail;
    if (syscall(SYS_fsconfig, ctx, FSCONFIG_SET_FD, "lowerdir+", NULL, spare) < 0) goto fail;
  } else {
    // "dir:spare", each with ':' and '\' escaped.
    char layers[8192];
    size_t n = 0;
    *step = "overlay lowerdir";
    errno = ENAMETOOLONG;
    for (int layer = 0; layer < 2; layer++) {
      const char *s = layer ? spare_dir : dir;
      if (layer) layers[n++] = ':';
      for (; *s; s++) {
        if (n + 3 >= sizeof layers) goto fail;
        if (*s == ':' || *s == '\\') layers[n++] = '\\';
        layers[n++] = *s;
      }
    }
    layers[n] = 0;
    if (fsconfig_str(ctx, "lowerdir", layers) < 0) goto fail;
  }
  fsconfig_str(ctx, "xino", "off");  // optional: only keeps xino's notes out of dmesg
  *step = "create the overlay";
  if (syscall(SYS_fsconfig, ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) goto fail;
  *step = "fsmount the overlay";
  mnt = (int)syscall(SYS_fsmount, ctx, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
  if (mnt < 0) goto fail;
  *step = "open the binary through the overlay";
  fd = openat(mnt, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) goto fail;
  goto done;
fail:
  e = errno;
done:
  if (mnt >= 0) close(mnt);
  if (spare >= 0) close(spare);
  if (ctx >= 0) close(ctx);
  if (fd < 0) errno = e;
  return fd;
}

static int memfd_copy(int src, const struct stat *st, const char **step) {
  *step = "memfd_create";
  int fd = (int)syscall(SYS_memfd_create, "crun-swift", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)  // before Linux 6.3 (no MFD_EXEC): memfds are executable
    fd = (int)syscall(SYS_memfd_create, "crun-swift", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  *step = "copy the binary";
  off_t off = 0;
  while (off < st->st_size) {
    ssize_t n = sendfile(fd, src, &off, (size_t)(st->st_size - off));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      goto fail;
    }
  }
  *step = "seal the memfd";
  fchmod(fd, 0555);
  fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC);  // Linux 6.3+: the mode can no longer change either
  if (fcntl(fd, F_ADD_SEALS, BASE_SEALS) < 0) goto fail;
  if ((fcntl(fd, F_GET_SEALS) & BASE_SEALS) != BASE_SEALS) { errno = EPERM; goto fail; }
  return fd;
fail:;
  int e = errno;
  close(fd);
  errno = e;
  return -1;
}

static int overlay_readonly(int fd) {
  struct statfs sfs;
  struct statvfs svfs;
  return fstatfs(fd, &sfs) == 0 && sfs.f_type == OVERLAYFS_SUPER_MAGIC && fstatvfs(fd, &svfs) == 0 &&
         (svfs.f_flag & ST_RDONLY);
}

int cs_exeseal_open(const char *exe_path, const char *spare_dir, unsigned allow, int *kind, char *why,
                    size_t why_len) {
  if (why_len) why[0] = 0;
  *kind = CS_EXESEAL_NONE;
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (self < 0 || fstat(self, &st) < 0) {
    note(why, why_len, "open /proc/self/exe", errno);
    if (self >= 0) close(self);
    return -1;
  }
  const char *step = "";
  // The overlays show the binary's directory: only when `exe_path` there is this very file.
  if (allow & ((1u << CS_EXESEAL_OVERLAY_FD) | (1u << CS_EXESEAL_OVERLAY_PATH))) {
    char dir[4096];
    const char *slash = exe_path ? strrchr(exe_path, '/') : NULL;
    struct stat there;
    int dir_fd = -1;
    if (!slash || exe_path[0] != '/' || (size_t)(slash - exe_path) >= sizeof dir) {
      note(why, why_len, "overlayfs: the binary's path is not absolute", EINVAL);
    } else {
      size_t n = slash == exe_path ? 1 : (size_t)(slash - exe_path);
      memcpy(dir, exe_path, n);
      dir[n] = 0;
      dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dir_fd < 0) note(why, why_len, "overlayfs: open the binary's directory", errno);
      else if (fstatat(dir_fd, slash + 1, &there, AT_SYMLINK_NOFOLLOW) < 0 || there.st_dev != st.st_dev ||
               there.st_ino != st.st_ino)
        note(why, why_len, "overlayfs: the binary's path no longer names the running binary", ESTALE);
      else {
        for (int k = CS_EXESEAL_OVERLAY_FD; k <= CS_EXESEAL_OVERLAY_PATH; k++) {
          if (!(allow & (1u << k))) continue;
          if (!spare_dir || !spare_dir[0]) continue;
          int fd = overlay(dir_fd, dir, slash + 1, spare_dir, k == CS_EXESEAL_OVERLAY_FD, &step);
          struct stat got;
          if (fd >= 0 && (!overlay_readonly(fd) || fstat(fd, &got) < 0 || got.st_size != st.st_size)) {
            close(fd);
            fd = -1;
            step = "check the overlay's file";
            errno = EXDEV;
          }
          if (fd >= 0) {
            close(dir_fd);
            close(self);
            *kind = k;
            return fd;
          }
          char what[96];
          snprintf(what, sizeof what, "overlayfs (%s): %s", k == CS_EXESEAL_OVERLAY_FD ? "layers by descriptor" : "layers by path", step);
          note(why, why_len, what, errno);
        }
      }
    }
    if (dir_fd >= 0) close(dir_fd);
  }
  if (allow & (1u << CS_EXESEAL_MEMFD)) {
    int fd = memfd_copy(self, &st, &step);
    if (fd >= 0) {
      close(self);
      *kind = CS_EXESEAL_MEMFD;
      return fd;
    }
    char what[96];
    snprintf(what, sizeof what, "sealed memfd: %s", step);
    note(why, why_len, what, errno);
  }
  close(self);
  return -1;
}

int cs_exeseal_self(void) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return CS_EXESEAL_NONE;
  int kind = CS_EXESEAL_NONE;
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals >= 0 && (seals & BASE_SEALS) == BASE_SEALS) kind = CS_EXESEAL_MEMFD;
  else if (overlay_readonly(fd)) kind = CS_EXESEAL_OVERLAY_FD;
  close(fd);
  return kind;
}

int cs_exeseal_exec(int fd, char *const argv[], char *const envp[]) {
  syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
  return -errno;
}

// Small file helpers of the runtime. Depends on cshim_files.h, child.h (CS_RETRY, cs_write_all).
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "cshim_files.h"

int cs_write_file(const char *path, const char *data) { return cs_write_all(path, data); }

int cs_memfd_with(const char *name, const void *data, size_t len) {
  int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);
  if (fd < 0) return -errno;
  size_t off = 0;
  while (off < len) {
    ssize_t w = CS_RETRY(write(fd, (const char *)data + off, len - off));
    if (w < 0) { int e = errno; close(fd); return -e; }
    off += (size_t)w;
  }
  if (lseek(fd, 0, SEEK_SET) < 0) { int e = errno; close(fd); return -e; }
  return fd;
}

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clinuxsys.h"

int ls_close_from(int first) {
  return syscall(SYS_close_range, (unsigned int)first, ~0U, 0) < 0 ? -errno : 0;
}

int ls_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

short ls_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

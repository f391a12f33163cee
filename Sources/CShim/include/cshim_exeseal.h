// A sealed view of the runtime binary (CVE-2019-5736 class).
//
// Until it execs, every process the runtime clones into a container is a copy of the runtime,
// and /proc/PID/exe of it names the runtime's executable. A container process that may ptrace
// it (CAP_SYS_PTRACE over the runtime's user namespace) can open that link and keep the
// descriptor: were it the host's file, it could reopen it for writing once the runtime exited.
// So the runtime re-executes itself once from a handle that can never be written and is not
// the host's file (exeseal.c), before it clones anything.
#ifndef CSHIM_EXESEAL_H
#define CSHIM_EXESEAL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cs_exeseal_kind {
  CS_EXESEAL_NONE = 0,
  // A private read-only overlayfs (no upper layer) over the binary's directory and `spare_dir`,
  // mounted nowhere: no copy; the file has the overlay's device, opening it for writing fails
  // (EROFS). Its layers given by descriptor (newer kernels) or by path (as runc does).
  CS_EXESEAL_OVERLAY_FD = 1,
  CS_EXESEAL_OVERLAY_PATH = 2,
  // A memfd copy sealed against writing, growing, shrinking and further sealing.
  CS_EXESEAL_MEMFD = 3,
};

// Opens the first mechanism of `allow` (a mask of 1 << kind) that works for the running binary,
// whose path is `exe_path` (readlink of /proc/self/exe). Returns a close-on-exec descriptor to
// execute and sets *kind, or -1 with, in `why`, what each mechanism failed on.
int cs_exeseal_open(const char *exe_path, const char *spare_dir, unsigned allow, int *kind,
                    char *why, size_t why_len);

// What /proc/self/exe is now: CS_EXESEAL_OVERLAY_FD for a file on a read-only overlayfs (either
// overlay kind), CS_EXESEAL_MEMFD for a memfd with every seal above, else CS_EXESEAL_NONE.
int cs_exeseal_self(void);

// execveat(fd, "", argv, envp, AT_EMPTY_PATH). Returns -errno when it fails.
int cs_exeseal_exec(int fd, char *const argv[], char *const envp[]);

#ifdef __cplusplus
}
#endif
#endif

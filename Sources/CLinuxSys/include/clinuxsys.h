// What Swift cannot call itself: variadic syscall() and GNU-only calls and flags.
#ifndef CLINUXSYS_H
#define CLINUXSYS_H

#ifdef __cplusplus
extern "C" {
#endif

// Closes every descriptor from `first` on (close_range). 0 or -errno.
int ls_close_from(int first);

// pipe2(fds, O_CLOEXEC). 0 or -1 with errno.
int ls_pipe_cloexec(int fds[2]);

// POSIX_SPAWN_SETSID (a GNU extension Swift does not see).
short ls_spawn_setsid_flag(void);

#ifdef __cplusplus
}
#endif
#endif

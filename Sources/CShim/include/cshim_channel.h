// The runtime's side of a spawn (channel.c): the channel's messages, a descriptor sent to a
// console socket, pidfds and wait statuses. Depends on cshim_plan.h (struct cs_error, CS_MSG_*).
#ifndef CSHIM_CHANNEL_H
#define CSHIM_CHANNEL_H

#include "cshim_plan.h"

#ifdef __cplusplus
extern "C" {
#endif

// Receives one message from the channel. Returns the message kind (CS_MSG_*), 0 on EOF (the
// child exec'd), -1 on error. For CS_MSG_ERROR `err` is filled; for CS_MSG_CONSOLE `*fd` is the
// received pty master.
int cs_channel_receive(int channel_fd, struct cs_error *err, int *fd);

// Sends `fd` over the unix socket at `socket_path` (SCM_RIGHTS, runc's console-socket
// protocol, with `name` as the payload). Returns 0 or -errno.
int cs_send_fd(const char *socket_path, int fd, const char *name);

// pidfd_open / pidfd_send_signal: signal a process by a descriptor that cannot be confused
// with a later process that reuses its pid. Return the fd / 0, or -errno.
int cs_pidfd_open(pid_t pid);
int cs_pidfd_send_signal(int pidfd, int sig);
// Waits until the process behind `pidfd` has exited: 1, 0 on timeout, -errno.
int cs_pidfd_wait(int pidfd, int timeout_ms);

// Small wrappers for the macros Swift cannot import.
int cs_wifexited(int status);
int cs_wexitstatus(int status);
int cs_wifsignaled(int status);
int cs_wtermsig(int status);

#ifdef __cplusplus
}
#endif
#endif

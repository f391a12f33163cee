// The runtime's side of a spawn: the channel's messages, a descriptor sent to a console socket,
// pidfds and wait statuses. Depends on cshim_channel.h, child.h (CS_RETRY).
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "cshim_channel.h"

int cs_channel_receive(int channel_fd, struct cs_error *err, int *fd) {
  struct {
    char kind;
    struct cs_error e;
  } msg;
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = &msg, .iov_len = sizeof msg};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                      .msg_controllen = sizeof control};
  memset(&msg, 0, sizeof msg);
  ssize_t n = CS_RETRY(recvmsg(channel_fd, &mh, MSG_CMSG_CLOEXEC));
  if (n < 0) return -1;
  if (n == 0) return 0;
  if (msg.kind == CS_MSG_READY || msg.kind == CS_MSG_HOOKS || msg.kind == CS_MSG_USERNS) return msg.kind;
  if (msg.kind == CS_MSG_PID) {
    if (err) *err = msg.e;
    return msg.kind;
  }
  if (msg.kind == CS_MSG_CONSOLE || msg.kind == CS_MSG_SECCOMP) {
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (!c || c->cmsg_type != SCM_RIGHTS) { errno = EBADMSG; return -1; }
    memcpy(fd, CMSG_DATA(c), sizeof(int));
    return msg.kind;
  }
  if (err) *err = msg.e;
  return CS_MSG_ERROR;
}

int cs_send_fd(const char *socket_path, int fd, const char *name) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(socket_path) >= sizeof addr.sun_path) return -ENAMETOOLONG;
  strcpy(addr.sun_path, socket_path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  if (CS_RETRY(connect(s, (struct sockaddr *)&addr, sizeof addr)) < 0) { int e = errno; close(s); return -e; }
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  int r = CS_RETRY(sendmsg(s, &mh, MSG_NOSIGNAL)) < 0 ? -errno : 0;
  close(s);
  return r;
}

int cs_pidfd_open(pid_t pid) {
  long r = syscall(SYS_pidfd_open, pid, 0);
  return r < 0 ? -errno : (int)r;
}

int cs_pidfd_send_signal(int pidfd, int sig) {
  return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int cs_pidfd_wait(int pidfd, int timeout_ms) {
  struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
  int r = (int)CS_RETRY(poll(&pfd, 1, timeout_ms));
  return r < 0 ? -errno : r;
}

int cs_wifexited(int status) { return WIFEXITED(status); }
int cs_wexitstatus(int status) { return WEXITSTATUS(status); }
int cs_wifsignaled(int status) { return WIFSIGNALED(status); }
int cs_wtermsig(int status) { return WTERMSIG(status); }

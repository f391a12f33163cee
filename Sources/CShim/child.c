// The base of the child path: how a failure goes back to the runtime, and the few helpers every
// child-path file uses. Async-signal-safe; nothing here allocates. Depends on child.h only.
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child.h"

void cs_fd_path(char *buf, int fd) {
  static const char prefix[] = "/proc/self/fd/";
  char digits[16];
  int n = 0;
  unsigned int v = (unsigned int)fd;
  do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v && n < 15);
  memcpy(buf, prefix, sizeof prefix - 1);
  int i = sizeof prefix - 1;
  while (n) buf[i++] = digits[--n];
  buf[i] = 0;
}

int cs_write_all(const char *path, const char *data) {
  int fd = CS_RETRY(open(path, O_WRONLY | O_CLOEXEC));
  if (fd < 0) return -errno;
  size_t len = strlen(data), off = 0;
  while (off < len) {
    ssize_t w = CS_RETRY(write(fd, data + off, len - off));
    if (w < 0) { int e = errno; close(fd); return -e; }
    off += (size_t)w;
  }
  if (close(fd) < 0 && errno != EINTR) return -errno;
  return 0;
}

// Where failures are reported: the channel to the runtime, then (after `create` returned)
// the connection from `start`. The child has its own copy of this variable.
static int report_fd = -1;

void cs_report_to(int fd) { report_fd = fd; }

// One message on the channel: a kind and a cs_error (the error, or for CS_MSG_PID the pid in
// `index`). Returns send's result.
static ssize_t channel_send(int fd, char kind, int step, int err, int index, const char *detail) {
  struct {
    char kind;
    struct cs_error e;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.kind = kind;
  msg.e.step = step;
  msg.e.err = err;
  msg.e.index = index;
  if (detail) {
    size_t n = strlen(detail);
    if (n >= sizeof msg.e.detail) n = sizeof msg.e.detail - 1;
    memcpy(msg.e.detail, detail, n);
  }
  return CS_RETRY(send(fd, &msg, sizeof msg, MSG_NOSIGNAL));
}

int cs_report_pid(const struct cs_plan *p, pid_t pid) {
  return channel_send(p->channel_fd, CS_MSG_PID, 0, 0, (int)pid, NULL) < 0 ? -1 : 0;
}

void cs_fail(const struct cs_plan *plan, int step, int err, int index, const char *detail) {
  channel_send(report_fd >= 0 ? report_fd : plan->channel_fd, CS_MSG_ERROR, step, err, index, detail);
  _exit(127);
}

void cs_pause(const struct cs_plan *p, char kind) {
  if (CS_RETRY(send(p->channel_fd, &kind, 1, MSG_NOSIGNAL)) != 1) cs_fail(p, CS_STEP_SYNC, errno, -1, "notify");
  char c;
  ssize_t r = CS_RETRY(read(p->channel_fd, &c, 1));
  if (r != 1) cs_fail(p, CS_STEP_SYNC, r < 0 ? errno : EPIPE, -1, "release");
}

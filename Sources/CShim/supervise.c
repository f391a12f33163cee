// The foreground supervisor of `crun-swift run`: forwards signals to the container's init,
// relays stdio through the pty master when the process has a terminal, and reaps the init.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "child.h"
#include "cshim_supervise.h"

static void fill_set(sigset_t *set, const int *forward) {
  sigemptyset(set);
  for (int i = 0; forward && forward[i]; i++) sigaddset(set, forward[i]);
  sigaddset(set, SIGCHLD);
}

void cs_block_signals(const int *forward) {
  sigset_t set;
  fill_set(&set, forward);
  sigprocmask(SIG_BLOCK, &set, NULL);
}

static int write_all(int fd, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = CS_RETRY(write(fd, buf, (size_t)n));
    if (w < 0) return -1;
    buf += w;
    n -= w;
  }
  return 0;
}

static void copy_winsize(int from, int to) {
  struct winsize ws;
  if (ioctl(from, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) ioctl(to, TIOCSWINSZ, &ws);
}

static void drain(int from, int to) {
  char buf[8192];
  struct pollfd pfd = {.fd = from, .events = POLLIN};
  while (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN)) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0 || write_all(to, buf, n) < 0) break;
  }
}

int cs_supervise(pid_t pid, int master, const int *forward) {
  sigset_t set;
  fill_set(&set, forward);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (sfd < 0) return -1;

  struct termios saved;
  int raw = 0;
  if (master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
    struct termios t = saved;
    cfmakeraw(&t);
    raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    copy_winsize(STDIN_FILENO, master);
  }
  int stdin_open = master >= 0;
  int master_open = master >= 0;
  int status = 0;
  for (;;) {
    struct pollfd fds[3];
    int n = 0;
    fds[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    int in_idx = -1, m_idx = -1;
    if (stdin_open) { in_idx = n; fds[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN}; }
    if (master_open) { m_idx = n; fds[n++] = (struct pollfd){.fd = master, .events = POLLIN}; }
    if (poll(fds, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char buf[8192];
    if (m_idx >= 0 && fds[m_idx].revents) {
      ssize_t r = read(master, buf, sizeof buf);
      if (r <= 0) master_open = 0;  // EIO: every slave is closed
      else write_all(STDOUT_FILENO, buf, r);
    }
    if (in_idx >= 0 && fds[in_idx].revents) {
      ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
      if (r <= 0) {
        stdin_open = 0;
        if (!raw) write_all(master, "\x04", 1);  // end of input for the terminal's reader
      } else {
        write_all(master, buf, r);
      }
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si) continue;
      if ((int)si.ssi_signo == SIGCHLD) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
      } else if ((int)si.ssi_signo == SIGWINCH && master >= 0) {
        copy_winsize(STDIN_FILENO, master);
      } else {
        kill(pid, (int)si.ssi_signo);
      }
    }
  }
  if (master_open) drain(master, STDOUT_FILENO);
  if (raw) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  close(sfd);
  return status;
}

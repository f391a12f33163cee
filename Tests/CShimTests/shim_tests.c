// Unit tests of the C shim's pieces that run unprivileged, on the build machine and under
// qemu-aarch64 for arm64: path formatting, file writes, in-root resolution, the child's error
// report and fd passing over the channel, the option tables, seccomp export for aarch64 and
// capability names. Prints "shim: N passed, N failed".
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cshim.h"
#include "cshim_exeseal.h"
#include "../../Sources/CShim/child.h"

static int passed, failed, skipped;

#define CHECK(cond, ...)                                                     \
  do {                                                                       \
    if (cond) { passed++; } else {                                           \
      failed++;                                                              \
      fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__);                   \
      fprintf(stderr, __VA_ARGS__);                                          \
      fputc('\n', stderr);                                                   \
    }                                                                        \
  } while (0)

static char tmpdir[256];

static void test_fd_path(void) {
  char buf[32];
  cs_fd_path(buf, 0);
  CHECK(!strcmp(buf, "/proc/self/fd/0"), "got %s", buf);
  cs_fd_path(buf, 2147483647);
  CHECK(!strcmp(buf, "/proc/self/fd/2147483647"), "got %s", buf);
}

static void test_write_all(void) {
  char path[300];
  snprintf(path, sizeof path, "%s/file", tmpdir);
  close(open(path, O_CREAT | O_WRONLY, 0600));
  CHECK(cs_write_all(path, "hello\n") == 0, "write");
  char buf[16] = {0};
  int fd = open(path, O_RDONLY);
  read(fd, buf, sizeof buf - 1);
  close(fd);
  CHECK(!strcmp(buf, "hello\n"), "read back %s", buf);
  CHECK(cs_write_all("/nonexistent/dir/file", "x") == -ENOENT, "missing dir");
}

static void test_resolve_in_root(void) {
  char root[300], link[400], target[600], expect[600];
  snprintf(root, sizeof root, "%s/root", tmpdir);
  mkdir(root, 0755);
  snprintf(link, sizeof link, "%s/abs", root);
  symlink("/etc", link);
  int rfd = open(root, O_PATH | O_DIRECTORY);
  int fd = cs_resolve_in_root(rfd, "/abs/new/mnt", CS_DEST_DIR, 1);
  if (fd == -ENOSYS) { skipped++; fprintf(stderr, "skip %s: openat2 not available here\n", __func__); close(rfd); return; }
  CHECK(fd >= 0, "resolve: %s", strerror(-fd));
  char proc[64];
  cs_fd_path(proc, fd);
  ssize_t n = readlink(proc, target, sizeof target - 1);
  target[n > 0 ? n : 0] = 0;
  snprintf(expect, sizeof expect, "%s/etc/new/mnt", root);
  CHECK(!strcmp(target, expect), "landed at %s, want %s", target, expect);
  close(fd);
  fd = cs_resolve_in_root(rfd, "/../../../../x", CS_DEST_FILE, 1);
  cs_fd_path(proc, fd);
  n = readlink(proc, target, sizeof target - 1);
  target[n > 0 ? n : 0] = 0;
  snprintf(expect, sizeof expect, "%s/x", root);
  CHECK(fd >= 0 && !strcmp(target, expect), "dot-dot landed at %s", target);
  struct stat st;
  CHECK(stat(expect, &st) == 0 && S_ISREG(st.st_mode), "a file was created");
  CHECK(cs_resolve_in_root(rfd, "/nope/x", CS_DEST_DIR, 0) == -ENOENT, "no create");
  close(fd);
  close(rfd);
}

// The child reports {step, errno, index, detail} on the channel and exits 127.
static void test_error_report(void) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
  pid_t pid = fork();
  if (pid == 0) {
    struct cs_plan plan;
    memset(&plan, 0, sizeof plan);
    plan.channel_fd = sv[1];
    cs_fail(&plan, CS_STEP_MOUNT, ENOENT, 3, "/dest");
  }
  close(sv[1]);
  struct cs_error e;
  int fd = -1;
  int kind = cs_channel_receive(sv[0], &e, &fd);
  CHECK(kind == CS_MSG_ERROR, "kind %d", kind);
  CHECK(e.step == CS_STEP_MOUNT && e.err == ENOENT && e.index == 3, "step %d err %d index %d", e.step, e.err, e.index);
  CHECK(!strcmp(e.detail, "/dest"), "detail %s", e.detail);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(cs_wifexited(status) && cs_wexitstatus(status) == 127, "status %d", status);
  CHECK(cs_channel_receive(sv[0], &e, &fd) == 0, "EOF after the report");
  close(sv[0]);
}

// runc's console-socket protocol: an fd by SCM_RIGHTS to a unix socket.
static void test_send_fd(void) {
  char path[300];
  snprintf(path, sizeof path, "%s/console.sock", tmpdir);
  int srv = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, path);
  CHECK(bind(srv, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(srv, 1) == 0, "listen");
  int pipefd[2];
  pipe(pipefd);
  pid_t pid = fork();
  if (pid == 0) _exit(cs_send_fd(path, pipefd[1], "/dev/ptmx") == 0 ? 0 : 1);
  int c = accept(srv, NULL, NULL);
  char name[64] = {0}, control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name - 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n = recvmsg(c, &mh, 0);
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  int got = -1;
  if (cm && cm->cmsg_type == SCM_RIGHTS) memcpy(&got, CMSG_DATA(cm), sizeof got);
  CHECK(n > 0 && !strcmp(name, "/dev/ptmx"), "payload %s", name);
  CHECK(got >= 0 && write(got, "x", 1) == 1, "the received fd works");
  char b = 0;
  CHECK(read(pipefd[0], &b, 1) == 1 && b == 'x', "data through the passed fd");
  int status;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sender");
  CHECK(cs_send_fd("/nonexistent/sock", 0, "x") == -ENOENT, "missing socket");
  close(c); close(srv); close(got); close(pipefd[0]); close(pipefd[1]);
}

static void test_option_tables(void) {
  uint32_t a = 0;
  CHECK(cs_seccomp_action("SCMP_ACT_ERRNO", 38, &a) == 0 && a == (0x00050000U | 38), "errno %x", a);
  CHECK(cs_seccomp_action("SCMP_ACT_ALLOW", 0, &a) == 0 && a == 0x7fff0000U, "allow %x", a);
  CHECK(cs_seccomp_action("SCMP_ACT_KILL_PROCESS", 0, &a) == 0 && a == 0x80000000U, "kill_process %x", a);
  CHECK(cs_seccomp_action("SCMP_ACT_NOTIFY", 0, &a) == 0 && a == 0x7fc00000U, "notify %x", a);
  CHECK(cs_seccomp_action("SCMP_ACT_NOPE", 0, &a) == -1, "unknown action");
  CHECK(cs_seccomp_operator("SCMP_CMP_MASKED_EQ") >= 0 && cs_seccomp_operator("EQ") == -1, "operators");
  CHECK(cs_seccomp_arch("SCMP_ARCH_AARCH64") == AUDIT_ARCH_AARCH64, "aarch64 %x", cs_seccomp_arch("SCMP_ARCH_AARCH64"));
  CHECK(cs_seccomp_arch("SCMP_ARCH_X86_64") == AUDIT_ARCH_X86_64, "x86_64");
  CHECK(cs_seccomp_arch("SCMP_ARCH_ARM") == AUDIT_ARCH_ARM, "arm");
  CHECK(cs_seccomp_arch("SCMP_ARCH_Z80") == 0 && cs_seccomp_arch("x86_64") == 0, "unknown arch");
#if defined(__aarch64__)
  CHECK(cs_seccomp_native_arch() == AUDIT_ARCH_AARCH64, "native is aarch64");
#elif defined(__x86_64__)
  CHECK(cs_seccomp_native_arch() == AUDIT_ARCH_X86_64, "native is x86_64");
#endif
}

// A filter with SCMP_ARCH_AARCH64 exports to BPF that checks the aarch64 audit arch.
static void test_seccomp_export_aarch64(void) {
  uint32_t allow = 0, deny = 0;
  cs_seccomp_action("SCMP_ACT_ALLOW", 0, &allow);
  cs_seccomp_action("SCMP_ACT_ERRNO", EPERM, &deny);
  void *ctx = cs_seccomp_new(allow);
  CHECK(ctx != NULL, "new");
  CHECK(cs_seccomp_add_arch(ctx, cs_seccomp_arch("SCMP_ARCH_AARCH64")) == 0, "add aarch64");
  int nr = cs_seccomp_syscall("mkdirat");
  CHECK(nr >= 0, "mkdirat resolves");
  struct cs_seccomp_cond cond = {.index = 2, .op = cs_seccomp_operator("SCMP_CMP_MASKED_EQ"), .value = 0700, .value_two = 0700};
  CHECK(cs_seccomp_add_rule(ctx, deny, nr, 1, &cond) == 0, "rule");
  uint8_t *bpf = NULL;
  size_t len = 0;
  CHECK(cs_seccomp_export(ctx, &bpf, &len) == 0 && len > 0 && len % sizeof(struct sock_filter) == 0, "export %zu", len);
  int saw_arch = 0;
  for (size_t i = 0; i + sizeof(struct sock_filter) <= len; i += sizeof(struct sock_filter)) {
    struct sock_filter f;
    memcpy(&f, bpf + i, sizeof f);
    if (BPF_CLASS(f.code) == BPF_JMP && f.k == AUDIT_ARCH_AARCH64) saw_arch = 1;
  }
  CHECK(saw_arch, "the filter compares against AUDIT_ARCH_AARCH64");
  free(bpf);
  cs_seccomp_release(ctx);
}

static void test_capability_names(void) {
  CHECK(cs_cap_from_name("CAP_SYS_ADMIN") == 21, "sys_admin");
  CHECK(cs_cap_from_name("CAP_CHOWN") == 0, "chown");
  CHECK(cs_cap_from_name("cap_net_raw") == -1, "lower case is not runc's name");
  CHECK(cs_cap_from_name("CAP_SYS_ADMIN ") == -1 && cs_cap_from_name(" CAP_SYS_ADMIN") == -1, "spaces");
  CHECK(cs_cap_from_name("CAP_SYS_ADMIN,CAP_KILL") == -1 && cs_cap_from_name("CAP_SYS_ADMIN=eip") == -1, "capability text");
  CHECK(cs_cap_from_name("CAP_21") == -1 && cs_cap_from_name("CAP_SYS_ADMINX") == -1, "numbers and suffixes");
  CHECK(cs_cap_from_name("CAP_NOPE") == -1 && cs_cap_from_name("SYS_ADMIN") == -1, "unknown");
  CHECK(cs_cap_last_cap() >= 37, "last cap %d", cs_cap_last_cap());
}

static void test_wait_macros(void) {
  CHECK(cs_wifexited(3 << 8) && cs_wexitstatus(3 << 8) == 3, "exit 3");
  CHECK(cs_wifsignaled(9) && cs_wtermsig(9) == 9, "signal 9");
}

// The sealed memfd copy of the running binary: same bytes, and no write, growth or new seal.
static void test_exeseal_memfd(void) {
  int kind = -1;
  char why[512];
  int fd = cs_exeseal_open("/nonexistent/x", NULL, 1u << CS_EXESEAL_MEMFD, &kind, why, sizeof why);
  CHECK(fd >= 0 && kind == CS_EXESEAL_MEMFD, "cs_exeseal_open: %s", why);
  if (fd < 0) return;
  struct stat a, b;
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  CHECK(self >= 0 && fstat(self, &a) == 0 && fstat(fd, &b) == 0 && a.st_size == b.st_size &&
            (a.st_dev != b.st_dev || a.st_ino != b.st_ino), "a copy of the binary's size, not the binary");
  unsigned char x[4], y[4];
  CHECK(pread(fd, x, 4, 0) == 4 && pread(self, y, 4, 0) == 4 && !memcmp(x, y, 4), "same first bytes");
  CHECK(pwrite(fd, x, 1, 0) < 0 && errno == EPERM, "written: %s", strerror(errno));
  CHECK(ftruncate(fd, 1) < 0 && errno == EPERM, "shrunk");
  char path[32];
  cs_fd_path(path, fd);
  int w = open(path, O_WRONLY);
  CHECK(w < 0 || (write(w, x, 1) < 0 && errno == EPERM), "written through a reopened descriptor");
  if (w >= 0) close(w);
  close(self);
  close(fd);
  // Nothing allowed: an error that says so, no descriptor.
  fd = cs_exeseal_open("/nonexistent/x", NULL, 0, &kind, why, sizeof why);
  CHECK(fd < 0 && kind == CS_EXESEAL_NONE, "nothing allowed");
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/cshim-test-XXXXXX");
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  test_fd_path();
  test_write_all();
  test_resolve_in_root();
  test_error_report();
  test_send_fd();
  test_option_tables();
  test_seccomp_export_aarch64();
  test_capability_names();
  test_wait_macros();
  test_exeseal_memfd();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  system(cmd);
  printf("shim: %d passed, %d failed%s\n", passed, failed, skipped ? "" : "");
  if (skipped) printf("shim: %d skipped\n", skipped);
  return failed ? 1 : 0;
}

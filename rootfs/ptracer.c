// ptracer: an attacker inside a container that holds CAP_SYS_PTRACE. It watches /proc for
// every new pid, tries to ptrace-attach to it (PTRACE_SEIZE + PTRACE_INTERRUPT), and records
// what it could reach of the process while it held it:
//   ptracer LOG HOST_BIN_DEV:INO[:SIZE:HASH] HOST_MNTNS [RUN_FILE]
// One line per new pid in LOG:
//   pid=N attached=0|1 exe_runtime=0|1 exe_writable=0|1 hostroot=0|1 hostcwd=0|1 hostmnt=0|1
//   capeff=HEX fds=FD:link|FD:link|...
// exe_runtime: /proc/N/exe opened and is the runtime binary (HOST_BIN_DEV:INO); hostroot:
// /proc/N/root/etc/debian_version exists (the test rootfs has none, the host has one);
// hostcwd: /proc/N/cwd/hostmarker exists (the runtime runs in a host directory holding it);
// hostmnt: /proc/N/ns/mnt is HOST_MNTNS. It runs until RUN_FILE (default /tmp/ptracer.stop)
// appears, and writes ptracer.ready beside LOG once it has scanned /proc once.
// CVE-2019-5736: every /proc/N/exe of the runtime's size (SIZE) stays open. Once RUN_FILE
// appears (the runtime has exited), each is checked again and logged, then ptracer.done:
//   held pid=N same=0|1 reopen_w=0|1 writable=0|1 content=0|1
// same: the descriptor is the host binary (DEV:INO); reopen_w: /proc/self/fd/FD opened for
// writing; writable: a byte written back in place (the same byte: nothing changes); content:
// its first MiB hashes (FNV-1a 64, HASH in hex) as the host binary's: the runtime was reached.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char seen[1 << 22];

static struct { int fd; long pid; } held[256];
static int nheld;

static unsigned long long fnv_first_mib(int fd) {
  static unsigned char buf[1 << 20];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  unsigned long long h = 14695981039346656037ULL;
  for (ssize_t i = 0; i < n; i++) { h ^= buf[i]; h *= 1099511628211ULL; }
  return h;
}

static void check_held(FILE *log, unsigned long long dev, unsigned long long ino, unsigned long long hash) {
  for (int i = 0; i < nheld; i++) {
    struct stat st;
    int same = fstat(held[i].fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", held[i].fd);
    int reopen_w = 0, writable = 0;
    int w = open(path, O_WRONLY | O_CLOEXEC);
    if (w >= 0) {
      reopen_w = 1;
      unsigned char c;
      if (pread(held[i].fd, &c, 1, 0) == 1 && pwrite(w, &c, 1, 0) == 1) writable = 1;
      close(w);
    }
    int content = fnv_first_mib(held[i].fd) == hash;
    fprintf(log, "held pid=%ld same=%d reopen_w=%d writable=%d content=%d\n", held[i].pid, same, reopen_w, writable, content);
  }
}

static void touch_beside(const char *log_path, const char *name) {
  char path[4096];
  const char *slash = strrchr(log_path, '/');
  int n = slash ? (int)(slash - log_path) : 1;
  snprintf(path, sizeof path, "%.*s/%s", n, slash ? log_path : ".", name);
  FILE *f = fopen(path, "w");
  if (f) fclose(f);
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: ptracer LOG DEV:INO MNTNS [STOPFILE]\n");
    return 2;
  }
  FILE *log = fopen(argv[1], "a");
  if (!log) return 1;
  setvbuf(log, NULL, _IOLBF, 0);
  unsigned long long bin_dev = 0, bin_ino = 0, bin_size = 0, bin_hash = 0;
  sscanf(argv[2], "%llu:%llu:%llu:%llx", &bin_dev, &bin_ino, &bin_size, &bin_hash);
  const char *host_mnt = argv[3];
  const char *stop = argc > 4 ? argv[4] : "/tmp/ptracer.stop";
  pid_t self = getpid();
  int first = 1;
  while (!exists(stop)) {
    DIR *d = opendir("/proc");
    if (!d) return 1;
    struct dirent *e;
    while ((e = readdir(d))) {
      char *end;
      long pid = strtol(e->d_name, &end, 10);
      if (*end || pid <= 0 || pid >= (1 << 22) || seen[pid]) continue;
      seen[pid] = 1;
      if (first || pid == self) continue;  // what ran before us is the container's own
      int attached = 0;
      if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
        attached = 1;
        if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0) {
          int status;
          waitpid(pid, &status, __WALL);
        }
      }
      char path[128], link[4096];
      int exe_runtime = 0, exe_writable = 0, hostmnt = 0;
      snprintf(path, sizeof path, "/proc/%ld/exe", pid);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_dev == bin_dev && st.st_ino == bin_ino) exe_runtime = 1;
        if (bin_size && (unsigned long long)st.st_size == bin_size && nheld < 256) {
          held[nheld].fd = fd;  // kept past the runtime's exit
          held[nheld++].pid = pid;
        } else {
          close(fd);
        }
        // Opened for writing, never written: a success would mean the runtime binary could
        // be replaced (CVE-2019-5736).
        int w = open(path, O_WRONLY | O_CLOEXEC);
        if (w >= 0) { exe_writable = exe_runtime; close(w); }
      }
      snprintf(path, sizeof path, "/proc/%ld/root/etc/debian_version", pid);
      int hostroot = exists(path);
      snprintf(path, sizeof path, "/proc/%ld/cwd/hostmarker", pid);
      int hostcwd = exists(path);
      snprintf(path, sizeof path, "/proc/%ld/ns/mnt", pid);
      ssize_t n = readlink(path, link, sizeof link - 1);
      if (n > 0) { link[n] = 0; hostmnt = strcmp(link, host_mnt) == 0; }
      char capeff[32] = "-";
      snprintf(path, sizeof path, "/proc/%ld/status", pid);
      FILE *st = fopen(path, "r");
      if (st) {
        char line[256];
        while (fgets(line, sizeof line, st))
          if (sscanf(line, "CapEff: %31s", capeff) == 1) break;
        fclose(st);
      }
      char fds[2048] = "";
      snprintf(path, sizeof path, "/proc/%ld/fd", pid);
      DIR *fdd = opendir(path);
      if (fdd) {
        struct dirent *f;
        while ((f = readdir(fdd))) {
          if (f->d_name[0] == '.') continue;
          char fp[300];
          snprintf(fp, sizeof fp, "/proc/%ld/fd/%s", pid, f->d_name);
          n = readlink(fp, link, sizeof link - 1);
          if (n <= 0) continue;
          link[n] = 0;
          if (strlen(fds) + strlen(f->d_name) + (size_t)n + 3 < sizeof fds) {
            if (fds[0]) strcat(fds, "|");
            strcat(fds, f->d_name);
            strcat(fds, ":");
            strcat(fds, link);
          }
        }
        closedir(fdd);
      }
      if (attached) ptrace(PTRACE_DETACH, pid, 0, 0);
      fprintf(log, "pid=%ld attached=%d exe_runtime=%d exe_writable=%d hostroot=%d hostcwd=%d hostmnt=%d capeff=%s fds=%s\n",
              pid, attached, exe_runtime, exe_writable, hostroot, hostcwd, hostmnt, capeff, fds);
    }
    closedir(d);
    if (first) {
      first = 0;
      touch_beside(argv[1], "ptracer.ready");
    }
  }
  check_held(log, bin_dev, bin_ino, bin_hash);
  touch_beside(argv[1], "ptracer.done");
  return 0;
}

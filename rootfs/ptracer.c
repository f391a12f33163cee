// ptracer: an attacker inside a container that holds CAP_SYS_PTRACE. It watches /proc for
// every new pid, tries to ptrace-attach to it (PTRACE_SEIZE + PTRACE_INTERRUPT), and records
// what it could reach of the process while it held it:
//   ptracer LOG HOST_BIN_DEV:INO HOST_MNTNS [RUN_FILE]
// One line per new pid in LOG:
//   pid=N attached=0|1 exe_runtime=0|1 exe_writable=0|1 hostroot=0|1 hostcwd=0|1 hostmnt=0|1
//   capeff=HEX fds=FD:link|FD:link|...
// exe_runtime: /proc/N/exe opened and is the runtime binary (HOST_BIN_DEV:INO); hostroot:
// /proc/N/root/etc/debian_version exists (the test rootfs has none, the host has one);
// hostcwd: /proc/N/cwd/hostmarker exists (the runtime runs in a host directory holding it);
// hostmnt: /proc/N/ns/mnt is HOST_MNTNS. It runs until RUN_FILE (default /tmp/ptracer.stop)
// appears, and writes /tmp/ptracer.ready once it has scanned /proc once.
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
  unsigned long long bin_dev = 0, bin_ino = 0;
  sscanf(argv[2], "%llu:%llu", &bin_dev, &bin_ino);
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
        close(fd);
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
      FILE *r = fopen("/tmp/ptracer.ready", "w");
      if (r) fclose(r);
    }
  }
  return 0;
}

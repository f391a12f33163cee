// probe: prints, as one JSON object, what a process sees inside a container. The integration
// tests compare it with config.json. Static, no libc extras; safe to read but never trusted.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c == '\n') printf("\\n");
    else if (c == '\t') printf("\\t");
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void key(const char *k, int *first) {
  if (!*first) putchar(',');
  *first = 0;
  json_string(k);
  putchar(':');
}

// A field of /proc/self/status, e.g. "CapEff".
static void status_field(const char *name, char *out, size_t n) {
  out[0] = 0;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return;
  char line[512];
  size_t len = strlen(name);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, name, len) == 0 && line[len] == ':') {
      char *v = line + len + 1;
      while (*v == ' ' || *v == '\t') v++;
      v[strcspn(v, "\n")] = 0;
      snprintf(out, n, "%s", v);
      break;
    }
  }
  fclose(f);
}

static void print_file(const char *path) {
  char buf[4096] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) { printf("null"); return; }
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r < 0) r = 0;
  buf[r] = 0;
  buf[strcspn(buf, "\n")] = 0;
  json_string(buf);
}

int main(void) {
  int first = 1;
  putchar('{');

  key("pid", &first); printf("%d", getpid());
  key("uid", &first); printf("%u", getuid());
  key("gid", &first); printf("%u", getgid());
  key("euid", &first); printf("%u", geteuid());
  key("egid", &first); printf("%u", getegid());
  gid_t groups[256];
  int ng = getgroups(256, groups);
  key("groups", &first); putchar('[');
  for (int i = 0; i < ng; i++) printf(i ? ",%u" : "%u", groups[i]);
  putchar(']');

  static const char *caps[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
  key("caps", &first); putchar('{');
  for (int i = 0; i < 5; i++) {
    char v[64];
    status_field(caps[i], v, sizeof v);
    if (i) putchar(',');
    json_string(caps[i]); putchar(':'); json_string(v);
  }
  putchar('}');
  char umask_s[16];
  status_field("Umask", umask_s, sizeof umask_s);
  key("umask", &first); json_string(umask_s);
  key("no_new_privs", &first); printf("%d", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  key("personality", &first); printf("%d", personality(0xffffffff));
  key("oom_score_adj", &first); print_file("/proc/self/oom_score_adj");

  static const char *ns[] = {"pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"};
  key("namespaces", &first); putchar('{');
  for (int i = 0; i < 8; i++) {
    char path[64], target[128] = {0};
    snprintf(path, sizeof path, "/proc/self/ns/%s", ns[i]);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (i) putchar(',');
    json_string(ns[i]); putchar(':');
    if (n > 0) json_string(target); else printf("null");
  }
  putchar('}');

  key("mounts", &first); putchar('[');
  FILE *mi = fopen("/proc/self/mountinfo", "r");
  if (mi) {
    char line[2048];
    int firstm = 1;
    while (fgets(line, sizeof line, mi)) {
      line[strcspn(line, "\n")] = 0;
      if (!firstm) putchar(',');
      firstm = 0;
      json_string(line);
    }
    fclose(mi);
  }
  putchar(']');

  static const struct { const char *name; int res; } limits[] = {
      {"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_STACK", RLIMIT_STACK}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
  };
  key("rlimits", &first); putchar('{');
  for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
    struct rlimit rl;
    getrlimit(limits[i].res, &rl);
    if (i) putchar(',');
    json_string(limits[i].name);
    printf(":{\"soft\":%llu,\"hard\":%llu}", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  }
  putchar('}');

  char cwd[4096];
  key("cwd", &first); json_string(getcwd(cwd, sizeof cwd) ? cwd : "");
  key("env", &first); putchar('[');
  for (char **e = environ; *e; e++) { if (e != environ) putchar(','); json_string(*e); }
  putchar(']');
  struct utsname u;
  uname(&u);
  key("hostname", &first); json_string(u.nodename);
  key("domainname", &first); json_string(u.domainname);

  key("fds", &first); putchar('[');
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    int dfd = dirfd(d), firstf = 1;
    struct dirent *de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.' || atoi(de->d_name) == dfd) continue;
      char path[300], target[512] = {0};
      snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
      readlink(path, target, sizeof target - 1);
      if (!firstf) putchar(',');
      firstf = 0;
      printf("{\"fd\":%s,\"target\":", de->d_name);
      json_string(target);
      putchar('}');
    }
    closedir(d);
  }
  putchar(']');
  key("stdin_tty", &first); printf("%s", isatty(0) ? "true" : "false");
  key("uptime", &first); print_file("/proc/uptime");
  printf("}\n");
  return 0;
}

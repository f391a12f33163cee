// Capability names and numbers, through libcap.
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "cshim_caps.h"

// Exact names only, as runc: "CAP_SYS_ADMIN". libcap's parser is made for capability text
// ("cap_a,cap_b=eip") and is lenient: it reads a name up to the first character that is not a
// letter or '_' and ignores the rest, so "CAP_SYS_ADMIN " or "CAP_SYS_ADMIN=eip" would be
// CAP_SYS_ADMIN. A name of upper-case letters and '_' only is read whole.
int cs_cap_from_name(const char *name) {
  char lower[64];
  size_t n = strlen(name);
  if (n == 0 || n >= sizeof lower) return -1;
  if (strncmp(name, "CAP_", 4) != 0 || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != n) return -1;
  for (size_t i = 0; i <= n; i++) lower[i] = (char)tolower((unsigned char)name[i]);
  cap_value_t v;
  if (cap_from_name(lower, &v) != 0) return -1;
  return (int)v;
}

int cs_cap_last_cap(void) {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[16] = {0};
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r > 0) {
      int v = 0;
      for (ssize_t i = 0; i < r && buf[i] >= '0' && buf[i] <= '9'; i++) v = v * 10 + (buf[i] - '0');
      if (v > 0 && v < 64) return v;
    }
  }
  return CAP_LAST_CAP;
}

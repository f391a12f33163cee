// Capability names and numbers, through libcap.
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "cshim.h"

// Exact names only, as runc: "CAP_SYS_ADMIN". libcap's parser is made for capability text
// ("cap_a,cap_b=eip") and is lenient: it takes "CAP_SYS_ADMIN " or "cap_sys_admin" as
// CAP_SYS_ADMIN; so the number it finds must name back to exactly the given text.
int cs_cap_from_name(const char *name) {
  char lower[64];
  size_t n = strlen(name);
  if (n == 0 || n >= sizeof lower) return -1;
  for (size_t i = 0; i <= n; i++) lower[i] = (char)tolower((unsigned char)name[i]);
  if (strncmp(name, "CAP_", 4) != 0) return -1;
  cap_value_t v;
  if (cap_from_name(lower, &v) != 0) return -1;
  char *canonical = cap_to_name(v);
  if (!canonical) return -1;
  int exact = 1;
  for (size_t i = 0; i <= n; i++) {
    if (canonical[i] == 0 || name[i] == 0) { exact = canonical[i] == 0 && name[i] == 0; break; }
    if ((char)toupper((unsigned char)canonical[i]) != name[i]) { exact = 0; break; }
  }
  cap_free(canonical);
  return exact ? (int)v : -1;
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

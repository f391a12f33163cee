// Seccomp through libseccomp: the parent compiles the filter to BPF here; the child only loads
// the bytes (spawn.c). Names, actions and operators are resolved here so Swift never needs
// libseccomp's macros.
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cshim_seccomp.h"
#include "cshim_arch.h"

int cs_seccomp_action(const char *name, uint32_t ret, uint32_t *action) {
  if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD")) *action = SCMP_ACT_KILL_THREAD;
  else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS")) *action = SCMP_ACT_KILL_PROCESS;
  else if (!strcmp(name, "SCMP_ACT_TRAP")) *action = SCMP_ACT_TRAP;
  else if (!strcmp(name, "SCMP_ACT_ERRNO")) *action = SCMP_ACT_ERRNO(ret);
  else if (!strcmp(name, "SCMP_ACT_TRACE")) *action = SCMP_ACT_TRACE(ret);
  else if (!strcmp(name, "SCMP_ACT_ALLOW")) *action = SCMP_ACT_ALLOW;
  else if (!strcmp(name, "SCMP_ACT_LOG")) *action = SCMP_ACT_LOG;
  else if (!strcmp(name, "SCMP_ACT_NOTIFY")) *action = SCMP_ACT_NOTIFY;
  else return -1;
  return 0;
}

int cs_seccomp_operator(const char *name) {
  static const struct { const char *name; int op; } ops[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
      {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (!strcmp(name, ops[i].name)) return ops[i].op;
  return -1;
}

uint32_t cs_seccomp_arch(const char *oci_name) {
  // "SCMP_ARCH_X86_64" -> libseccomp's "x86_64".
  if (strncmp(oci_name, "SCMP_ARCH_", 10) != 0) return 0;
  char lower[32];
  size_t n = strlen(oci_name + 10);
  if (n == 0 || n >= sizeof lower) return 0;
  for (size_t i = 0; i <= n; i++) {
    char c = oci_name[10 + i];
    lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
  }
  return seccomp_arch_resolve_name(lower);
}

uint32_t cs_seccomp_native_arch(void) { return seccomp_arch_native(); }

void *cs_seccomp_new(uint32_t default_action) {
  scmp_filter_ctx ctx = seccomp_init(default_action);
  // The child sets no_new_privs itself (or keeps CAP_SYS_ADMIN); libseccomp must not.
  if (ctx) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  return ctx;
}

int cs_seccomp_add_arch(void *ctx, uint32_t arch) {
  int r = seccomp_arch_add(ctx, arch);
  return r == -EEXIST ? 0 : r;
}

int cs_seccomp_syscall(const char *name) { return seccomp_syscall_resolve_name(name); }

int cs_seccomp_add_rule(void *ctx, uint32_t action, int syscall_nr, int32_t ncond, const struct cs_seccomp_cond *conds) {
  struct scmp_arg_cmp cmp[6];
  if (ncond > 6) return -EINVAL;
  for (int i = 0; i < ncond; i++) {
    cmp[i].arg = conds[i].index;
    cmp[i].op = (enum scmp_compare)conds[i].op;
    cmp[i].datum_a = conds[i].value;
    cmp[i].datum_b = conds[i].value_two;
  }
  return seccomp_rule_add_array(ctx, action, syscall_nr, (unsigned int)ncond, cmp);
}

int cs_seccomp_export(void *ctx, uint8_t **out, size_t *len) {
  int fd = (int)syscall(SYS_memfd_create, "seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) return -errno;
  int r = seccomp_export_bpf(ctx, fd);
  if (r < 0) { close(fd); return r; }
  off_t size = lseek(fd, 0, SEEK_END);
  if (size <= 0) { close(fd); return -EINVAL; }
  uint8_t *buf = malloc((size_t)size);
  if (!buf) { close(fd); return -ENOMEM; }
  if (pread(fd, buf, (size_t)size, 0) != size) { free(buf); close(fd); return -EIO; }
  close(fd);
  *out = buf;
  *len = (size_t)size;
  return 0;
}

void cs_seccomp_release(void *ctx) { seccomp_release(ctx); }

int cs_seccomp_action_available(uint32_t action) {
  return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

// A flag is supported when the kernel fails on the NULL filter (EFAULT) rather than the flag.
int cs_seccomp_flag_supported(uint32_t flag) {
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

const char *cs_seccomp_version(void) {
  static char buf[32];
  const struct scmp_version *v = seccomp_version();
  char *p = buf;
  unsigned parts[3] = {v->major, v->minor, v->micro};
  for (int i = 0; i < 3; i++) {
    char tmp[12];
    int n = 0;
    unsigned x = parts[i];
    do { tmp[n++] = (char)('0' + x % 10); x /= 10; } while (x);
    while (n) *p++ = tmp[--n];
    if (i < 2) *p++ = '.';
  }
  *p = 0;
  return buf;
}

const char *cs_arch_name(void) { return CS_ARCH_NAME; }

int cs_seccomp_build_archs(const char **out, int max) {
  static const char *archs[] = CS_SECCOMP_ARCHS;
  int n = CS_SECCOMP_NARCHS < max ? CS_SECCOMP_NARCHS : max;
  for (int i = 0; i < n; i++) out[i] = archs[i];
  return n;
}

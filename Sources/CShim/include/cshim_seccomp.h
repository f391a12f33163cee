// Seccomp through libseccomp (seccomp.c): the filter compiled in the runtime. Depends on
// cshim_arch.h only (in seccomp.c).
#ifndef CSHIM_SECCOMP_H
#define CSHIM_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cs_seccomp_cond {
  uint32_t index;
  int32_t op;        // from cs_seccomp_operator
  uint64_t value, value_two;
};

// Seccomp (libseccomp). Names the config uses are resolved here; -1 / 0 when unknown.
int cs_seccomp_action(const char *name, uint32_t ret, uint32_t *action);
int cs_seccomp_operator(const char *name);
uint32_t cs_seccomp_arch(const char *oci_name);
uint32_t cs_seccomp_native_arch(void);
// CS_SECCOMP_UNKNOWN_SYSCALL when libseccomp does not know the name. Other negative numbers are
// libseccomp's pseudo-syscalls (socketcall on x86_64): valid rules it maps per architecture.
#define CS_SECCOMP_UNKNOWN_SYSCALL (-1)
int cs_seccomp_syscall(const char *name);
void *cs_seccomp_new(uint32_t default_action);
int cs_seccomp_add_arch(void *ctx, uint32_t arch);
int cs_seccomp_add_rule(void *ctx, uint32_t action, int syscall_nr, int32_t ncond, const struct cs_seccomp_cond *conds);
int cs_seccomp_export(void *ctx, uint8_t **out, size_t *len);  // malloc'ed BPF bytes
void cs_seccomp_release(void *ctx);
int cs_seccomp_action_available(uint32_t action);
int cs_seccomp_flag_supported(uint32_t flag);
const char *cs_seccomp_version(void);
// The build's architecture ("amd64", "arm64") and its seccomp archs: native first, then compat.
const char *cs_arch_name(void);
int cs_seccomp_build_archs(const char **out, int max);

#ifdef __cplusplus
}
#endif
#endif

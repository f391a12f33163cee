// Everything that differs between the architectures crun-swift builds for, in one place.
// Syscall numbers, ioctl numbers and struct layouts come from the target's headers; only
// what the headers cannot say is here.
#ifndef CSHIM_ARCH_H
#define CSHIM_ARCH_H

#if defined(__x86_64__)
#define CS_ARCH_NAME "amd64"
// libseccomp's native arch and the compat archs whose syscalls a 64-bit process can make.
#define CS_SECCOMP_ARCHS {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}
#define CS_SECCOMP_NARCHS 3
#elif defined(__aarch64__)
#define CS_ARCH_NAME "arm64"
#define CS_SECCOMP_ARCHS {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}
#define CS_SECCOMP_NARCHS 2
#else
#error "crun-swift builds for amd64 and arm64"
#endif

// The raw clone fallback (kernels without clone3) passes only flags: x86_64 orders the
// arguments (flags, stack, parent_tid, child_tid, tls) and arm64 (flags, stack, parent_tid,
// tls, child_tid), so with every other argument 0 one call is right for both.
#define CS_RAW_CLONE(flags) syscall(SYS_clone, (unsigned long)(flags) | SIGCHLD, 0, 0, 0, 0)

#endif

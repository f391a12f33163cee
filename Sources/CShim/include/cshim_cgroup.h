// cgroup helpers Swift cannot express (cgroup.c): the v2 device controller's BPF program,
// statfs. Depends on nothing of CShim.
#ifndef CSHIM_CGROUP_H
#define CSHIM_CGROUP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// cgroup v2 device controller: one rule of linux.resources.devices, already resolved.
struct cs_dev_rule {
  int allow;
  char type;        // 'a', 'c' or 'b'
  int64_t major;    // -1: any
  int64_t minor;    // -1: any
  int access;       // CS_DEV_READ | CS_DEV_WRITE | CS_DEV_MKNOD
};
#define CS_DEV_MKNOD 1
#define CS_DEV_READ 2
#define CS_DEV_WRITE 4
// Compiles `rules` (evaluated last to first, first match decides; no match denies) into a
// BPF_PROG_TYPE_CGROUP_DEVICE program, attaches it to the cgroup `dirfd` and detaches the
// programs that were attached there before. Returns 0 or -errno; on a verifier failure the
// kernel's log goes to `log` (may be NULL).
int cs_cgroup_devices(int dirfd, const struct cs_dev_rule *rules, int n, char *log, int logsize);
// The instructions cs_cgroup_devices would load (for tests): returns their count, fills `out`
// (8 bytes each) up to `max`.
int cs_cgroup_devices_program(const struct cs_dev_rule *rules, int n, uint64_t *out, int max);
// statfs(path).f_type, or -errno.
long cs_statfs_type(const char *path);

#ifdef __cplusplus
}
#endif
#endif

// cgroup v2 helpers the Swift side cannot express: the device controller, which on cgroup v2 is
// a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup, and statfs.
#include "cshim_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define INSN(c_, d_, s_, o_, i_) \
  ((struct bpf_insn){.code = (c_), .dst_reg = (d_), .src_reg = (s_), .off = (o_), .imm = (i_)})

// The program, for the context struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
// where access_type = access << 16 | type:
//   r2 = type, r3 = access, r4 = major, r5 = minor
//   for each rule, last to first: if it matches, return its verdict
//   return 0 (deny)
// A rule matches when its type is 'a' or equals the device's, the requested access is within
// the rule's, and its major/minor are wildcards or equal.
static int build(const struct cs_dev_rule *rules, int n, struct bpf_insn *out, int max) {
  int k = 0;
#define EMIT(i) do { if (k < max) out[k] = (i); k++; } while (0)
  EMIT(INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
  EMIT(INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
  EMIT(INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0));
  EMIT(INSN(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
  EMIT(INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
  EMIT(INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
  for (int i = n - 1; i >= 0; i--) {
    const struct cs_dev_rule *r = &rules[i];
    // The checks of this rule, then its verdict (2 instructions); a failed check jumps past it.
    int checks = 0;
    if (r->type != 'a') checks++;
    int access = r->access & 7;
    if (access != 7) checks += 3;
    if (r->major >= 0) checks++;
    if (r->minor >= 0) checks++;
    int left = checks;  // instructions of checks still to come after the current one
    if (r->type != 'a') {
      left -= 1;
      EMIT(INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, (short)(left + 2), r->type == 'b' ? 1 : 2));
    }
    if (access != 7) {
      // (requested & ~allowed) != 0: no match
      left -= 3;
      EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0));
      EMIT(INSN(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, ~access & 7));
      EMIT(INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, (short)(left + 2), 0));
    }
    if (r->major >= 0) {
      left -= 1;
      EMIT(INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, (short)(left + 2), (int)r->major));
    }
    if (r->minor >= 0) {
      left -= 1;
      EMIT(INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, (short)(left + 2), (int)r->minor));
    }
    EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0));
    EMIT(INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    // A rule that matches every device decides everything: what would follow is unreachable,
    // and the verifier refuses unreachable instructions.
    if (checks == 0) return k;
  }
  EMIT(INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
  EMIT(INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
#undef EMIT
  return k;
}

int cs_cgroup_devices_program(const struct cs_dev_rule *rules, int n, uint64_t *out, int max) {
  return build(rules, n, (struct bpf_insn *)out, max);
}

static long bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

int cs_cgroup_devices(int dirfd, const struct cs_dev_rule *rules, int n, char *log, int logsize) {
  int count = build(rules, n, NULL, 0);
  struct bpf_insn insns[count];
  build(rules, n, insns, count);

  // What is attached now: detached once the new program is in place, so the cgroup is never
  // without a filter.
  uint32_t old[64];
  union bpf_attr q;
  memset(&q, 0, sizeof q);
  q.query.target_fd = (uint32_t)dirfd;
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = (uint64_t)(uintptr_t)old;
  q.query.prog_cnt = 64;
  int nold = bpf(BPF_PROG_QUERY, &q) == 0 ? (int)q.query.prog_cnt : 0;

  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)insns;
  load.insn_cnt = (uint32_t)count;
  load.license = (uint64_t)(uintptr_t)"Apache";
  int prog = (int)bpf(BPF_PROG_LOAD, &load);
  if (prog < 0) {
    // Only a failure pays for the verifier's log: load again to learn why.
    int e = errno;
    if (log && logsize > 0) {
      log[0] = 0;
      load.log_buf = (uint64_t)(uintptr_t)log;
      load.log_size = (uint32_t)logsize;
      load.log_level = 1;
      bpf(BPF_PROG_LOAD, &load);
    }
    return -e;
  }
  union bpf_attr at;
  memset(&at, 0, sizeof at);
  at.target_fd = (uint32_t)dirfd;
  at.attach_bpf_fd = (uint32_t)prog;
  at.attach_type = BPF_CGROUP_DEVICE;
  at.attach_flags = BPF_F_ALLOW_MULTI;
  if (bpf(BPF_PROG_ATTACH, &at) < 0) { int e = errno; close(prog); return -e; }
  close(prog);  // the cgroup holds it now
  for (int i = 0; i < nold; i++) {
    union bpf_attr g;
    memset(&g, 0, sizeof g);
    g.prog_id = old[i];
    int fd = (int)bpf(BPF_PROG_GET_FD_BY_ID, &g);
    if (fd < 0) continue;
    union bpf_attr d;
    memset(&d, 0, sizeof d);
    d.target_fd = (uint32_t)dirfd;
    d.attach_bpf_fd = (uint32_t)fd;
    d.attach_type = BPF_CGROUP_DEVICE;
    bpf(BPF_PROG_DETACH, &d);
    close(fd);
  }
  return 0;
}

long cs_statfs_type(const char *path) {
  struct statfs fs;
  return statfs(path, &fs) == 0 ? (long)fs.f_type : -errno;
}

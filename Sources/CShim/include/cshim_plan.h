// The plan: what Swift hands the child path (one flat struct), the kernel constants it is built
// from, the steps a failure names and the messages on the channel. Depends on nothing of CShim.
#ifndef CSHIM_PLAN_H
#define CSHIM_PLAN_H

#include <stdint.h>
#include <sys/types.h>

// Kernel constants, taken from the headers of the target so Swift never hard-codes them.
#include <linux/mount.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/personality.h>

static const uint64_t CS_CLONE_NEWNS = CLONE_NEWNS;
static const uint64_t CS_CLONE_NEWUTS = CLONE_NEWUTS;
static const uint64_t CS_CLONE_NEWIPC = CLONE_NEWIPC;
static const uint64_t CS_CLONE_NEWUSER = CLONE_NEWUSER;
static const uint64_t CS_CLONE_NEWPID = CLONE_NEWPID;
static const uint64_t CS_CLONE_NEWNET = CLONE_NEWNET;
static const uint64_t CS_CLONE_NEWCGROUP = CLONE_NEWCGROUP;
static const uint64_t CS_CLONE_NEWTIME = 0x00000080; // CLONE_NEWTIME, not in older headers

static const unsigned long CS_MS_RDONLY = MS_RDONLY;
static const unsigned long CS_MS_NOSUID = MS_NOSUID;
static const unsigned long CS_MS_NODEV = MS_NODEV;
static const unsigned long CS_MS_NOEXEC = MS_NOEXEC;
static const unsigned long CS_MS_SYNCHRONOUS = MS_SYNCHRONOUS;
static const unsigned long CS_MS_REMOUNT = MS_REMOUNT;
static const unsigned long CS_MS_MANDLOCK = MS_MANDLOCK;
static const unsigned long CS_MS_DIRSYNC = MS_DIRSYNC;
static const unsigned long CS_MS_NOSYMFOLLOW = 256;  // MS_NOSYMFOLLOW, not in older headers
static const unsigned long CS_MS_NOATIME = MS_NOATIME;
static const unsigned long CS_MS_NODIRATIME = MS_NODIRATIME;
static const unsigned long CS_MS_BIND = MS_BIND;
static const unsigned long CS_MS_MOVE = MS_MOVE;
static const unsigned long CS_MS_REC = MS_REC;
static const unsigned long CS_MS_SILENT = MS_SILENT;
static const unsigned long CS_MS_UNBINDABLE = MS_UNBINDABLE;
static const unsigned long CS_MS_PRIVATE = MS_PRIVATE;
static const unsigned long CS_MS_SLAVE = MS_SLAVE;
static const unsigned long CS_MS_SHARED = MS_SHARED;
static const unsigned long CS_MS_RELATIME = MS_RELATIME;
static const unsigned long CS_MS_I_VERSION = MS_I_VERSION;
static const unsigned long CS_MS_STRICTATIME = MS_STRICTATIME;
static const unsigned long CS_MS_LAZYTIME = MS_LAZYTIME;

static const uint64_t CS_MOUNT_ATTR_RDONLY = MOUNT_ATTR_RDONLY;
static const uint64_t CS_MOUNT_ATTR_NOSUID = MOUNT_ATTR_NOSUID;
static const uint64_t CS_MOUNT_ATTR_NODEV = MOUNT_ATTR_NODEV;
static const uint64_t CS_MOUNT_ATTR_NOEXEC = MOUNT_ATTR_NOEXEC;
static const uint64_t CS_MOUNT_ATTR__ATIME = MOUNT_ATTR__ATIME;
static const uint64_t CS_MOUNT_ATTR_RELATIME = MOUNT_ATTR_RELATIME;
static const uint64_t CS_MOUNT_ATTR_NOATIME = MOUNT_ATTR_NOATIME;
static const uint64_t CS_MOUNT_ATTR_STRICTATIME = MOUNT_ATTR_STRICTATIME;
static const uint64_t CS_MOUNT_ATTR_NODIRATIME = MOUNT_ATTR_NODIRATIME;
static const uint64_t CS_MOUNT_ATTR_NOSYMFOLLOW = 0x00200000; // not in older headers

#include <linux/seccomp.h>
static const uint32_t CS_SECCOMP_FLAG_TSYNC = SECCOMP_FILTER_FLAG_TSYNC;
static const uint32_t CS_SECCOMP_FLAG_LOG = SECCOMP_FILTER_FLAG_LOG;
static const uint32_t CS_SECCOMP_FLAG_SPEC_ALLOW = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
static const uint32_t CS_SECCOMP_FLAG_NEW_LISTENER = SECCOMP_FILTER_FLAG_NEW_LISTENER;
static const uint32_t CS_SECCOMP_FLAG_WAIT_KILLABLE_RECV = 1U << 5;  // not in older headers

static const int64_t CS_PER_LINUX = PER_LINUX;
static const int64_t CS_PER_LINUX32 = PER_LINUX32;

#ifdef __cplusplus
extern "C" {
#endif

// Steps of the child path, reported back with errno when one fails.
enum cs_step {
  CS_STEP_NONE = 0,
  CS_STEP_CLONE,
  CS_STEP_SYNC,
  CS_STEP_SETNS,
  CS_STEP_UNSHARE,
  CS_STEP_BECOME_ROOT,
  CS_STEP_TIMENS_OFFSETS,
  CS_STEP_HOSTNAME,
  CS_STEP_DOMAINNAME,
  CS_STEP_ROOT_PROPAGATION,
  CS_STEP_ROOTFS_BIND,
  CS_STEP_ROOTFS_OPEN,
  CS_STEP_MOUNT_RESOLVE,
  CS_STEP_MOUNT,
  CS_STEP_MOUNT_REMOUNT,
  CS_STEP_MOUNT_PROPAGATION,
  CS_STEP_MOUNT_SETATTR,
  CS_STEP_DEFAULT_DEVICE,
  CS_STEP_DEVICE,
  CS_STEP_DEV_SYMLINK,
  CS_STEP_PIVOT_ROOT,
  CS_STEP_ROOTFS_PROPAGATION,
  CS_STEP_CONSOLE,
  CS_STEP_SYSCTL,
  CS_STEP_READONLY_PATH,
  CS_STEP_MASKED_PATH,
  CS_STEP_ROOT_READONLY,
  CS_STEP_RLIMIT,
  CS_STEP_OOM_SCORE_ADJ,
  CS_STEP_PERSONALITY,
  CS_STEP_SETSID,
  CS_STEP_CWD,
  CS_STEP_CAP_BOUNDING,
  CS_STEP_SETGROUPS,
  CS_STEP_SETGID,
  CS_STEP_SETUID,
  CS_STEP_CAPSET,
  CS_STEP_CAP_AMBIENT,
  CS_STEP_NO_NEW_PRIVS,
  CS_STEP_CLOSE_FDS,
  CS_STEP_EXEC,
  CS_STEP_SECCOMP,
  CS_STEP_PROCFS,
};

// What the child sends on failure. `index` points into the plan's array for the step
// (mount, device, sysctl, rlimit, path...), or -1.
struct cs_error {
  int32_t step;
  int32_t err;
  int32_t index;
  char detail[240];
};

// Message kinds on the channel (first byte of each datagram).
#define CS_MSG_ERROR 'E'
#define CS_MSG_CONSOLE 'C'
#define CS_MSG_READY 'R'   // create: set up, waiting for `start` on the start socket
#define CS_MSG_HOOKS 'H'   // mounts done, before pivot_root: run createRuntime hooks, then release
#define CS_MSG_SECCOMP 'S' // the seccomp notify fd (SCM_RIGHTS)
#define CS_MSG_PID 'P'     // two-step spawn: the pid of the process the container sees (in index)
#define CS_MSG_USERNS 'U'  // two-step spawn: the user namespace exists, write its maps, then release

// What to create at a mount destination that does not exist yet.
enum cs_dest_kind { CS_DEST_DIR = 0, CS_DEST_FILE = 1 };

struct cs_mount {
  const char *source;       // host path (bind) or filesystem source; may be NULL
  const char *destination;  // absolute path inside the container
  const char *fstype;       // NULL for bind mounts
  const char *data;         // filesystem data options; may be NULL
  unsigned long flags;      // MS_* flags for the mount(2) call
  unsigned long propagation;// MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC), or 0
  uint64_t attr_set;        // MOUNT_ATTR_* to set recursively (rro, rnosuid, ...)
  uint64_t attr_clr;        // MOUNT_ATTR_* to clear recursively
  int32_t dest_kind;        // enum cs_dest_kind
  int32_t remount;          // bind mount whose flags need a second MS_REMOUNT call
  int32_t sysfs_fallback;   // sysfs that may be replaced by an rbind of /sys on EPERM
  int32_t tree_fd;          // an idmapped detached tree made by the runtime (idmap.c): moved
                            // onto the destination instead of mounting `source`; -1: none
};

struct cs_device {
  const char *path;  // absolute path inside the container
  int32_t type;      // 'c', 'b', 'p' (u is passed as 'c')
  int64_t major, minor;
  uint32_t mode;     // permission bits
  uint32_t uid, gid;
};

struct cs_rlimit {
  int32_t resource;
  uint64_t soft, hard;
};

struct cs_nsjoin {
  int fd;         // opened by the parent
  int nstype;     // CLONE_NEW*
};

struct cs_plan {
  // Channel to the parent (one end of a SOCK_SEQPACKET pair, close-on-exec) and the parent's
  // end, which the child closes first.
  int channel_fd;
  int parent_channel_fd;
  int wait_for_release;     // read one byte before setting up (the parent writes id maps)
  int exec_mode;            // join an existing container: no rootfs, hostname or sysctl setup
  int start_fd;             // create: listening socket; wait for `start` before execve (-1: none)
  int hook_pause;           // report CS_MSG_HOOKS before pivot_root and wait for a release byte
  int stdin_fd;             // becomes fd 0 (hooks get the state on stdin), or -1
  int cgroup_fd;            // the container's cgroup2 directory: cloned into it, or -1

  // Namespaces.
  uint64_t clone_flags;     // namespaces created by clone
  uint64_t unshare_flags;   // namespaces created after joining (joined user namespace)
  const struct cs_nsjoin *joins;
  int32_t njoins;
  int pidns_fd;             // pid namespace the process joins (two steps: spawn.c), or -1
  int become_root;          // setresuid/gid(0) inside a new user namespace
  int timens;               // unshare(CLONE_NEWTIME) and write offsets
  const char *timens_offsets;
  const char *hostname;     // NULL: leave
  const char *domainname;

  // Root filesystem.
  const char *rootfs;       // absolute host path
  unsigned long root_propagation;   // applied to "/" before anything (MS_SLAVE|MS_REC default)
  unsigned long rootfs_propagation; // linux.rootfsPropagation, applied after pivot; 0 = none
  int no_pivot;
  int readonly_root;
  const struct cs_mount *mounts;
  int32_t nmounts;
  int default_devices;      // create the default /dev nodes and links
  int bind_devices;         // bind-mount device nodes from the host (user namespace)
  const struct cs_device *devices;
  int32_t ndevices;
  const char *const *masked_paths;
  int32_t nmasked;
  const char *const *readonly_paths;
  int32_t nreadonly;
  const char *const *sysctl_keys;
  const char *const *sysctl_values;
  int32_t nsysctl;

  // Process.
  const char *const *argv;  // NULL terminated
  const char *const *envp;  // NULL terminated
  const char *path_env;     // PATH used to find argv[0]
  const char *exec_path;    // run this file instead of looking argv[0] up (hooks), or NULL
  const char *cwd;
  uint32_t uid, gid;
  const uint32_t *groups;
  int32_t ngroups;
  int32_t umask;            // -1: leave
  int set_caps;
  int32_t cap_last;         // highest capability number the kernel knows
  uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
  const struct cs_rlimit *rlimits;
  int32_t nrlimits;
  int no_new_privs;
  int set_oom_score_adj;
  int oom_score_adj;
  int64_t personality;      // -1: leave
  int terminal;
  uint16_t console_width, console_height;
  int preserve_fds;         // keep fds 3 .. 3+preserve_fds-1 open

  // Seccomp: a BPF program compiled by the parent, loaded by the child.
  const uint8_t *seccomp_filter;
  uint64_t seccomp_len;     // bytes (a multiple of 8)
  uint32_t seccomp_flags;   // SECCOMP_FILTER_FLAG_* (NEW_LISTENER when there are notify rules)
  int seccomp_early;        // unused: the filter is always loaded last (spawn.c keeps CAP_SYS_ADMIN for it)
  const char *apparmor_profile;  // "exec <profile>" goes to the attr file before execve, or NULL
};

// What the plan asks of the spawn (plan.c).
// Two steps: a pid namespace joined by path (spawn.c).
int cs_plan_two_step(const struct cs_plan *plan);
// The first child creates the user namespace after the clone and says so (CS_MSG_USERNS)
// before the runtime writes the maps.
int cs_plan_user_after_clone(const struct cs_plan *plan);
// A joined user namespace and a new pid namespace: the first child creates the pid namespace
// after joining and reports the pid of its pid 1 (CS_MSG_PID), as in two steps (pidns.c).
int cs_plan_pid_after_user(const struct cs_plan *plan);

#ifdef __cplusplus
}
#endif
#endif

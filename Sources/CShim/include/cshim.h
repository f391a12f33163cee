// The C side of crun-swift.
//
// Swift parses the bundle, validates it and builds one flat `cs_plan`. `cs_spawn` clones the
// container's init into its new namespaces; from then on the child runs only the C in this
// module (no allocation, async-signal-safe calls), executes the plan and ends in execve or in
// `_exit` after reporting `{step, errno, index}` on the channel socket.
#ifndef CSHIM_H
#define CSHIM_H

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

struct cs_seccomp_cond {
  uint32_t index;
  int32_t op;        // from cs_seccomp_operator
  uint64_t value, value_two;
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

// Clones the container's init and returns its pid in the parent (or -1 with errno set).
// The child never returns. When cs_plan_two_step(plan), the pid is the first child's, which
// sets up outside the container's pid namespace and reports the pid of the process the
// container sees (CS_MSG_PID, the runtime's child too) before it exits: reap both.
pid_t cs_spawn(const struct cs_plan *plan);
int cs_plan_two_step(const struct cs_plan *plan);
// The first child creates the user namespace after the clone and says so (CS_MSG_USERNS)
// before the runtime writes the maps.
int cs_plan_user_after_clone(const struct cs_plan *plan);
// A joined user namespace and a new pid namespace: the first child creates the pid namespace
// after joining and reports the pid of its pid 1 (CS_MSG_PID), as in two steps (pidns.c).
int cs_plan_pid_after_user(const struct cs_plan *plan);

// Receives one message from the channel. Returns the message kind (CS_MSG_*), 0 on EOF (the
// child exec'd), -1 on error. For CS_MSG_ERROR `err` is filled; for CS_MSG_CONSOLE `*fd` is the
// received pty master.
int cs_channel_receive(int channel_fd, struct cs_error *err, int *fd);

// Writes `data` to a file (uid_map, gid_map, setgroups). Returns 0 or -errno.
int cs_write_file(const char *path, const char *data);

// A close-on-exec memfd holding `len` bytes of `data`, positioned at its start: a hook's stdin
// (the state can be far larger than a pipe holds). Returns the fd or -errno.
int cs_memfd_with(const char *name, const void *data, size_t len);

// The foreground supervisor: forwards signals to `pid`, relays stdio to the pty master when
// `master_fd` >= 0, and returns the wait status of `pid`. `forward` lists signals (0-ended)
// that the caller blocked before spawning.
int cs_supervise(pid_t pid, int master_fd, const int *forward);

// Blocks the forwarded signals in the calling thread (before cs_spawn) so none is lost.
void cs_block_signals(const int *forward);

// Sends `fd` over the unix socket at `socket_path` (SCM_RIGHTS, runc's console-socket
// protocol, with `name` as the payload). Returns 0 or -errno.
int cs_send_fd(const char *socket_path, int fd, const char *name);

// pidfd_open / pidfd_send_signal: signal a process by a descriptor that cannot be confused
// with a later process that reuses its pid. Return the fd / 0, or -errno.
int cs_pidfd_open(pid_t pid);
int cs_pidfd_send_signal(int pidfd, int sig);
// Waits until the process behind `pidfd` has exited: 1, 0 on timeout, -errno.
int cs_pidfd_wait(int pidfd, int timeout_ms);

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

// A new network namespace bound to `path` (created), with lo up; and its removal.
int cs_netns_create(const char *path);
int cs_netns_remove(const char *path);

// Capability helpers (libcap).
int cs_cap_from_name(const char *name);   // -1 when unknown
int cs_cap_last_cap(void);

// Resolves `path` inside the directory `root_fd` the way the child does it for mount
// destinations: every symlink is resolved as if `root_fd` were "/", missing components are
// created (directories, and a file at the end when `kind` is CS_DEST_FILE). Returns an O_PATH
// fd or -errno. Exposed for tests.
int cs_resolve_in_root(int root_fd, const char *path, int kind, int create);

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
// Waits until the cgroup's `cgroup.events` says `key` is `value` (e.g. "frozen" 1, "populated"
// 0), up to timeout_ms. Returns 1 when it does, 0 on timeout, -errno on error.
int cs_cgroup_wait_event(int dirfd, const char *key, int value, int timeout_ms);

// Idmapped mounts (idmap.c), made by the runtime before the container exists.
#define CS_MAX_IDMAPPED_MOUNTS 64
// A new user namespace with these maps (kernel format, "inside outside count\n" lines), held
// by the returned fd. Returns the fd or -errno.
int cs_userns_fd(const char *uid_map, const char *gid_map);
// A detached copy of `source` (with its submounts when `recursive_tree`) idmapped through the
// user namespace `userns_fd` (its submounts too when `recursive_attr`). Returns the tree's fd
// or -errno; `*failed_call` is 0 when open_tree failed, 1 when mount_setattr did.
int cs_idmapped_tree(const char *source, int recursive_tree, int recursive_attr, int userns_fd,
                     int *failed_call);
// 1 when the kernel has mount_setattr (and so MOUNT_ATTR_IDMAP), 0 when not.
int cs_idmap_kernel_support(void);
// The mount id of the mount `path` is on (statx STATX_MNT_ID), or -errno.
long long cs_mount_id(const char *path);

// statfs(path).f_type, or -errno.
long cs_statfs_type(const char *path);

// Small wrappers for the macros Swift cannot import.
int cs_wifexited(int status);
int cs_wexitstatus(int status);
int cs_wifsignaled(int status);
int cs_wtermsig(int status);

#ifdef __cplusplus
}
#endif
#endif

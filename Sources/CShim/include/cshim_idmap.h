// Idmapped mounts made by the runtime before the container exists (idmap.c). Depends on
// cshim_files.h (in idmap.c).
#ifndef CSHIM_IDMAP_H
#define CSHIM_IDMAP_H

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif
#endif

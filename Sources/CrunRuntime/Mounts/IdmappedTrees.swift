import CShim
import Glibc

/// The trees of a plan's idmapped mounts, made by the runtime before the init is cloned
/// (idmap.c says why). The init inherits the descriptors and moves each tree onto its
/// destination; the runtime closes its copies once the init is launched.
struct IdmappedTrees {
    /// Tree descriptors by index in plan.mounts.
    private(set) var fds: [Int: Int32] = [:]
    private var userNamespaces: [Int32] = []

    static func make(_ plan: ContainerPlan) throws(RuntimeError) -> IdmappedTrees {
        var trees = IdmappedTrees()
        // One throwaway user namespace per distinct mapping, shared by the mounts that use it.
        var byMapping: [String: Int32] = [:]
        for (i, m) in plan.mounts.enumerated() {
            guard let idmap = m.idmap else { continue }
            let field = "mounts[\(m.configIndex)]"
            if geteuid() != 0 {
                // mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the filesystem's
                // user namespace (the initial one for disk filesystems), as with runc.
                trees.close()
                throw .container("\(field): idmapped mounts need a runtime running as root (CAP_SYS_ADMIN over the filesystem of `\(m.source ?? "")`)")
            }
            let source = m.source ?? ""
            let usernsFd: Int32
            if let path = idmap.userNamespacePath {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                if fd < 0 {
                    trees.close()
                    throw .container("\(field): open the container's user namespace `\(path)` for the idmapped mount: \(errnoString(errno))")
                }
                trees.userNamespaces.append(fd)
                usernsFd = fd
            } else if let fd = byMapping[idmap.uidMap + "|" + idmap.gidMap] {
                usernsFd = fd
            } else {
                let fd = cs_userns_fd(idmap.uidMap, idmap.gidMap)
                if fd < 0 {
                    trees.close()
                    throw .container("\(field).uidMappings: create a user namespace with the mount's mappings: \(errnoString(-fd))"
                                     + (fd == -EINVAL ? " (the kernel refused the maps)" : ""))
                }
                trees.userNamespaces.append(fd)
                byMapping[idmap.uidMap + "|" + idmap.gidMap] = fd
                usernsFd = fd
            }
            var failedCall: Int32 = 0
            let tree = cs_idmapped_tree(source, m.flags & CS_MS_REC != 0 ? 1 : 0, idmap.recursive ? 1 : 0, usernsFd, &failedCall)
            if tree < 0 {
                trees.close()
                throw .container(failedCall == 0
                    ? "\(field).source: open_tree `\(source)` for an idmapped mount: \(errnoString(-tree))"
                    : setattrFailure(field: field, source: source, errno: -tree))
            }
            trees.fds[i] = tree
        }
        // The trees hold their mappings; the namespaces are not needed any more.
        for fd in trees.userNamespaces { Glibc.close(fd) }
        trees.userNamespaces = []
        return trees
    }

    func close() {
        for fd in fds.values { Glibc.close(fd) }
        for fd in userNamespaces { Glibc.close(fd) }
    }

    /// What mount_setattr(MOUNT_ATTR_IDMAP) refusing means, for the user.
    static func setattrFailure(field: String, source: String, errno err: Int32) -> String {
        let call = "mount_setattr(MOUNT_ATTR_IDMAP): \(errnoString(err))"
        switch err {
        case ENOSYS:
            return "\(field): idmapped mounts are not supported by this kernel (\(call); they need Linux 5.12 or later)"
        case EINVAL, EOPNOTSUPP:
            let fstype = filesystemType(of: source).map { "the \($0) filesystem" } ?? "the filesystem"
            return "\(field): idmapped mounts are not supported on \(fstype) of `\(source)` (\(call))"
        case EPERM:
            return "\(field): idmap `\(source)`: \(call) (idmapped mounts need CAP_SYS_ADMIN over the filesystem, i.e. a runtime running as root, and a source that is not idmapped already)"
        default:
            return "\(field): idmap `\(source)`: \(call)"
        }
    }

    /// The type of the filesystem `path` is on, from /proc/self/mountinfo.
    static func filesystemType(of path: String) -> String? {
        let id = cs_mount_id(path)
        guard id >= 0, let bytes = try? FileSystem.readFile("/proc/self/mountinfo") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.first == Substring(String(id)), let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
            return String(fields[dash + 1])
        }
        return nil
    }
}

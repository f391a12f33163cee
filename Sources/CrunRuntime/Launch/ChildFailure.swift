import CShim
import Glibc

/// Turns the child's {step, errno, index} report into one line that names the config field,
/// the object and the errno.
struct ChildFailure {
    let error: cs_error
    let plan: ContainerPlan

    var detail: String {
        withUnsafeBytes(of: error.detail) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    var message: String {
        let err = errnoString(error.err)
        let i = Int(error.index)
        let d = detail
        func mount(_ verb: String) -> String {
            guard i >= 0, i < plan.mounts.count else { return "mount `\(d)`: \(err)" }
            let m = plan.mounts[i]
            let what = m.fstype.map { "\($0) " } ?? (m.flags & CS_MS_BIND != 0 ? "bind " : "")
            return "mounts[\(m.configIndex)]: \(verb) \(what)`\(m.source ?? "none")` on `\(m.destination)`: \(err)"
        }
        switch cs_step(rawValue: UInt32(error.step)) {
        case CS_STEP_SYNC: return "container init: waiting for the runtime: \(err)"
        case CS_STEP_SETNS:
            if i >= 0, i < plan.joins.count {
                let j = plan.joins[i]
                return "linux.namespaces[\(j.configIndex)].path: setns \(j.kind.rawValue) `\(j.path)`: \(err)"
            }
            if d == "pid", let path = plan.pidNamespacePath { return "linux.namespaces: setns pid `\(path)`: \(err)" }
            return "setns: \(err)"
        case CS_STEP_CLONE: return "clone the container's process into its pid namespace: \(err)"
        case CS_STEP_UNSHARE:
            if d == "user", geteuid() != 0, [EPERM, ENOSPC, EUSERS].contains(error.err) {
                return Rootless.userNamespaceUnavailable(errno: error.err)
            }
            return "linux.namespaces: unshare \(d.isEmpty ? "namespaces" : d): \(err)"
        case CS_STEP_BECOME_ROOT: return "linux.uidMappings: become root in the user namespace (\(d)): \(err); is uid/gid 0 mapped?"
        case CS_STEP_TIMENS_OFFSETS: return "linux.timeOffsets: write /proc/self/timens_offsets: \(err)"
        case CS_STEP_HOSTNAME: return "hostname: sethostname `\(plan.hostname ?? "")`: \(err)"
        case CS_STEP_DOMAINNAME: return "domainname: setdomainname `\(plan.domainname ?? "")`: \(err)"
        case CS_STEP_ROOT_PROPAGATION: return "make `/` a slave mount in the container's mount namespace: \(err)"
        case CS_STEP_ROOTFS_BIND: return "root.path: bind `\(plan.rootfs)` onto itself: \(err)"
        case CS_STEP_ROOTFS_OPEN: return "root.path: open `\(plan.rootfs)`: \(err)"
        case CS_STEP_MOUNT_RESOLVE:
            let idx = i >= 0 && i < plan.mounts.count ? plan.mounts[i].configIndex : i
            return "mounts[\(idx)].destination: resolve `\(d)` inside the rootfs: \(err)"
        case CS_STEP_MOUNT: return mount("mount")
        case CS_STEP_MOUNT_REMOUNT: return mount("remount")
        case CS_STEP_MOUNT_PROPAGATION: return mount("set propagation of")
        case CS_STEP_MOUNT_SETATTR: return mount("set recursive attributes (mount_setattr) of")
        case CS_STEP_DEFAULT_DEVICE: return "create default device `\(d)`: \(err)"
        case CS_STEP_DEVICE: return "linux.devices[\(i)]: create `\(d)`: \(err)"
        case CS_STEP_DEV_SYMLINK: return "create /dev/\(d) link: \(err)"
        case CS_STEP_PIVOT_ROOT: return "pivot_root into `\(plan.rootfs)`\(d.isEmpty ? "" : " (\(d))"): \(err)"
        case CS_STEP_ROOTFS_PROPAGATION: return "linux.rootfsPropagation: \(err)"
        case CS_STEP_CONSOLE: return "process.terminal: \(d): \(err)"
        case CS_STEP_SYSCTL:
            let key = i >= 0 && i < plan.sysctl.count ? plan.sysctl[i].key : "?"
            return "linux.sysctl.\(key): write /proc/sys: \(err)"
        case CS_STEP_READONLY_PATH: return "linux.readonlyPaths[\(i)]: `\(d)`: \(err)"
        case CS_STEP_MASKED_PATH: return "linux.maskedPaths[\(i)]: `\(d)`: \(err)"
        case CS_STEP_ROOT_READONLY: return "root.readonly: remount `/` read-only: \(err)"
        case CS_STEP_RLIMIT: return "process.rlimits[\(i)]: setrlimit: \(err)"
        case CS_STEP_OOM_SCORE_ADJ: return "process.oomScoreAdj: write /proc/self/oom_score_adj: \(err)"
        case CS_STEP_PERSONALITY: return "linux.personality: personality: \(err)"
        case CS_STEP_SETSID: return "setsid: \(err)"
        case CS_STEP_CWD: return "process.cwd: chdir `\(plan.cwd)`: \(err)"
        case CS_STEP_CAP_BOUNDING: return "process.capabilities.bounding: drop capability \(i): \(err)"
        case CS_STEP_SETGROUPS: return "process.user.additionalGids: setgroups: \(err)"
        case CS_STEP_SETGID: return "process.user.gid: setresgid \(plan.gid): \(err)"
        case CS_STEP_SETUID: return "process.user.uid: setresuid \(plan.uid): \(err)"
        case CS_STEP_CAPSET: return "process.capabilities: capset\(d.isEmpty ? "" : " (\(d))"): \(err)"
        case CS_STEP_CAP_AMBIENT: return "process.capabilities.ambient: raise capability \(i): \(err)"
        case CS_STEP_NO_NEW_PRIVS: return "process.noNewPrivileges: prctl: \(err)"
        case CS_STEP_CLOSE_FDS: return "close inherited descriptors: \(err)"
        case CS_STEP_EXEC: return "process.args[0]: exec `\(d)`: \(err)"
        case CS_STEP_SECCOMP: return "linux.seccomp: load the filter\(d.isEmpty ? "" : " (\(d))"): \(err)"
        case CS_STEP_PROCFS: return "\(d): \(err)"
        default: return "container init failed at step \(error.step): \(err)"
        }
    }
}

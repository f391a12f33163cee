import Cgroups
import Glibc

/// Running without root (issue 18): where state goes, what `--rootless` means, who owns a
/// container, and what to tell a user whose host gives them no user namespace. runc's rules.
public enum Rootless {
    /// Whether this process lives in a user namespace other than the initial one (its uid_map
    /// is not the identity over the whole range), as under rootless podman.
    public static var inUserNamespace: Bool {
        guard let bytes = try? FileSystem.readFile("/proc/self/uid_map") else { return false }
        let fields = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        return fields != ["0", "0", "4294967295"]
    }

    /// runc's default `--root`: `$XDG_RUNTIME_DIR/crun-swift` for a user other than root (and for
    /// root inside a user namespace when `$USER` is not root), `/run/crun-swift` otherwise,
    /// including when `$XDG_RUNTIME_DIR` is unset (runc's fallback; a user who cannot create it
    /// is told to set one of the two, `StateStore`).
    public static func defaultStateRoot(environment: (String) -> String? = { getenv($0).map { String(cString: $0) } },
                                        euid: uid_t = geteuid(), inUserNamespace: () -> Bool = { Rootless.inUserNamespace }) -> String {
        let system = "/run/crun-swift"
        guard let xdg = environment("XDG_RUNTIME_DIR"), !xdg.isEmpty else { return system }
        if euid != 0 { return xdg + "/crun-swift" }
        guard inUserNamespace() else { return system }  // real root: /run, whatever the variable says
        return environment("USER") == "root" ? system : xdg + "/crun-swift"
    }

    /// `--rootless true|false|auto`: nil stands for auto.
    public static func parseFlag(_ value: String) -> Bool?? {
        switch value {
        case "true": return .some(true)
        case "false": return .some(false)
        case "auto": return .some(nil)
        default: return nil
        }
    }

    /// runc's rootless cgroups: what `--rootless` says, or (auto) when the runtime is not root or
    /// is root only inside a user namespace. They mean: a cgroup the user may not create is
    /// skipped when the config neither names one nor asks for limits.
    public static func cgroups(flag: Bool?, euid: uid_t = geteuid(), inUserNamespace: () -> Bool = { Rootless.inUserNamespace }) -> Bool {
        if let flag { return flag }
        return euid != 0 || inUserNamespace()
    }

    /// The user's name from /etc/passwd (a static binary has no NSS), or runc's `#UID`.
    public static func userName(_ uid: uid_t) -> String {
        if let bytes = try? FileSystem.readFile("/etc/passwd") {
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let f = line.split(separator: ":", omittingEmptySubsequences: false)
                if f.count > 2, UInt32(f[2]) == uid { return String(f[0]) }
            }
        }
        return "#\(uid)"
    }

    /// Why clone/unshare of a user namespace failed for a user other than root, and what the
    /// administrator must configure (the kernel's switches, the per-user limit, /etc/subuid).
    public static func userNamespaceUnavailable(errno err: Int32, euid: uid_t = geteuid(),
                                                read: (String) -> String? = Rootless.readSetting) -> String {
        var causes: [String] = []
        if let v = read("/proc/sys/kernel/unprivileged_userns_clone"), v == "0" {
            causes.append("kernel.unprivileged_userns_clone is 0 (set it to 1)")
        }
        if let v = read("/proc/sys/user/max_user_namespaces"), v == "0" {
            causes.append("user.max_user_namespaces is 0 (set it above 0, e.g. 15000)")
        } else if err == ENOSPC || err == EUSERS {
            causes.append("the user namespace limit (user.max_user_namespaces) is reached")
        }
        if let v = read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"), v == "1" {
            causes.append("kernel.apparmor_restrict_unprivileged_userns is 1 (set it to 0, or give crun-swift an AppArmor profile with `userns,`)")
        }
        if causes.isEmpty { causes.append("unprivileged user namespaces are not available to this user") }
        let user = userName(euid)
        return "linux.namespaces: create the user namespace as \(user) (uid \(euid)): \(errnoString(err)): "
            + causes.joined(separator: "; ")
            + ". Containers without root need unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1"
            + " where the kernel has it, user.max_user_namespaces > 0), and, to map more than your own id,"
            + " ranges for \(user) in /etc/subuid and /etc/subgid and newuidmap/newgidmap (Debian: uidmap)"
    }

    public static func readSetting(_ path: String) -> String? {
        (try? FileSystem.readFile(path)).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: "\n") }
    }
}

/// Writes a new user namespace's id maps from a runtime that is not root: a map of the user's
/// own id alone directly (setgroups denied first, as the kernel demands of an unprivileged
/// gid_map writer), anything else through the setuid newuidmap/newgidmap, which check the
/// ranges against /etc/subuid and /etc/subgid (and leave setgroups allowed when they may).
public enum IdMapWriter {
    public static func write(pid: pid_t, uidMap: String, gidMap: String, runtimeIsRoot: Bool,
                             euid: uid_t = geteuid(), egid: gid_t = getegid()) throws(RuntimeError) {
        if runtimeIsRoot {
            try FileSystem.writeFile("/proc/\(pid)/uid_map", uidMap, step: "linux.uidMappings: write")
            try FileSystem.writeFile("/proc/\(pid)/gid_map", gidMap, step: "linux.gidMappings: write")
            return
        }
        if isOwnId(uidMap, euid) {
            try FileSystem.writeFile("/proc/\(pid)/uid_map", uidMap, step: "linux.uidMappings: write")
        } else {
            try tool("newuidmap", pid: pid, map: uidMap, field: "linux.uidMappings", file: "/etc/subuid", id: euid)
        }
        if isOwnId(gidMap, egid) {
            try FileSystem.writeFile("/proc/\(pid)/setgroups", "deny", step: "linux.gidMappings: write")
            try FileSystem.writeFile("/proc/\(pid)/gid_map", gidMap, step: "linux.gidMappings: write")
        } else {
            try tool("newgidmap", pid: pid, map: gidMap, field: "linux.gidMappings", file: "/etc/subgid", id: euid)
        }
    }

    /// A map of one id, the caller's own: what an unprivileged process may write itself.
    public static func isOwnId(_ map: String, _ id: UInt32) -> Bool {
        let lines = map.split(separator: "\n")
        guard lines.count == 1 else { return false }
        let f = lines[0].split(separator: " ")
        return f.count == 3 && UInt32(f[1]) == id && f[2] == "1"
    }

    /// newuidmap/newgidmap PID (containerID hostID size)...
    public static func arguments(_ tool: String, pid: pid_t, map: String) -> [String] {
        [tool, "\(pid)"] + map.split(separator: "\n").flatMap { $0.split(separator: " ").map(String.init) }
    }

    static func tool(_ name: String, pid: pid_t, map: String, field: String, file: String, id: uid_t) throws(RuntimeError) {
        let user = Rootless.userName(id)
        guard let path = which(name) else {
            throw .container("\(field): mapping more than your own id as \(user) needs \(name), which is not installed"
                + " (Debian: apt-get install uidmap), and ranges for \(user) in \(file)")
        }
        let r = try Subprocess.run(arguments(path, pid: pid, map: map))
        if r.status != 0 {
            let why = r.stderr.split(separator: "\n").last.map(String.init) ?? "exit \(r.status)"
            throw .container("\(field): \(name) \(pid) \(map.split(separator: "\n").joined(separator: " ")): \(why)"
                + " (each range must lie within \(user)'s ranges in \(file))")
        }
    }

    static func which(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        for dir in (path.isEmpty ? "/usr/bin:/bin" : path + ":/usr/bin:/usr/sbin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

/// One problem in a config, with the JSON path of the field that causes it.
public struct ValidationIssue: Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) {
        self.path = ValidationIssue.printable(path)
        self.message = ValidationIssue.printable(message)
    }

    /// A NUL quoted back from the config is written as \u0000: a message stays one C string.
    static func printable(_ s: String) -> String {
        s.containsNUL ? s.split(separator: "\0", omittingEmptySubsequences: false).joined(separator: "\\u0000") : s
    }
    public var description: String { "\(path): \(message)" }
}

public enum NamespaceKind: String, CaseIterable, Sendable {
    case pid, network, mount, ipc, uts, user, cgroup, time
}

/// Checks a decoded Spec for everything the runtime would otherwise trip over later. Every
/// problem is reported, not only the first.
public struct SpecValidator {
    public static let rlimitNames: [String] = [
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
        "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
        "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
    ]
    public static let propagationValues = ["private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"]

    /// Whether a capability name is known (libcap answers this in the runtime).
    public var isKnownCapability: (String) -> Bool
    /// Whether a mount's options are acceptable; returns a message for the first bad one.
    public var checkMountOptions: ([String]) -> String?

    public init(isKnownCapability: @escaping (String) -> Bool = { $0.hasPrefix("CAP_") },
                checkMountOptions: @escaping ([String]) -> String? = { _ in nil }) {
        self.isKnownCapability = isKnownCapability
        self.checkMountOptions = checkMountOptions
    }

    public func validate(_ spec: Spec) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        func add(_ path: String, _ message: String) { issues.append(ValidationIssue(path, message)) }

        let parts = spec.ociVersion.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count < 2 || parts[0] != "1" || Int(parts[1]) == nil {
            add("ociVersion", "unsupported version \"\(spec.ociVersion)\" (this runtime reads 1.x configs, up to 1.3)")
        }

        if let root = spec.root {
            if root.path.isEmpty { add("root.path", "must not be empty") }
        } else {
            add("root", "is required")
        }

        let namespaces = validateNamespaces(spec, add)
        inputIssues(spec, add)
        validateProcess(spec, add)
        validateMounts(spec, add)
        idmapIssues(spec, namespaces: namespaces, add)
        validateHooks(spec, add)

        let linux = spec.linux
        if let maps = linux?.uidMappings, !maps.isEmpty, !namespaces.contains(.user) {
            add("linux.uidMappings", "set, but there is no user namespace in linux.namespaces")
        }
        if let maps = linux?.gidMappings, !maps.isEmpty, !namespaces.contains(.user) {
            add("linux.gidMappings", "set, but there is no user namespace in linux.namespaces")
        }
        if namespaces.contains(.user), !(linux?.namespaces?.contains { $0.type == "user" && $0.path != nil } ?? false) {
            if linux?.uidMappings?.isEmpty ?? true { add("linux.uidMappings", "required with a new user namespace") }
            if linux?.gidMappings?.isEmpty ?? true { add("linux.gidMappings", "required with a new user namespace") }
        }
        if let offsets = linux?.timeOffsets, !offsets.isEmpty {
            if !namespaces.contains(.time) { add("linux.timeOffsets", "set, but there is no time namespace in linux.namespaces") }
            for key in offsets.keys.sorted() where key != "monotonic" && key != "boottime" {
                add("linux.timeOffsets.\(key)", "unknown clock (monotonic or boottime)")
            }
        }
        if spec.hostname != nil, !namespaces.contains(.uts) {
            add("hostname", "needs a new uts namespace in linux.namespaces")
        }
        if spec.domainname != nil, !namespaces.contains(.uts) {
            add("domainname", "needs a new uts namespace in linux.namespaces")
        }
        if let p = linux?.rootfsPropagation, !SpecValidator.propagationValues.contains(p) {
            add("linux.rootfsPropagation", "unknown propagation \"\(p)\"")
        }
        for (i, d) in (linux?.devices ?? []).enumerated() {
            if !["c", "b", "u", "p"].contains(d.type) { add("linux.devices[\(i)].type", "unknown device type \"\(d.type)\" (c, b, u or p)") }
            if !d.path.hasPrefix("/") { add("linux.devices[\(i)].path", "must be absolute") }
            if d.type != "p", d.major == nil || d.minor == nil { add("linux.devices[\(i)]", "major and minor are required for type \(d.type)") }
        }
        for (i, p) in (linux?.maskedPaths ?? []).enumerated() where !p.hasPrefix("/") {
            add("linux.maskedPaths[\(i)]", "must be absolute")
        }
        for (i, p) in (linux?.readonlyPaths ?? []).enumerated() where !p.hasPrefix("/") {
            add("linux.readonlyPaths[\(i)]", "must be absolute")
        }
        for key in (linux?.sysctl ?? [:]).keys.sorted() {
            validateSysctl(key, namespaces: namespaces, add)
        }
        if let p = linux?.personality, p.domain != "LINUX", p.domain != "LINUX32" {
            add("linux.personality.domain", "unknown domain \"\(p.domain)\" (LINUX or LINUX32)")
        }
        return issues
    }

    private func validateNamespaces(_ spec: Spec, _ add: (String, String) -> Void) -> Set<NamespaceKind> {
        var seen = Set<NamespaceKind>()
        for (i, ns) in (spec.linux?.namespaces ?? []).enumerated() {
            guard let kind = NamespaceKind(rawValue: ns.type) else {
                add("linux.namespaces[\(i)].type", "unknown namespace type \"\(ns.type)\" (one of \(NamespaceKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                continue
            }
            if !seen.insert(kind).inserted { add("linux.namespaces[\(i)].type", "\(ns.type) namespace listed twice") }
            if let path = ns.path, !path.hasPrefix("/") { add("linux.namespaces[\(i)].path", "must be absolute") }
        }
        if !seen.contains(.mount) { validateInheritedMountNamespace(spec, add) }
        return seen
    }

    /// runtime-spec: a namespace type not in linux.namespaces is inherited from the runtime.
    /// For the mount namespace that is the host's mount table, which the runtime must not
    /// change: the container is only chroot'ed into root.path, and every field that would mount
    /// something is refused by name (runc refuses masked/readonly paths this way, but mounts
    /// the rest on the host).
    private func validateInheritedMountNamespace(_ spec: Spec, _ add: (String, String) -> Void) {
        let why = "needs a mount namespace of the container's own (linux.namespaces has no mount entry, so the container shares the runtime's and this would change the host's mounts)"
        for i in (spec.mounts ?? []).indices { add("mounts[\(i)]", why) }
        if spec.root?.readonly == true { add("root.readonly", why) }
        let linux = spec.linux
        if !(linux?.maskedPaths ?? []).isEmpty {
            add("linux.maskedPaths", "unable to restrict sys entries without a private MNT namespace (linux.namespaces has no mount entry)")
        }
        if !(linux?.readonlyPaths ?? []).isEmpty {
            add("linux.readonlyPaths", "unable to restrict sys entries without a private MNT namespace (linux.namespaces has no mount entry)")
        }
        if linux?.rootfsPropagation != nil { add("linux.rootfsPropagation", why) }
        if !(linux?.devices ?? []).isEmpty { add("linux.devices", why) }
    }

    /// config.md "POSIX-platform Hooks": `path` MUST be absolute; `timeout`, if set, MUST be
    /// greater than zero.
    private func validateHooks(_ spec: Spec, _ add: (String, String) -> Void) {
        guard let h = spec.hooks else { return }
        let kinds: [(String, [Hook]?)] = [("prestart", h.prestart), ("createRuntime", h.createRuntime), ("createContainer", h.createContainer),
                                          ("startContainer", h.startContainer), ("poststart", h.poststart), ("poststop", h.poststop)]
        for (kind, hooks) in kinds {
            for (i, hook) in (hooks ?? []).enumerated() {
                if !hook.path.hasPrefix("/") { add("hooks.\(kind)[\(i)].path", "must be absolute") }
                if let t = hook.timeout, t <= 0 { add("hooks.\(kind)[\(i)].timeout", "must be greater than zero, got \(t)") }
            }
        }
    }

    private func validateProcess(_ spec: Spec, _ add: (String, String) -> Void) {
        guard let process = spec.process else { return }
        if process.args?.isEmpty ?? true { add("process.args", "must not be empty") }
        if !process.cwd.hasPrefix("/") { add("process.cwd", "must be absolute") }
        for (i, e) in (process.env ?? []).enumerated() where !e.contains("=") || e.hasPrefix("=") {
            add("process.env[\(i)]", "must be KEY=VALUE")
        }
        if let caps = process.capabilities {
            let sets: [(String, [String]?)] = [("bounding", caps.bounding), ("effective", caps.effective),
                ("inheritable", caps.inheritable), ("permitted", caps.permitted), ("ambient", caps.ambient)]
            for (name, list) in sets {
                for (i, cap) in (list ?? []).enumerated() where !isKnownCapability(cap) {
                    add("process.capabilities.\(name)[\(i)]", "unknown capability \"\(cap)\"")
                }
            }
        }
        var seenLimits = Set<String>()
        for (i, rl) in (process.rlimits ?? []).enumerated() {
            if !SpecValidator.rlimitNames.contains(rl.type) { add("process.rlimits[\(i)].type", "unknown rlimit \"\(rl.type)\"") }
            if !seenLimits.insert(rl.type).inserted { add("process.rlimits[\(i)].type", "\(rl.type) listed twice") }
            if rl.soft > rl.hard { add("process.rlimits[\(i)]", "soft limit \(rl.soft) is above the hard limit \(rl.hard)") }
        }
        if let adj = process.oomScoreAdj, adj < -1000 || adj > 1000 {
            add("process.oomScoreAdj", "must be between -1000 and 1000")
        }
        if let umask = process.user.umask, umask > 0o777 { add("process.user.umask", "must be at most 0777") }
    }

    private func validateMounts(_ spec: Spec, _ add: (String, String) -> Void) {
        for (i, m) in (spec.mounts ?? []).enumerated() {
            // config.md: a relative destination is deprecated but MUST be taken relative to "/"
            // (the planner does, with a warning, as runc does).
            if m.destination.isEmpty { add("mounts[\(i)].destination", "must not be empty") }
            let options = m.options ?? []
            let isBind = m.type == "bind" || options.contains("bind") || options.contains("rbind")
            if isBind, m.source?.isEmpty ?? true { add("mounts[\(i)].source", "required for a bind mount") }
            if !isBind, m.type?.isEmpty ?? true { add("mounts[\(i)].type", "required for a non-bind mount") }
            if let problem = checkMountOptions(options) { add("mounts[\(i)].options", problem) }
        }
    }

    private func validateSysctl(_ key: String, namespaces: Set<NamespaceKind>, _ add: (String, String) -> Void) {
        let path = "linux.sysctl.\(key)"
        if key.isEmpty || key.contains("/") || key.hasPrefix(".") || key.contains("..") {
            add(path, "not a sysctl name")
            return
        }
        // Only namespaced sysctls may be set, as runc allows them.
        let ipcKeys = ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                       "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]
        if ipcKeys.contains(key) || key.hasPrefix("fs.mqueue.") {
            if !namespaces.contains(.ipc) { add(path, "needs a new ipc namespace") }
        } else if key.hasPrefix("net.") {
            if !namespaces.contains(.network) { add(path, "needs a new network namespace") }
        } else if key == "kernel.hostname" || key == "kernel.domainname" {
            if !namespaces.contains(.uts) { add(path, "needs a new uts namespace") }
        } else {
            add(path, "not a namespaced sysctl: it would change the host")
        }
    }
}

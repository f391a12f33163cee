import Cgroups
import CShim
import Glibc
import OCISpec
import Seccomp

/// Options from the command line that shape the plan.
public struct PlanOptions: Sendable {
    public var noPivot = false
    public var preserveFds = 0
    /// The runtime's effective uid is 0 (on the host, or in a user namespace of its own); the
    /// command line sets it (`GlobalOptions.planOptions`).
    public var runtimeIsRoot = true
    /// The runtime itself runs in a user namespace (rootless podman): devices are bind-mounted.
    public var runtimeInUserNamespace = false
    /// How the container's cgroup is managed (`--cgroup-manager`, `--systemd-cgroup`).
    public var cgroups = CgroupMode.cgroupfs
    /// runc's rootless cgroups (`--rootless`, `Rootless.cgroups`): a cgroup the user may not
    /// create is skipped when the config neither names one nor asks for limits.
    public var rootlessCgroups = false
    public init() {}
}

/// Turns a validated Spec and its bundle directory into a ContainerPlan. Pure apart from stat
/// calls on bind-mount sources, so it is unit-testable without root.
public struct ContainerPlanner {
    public var capabilityNumber: (String) -> Int?
    public var lastCapability: Int
    public var isDirectory: (String) -> Bool?
    /// The host's cgroup layout: a `cgroup` mount on a v1 host becomes its v1 hierarchies.
    public var cgroupHost: () -> CgroupHost? = { CgroupHost.detect() }

    public init(capabilityNumber: @escaping (String) -> Int? = ContainerPlanner.libcapNumber,
                lastCapability: Int = Int(cs_cap_last_cap()),
                isDirectory: @escaping (String) -> Bool? = FileSystem.isDirectory) {
        self.capabilityNumber = capabilityNumber
        self.lastCapability = lastCapability
        self.isDirectory = isDirectory
    }

    public static func libcapNumber(_ name: String) -> Int? {
        let n = cs_cap_from_name(name)
        return n < 0 ? nil : Int(n)
    }

    public static func cloneFlag(_ kind: NamespaceKind) -> UInt64 {
        switch kind {
        case .pid: return CS_CLONE_NEWPID
        case .network: return CS_CLONE_NEWNET
        case .mount: return CS_CLONE_NEWNS
        case .ipc: return CS_CLONE_NEWIPC
        case .uts: return CS_CLONE_NEWUTS
        case .user: return CS_CLONE_NEWUSER
        case .cgroup: return CS_CLONE_NEWCGROUP
        case .time: return CS_CLONE_NEWTIME
        }
    }

    public static func propagationFlags(_ name: String) -> UInt? {
        switch name {
        case "private": return CS_MS_PRIVATE
        case "rprivate": return CS_MS_PRIVATE | CS_MS_REC
        case "shared": return CS_MS_SHARED
        case "rshared": return CS_MS_SHARED | CS_MS_REC
        case "slave": return CS_MS_SLAVE
        case "rslave": return CS_MS_SLAVE | CS_MS_REC
        case "unbindable": return CS_MS_UNBINDABLE
        case "runbindable": return CS_MS_UNBINDABLE | CS_MS_REC
        default: return nil
        }
    }

    public func validator() -> SpecValidator {
        SpecValidator(
            isKnownCapability: { capabilityNumber($0) != nil },
            checkMountOptions: { _ in nil })
    }

    /// Validates and plans. `bundle` is the absolute bundle directory.
    public func plan(_ spec: Spec, bundle: String, options: PlanOptions) throws(RuntimeError) -> ContainerPlan {
        var issues = validator().validate(spec)
        if spec.process == nil { issues.append(ValidationIssue("process", "is required to run a container")) }
        if let s = spec.linux?.seccomp { issues += SeccompCompiler.validate(s) }
        issues += securityModuleIssues(spec.process, mountLabel: spec.linux?.mountLabel)
        if !issues.isEmpty { throw .invalid(issues) }
        guard let process = spec.process, let root = spec.root else { throw .invalid(issues) }
        let linux = spec.linux ?? Linux()

        var plan = ContainerPlan()
        plan.noPivot = options.noPivot
        plan.preserveFds = options.preserveFds
        planNamespaces(linux, into: &plan)
        if !options.runtimeIsRoot { try checkRootless(linux, plan: plan) }
        plan.hostname = spec.hostname
        plan.domainname = spec.domainname

        // Root filesystem.
        let rootfs = FileSystem.absolute(root.path, base: bundle)
        guard isDirectory(rootfs) == true else {
            throw .invalid([ValidationIssue("root.path", "\(rootfs) is not a directory")])
        }
        plan.rootfs = rootfs
        plan.readonlyRoot = root.readonly ?? false
        if let p = linux.rootfsPropagation { plan.rootfsPropagation = ContainerPlanner.propagationFlags(p) ?? 0 }
        // "/" becomes a slave (or private) before pivot_root, which refuses shared parents; the
        // requested propagation is applied to the new root after it.
        plan.rootPropagation = (plan.rootfsPropagation & (CS_MS_PRIVATE | CS_MS_UNBINDABLE) != 0)
            ? CS_MS_PRIVATE | CS_MS_REC : CS_MS_SLAVE | CS_MS_REC
        // A runtime that is not root on the host bind-mounts the cgroup2 hierarchy (read-only
        // as the config says) where a `cgroup` mount is asked for: mounting cgroup2 from a user
        // namespace is refused without a cgroup namespace of its own (EPERM: rootless podman on
        // a v1 or hybrid host) and, on some hosts, with one (EBUSY: a delegated subtree in the
        // v2 VM). runc binds the hierarchy after either error; this binds it at once.
        let cgroupBind = (!options.runtimeIsRoot || options.runtimeInUserNamespace)
            ? (CgroupHierarchy.detect()?.mount ?? "/sys/fs/cgroup") : nil
        plan.mounts = try planMounts(spec.mounts ?? [], bundle: bundle, hasNetworkNamespace: plan.cloneFlags & CS_CLONE_NEWNET != 0,
                                     hasCgroupNamespace: (plan.cloneFlags | plan.unshareFlags) & CS_CLONE_NEWCGROUP != 0,
                                     cgroupBind: cgroupBind, warnings: &plan.warnings)
        planIdmaps(spec.mounts ?? [], into: &plan)
        plan.defaultDevices = !plan.mounts.contains { $0.destination == "/dev" && $0.flags & CS_MS_BIND != 0 }
        // mknod is refused in any user namespace but the initial one, joined or new, or ours.
        plan.bindDevices = plan.newUserNamespace || plan.joins.contains { $0.kind == .user } || options.runtimeInUserNamespace
        plan.devices = (linux.devices ?? []).map { d in
            ContainerPlan.PlannedDevice(path: d.path, type: d.type == "u" ? "c" : Character(d.type),
                major: d.major ?? 0, minor: d.minor ?? 0, mode: d.fileMode ?? 0o666,
                uid: d.uid ?? 0, gid: d.gid ?? 0)
        }
        plan.maskedPaths = linux.maskedPaths ?? []
        plan.readonlyPaths = linux.readonlyPaths ?? []
        plan.sysctl = (linux.sysctl ?? [:]).sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }

        planProcess(process, into: &plan)
        if let p = linux.personality { plan.personality = p.domain == "LINUX32" ? CS_PER_LINUX32 : CS_PER_LINUX }
        try planSeccomp(linux.seccomp, process: process, into: &plan)
        plan.warnings += unappliedSettings(spec, options: options)
        DebugLog.note("plan: rootfs \(rootfs), \(plan.mounts.count) mounts, \(plan.joins.count) namespaces joined, "
                      + "seccomp \(plan.seccomp == nil ? "off" : "compiled"), process \(process.args ?? [])")
        return plan
    }

    /// The process half of a plan; also what `exec` uses.
    public func planProcess(_ process: Process, into plan: inout ContainerPlan) {
        plan.args = process.args ?? []
        plan.env = process.env ?? []
        plan.pathForLookup = plan.env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
        plan.cwd = process.cwd
        plan.uid = process.user.uid
        plan.gid = process.user.gid
        plan.additionalGids = process.user.additionalGids ?? []
        if let umask = process.user.umask { plan.umask = Int32(umask) }
        plan.capabilities = process.capabilities.map(capabilitySets)
        if var caps = plan.capabilities {
            // The kernel raises an ambient capability only when it is both permitted and
            // inheritable; runc and crun skip the others (`runc spec` lists ambient caps with no
            // inheritable set), so do we, and say so.
            let raisable = caps.ambient & caps.inheritable & caps.permitted
            if raisable != caps.ambient {
                let names = (process.capabilities?.ambient ?? []).filter { name in
                    capabilityNumber(name).map { $0 < 64 && raisable & (1 << UInt64($0)) == 0 } ?? false
                }
                plan.warnings.append("process.capabilities.ambient: \(names.joined(separator: ", ")) not raised: an ambient capability must also be inheritable and permitted")
                caps.ambient = raisable
                plan.capabilities = caps
            }
        }
        plan.rlimits = (process.rlimits ?? []).map { rl in
            ContainerPlan.Limit(resource: Int32(SpecValidator.rlimitNames.firstIndex(of: rl.type)!), soft: rl.soft, hard: rl.hard)
        }
        plan.noNewPrivileges = process.noNewPrivileges ?? false
        plan.oomScoreAdj = process.oomScoreAdj
        if let profile = process.apparmorProfile, !profile.isEmpty { plan.apparmorProfile = profile }
        plan.terminal = process.terminal ?? false
        if let size = process.consoleSize {
            plan.consoleWidth = UInt16(clamping: size.width)
            plan.consoleHeight = UInt16(clamping: size.height)
        }
    }

    /// A plan that runs `process` inside the namespaces of a running container's init: every
    /// namespace the config lists is joined through /proc/<pid>/ns. No rootfs setup: joining
    /// the mount namespace puts the process at the container's root.
    public func planExec(_ process: Process, config: Spec, initPid: Int32, options: PlanOptions,
                         applySeccomp: Bool = true) throws(RuntimeError) -> ContainerPlan {
        var issues = SpecValidator(isKnownCapability: { capabilityNumber($0) != nil })
            .validate(Spec(ociVersion: "1.0.0", process: process, root: Root(path: "/"), linux: Linux.withMount))
            .filter { $0.path.hasPrefix("process") }
        issues += securityModuleIssues(process, mountLabel: nil)
        if process.args?.isEmpty ?? true, !issues.contains(where: { $0.path == "process.args" }) {
            issues.append(ValidationIssue("process.args", "must not be empty"))
        }
        if !issues.isEmpty { throw .invalid(issues) }
        var plan = ContainerPlan()
        plan.execMode = true
        plan.preserveFds = options.preserveFds
        for (i, ns) in (config.linux?.namespaces ?? []).enumerated() {
            guard let kind = NamespaceKind(rawValue: ns.type) else { continue }
            let path = "/proc/\(initPid)/ns/\(ContainerPlanner.procName(kind))"
            if kind == .pid { plan.pidNamespacePath = path } else { plan.joins.append(.init(kind: kind, path: path, configIndex: i)) }
        }
        plan.joins.sort { rank($0.kind) < rank($1.kind) }
        plan.becomeRoot = plan.joins.contains { $0.kind == .user }
        planProcess(process, into: &plan)
        // An exec'd process lives under the container's seccomp profile, as with runc.
        if applySeccomp { try planSeccomp(config.linux?.seccomp, process: process, into: &plan) }
        return plan
    }

    private func planSeccomp(_ seccomp: Seccomp?, process: Process, into plan: inout ContainerPlan) throws(RuntimeError) {
        guard let seccomp else { return }
        var warnings: [String] = []
        let program: SeccompProgram
        do {
            program = try SeccompCompiler.compile(seccomp, noNewPrivileges: process.noNewPrivileges ?? false) { warnings.append($0) }
        } catch {
            throw .container(error.description)
        }
        plan.warnings += warnings
        if !program.skipped.isEmpty {
            plan.notes.append("linux.seccomp: syscalls unknown to this kernel/libseccomp skipped: \(program.skipped.joined(separator: " "))")
        }
        plan.seccomp = program
    }

    /// AppArmor and SELinux settings: applied where the host has the module, a clear error
    /// where it is asked for and the host has none.
    func securityModuleIssues(_ process: Process?, mountLabel: String?) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        if let profile = process?.apparmorProfile, !profile.isEmpty, !SecurityModules.appArmorEnabled {
            issues.append(.init("process.apparmorProfile", "\"\(profile)\" requested, but AppArmor is not enabled on this host"))
        }
        if let label = process?.selinuxLabel, !label.isEmpty {
            issues.append(.init("process.selinuxLabel", SecurityModules.selinuxEnabled
                ? "SELinux labels are not supported by this build" : "\"\(label)\" requested, but SELinux is not enabled on this host"))
        }
        if let label = mountLabel, !label.isEmpty {
            issues.append(.init("linux.mountLabel", SecurityModules.selinuxEnabled
                ? "SELinux labels are not supported by this build" : "\"\(label)\" requested, but SELinux is not enabled on this host"))
        }
        return issues
    }

    /// The name of a namespace under /proc/<pid>/ns.
    public static func procName(_ kind: NamespaceKind) -> String {
        switch kind {
        case .network: return "net"
        case .mount: return "mnt"
        default: return kind.rawValue
        }
    }

    private func planNamespaces(_ linux: Linux, into plan: inout ContainerPlan) {
        var created: UInt64 = 0
        var joins: [ContainerPlan.NamespaceJoin] = []
        for (i, ns) in (linux.namespaces ?? []).enumerated() {
            guard let kind = NamespaceKind(rawValue: ns.type) else { continue }
            if let path = ns.path {
                if kind == .pid { plan.pidNamespacePath = path } else {
                    joins.append(.init(kind: kind, path: path, configIndex: i))
                }
            } else if kind == .time {
                plan.timeNamespace = true
            } else {
                created |= ContainerPlanner.cloneFlag(kind)
            }
        }
        // The user namespace is joined first (it owns the others), the mount namespace last
        // (it changes what paths mean).
        plan.joins = joins.sorted { rank($0.kind) < rank($1.kind) }
        let joinsUser = joins.contains { $0.kind == .user }
        if joinsUser {
            // New namespaces must belong to the joined user namespace: create them after setns.
            plan.cloneFlags = created & CS_CLONE_NEWPID
            plan.unshareFlags = created & ~CS_CLONE_NEWPID
        } else {
            plan.cloneFlags = created
        }
        plan.newUserNamespace = created & CS_CLONE_NEWUSER != 0
        plan.becomeRoot = plan.newUserNamespace || joinsUser
        plan.uidMap = idMap(linux.uidMappings)
        plan.gidMap = idMap(linux.gidMappings)
        if plan.timeNamespace {
            var lines = ""
            // Clock ids of CLOCK_MONOTONIC and CLOCK_BOOTTIME.
            for (name, clock) in [("monotonic", 1), ("boottime", 7)] {
                if let o = linux.timeOffsets?[name] { lines += "\(clock) \(o.secs ?? 0) \(o.nanosecs ?? 0)\n" }
            }
            plan.timeOffsets = lines
        }
    }

    /// runc's rule for a runtime that is not root: the container needs a user namespace (whose
    /// maps the validator requires).
    private func checkRootless(_ linux: Linux, plan: ContainerPlan) throws(RuntimeError) {
        let joinsUser = plan.joins.contains { $0.kind == .user }
        if !plan.newUserNamespace && !joinsUser {
            let uid = geteuid()
            throw .invalid([ValidationIssue("linux.namespaces", "crun-swift runs as uid \(uid), not root: the container needs a user namespace (`crun-swift spec --rootless` writes a config with one)")])
        }
    }

    private func rank(_ kind: NamespaceKind) -> Int {
        switch kind {
        case .user: return 0
        case .mount: return 2
        default: return 1
        }
    }

    private func idMap(_ mappings: [IDMapping]?) -> String {
        (mappings ?? []).map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    }

    func planMounts(_ mounts: [Mount], bundle: String, hasNetworkNamespace: Bool, hasCgroupNamespace: Bool = false, cgroupBind: String? = nil,
                    warnings: inout [String]) throws(RuntimeError) -> [ContainerPlan.PlannedMount] {
        var planned: [ContainerPlan.PlannedMount] = []
        var host: CgroupHost?? = nil  // detected at the first `cgroup` mount
        for (i, m) in mounts.enumerated() {
            var options = MountOptions(m.options ?? [])
            if m.type == "cgroup" || m.type == "cgroup2", let cgroupBind {
                options = MountOptions((m.options ?? []).filter { $0 != "cgroup" } + ["rbind"])
                planned.append(.init(
                    source: cgroupBind, destination: m.destination.hasPrefix("/") ? m.destination : "/" + m.destination,
                    fstype: nil, data: options.data.isEmpty ? nil : options.data.joined(separator: ","),
                    flags: options.flags, propagation: options.propagation.last ?? 0,
                    attrSet: options.attrSet, attrClear: options.attrClear,
                    destinationIsFile: false, remount: options.needsRemount, sysfsFallback: false, configIndex: i))
                continue
            }
            if m.type == "bind" { options.flags |= CS_MS_BIND }
            for ignored in options.ignored {
                warnings.append("mounts[\(i)].options: \"\(ignored)\" is not applied by this build")
            }
            var source = m.source
            var fstype = m.type
            var isFile = false
            if options.isBind {
                let resolved = FileSystem.absolute(m.source ?? "", base: bundle)
                guard let isDir = isDirectory(resolved) else {
                    throw .invalid([ValidationIssue("mounts[\(i)].source", "\(resolved) does not exist")])
                }
                source = resolved
                isFile = !isDir
                fstype = nil
            } else if fstype == "cgroup" {
                // cgroup2 hosts: the unified hierarchy. v1 hosts (see below): the v1 hierarchies.
                fstype = "cgroup2"
                options.data.removeAll { $0 == "cgroup" }
            }
            var destination = m.destination
            if !destination.hasPrefix("/") {
                destination = "/" + destination
                warnings.append("mounts[\(i)].destination: \"\(m.destination)\" is relative (deprecated); mounted at \(destination)")
            }
            if m.type == "cgroup", !options.isBind, hasCgroupNamespace {
                if host == nil { host = .some(cgroupHost()) }
                if case .v1(let v1, let unified)?? = host {
                    // As runc: a tmpfs with one mount per hierarchy (and cgroup2 at unified on a
                    // hybrid host), each rooted at the container's cgroup by its cgroup namespace.
                    let fresh = options.flags & ~(CS_MS_RDONLY | CS_MS_REMOUNT | CS_MS_BIND)
                    planned.append(.init(source: "tmpfs", destination: destination, fstype: "tmpfs", data: "mode=755",
                                         flags: fresh | CS_MS_NOSUID | CS_MS_NODEV | CS_MS_NOEXEC, propagation: options.propagation.last ?? 0,
                                         attrSet: 0, attrClear: 0, destinationIsFile: false, remount: false, sysfsFallback: false, configIndex: i))
                    var subs = v1.hierarchies.map { h in (String(h.mountPoint.split(separator: "/").last ?? ""), "cgroup", h.controllers.joined(separator: ",")) }
                    if unified != nil { subs.append(("unified", "cgroup2", "")) }
                    for (name, type, data) in subs where !name.isEmpty {
                        planned.append(.init(source: type, destination: destination + "/" + name, fstype: type, data: data.isEmpty ? nil : data,
                                             flags: options.flags & ~(CS_MS_REMOUNT | CS_MS_BIND), propagation: 0, attrSet: 0, attrClear: 0,
                                             destinationIsFile: false, remount: false, sysfsFallback: false, configIndex: i))
                    }
                    continue
                }
            }
            planned.append(.init(
                source: source, destination: destination, fstype: fstype,
                data: options.data.isEmpty ? nil : options.data.joined(separator: ","),
                flags: options.flags, propagation: options.propagation.last ?? 0,
                attrSet: options.attrSet, attrClear: options.attrClear,
                destinationIsFile: isFile, remount: options.needsRemount,
                sysfsFallback: fstype == "sysfs" && !hasNetworkNamespace, configIndex: i))
        }
        return planned
    }

    /// The mapping of each idmapped mount: its own mappings, else the container's user
    /// namespace (its maps when it is new, its path when it is joined).
    func planIdmaps(_ mounts: [Mount], into plan: inout ContainerPlan) {
        let joinedUser = plan.joins.first { $0.kind == .user }?.path
        for i in plan.mounts.indices {
            let m = mounts[plan.mounts[i].configIndex]
            guard let request = m.idmapRequest else { continue }
            if request.hasMappings {
                plan.mounts[i].idmap = .init(uidMap: idMap(m.uidMappings), gidMap: idMap(m.gidMappings),
                                             userNamespacePath: nil, recursive: request.recursive)
            } else {
                plan.mounts[i].idmap = .init(uidMap: plan.uidMap, gidMap: plan.gidMap,
                                             userNamespacePath: plan.newUserNamespace ? nil : joinedUser,
                                             recursive: request.recursive)
            }
        }
    }

    func capabilitySets(_ caps: Capabilities) -> ContainerPlan.CapabilitySets {
        func mask(_ names: [String]?) -> UInt64 {
            var m: UInt64 = 0
            for name in names ?? [] {
                if let n = capabilityNumber(name), n <= lastCapability, n < 64 { m |= 1 << UInt64(n) }
            }
            return m
        }
        return .init(bounding: mask(caps.bounding), effective: mask(caps.effective),
                     permitted: mask(caps.permitted), inheritable: mask(caps.inheritable),
                     ambient: mask(caps.ambient))
    }

    /// Config settings this build reads but cannot apply yet; never dropped silently.
    func unappliedSettings(_ spec: Spec, options: PlanOptions) -> [String] {
        var out: [String] = []
        let linux = spec.linux
        if options.cgroups == .disabled, let r = linux?.resources, ContainerCgroup.asksForLimits(r) {
            out.append("linux.resources: not applied: --cgroup-manager=disabled leaves the container in the caller's cgroup")
        }
        if options.cgroups == .disabled, !(linux?.resources?.devices ?? []).isEmpty {
            out.append("linux.resources.devices: not applied: --cgroup-manager=disabled (no device filter)")
        }
        if linux?.intelRdt != nil { out.append("linux.intelRdt: not applied by this build") }
        if spec.process?.scheduler != nil { out.append("process.scheduler: not applied by this build") }
        if spec.process?.ioPriority != nil { out.append("process.ioPriority: not applied by this build") }
        if spec.process?.execCPUAffinity != nil { out.append("process.execCPUAffinity: not applied by this build") }
        if linux?.memoryPolicy != nil { out.append("linux.memoryPolicy: not applied by this build") }
        if !(linux?.netDevices ?? [:]).isEmpty { out.append("linux.netDevices: not applied by this build") }
        if let h = spec.hooks, [h.prestart, h.createRuntime, h.createContainer, h.startContainer, h.poststart, h.poststop].contains(where: { !($0 ?? []).isEmpty }) {
            out.append("hooks: not run by this build")
        }
        return out
    }
}

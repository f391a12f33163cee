import Cgroups
import Glibc
import JSONCore
import LinuxSys
import OCISpec

/// `--cgroup-manager`: cgroupfs (the default), systemd (cgroupfs with systemd's path naming:
/// crun-swift writes the files itself, it does not ask systemd for a scope), or disabled.
public enum CgroupMode: Sendable {
    case cgroupfs, systemd, disabled
}

/// A container's cgroup from its config: where it goes, what is written there, and the glue the
/// lifecycle verbs use.
public enum ContainerCgroup {
    public static func asksForLimits(_ r: Resources) -> Bool {
        r.memory != nil || r.cpu != nil || r.pids != nil || r.blockIO != nil || !(r.hugepageLimits ?? []).isEmpty
            || !(r.rdma ?? [:]).isEmpty || !(r.unified ?? [:]).isEmpty
    }

    /// A cgroup made for a container, and what to undo if the container does not come up.
    public struct Prepared {
        public let cgroup: any CgroupManager
        public let created: [String]
        /// How the init joins it (a cgroup2 directory to clone it into, v1 cgroup.procs files).
        public let placement: CgroupPlacement
        let sys: any Syscalls
        public var fd: Int32 { placement.cloneInto }

        /// The container never ran: remove what was made.
        public func discard() {
            if placement.cloneInto >= 0 { close(placement.cloneInto) }
            try? cgroup.destroy()
            Cgroup.removeCreated(created, sys: sys)
        }
    }

    /// Creates the container's cgroup with its limits and device filter, before the init is
    /// cloned into it. nil when cgroups are disabled, or when this host has no cgroup hierarchy
    /// and nothing was asked of it (a note says so). The driver follows the host: cgroup v2,
    /// or v1 controllers (hybrid: plus the cgroup2 hierarchy for membership).
    /// `record` runs with the cgroup before it is made (create writes its directories to the
    /// state, so that a crash from then on leaves a cgroup that `delete --force` finds).
    public static func prepare(_ spec: Spec, id: String, options: PlanOptions, warn: (String) -> Void,
                               debug: (String) -> Void, host: CgroupHost? = CgroupHost.detect(),
                               own: OwnCgroups = OwnCgroups.current(), sys: any Syscalls = LinuxSyscalls(),
                               record: (any CgroupManager) throws(RuntimeError) -> Void = { _ throws(RuntimeError) in }) throws(RuntimeError) -> Prepared? {
        guard options.cgroups != .disabled else { return nil }
        let resources = spec.linux?.resources
        do throws(RuntimeError) {
            switch host {
            case nil:
                if let r = resources, asksForLimits(r) {
                    throw .container("linux.resources: this host has no cgroup hierarchy (/sys/fs/cgroup is neither cgroup2 nor holds cgroup v1 controllers)")
                }
                debug("cgroups: no cgroup hierarchy on this host; the container stays in the caller's cgroup")
                return nil
            case .v1(let mounts, let unified)?:
                let cgroup = try cgroupStep { () throws(CgroupError) in
                    try CgroupV1Manager.plan(spec.linux?.cgroupsPath, id: id, systemd: options.cgroups == .systemd,
                                             mounts: mounts, unified: unified, own: own, sys: sys)
                }
                return try prepareV1(cgroup, sys: sys, resources: resources, devices: spec.linux?.devices ?? [], warn: warn, record: record)
            case .v2(let hierarchy)?:
                let relative = try cgroupStep { () throws(CgroupError) in
                    try CgroupHierarchy.containerPath(spec.linux?.cgroupsPath, id: id, systemd: options.cgroups == .systemd, own: own.of(""))
                }
                return try prepareV2(Cgroup(hierarchy: hierarchy, relative: relative, sys: sys), sys: sys, resources: resources, devices: spec.linux?.devices ?? [],
                                     rootless: options.rootlessCgroups, warn: warn, debug: debug, record: record)
            }
        } catch {
            // runc's rootless cgroups: no permission for a cgroup the config did not name and
            // that holds no limit means no cgroup at all (a delegated subtree is used when the
            // user owns one). Said once, under --debug: the container's stderr is not ours.
            guard options.rootlessCgroups, case .system(_, _, let e) = error, [EACCES, EPERM, EROFS].contains(e) else { throw error }
            let limits = resources.map(asksForLimits) ?? false
            if spec.linux?.cgroupsPath != nil || limits {
                throw .container("\(error.description) (running without root, crun-swift needs a cgroup it may write for \(limits ? "the limits in linux.resources" : "linux.cgroupsPath"): delegate a cgroup v2 subtree to the user, or remove them)")
            }
            debug("cgroups: rootless: no permission to create the container's cgroup (\(errnoString(e))); the container runs without a cgroup of its own (delegate a cgroup v2 subtree to the user to get one)")
            return nil
        }
    }

    static func prepareV2(_ cgroup: Cgroup, sys: any Syscalls, resources: Resources?, devices created: [Device], rootless: Bool,
                          warn: (String) -> Void, debug: (String) -> Void, record: (any CgroupManager) throws(RuntimeError) -> Void) throws(RuntimeError) -> Prepared {
        let conversion = try cgroupStep { () throws(CgroupError) in try CgroupResources.convert(resources ?? Resources()) }
        for w in conversion.warnings { warn(w) }
        let devices = try cgroupStep { () throws(CgroupError) in try CgroupResources.deviceRules(resources?.devices ?? [], created: created) }
        try cgroupStep { () throws(CgroupError) in try cgroup.requireVacant() }
        try record(cgroup)
        let made = try cgroupStep { () throws(CgroupError) in try cgroup.setUp(conversion.writes) }
        do throws(RuntimeError) {
            do throws(RuntimeError) {
                try cgroupStep { () throws(CgroupError) in try cgroup.applyDevices(devices) }
            } catch {
                // Loading a BPF device filter needs CAP_BPF or CAP_SYS_ADMIN on the host; a
                // rootless container cannot create device nodes anyway (they are bind-mounted).
                guard rootless, case .system(_, _, let e) = error, e == EPERM || e == EACCES else { throw error }
                debug("cgroups: rootless: no device filter on \(cgroup.path) (\(errnoString(e))); the user namespace keeps the container from creating device nodes")
            }
            DebugLog.note("cgroup: \(cgroup.path) (\(conversion.writes.count) limits, \(devices.count) device rules)")
            return Prepared(cgroup: cgroup, created: made, placement: try cgroupStep { () throws(CgroupError) in try cgroup.placement() }, sys: sys)
        } catch {
            Cgroup.removeCreated(made, sys: sys)
            throw error
        }
    }

    static func prepareV1(_ cgroup: CgroupV1Manager, sys: any Syscalls, resources: Resources?, devices created: [Device], warn: (String) -> Void,
                          record: (any CgroupManager) throws(RuntimeError) -> Void) throws(RuntimeError) -> Prepared {
        let (rest, unifiedWrites) = try cgroupStep { () throws(CgroupError) in try cgroup.unifiedShare(resources ?? Resources()) }
        let conversion = try cgroupStep { () throws(CgroupError) in try CgroupV1Resources.convert(rest) }
        for w in conversion.warnings { warn(w) }
        let devices = try cgroupStep { () throws(CgroupError) in try CgroupResources.deviceRules(resources?.devices ?? [], created: created) }
        for w in conversion.writes where cgroup.paths[w.controller ?? ""] == nil {
            throw .container("\(w.field): needs the \(w.controller ?? "?") controller, which is not mounted on this cgroup v1 host (mounted: \(cgroup.paths.keys.sorted().joined(separator: " ")))")
        }
        try cgroupStep { () throws(CgroupError) in try cgroup.requireVacant() }
        try record(cgroup)
        let made = try cgroupStep { () throws(CgroupError) in
            try cgroup.setUp(conversion.writes, unifiedWrites: unifiedWrites, devices: cgroup.paths["devices"] != nil ? devices : nil)
        }
        do throws(RuntimeError) {
            DebugLog.note("cgroup: v1 \(cgroup.directories.joined(separator: ", ")) (\(conversion.writes.count) limits, \(devices.count) device rules)")
            return Prepared(cgroup: cgroup, created: made, placement: try cgroupStep { () throws(CgroupError) in try cgroup.placement() }, sys: sys)
        } catch {
            Cgroup.removeCreated(made, sys: sys)
            throw error
        }
    }

    /// The cgroup recorded for a created container.
    public static func of(_ state: ContainerState) -> (any CgroupManager)? {
        if let paths = state.cgroupPaths, !paths.isEmpty { return CgroupV1Manager(controllerPaths: paths) }
        guard let path = state.cgroupPath, let hierarchy = CgroupHierarchy.detect(), path.hasPrefix(hierarchy.mount) else { return nil }
        return Cgroup(hierarchy: hierarchy, relative: String(path.dropFirst(hierarchy.mount.count)))
    }

    /// Kills what is left in the cgroup, waits until it is empty and removes it.
    static func destroy(_ cgroup: (any CgroupManager)?) throws(RuntimeError) {
        guard let cgroup else { return }
        try cgroupStep { () throws(CgroupError) in try cgroup.destroy() }
        DebugLog.note("delete: cgroup \(cgroup.path) removed")
    }

    static func required(_ state: ContainerState, for verb: String) throws(RuntimeError) -> any CgroupManager {
        guard let cgroup = of(state), cgroup.exists else {
            throw .container("\(verb): container \"\(state.id)\" has no cgroup (created with --cgroup-manager=disabled or on a host without cgroups)")
        }
        return cgroup
    }

    /// A line for stderr after the container's init died, when the OOM killer was involved.
    public static func oomReport(_ cgroup: any CgroupManager, id: String) -> String? {
        let kills = cgroup.oomKills
        guard kills > 0 else { return nil }
        return "container \"\(id)\": \(kills) process\(kills == 1 ? " was" : "es were") killed by the OOM killer (\(cgroup.memoryLimitText))"
    }

    // MARK: the verbs

    public static func pause(_ id: String, store: StateStore) throws(RuntimeError) {
        let state = try store.read(id)
        guard state.liveStatus == .running else { throw .container("cannot pause container \"\(id)\" (\(state.liveStatus.rawValue)): \(ContainerKill.notRunning)") }
        let cgroup = try required(state, for: "pause")
        try cgroupStep { () throws(CgroupError) in try cgroup.freeze(true) }
    }

    public static func resume(_ id: String, store: StateStore) throws(RuntimeError) {
        let state = try store.read(id)
        guard state.liveStatus == .paused else { throw .container("cannot resume container \"\(id)\" (\(state.liveStatus.rawValue)): container not paused") }
        let cgroup = try required(state, for: "resume")
        try cgroupStep { () throws(CgroupError) in try cgroup.freeze(false) }
    }

    /// `update`: new resources on a live container. `patch` is a linux.resources object;
    /// what it names replaces what the config had, what it omits stays.
    public static func update(_ id: String, patch: JSONValue, store: StateStore, warn: (String) -> Void) throws(RuntimeError) {
        let state = try store.read(id)
        guard state.liveStatus != .stopped else { throw .container("cannot update container \"\(id)\": it is stopped") }
        let cgroup = try required(state, for: "update")
        var patch = patch
        // --memory-swap alone: memory+swap is relative to the limit in force (as runc reads it).
        if case .object(var members) = patch, case .object(var memory)? = members["memory"], memory["swap"] != nil, memory["limit"] == nil,
           let current = cgroup.memoryLimit {
            memory["limit"] = .number("\(current)")
            members["memory"] = .object(memory)
            patch = .object(members)
        }
        let resources: Resources
        do {
            resources = try Resources(json: patch, path: "linux.resources")
        } catch {
            throw .config(error.description)
        }
        let issues = SpecValidator().validateResources(resources)
        if !issues.isEmpty { throw .invalid(issues) }
        if let m = resources.memory, m.checkBeforeUpdate == true, let limit = m.limit, limit > 0,
           let usage = cgroup.memoryUsage, usage > UInt64(limit) {
            throw .container("linux.resources.memory.limit: \(limit) is below the current usage \(usage) (checkBeforeUpdate)")
        }
        var devices: [CgroupResources.DeviceRule]?
        if let d = resources.devices {
            let config = try? Bundle.decodeSpec(try FileSystem.readFile(store.directory(id) + "/config.json"))
            devices = try cgroupStep { () throws(CgroupError) in try CgroupResources.deviceRules(d, created: config?.linux?.devices ?? []) }
        }
        try cgroupStep { () throws(CgroupError) in try cgroup.update(resources, devices: devices, warn: warn) }
    }

    /// runc's stats event for `events --stats` / `events`.
    public static func statsEvent(_ id: String, store: StateStore) throws(RuntimeError) -> JSONValue {
        let state = try store.read(id)
        let data: JSONValue
        if let cgroup = of(state), cgroup.exists {
            data = cgroup.stats()
        } else {
            let pids = state.initAlive ? ProcStat.processesInPidNamespace(of: state.pid).count : 0
            data = .object([("pids", .object([("current", .number("\(pids)"))]))])
        }
        return .object([("type", .string("stats")), ("id", .string(id)), ("data", data)])
    }

    /// `events`: a stats event every `interval` seconds and an "oom" event as soon as the
    /// kernel reports an OOM, until the container stops. v2: memory.events counts a new
    /// oom_kill (its change wakes the poll); v1: memory.oom_control's eventfd fires (runc's
    /// notification: also an OOM that oom_kill_disable leaves waiting), or, where the kernel
    /// refuses the eventfd, oom_kill in memory.oom_control grows.
    public static func stream(_ id: String, interval: Double, store: StateStore, emit: (JSONValue) -> Void) throws(RuntimeError) {
        var state = try store.read(id)
        let cgroup = of(state)
        var kills = cgroup?.oomKills ?? 0
        let v1Watch = cgroup?.controllerPaths["memory"].flatMap { CgroupV1OOMWatch(memoryDir: $0) }
        var fd: Int32 = -1
        if let cgroup, cgroup.controllerPaths.isEmpty { fd = open(cgroup.path + "/memory.events", O_RDONLY | O_CLOEXEC) }
        defer { if fd >= 0 { close(fd) } }
        var nextStats = 0.0
        while state.initAlive {
            let now = monotonicSeconds()
            if now >= nextStats {
                emit(try statsEvent(id, store: store))
                nextStats = now + interval
            }
            // The OOM source wakes the poll; otherwise a short slice.
            let timeout = Int32(min(max(nextStats - monotonicSeconds(), 0.01), 0.25) * 1000)
            if let v1Watch {
                var p = pollfd(fd: v1Watch.fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, timeout) == 1 {
                    if v1Watch.take() > 0 { emit(.object([("type", .string("oom")), ("id", .string(id))])) }  // one per wakeup, as runc
                }
            } else {
                var p = pollfd(fd: fd, events: Int16(POLLPRI), revents: 0)
                _ = poll(&p, fd >= 0 ? 1 : 0, timeout)
                if let cgroup {
                    let now = cgroup.oomKills
                    if now > kills {
                        kills = now
                        emit(.object([("type", .string("oom")), ("id", .string(id))]))
                    }
                }
            }
            state = try store.read(id)
        }
    }
}

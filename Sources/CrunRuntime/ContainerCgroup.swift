import CShim
import Glibc
import JSONCore
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
        public let cgroup: Cgroup
        public let created: [String]
        public let fd: Int32

        /// The container never ran: remove what was made.
        public func discard() {
            close(fd)
            try? cgroup.destroy()
            Cgroup.removeCreated(created)
        }
    }

    /// Creates the container's cgroup with its limits and device filter, before the init is
    /// cloned into it. nil when cgroups are disabled, or when this host has no cgroup2 hierarchy
    /// and nothing was asked of it (a note says so).
    /// `record` runs with the cgroup's directory before it is made (create writes it to the
    /// state, so that a crash from then on leaves a cgroup that `delete --force` finds).
    public static func prepare(_ spec: Spec, id: String, options: PlanOptions, warn: (String) -> Void,
                               debug: (String) -> Void,
                               record: (Cgroup) throws(RuntimeError) -> Void = { _ throws(RuntimeError) in }) throws(RuntimeError) -> Prepared? {
        guard options.cgroups != .disabled else { return nil }
        let resources = spec.linux?.resources
        guard let hierarchy = CgroupHierarchy.detect() else {
            if let r = resources, asksForLimits(r) {
                throw .container("linux.resources: this host has no cgroup2 hierarchy (neither /sys/fs/cgroup nor /sys/fs/cgroup/unified is cgroup2)")
            }
            debug("cgroups: no cgroup2 hierarchy on this host; the container stays in the caller's cgroup")
            return nil
        }
        let relative = try CgroupHierarchy.containerPath(spec.linux?.cgroupsPath, id: id, systemd: options.cgroups == .systemd,
                                                         own: CgroupHierarchy.ownCgroup())
        let conversion = try CgroupResources.convert(resources ?? Resources())
        for w in conversion.warnings { warn(w) }
        let devices = try CgroupResources.deviceRules(resources?.devices ?? [], created: spec.linux?.devices ?? [])
        var controllers: [String] = []
        for w in conversion.writes { if let c = w.controller, !controllers.contains(c) { controllers.append(c) } }
        let cgroup = Cgroup(hierarchy: hierarchy, relative: relative)
        if cgroup.exists, !cgroup.processes().isEmpty {
            throw .container("linux.cgroupsPath: the cgroup \(cgroup.path) already has processes (another container's?)")
        }
        try record(cgroup)
        // cgroup.controllers read once for both the check before mkdir and the writes.
        let offered = cgroup.available()
        let created: [String]
        do throws(RuntimeError) {
            created = try cgroup.create(controllers: controllers, offered: offered) { c in
                conversion.writes.first { $0.controller == c }?.field ?? "linux.resources"
            }
        } catch {
            // runc's rootless cgroups: no permission for a cgroup the config did not name and
            // that holds no limit means no cgroup at all (a delegated subtree is used when the
            // user owns one). Said once, under --debug: the container's stderr is not ours.
            guard options.rootlessCgroups, case .system(_, _, let e) = error, [EACCES, EPERM, EROFS].contains(e) else { throw error }
            if spec.linux?.cgroupsPath != nil || !controllers.isEmpty {
                throw .container("\(error.description) (running without root, crun-swift needs a cgroup it may write for \(controllers.isEmpty ? "linux.cgroupsPath" : "the limits in linux.resources"): delegate a cgroup v2 subtree to the user, or remove them)")
            }
            debug("cgroups: rootless: no permission to create \(cgroup.path) (\(errnoString(e))); the container runs without a cgroup of its own (delegate a cgroup v2 subtree to the user to get one)")
            return nil
        }
        do throws(RuntimeError) {
            try cgroup.apply(conversion.writes, offered: offered)
            do throws(RuntimeError) {
                try cgroup.applyDevices(devices)
            } catch {
                // Loading a BPF device filter needs CAP_BPF or CAP_SYS_ADMIN on the host; a
                // rootless container cannot create device nodes anyway (they are bind-mounted).
                guard options.rootlessCgroups, case .system(_, _, let e) = error, e == EPERM || e == EACCES else { throw error }
                debug("cgroups: rootless: no device filter on \(cgroup.path) (\(errnoString(e))); the user namespace keeps the container from creating device nodes")
            }
            DebugLog.note("cgroup: \(cgroup.path) (\(conversion.writes.count) limits, \(devices.count) device rules)")
            return Prepared(cgroup: cgroup, created: created, fd: try cgroup.openDirectory())
        } catch {
            Cgroup.removeCreated(created)
            throw error
        }
    }

    /// The cgroup recorded for a created container.
    public static func of(_ state: ContainerState) -> Cgroup? {
        guard let path = state.cgroupPath, let hierarchy = CgroupHierarchy.detect(), path.hasPrefix(hierarchy.mount) else { return nil }
        return Cgroup(hierarchy: hierarchy, relative: String(path.dropFirst(hierarchy.mount.count)))
    }

    static func required(_ state: ContainerState, for verb: String) throws(RuntimeError) -> Cgroup {
        guard let cgroup = of(state), cgroup.exists else {
            throw .container("\(verb): container \"\(state.id)\" has no cgroup (created with --cgroup-manager=disabled or on a host without cgroup2)")
        }
        return cgroup
    }

    /// A line for stderr after the container's init died, when the OOM killer was involved.
    public static func oomReport(_ cgroup: Cgroup, id: String) -> String? {
        let kills = cgroup.oomKills
        guard kills > 0 else { return nil }
        let limit = (cgroup.read("memory.max") ?? "?").trimmingCharacters(in: "\n")
        return "container \"\(id)\": \(kills) process\(kills == 1 ? " was" : "es were") killed by the OOM killer (memory.max \(limit))"
    }

    // MARK: the verbs

    public static func pause(_ id: String, store: StateStore) throws(RuntimeError) {
        let state = try store.read(id)
        guard state.liveStatus == .running else { throw .container("cannot pause container \"\(id)\" (\(state.liveStatus.rawValue)): \(ContainerKill.notRunning)") }
        try required(state, for: "pause").freeze(true)
    }

    public static func resume(_ id: String, store: StateStore) throws(RuntimeError) {
        let state = try store.read(id)
        guard state.liveStatus == .paused else { throw .container("cannot resume container \"\(id)\" (\(state.liveStatus.rawValue)): container not paused") }
        try required(state, for: "resume").freeze(false)
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
           let current = cgroup.read("memory.max")?.trimmingCharacters(in: "\n"), Int64(current) != nil {
            memory["limit"] = .number(current)
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
           let usage = UInt64((cgroup.read("memory.current") ?? "").trimmingCharacters(in: "\n")), usage > UInt64(limit) {
            throw .container("linux.resources.memory.limit: \(limit) is below the current usage \(usage) (checkBeforeUpdate)")
        }
        let conversion = try CgroupResources.convert(resources)
        for w in conversion.warnings { warn(w) }
        var controllers: [String] = []
        for w in conversion.writes { if let c = w.controller, !controllers.contains(c) { controllers.append(c) } }
        _ = try cgroup.create(controllers: controllers) { c in conversion.writes.first { $0.controller == c }?.field ?? "linux.resources" }
        try cgroup.apply(conversion.writes)
        if let devices = resources.devices {
            let config = try? Bundle.decodeSpec(try FileSystem.readFile(store.directory(id) + "/config.json"))
            try cgroup.applyDevices(try CgroupResources.deviceRules(devices, created: config?.linux?.devices ?? []))
        }
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

    /// `events`: a stats event every `interval` seconds and an "oom" event as soon as
    /// memory.events counts a new OOM kill, until the container stops.
    public static func stream(_ id: String, interval: Double, store: StateStore, emit: (JSONValue) -> Void) throws(RuntimeError) {
        var state = try store.read(id)
        let cgroup = of(state)
        var kills = cgroup?.oomKills ?? 0
        var fd: Int32 = -1
        if let cgroup { fd = open(cgroup.path + "/memory.events", O_RDONLY | O_CLOEXEC) }
        defer { if fd >= 0 { close(fd) } }
        var nextStats = 0.0
        while state.initAlive {
            let now = monotonicSeconds()
            if now >= nextStats {
                emit(try statsEvent(id, store: store))
                nextStats = now + interval
            }
            // memory.events changes wake the poll (POLLPRI); otherwise a short slice.
            var p = pollfd(fd: fd, events: Int16(POLLPRI), revents: 0)
            _ = poll(&p, fd >= 0 ? 1 : 0, Int32(min(max(nextStats - monotonicSeconds(), 0.01), 0.25) * 1000))
            if let cgroup {
                let now = cgroup.oomKills
                if now > kills {
                    kills = now
                    emit(.object([("type", .string("oom")), ("id", .string(id))]))
                }
            }
            state = try store.read(id)
        }
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

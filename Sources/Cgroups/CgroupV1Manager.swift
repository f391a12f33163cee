import CShim
import Glibc
import JSONCore
import OCISpec

/// One container's cgroup on a cgroup v1 host: a directory in every mounted v1 hierarchy
/// (co-mounted controllers such as cpu,cpuacct share one) and, on a hybrid host, one in the
/// cgroup2 hierarchy too, which holds no controller but the membership (runc does the same).
/// Limits go to the v1 files; pause and resume through the freezer; kill and delete walk
/// every directory.
public struct CgroupV1Manager: CgroupManager {
    /// controller -> directory, e.g. "memory": "/sys/fs/cgroup/memory/default/web".
    public let paths: [String: String]
    /// Hybrid host: the container's cgroup2 directory.
    public let unified: Cgroup?

    public init(paths: [String: String], unified: Cgroup?) {
        self.paths = paths
        self.unified = unified
    }

    /// Rebuilt from `controllerPaths` (as a state file records them).
    public init(controllerPaths: [String: String]) {
        var p = controllerPaths
        let u = p.removeValue(forKey: "unified")
        paths = p
        unified = u.map { Cgroup(hierarchy: CgroupHierarchy(mount: "", hybrid: true), relative: $0) }
    }

    /// Where a container's cgroups go, as runc maps linux.cgroupsPath on v1: an absolute path
    /// below every hierarchy's root; a relative one (or none: the container's id) below the
    /// caller's own cgroup in that hierarchy; systemd's slice:prefix:name as the scope's path.
    public static func plan(_ cgroupsPath: String?, id: String, systemd: Bool, mounts: CgroupV1Mounts,
                            unified: CgroupHierarchy?, own: OwnCgroups) throws(RuntimeError) -> CgroupV1Manager {
        var paths: [String: String] = [:]
        for h in mounts.hierarchies {
            let relative = try CgroupHierarchy.containerPath(cgroupsPath, id: id, systemd: systemd, own: own.of(h.controllers[0]))
            // A mount of part of the tree (a container's /sys/fs/cgroup) shows `root` at its top.
            let inside = h.root != "/" && (relative == h.root || relative.hasPrefix(h.root + "/"))
                ? String(relative.dropFirst(h.root.count)) : relative
            for c in h.controllers { paths[c] = h.mountPoint + inside }
        }
        var cgroup2: Cgroup?
        if let unified {
            cgroup2 = Cgroup(hierarchy: unified, relative: try CgroupHierarchy.containerPath(cgroupsPath, id: id, systemd: systemd, own: own.of("")))
        }
        return CgroupV1Manager(paths: paths, unified: cgroup2)
    }

    /// The directories, once each (v1 first, the cgroup2 one last).
    public var directories: [String] {
        var out: [String] = []
        for c in paths.keys.sorted() where !out.contains(paths[c]!) { out.append(paths[c]!) }
        if let unified { out.append(unified.path) }
        return out
    }

    public var path: String { paths["freezer"] ?? paths["memory"] ?? directories.first ?? "" }

    public var controllerPaths: [String: String] {
        var p = paths
        if let unified { p["unified"] = unified.path }
        return p
    }

    public var exists: Bool { directories.contains { access($0 + "/cgroup.procs", F_OK) == 0 } }

    /// A file of `controller`'s directory (nil: no such controller or file). For stats.
    public func read(_ controller: String, _ file: String) -> String? {
        guard let dir = paths[controller] else { return nil }
        return (try? FileSystem.readFile(dir + "/" + file)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A number file ("-1" and the kernel's "unlimited" 2^63-4096 and above read as nil).
    public func number(_ controller: String, _ file: String) -> UInt64? {
        guard let s = read(controller, file)?.trimmingCharacters(in: "\n") else { return nil }
        return UInt64(s)
    }

    /// "key value" lines (memory.stat, cpu.stat, memory.oom_control, cpuacct.stat).
    public func keyed(_ controller: String, _ file: String) -> [(String, UInt64)] {
        (read(controller, file) ?? "").split(separator: "\n").compactMap { line in
            let p = line.split(separator: " ")
            guard p.count == 2, let v = UInt64(p[1]) else { return nil }
            return (String(p[0]), v)
        }
    }

    static func procs(_ dir: String) -> [pid_t] {
        ((try? FileSystem.readFile(dir + "/cgroup.procs")).map { String(decoding: $0, as: UTF8.self) } ?? "")
            .split(separator: "\n").compactMap { pid_t($0) }
    }

    public func processes() -> [pid_t] {
        var seen = Set<pid_t>()
        var out: [pid_t] = []
        for dir in directories { for p in CgroupV1Manager.procs(dir) where seen.insert(p).inserted { out.append(p) } }
        return out
    }

    // MARK: creation and limits

    /// Makes every directory (and missing parents), outermost first in the result. A new
    /// cpuset gets its parent's cpus and mems when it has none, as nothing could join it
    /// otherwise (runc does the same).
    public func create() throws(RuntimeError) -> [String] {
        var created: [String] = []
        do throws(RuntimeError) {
            for dir in directories {
                var current = ""
                for component in dir.split(separator: "/") {
                    let parent = current
                    current += "/" + component
                    if mkdir(current, 0o755) == 0 {
                        created.append(current)
                        try CgroupV1Manager.inheritCpuset(current, parent: parent)
                    } else if errno != EEXIST {
                        throw RuntimeError.system(step: "linux.cgroupsPath: create the cgroup", subject: current, errno: errno)
                    }
                }
            }
        } catch {
            Cgroup.removeCreated(created)
            throw error
        }
        return created
    }

    static func inheritCpuset(_ dir: String, parent: String) throws(RuntimeError) {
        for file in ["cpuset.cpus", "cpuset.mems"] where access(dir + "/" + file, F_OK) == 0 {
            let mine = (try? FileSystem.readFile(dir + "/" + file)) ?? []
            guard mine.allSatisfy({ $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: " ") }) else { continue }
            let theirs = String(decoding: (try? FileSystem.readFile(parent + "/" + file)) ?? [], as: UTF8.self).trimmingCharacters(in: "\n")
            try FileSystem.writeFile(dir + "/" + file, theirs, step: "cpuset: copy the parent's \(file) (\"\(theirs)\") to")
        }
    }

    /// Writes the converted resources in order; an error names the field, controller, file,
    /// value and the kernel's reason.
    public func apply(_ writes: [CgroupResources.Write]) throws(RuntimeError) {
        var writes = writes
        // memory.memsw.limit_in_bytes >= memory.limit_in_bytes at every step: raising both
        // starts with memsw (runc's order).
        if let l = writes.firstIndex(where: { $0.file == "memory.limit_in_bytes" }),
           let s = writes.firstIndex(where: { $0.file == "memory.memsw.limit_in_bytes" }), s > l,
           let swap = Int64(writes[s].value) {
            let current = number("memory", "memory.limit_in_bytes") ?? 0
            if swap == -1 || current < UInt64(swap) { writes.swapAt(l, s) }
        }
        var deferred: CgroupResources.Write?
        for w in writes {
            guard let controller = w.controller, let dir = paths[controller] else {
                throw .container("\(w.field): needs the \(w.controller ?? "?") controller, which is not mounted on this cgroup v1 host (mounted: \(paths.keys.sorted().joined(separator: " ")))")
            }
            var file = w.file
            // BFQ's weights where the kernel has no CFQ ones.
            if file.hasPrefix("blkio.weight"), access(dir + "/" + file, F_OK) != 0, access(dir + "/blkio.bfq." + file.dropFirst(6), F_OK) == 0 {
                file = "blkio.bfq." + file.dropFirst(6)
            }
            // Unlimited swap on a kernel without swap accounting: nothing to write (runc).
            if file == "memory.memsw.limit_in_bytes", w.value == "-1", access(dir + "/" + file, F_OK) != 0 { continue }
            let e = CgroupV1Manager.write(dir + "/" + file, w.value)
            if e == EINVAL, file == "cpu.cfs_period_us", writes.contains(where: { $0.file == "cpu.cfs_quota_us" }) {
                deferred = w  // the quota in force does not fit the new period: after the quota
                continue
            }
            if e != 0 { throw CgroupV1Manager.failure(w, controller: controller, dir: dir, file: file, errno: e) }
            if file == "cpu.cfs_quota_us", let d = deferred {
                let e = CgroupV1Manager.write(dir + "/" + d.file, d.value)
                if e != 0 { throw CgroupV1Manager.failure(d, controller: controller, dir: dir, file: d.file, errno: e) }
                deferred = nil
            }
            if file == "cpu.shares", let got = number("cpu", "cpu.shares"), "\(got)" != w.value {
                throw .container("\(w.field): cpu: cpu.shares: the kernel set \(got) for \(w.value) (it allows 2 to 262144)")
            }
        }
    }

    /// 0 or the errno of opening or writing the file.
    static func write(_ file: String, _ value: String) -> Int32 {
        let fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC)  // kernfs ignores O_TRUNC; stand-ins need it
        if fd < 0 { return errno }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        return n == bytes.count ? 0 : (n < 0 ? errno : EIO)
    }

    static func failure(_ w: CgroupResources.Write, controller: String, dir: String, file: String, errno e: Int32) -> RuntimeError {
        let hint = CgroupV1Resources.hint(file, errno: e).map { " (\($0))" } ?? ""
        if e == ENOENT {
            return .container("\(w.field): \(controller) controller: \(file) does not exist in \(dir)\(hint)")
        }
        return .container("\(w.field): \(controller) controller: \(file): write \"\(w.value)\" in \(dir): \(errnoString(e))\(hint)")
    }

    public func applyDevices(_ rules: [CgroupResources.DeviceRule]) throws(RuntimeError) {
        guard paths["devices"] != nil else {
            throw .container("linux.resources.devices: the devices controller is not mounted on this cgroup v1 host: the container's device access cannot be limited")
        }
        try apply(CgroupV1Resources.deviceWrites(rules))
    }

    public func update(_ resources: Resources, devices: [CgroupResources.DeviceRule]?, warn: (String) -> Void) throws(RuntimeError) {
        let (rest, unifiedWrites) = try unifiedShare(resources)
        let conversion = try CgroupV1Resources.convert(rest)
        for w in conversion.warnings { warn(w) }
        try apply(conversion.writes)
        if let unified, !unifiedWrites.isEmpty { try unified.apply(unifiedWrites, offered: ["hugetlb"]) }
        if let devices { try applyDevices(devices) }
    }

    /// hugetlb on a hybrid host that mounts no v1 hugetlb hierarchy but offers the controller
    /// on cgroup2 (this machine): those limits go to the cgroup2 directory, in v2's files.
    /// Returns the rest of the resources and the cgroup2 writes.
    func unifiedShare(_ r: Resources) throws(RuntimeError) -> (Resources, [CgroupResources.Write]) {
        guard let unified, let pages = r.hugepageLimits, !pages.isEmpty, paths["hugetlb"] == nil else { return (r, []) }
        // Made by create: the hierarchy's root says what it offers; rebuilt from a state file:
        // the container's own cgroup.controllers (enabled for it when it was made).
        let offered = unified.hierarchy.mount.isEmpty
            ? String(decoding: (try? FileSystem.readFile(unified.path + "/cgroup.controllers")) ?? [], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
            : unified.available()
        guard offered.contains("hugetlb") else { return (r, []) }
        var only = Resources()
        only.hugepageLimits = pages
        var rest = r
        rest.hugepageLimits = nil
        return (rest, try CgroupResources.convert(only).writes)
    }

    public func placement() throws(RuntimeError) -> CgroupPlacement {
        var p = CgroupPlacement()
        p.procsFiles = directories.filter { $0 != unified?.path }.map { $0 + "/cgroup.procs" }
        if let unified, unified.exists { p.cloneInto = try unified.openDirectory() }
        return p
    }

    // MARK: freezer

    public var frozen: Bool {
        if let s = read("freezer", "freezer.state") { return s.hasPrefix("FROZEN") }
        return unified?.frozen ?? false
    }

    /// freezer.state FROZEN (or THAWED), written again until the kernel reads back the state:
    /// processes forked while freezing are caught by the next write.
    public func freeze(_ on: Bool) throws(RuntimeError) {
        guard let dir = paths["freezer"] else {
            guard let unified else { throw .container("\(on ? "pause" : "resume"): the freezer controller is not mounted on this cgroup v1 host") }
            return try unified.freeze(on)
        }
        let want = on ? "FROZEN" : "THAWED"
        let deadline = ContainerCgroup.monotonicSeconds() + 10
        while true {
            let e = CgroupV1Manager.write(dir + "/freezer.state", want)
            if e != 0 { throw .system(step: "\(on ? "pause" : "resume"): write \(want) to", subject: dir + "/freezer.state", errno: e) }
            if read("freezer", "freezer.state")?.hasPrefix(want) == true { return }
            if ContainerCgroup.monotonicSeconds() > deadline {
                if on { _ = CgroupV1Manager.write(dir + "/freezer.state", "THAWED") }
                throw .container("\(on ? "pause" : "resume"): \(dir) did not become \(want) within 10 s (freezer.state: \(read("freezer", "freezer.state")?.trimmingCharacters(in: "\n") ?? "?"))")
            }
            usleep(1000)
        }
    }

    // MARK: kill and removal

    /// Every process below every directory. SIGKILL freezes first (where the freezer is), so
    /// nothing forks between the listing and the signal, then thaws so the kill lands.
    public func signalAll(_ signal: Int32) throws(RuntimeError) {
        let freeze = signal == SIGKILL && paths["freezer"] != nil && !frozen
        if freeze { try? self.freeze(true) }
        for dir in directories {
            for sub in Cgroup(hierarchy: CgroupHierarchy(mount: "", hybrid: true), relative: dir).descendants() {
                for pid in CgroupV1Manager.procs(sub) { _ = kill(pid, signal) }
            }
        }
        if signal == SIGKILL, paths["freezer"] != nil { try? self.freeze(false) }
    }

    /// Kills what is left, waits until every directory is empty and removes them (with the
    /// cgroups the container made below them), in every hierarchy.
    public func destroy() throws(RuntimeError) {
        guard exists else { return }
        let deadline = ContainerCgroup.monotonicSeconds() + 10
        while !processes().isEmpty || directories.contains(where: { !Cgroup.entries($0).filter(\.isDirectory).isEmpty }) {
            try signalAll(SIGKILL)
            var removedChildren = true
            for dir in directories {
                let walk = Cgroup(hierarchy: CgroupHierarchy(mount: "", hybrid: true), relative: dir).descendants().dropLast()
                for sub in walk where rmdir(sub) < 0 && errno != ENOENT { removedChildren = false }
            }
            if processes().isEmpty && removedChildren { break }
            if ContainerCgroup.monotonicSeconds() > deadline {
                throw .container("delete: the cgroups \(directories.joined(separator: ", ")) still hold processes \(processes().map(String.init).joined(separator: " ")) after SIGKILL")
            }
            usleep(10_000)
        }
        for dir in directories where rmdir(dir) < 0 && errno != ENOENT {
            // The kernel may say a cgroup is empty a moment after its last process died.
            var e = errno
            while e == EBUSY && ContainerCgroup.monotonicSeconds() < deadline {
                usleep(10_000)
                e = rmdir(dir) == 0 ? 0 : errno
            }
            if e != 0 && e != ENOENT { throw .system(step: "delete: remove the cgroup", subject: dir, errno: e) }
        }
        DebugLog.note("delete: cgroups \(directories.joined(separator: ", ")) removed")
    }

    // MARK: memory

    /// memory.oom_control's oom_kill (kernels since 4.13).
    public var oomKills: UInt64 { keyed("memory", "memory.oom_control").first { $0.0 == "oom_kill" }?.1 ?? 0 }

    public var memoryLimitText: String {
        "memory.limit_in_bytes \(read("memory", "memory.limit_in_bytes")?.trimmingCharacters(in: "\n") ?? "?")"
    }

    /// The kernel reports "no limit" as the largest multiple of the page size below 2^63.
    public var memoryLimit: Int64? {
        guard let v = number("memory", "memory.limit_in_bytes"), v < UInt64(Int64.max) - (1 << 20) else { return nil }
        return Int64(v)
    }

    public var memoryUsage: UInt64? { number("memory", "memory.usage_in_bytes") }
}

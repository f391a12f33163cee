import CShim
import Glibc
import LinuxSys
import JSONCore
import OCISpec

/// One container's cgroup on a cgroup v1 host: a directory in every mounted v1 hierarchy
/// (co-mounted controllers such as cpu,cpuacct share one) and, on a hybrid host, one in the
/// cgroup2 hierarchy too, which holds no controller but the membership (runc does the same).
/// Limits go to the v1 files; pause and resume through the freezer; kill and delete walk
/// every directory.
/// (@unchecked: `sys` is a class; a manager is used by one thread at a time.)
public struct CgroupV1Manager: CgroupManager, @unchecked Sendable {
    /// controller -> directory, e.g. "memory": "/sys/fs/cgroup/memory/default/web".
    public let paths: [String: String]
    /// Hybrid host: the container's cgroup2 directory.
    public let unified: Cgroup?
    let sys: any Syscalls

    public init(paths: [String: String], unified: Cgroup?, sys: any Syscalls = LinuxSyscalls()) {
        self.paths = paths
        self.unified = unified
        self.sys = sys
    }

    /// Rebuilt from `controllerPaths` (as a state file records them).
    public init(controllerPaths: [String: String], sys: any Syscalls = LinuxSyscalls()) {
        var p = controllerPaths
        let u = p.removeValue(forKey: "unified")
        paths = p
        unified = u.map { Cgroup(directory: $0, sys: sys) }
        self.sys = sys
    }

    /// Where a container's cgroups go, as runc maps linux.cgroupsPath on v1: an absolute path
    /// below every hierarchy's root; a relative one (or none: the container's id) below the
    /// caller's own cgroup in that hierarchy; systemd's slice:prefix:name as the scope's path.
    public static func plan(_ cgroupsPath: String?, id: String, systemd: Bool, mounts: CgroupV1Mounts,
                            unified: CgroupHierarchy?, own: OwnCgroups, sys: any Syscalls = LinuxSyscalls()) throws(CgroupError) -> CgroupV1Manager {
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
            cgroup2 = Cgroup(hierarchy: unified, relative: try CgroupHierarchy.containerPath(cgroupsPath, id: id, systemd: systemd, own: own.of("")), sys: sys)
        }
        return CgroupV1Manager(paths: paths, unified: cgroup2, sys: sys)
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

    public var exists: Bool { directories.contains { sys.exists($0 + "/cgroup.procs") } }

    /// A file of `controller`'s directory (nil: no such controller or file). For stats.
    public func read(_ controller: String, _ file: String) -> String? {
        guard let dir = paths[controller] else { return nil }
        return (try? sys.readFile(dir + "/" + file)).map { String(decoding: $0, as: UTF8.self) }
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


    public func processes() -> [pid_t] {
        var seen = Set<pid_t>()
        var out: [pid_t] = []
        for dir in directories { for p in Cgroup(directory: dir, sys: sys).processes() where seen.insert(p).inserted { out.append(p) } }
        return out
    }

    // MARK: creation and limits

    /// Makes every directory (and missing parents), outermost first in the result. A new
    /// cpuset gets its parent's cpus and mems when it has none, as nothing could join it
    /// otherwise (runc does the same).
    public func create() throws(CgroupError) -> [String] {
        var created: [String] = []
        do throws(CgroupError) {
            for dir in directories {
                created += try Cgroup.makePath("", dir.split(separator: "/").map(String.init), sys: sys,
                                               made: { dir, parent throws(CgroupError) in try inheritCpuset(dir, parent: parent) })
            }
        } catch {
            Cgroup.removeCreated(created, sys: sys)
            throw error
        }
        return created
    }

    /// The container's cgroups made and their limits written: the cgroup2 directory first
    /// when hugetlb goes there (`unifiedWrites`), then one directory per hierarchy, then the
    /// writes, the cgroup2 ones and the device rules (devices.deny/allow; nil: none). On a
    /// failure what was made is removed again. Returns the directories made.
    public func setUp(_ writes: [CgroupResources.Write], unifiedWrites: [CgroupResources.Write] = [],
                      devices: [CgroupResources.DeviceRule]? = nil) throws(CgroupError) -> [String] {
        var made: [String] = []
        do throws(CgroupError) {
            if let unified, !unifiedWrites.isEmpty {
                made = try unified.create(controllers: ["hugetlb"]) { _ in unifiedWrites[0].field }
            }
            made += try create()
            try apply(writes)
            if let unified, !unifiedWrites.isEmpty { try unified.apply(unifiedWrites) }
            if let devices { try applyDevices(devices) }
        } catch {
            Cgroup.removeCreated(made, sys: sys)
            throw error
        }
        return made
    }

    func inheritCpuset(_ dir: String, parent: String) throws(CgroupError) {
        for file in ["cpuset.cpus", "cpuset.mems"] where sys.exists(dir + "/" + file) {
            let mine = (try? sys.readFile(dir + "/" + file)) ?? []
            guard mine.allSatisfy({ $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: " ") }) else { continue }
            let theirs = String(decoding: (try? sys.readFile(parent + "/" + file)) ?? [], as: UTF8.self).trimmingCharacters(in: "\n")
            do {
                try sys.overwriteFile(dir + "/" + file, theirs)
            } catch {
                throw CgroupError("cpuset: copy the parent's \(file) (\"\(theirs)\") to", dir + "/" + file, error)
            }
        }
    }

    /// Writes the converted resources in order; an error names the field, controller, file,
    /// value and the kernel's reason.
    public func apply(_ writes: [CgroupResources.Write]) throws(CgroupError) {
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
            if file.hasPrefix("blkio.weight"), !sys.exists(dir + "/" + file), sys.exists(dir + "/blkio.bfq." + file.dropFirst(6)) {
                file = "blkio.bfq." + file.dropFirst(6)
            }
            // Unlimited swap on a kernel without swap accounting: nothing to write (runc).
            if file == "memory.memsw.limit_in_bytes", w.value == "-1", !sys.exists(dir + "/" + file) { continue }
            let e = write(dir + "/" + file, w.value)
            if e == EINVAL, file == "cpu.cfs_period_us", writes.contains(where: { $0.file == "cpu.cfs_quota_us" }) {
                deferred = w  // the quota in force does not fit the new period: after the quota
                continue
            }
            if e != 0 { throw CgroupV1Manager.failure(w, controller: controller, dir: dir, file: file, errno: e) }
            if file == "cpu.cfs_quota_us", let d = deferred {
                let e = write(dir + "/" + d.file, d.value)
                if e != 0 { throw CgroupV1Manager.failure(d, controller: controller, dir: dir, file: d.file, errno: e) }
                deferred = nil
            }
            if file == "cpu.shares", let got = number("cpu", "cpu.shares"), "\(got)" != w.value {
                throw .container("\(w.field): cpu: cpu.shares: the kernel set \(got) for \(w.value) (it allows 2 to 262144)")
            }
        }
    }

    /// 0 or the errno of opening or writing the file.
    func write(_ file: String, _ value: String) -> Int32 {
        do { try sys.overwriteFile(file, value) } catch { return error.errno }
        return 0
    }

    static func failure(_ w: CgroupResources.Write, controller: String, dir: String, file: String, errno e: Int32) -> CgroupError {
        let hint = CgroupV1Resources.hint(file, errno: e).map { " (\($0))" } ?? ""
        if e == ENOENT {
            return .container("\(w.field): \(controller) controller: \(file) does not exist in \(dir)\(hint)")
        }
        return .container("\(w.field): \(controller) controller: \(file): write \"\(w.value)\" in \(dir): \(errnoText(e))\(hint)")
    }

    public func applyDevices(_ rules: [CgroupResources.DeviceRule]) throws(CgroupError) {
        guard paths["devices"] != nil else {
            throw .container("linux.resources.devices: the devices controller is not mounted on this cgroup v1 host: the container's device access cannot be limited")
        }
        try apply(CgroupV1Resources.deviceWrites(rules))
    }

    public func update(_ resources: Resources, devices: [CgroupResources.DeviceRule]?, warn: (String) -> Void) throws(CgroupError) {
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
    public func unifiedShare(_ r: Resources) throws(CgroupError) -> (Resources, [CgroupResources.Write]) {
        guard let unified, let pages = r.hugepageLimits, !pages.isEmpty, paths["hugetlb"] == nil else { return (r, []) }
        // Made by create: the hierarchy's root says what it offers; rebuilt from a state file:
        // the container's own cgroup.controllers (enabled for it when it was made).
        let offered = unified.hierarchy.mount.isEmpty
            ? String(decoding: (try? sys.readFile(unified.path + "/cgroup.controllers")) ?? [], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
            : unified.available()
        guard offered.contains("hugetlb") else { return (r, []) }
        var only = Resources()
        only.hugepageLimits = pages
        var rest = r
        rest.hugepageLimits = nil
        return (rest, try CgroupResources.convert(only).writes)
    }

    public func placement() throws(CgroupError) -> CgroupPlacement {
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
    public func freeze(_ on: Bool) throws(CgroupError) {
        guard let dir = paths["freezer"] else {
            guard let unified else { throw .container("\(on ? "pause" : "resume"): the freezer controller is not mounted on this cgroup v1 host") }
            return try unified.freeze(on)
        }
        let want = on ? "FROZEN" : "THAWED"
        let deadline = sys.monotonicSeconds() + 10
        while true {
            let e = write(dir + "/freezer.state", want)
            if e != 0 { throw .system(step: "\(on ? "pause" : "resume"): write \(want) to", subject: dir + "/freezer.state", errno: e) }
            if read("freezer", "freezer.state")?.hasPrefix(want) == true { return }
            if sys.monotonicSeconds() > deadline {
                if on { _ = write(dir + "/freezer.state", "THAWED") }
                throw .container("\(on ? "pause" : "resume"): \(dir) did not become \(want) within 10 s (freezer.state: \(read("freezer", "freezer.state")?.trimmingCharacters(in: "\n") ?? "?"))")
            }
            sys.sleep(microseconds: 1000)
        }
    }

    // MARK: kill and removal

    /// Every process below every directory. SIGKILL freezes first (where the freezer is), so
    /// nothing forks between the listing and the signal, then thaws so the kill lands.
    public func signalAll(_ signal: Int32) throws(CgroupError) {
        let freeze = signal == SIGKILL && paths["freezer"] != nil && !frozen
        if freeze { try? self.freeze(true) }
        for dir in directories {
            for sub in Cgroup(directory: dir, sys: sys).descendants() {
                for pid in Cgroup(directory: sub, sys: sys).processes() { sys.signal(pid, signal) }
            }
        }
        if signal == SIGKILL, paths["freezer"] != nil { try? self.freeze(false) }
    }

    /// Kills what is left, waits until every directory is empty and removes them (with the
    /// cgroups the container made below them), in every hierarchy.
    public func destroy() throws(CgroupError) {
        guard exists else { return }
        let deadline = sys.monotonicSeconds() + 10
        while !processes().isEmpty || directories.contains(where: { !(sys.subdirectories($0) ?? []).isEmpty }) {
            try signalAll(SIGKILL)
            var removedChildren = true
            for dir in directories {
                for sub in Cgroup(directory: dir, sys: sys).descendants().dropLast() {
                    do { try sys.removeDirectory(sub) } catch { if error.errno != ENOENT { removedChildren = false } }
                }
            }
            if processes().isEmpty && removedChildren { break }
            if sys.monotonicSeconds() > deadline {
                throw .container("delete: the cgroups \(directories.joined(separator: ", ")) still hold processes \(processes().map(String.init).joined(separator: " ")) after SIGKILL")
            }
            sys.sleep(microseconds: 10_000)
        }
        for dir in directories { try Cgroup.removeWhenEmpty(dir, deadline: deadline, sys: sys) }
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

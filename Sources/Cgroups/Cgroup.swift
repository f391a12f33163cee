import CShim
import Glibc
import JSONCore
import LinuxSys
import OCISpec

/// Where the cgroup2 hierarchy is: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on
/// a hybrid one (controllers bound to v1; membership, freeze, kill and device filters still
/// work there, limits do not).
public struct CgroupHierarchy: Sendable {
    public let mount: String
    public let hybrid: Bool

    public init(mount: String, hybrid: Bool) {
        self.mount = mount
        self.hybrid = hybrid
    }

    static let cgroup2Magic: Int = 0x6367_7270

    static func isCgroup2(_ path: String) -> Bool {
        cs_statfs_type(path) == cgroup2Magic
    }

    public static func detect(base: String = "/sys/fs/cgroup") -> CgroupHierarchy? {
        if isCgroup2(base) { return CgroupHierarchy(mount: base, hybrid: false) }
        if isCgroup2(base + "/unified") { return CgroupHierarchy(mount: base + "/unified", hybrid: true) }
        return nil
    }

    /// The caller's own cgroup (the "0::" line of /proc/self/cgroup).
    public static func ownCgroup() -> String {
        guard let bytes = try? Files.read("/proc/self/cgroup") else { return "/" }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return "/"
    }

    /// The cgroup of a container, relative to the hierarchy's root, from linux.cgroupsPath:
    /// absolute as given; relative under the runtime's own cgroup; systemd's "slice:prefix:name"
    /// as the path systemd would give that scope; absent: the own cgroup plus the id (or
    /// system.slice/crun-swift-ID.scope with --systemd-cgroup).
    public static func containerPath(_ cgroupsPath: String?, id: String, systemd: Bool, own: String) throws(CgroupError) -> String {
        let path: String
        let p = cgroupsPath ?? ""
        let parts = p.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 3 && !p.contains("/") {
            path = try systemdPath(slice: parts[0], prefix: parts[1], name: parts[2])
        } else if parts.count > 1 {
            throw .container("linux.cgroupsPath: \"\(p)\" is neither a path nor systemd's slice:prefix:name")
        } else if p.isEmpty {
            path = systemd ? try systemdPath(slice: "", prefix: "crun-swift", name: id) : own + "/" + id
        } else if p.hasPrefix("/") {
            path = p
        } else {
            path = own + "/" + p
        }
        // A NUL would end the path early at mkdir/open: "/decoy\u0000x" is /decoy. The config
        // validator refuses it; this keeps every caller (state files, update) to the same rule.
        if path.containsNUL { throw .container("linux.cgroupsPath: contains a NUL byte (\\u0000)") }
        let components = path.split(separator: "/").map(String.init)
        if components.contains("..") || components.contains(".") {
            throw .container("linux.cgroupsPath: \"\(p)\" must not contain . or .. components")
        }
        guard !components.isEmpty else { throw .container("linux.cgroupsPath: \"\(p)\" names the root cgroup") }
        return "/" + components.joined(separator: "/")
    }

    /// systemd's slice naming: "a-b.slice" lives in "a.slice/a-b.slice".
    static func systemdPath(slice: String, prefix: String, name: String) throws(CgroupError) -> String {
        let s = slice.isEmpty ? "system.slice" : slice
        guard s.hasSuffix(".slice"), !s.contains("/") else {
            throw .container("linux.cgroupsPath: systemd slice \"\(slice)\" must end in .slice")
        }
        var dirs: [String] = []
        if s != "-.slice" {
            let base = String(s.dropLast(6))
            guard !base.hasPrefix("-"), !base.hasSuffix("-"), !base.contains("--") else {
                throw .container("linux.cgroupsPath: invalid systemd slice \"\(slice)\"")
            }
            var acc = ""
            for part in base.split(separator: "-") {
                acc = acc.isEmpty ? String(part) : acc + "-" + part
                dirs.append(acc + ".slice")
            }
        }
        guard !name.isEmpty else { throw .container("linux.cgroupsPath: systemd form \"\(slice):\(prefix):\(name)\" has no name") }
        let unit = name.hasSuffix(".slice") ? name : (prefix.isEmpty ? name : prefix + "-" + name) + ".scope"
        return "/" + (dirs + [unit]).joined(separator: "/")
    }
}

/// One container's cgroup: created with its controllers enabled, limits written, devices
/// filtered; then frozen, thawed, signalled, measured, updated and removed.
/// Its files, directories, signals and clock go through `sys` (RecordingSyscalls in unit tests).
/// (@unchecked: `sys` is a class; a Cgroup is used by one thread at a time.)
public struct Cgroup: @unchecked Sendable {
    public let hierarchy: CgroupHierarchy
    /// Relative to the hierarchy's root, e.g. "/default/web".
    public let relative: String
    public var path: String { hierarchy.mount + relative }
    let sys: any Syscalls

    public init(hierarchy: CgroupHierarchy, relative: String, sys: any Syscalls = LinuxSyscalls()) {
        self.hierarchy = hierarchy
        self.relative = relative
        self.sys = sys
    }

    /// The cgroup at `directory`, an absolute path (v1 directories, walks below a cgroup).
    init(directory: String, sys: any Syscalls) {
        self.init(hierarchy: CgroupHierarchy(mount: "", hybrid: true), relative: directory, sys: sys)
    }

    /// The controllers the hierarchy offers at its root.
    public func available() -> [String] {
        guard let bytes = try? sys.readFile(hierarchy.mount + "/cgroup.controllers") else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    }

    func missingController(_ controller: String, field: String) -> CgroupError {
        if hierarchy.hybrid {
            return .container("\(field): needs the \(controller) controller, which neither the cgroup2 hierarchy at \(hierarchy.mount) offers nor a cgroup v1 hierarchy under /sys/fs/cgroup mounts")
        }
        return .container("\(field): needs the \(controller) controller, which the cgroup2 hierarchy at \(hierarchy.mount) does not offer (cgroup.controllers: \(available().joined(separator: " ")))")
    }

    /// Creates the cgroup (and missing parents), enabling `controllers` on the way down.
    /// Returns the directories it created, outermost first, for `removeCreated`.
    public func create(controllers: [String], offered: [String]? = nil, fieldFor: (String) -> String) throws(CgroupError) -> [String] {
        let offered = offered ?? available()
        for c in controllers where !offered.contains(c) { throw missingController(c, field: fieldFor(c)) }
        return try Cgroup.makePath(hierarchy.mount, relative.split(separator: "/").map(String.init), sys: sys,
                                   before: { parent throws(CgroupError) in if !controllers.isEmpty { try enable(controllers, in: parent) } })
    }

    /// A container's cgroup made and its limits written: the controllers the writes need
    /// enabled on the way down (cgroup.controllers read once, for the check before any mkdir
    /// and for the writes), then the writes in order. On a failure what was made is removed
    /// again. Returns the directories made, outermost first.
    public func setUp(_ writes: [CgroupResources.Write]) throws(CgroupError) -> [String] {
        var controllers: [String] = []
        for w in writes { if let c = w.controller, !controllers.contains(c) { controllers.append(c) } }
        let offered = available()
        let made = try create(controllers: controllers, offered: offered) { c in
            writes.first { $0.controller == c }?.field ?? "linux.resources"
        }
        do throws(CgroupError) {
            try apply(writes, offered: offered)
        } catch {
            Cgroup.removeCreated(made, sys: sys)
            throw error
        }
        return made
    }

    /// mkdir of each of `components` below `base`, outermost first: `before(parent)` runs
    /// before each (v2 enables controllers there), `made(directory, parent)` after one is new
    /// (v1 copies the cpuset). On an error what it made is removed again. Returns what it made.
    static func makePath(_ base: String, _ components: [String], sys: any Syscalls,
                         before: (String) throws(CgroupError) -> Void = { _ in },
                         made: (String, String) throws(CgroupError) -> Void = { _, _ in }) throws(CgroupError) -> [String] {
        var created: [String] = []
        var dir = base
        do throws(CgroupError) {
            for component in components {
                let parent = dir
                try before(parent)
                dir += "/" + component
                do {
                    try sys.makeDirectory(dir, mode: 0o755)
                } catch {
                    if error.errno == EEXIST { continue }
                    throw CgroupError("linux.cgroupsPath: create the cgroup", dir, error)
                }
                created.append(dir)
                try made(dir, parent)
            }
        } catch {
            removeCreated(created, sys: sys)
            throw error
        }
        return created
    }

    func enable(_ controllers: [String], in dir: String) throws(CgroupError) {
        let current = (try? sys.readFile(dir + "/cgroup.subtree_control")).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let enabled = current.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        let wanted = controllers.filter { !enabled.contains($0) }
        guard !wanted.isEmpty else { return }
        let line = wanted.map { "+" + $0 }.joined(separator: " ")
        do {
            try sys.overwriteFile(dir + "/cgroup.subtree_control", line)
        } catch {
            if error.errno == EBUSY {
                throw .container("linux.resources: cannot enable \(wanted.joined(separator: ", ")) in \(dir)/cgroup.subtree_control: the cgroup has processes of its own (cgroup v2's no-internal-processes rule); use a linux.cgroupsPath outside the runtime's own cgroup")
            }
            throw CgroupError("linux.resources: enable controllers (\(line)) in", dir + "/cgroup.subtree_control", error)
        }
    }

    /// Removes directories made by `create` (innermost first), ignoring ones still in use.
    public static func removeCreated(_ dirs: [String], sys: any Syscalls = LinuxSyscalls()) {
        for d in dirs.reversed() { try? sys.removeDirectory(d) }
    }


    /// Writes the converted resources; an error names the config field, the file and errno.
    /// `offered`: the hierarchy's controllers when the caller has read them already.
    public func apply(_ writes: [CgroupResources.Write], offered: [String]? = nil) throws(CgroupError) {
        guard !writes.isEmpty else { return }
        let offered = offered ?? available()
        for w in writes {
            if let c = w.controller, !offered.contains(c) { throw missingController(c, field: w.field) }
            let file = path + "/" + w.file
            do {
                try sys.overwriteFile(file, w.value)
            } catch {
                if error.errno == ENOENT {
                    if w.field.contains(".unified.") {
                        throw .container("\(w.field): \(w.file) does not exist in \(path) (not a file of this kernel's enabled controllers)")
                    }
                    throw .container("\(w.field): \(w.file) does not exist in \(path) (this kernel lacks it)")
                }
                throw CgroupError("\(w.field): write \"\(w.value)\" to", file, error)
            }
        }
    }

    /// The device filter (BPF) for these rules, replacing the one attached before.
    public func applyDevices(_ rules: [CgroupResources.DeviceRule]) throws(CgroupError) {
        let fd = try openDirectory()
        defer { close(fd) }
        let c = CgroupResources.cRules(rules)
        var log = [CChar](repeating: 0, count: 4096)
        let r = c.withUnsafeBufferPointer { cs_cgroup_devices(fd, $0.baseAddress, Int32($0.count), &log, Int32(log.count)) }
        if r < 0 {
            let detail = String(cString: log).split(separator: "\n").last.map { " (\($0))" } ?? ""
            throw .system(step: "linux.resources.devices: load and attach the device filter (BPF_PROG_TYPE_CGROUP_DEVICE)\(detail) to", subject: path, errno: -r)
        }
    }

    public func openDirectory() throws(CgroupError) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw .system(step: "open the cgroup", subject: path, errno: errno) }
        return fd
    }

    public var exists: Bool { sys.exists(path + "/cgroup.procs") }

    func read(_ file: String) -> String? {
        (try? sys.readFile(path + "/" + file)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// "key value" lines (memory.stat, cpu.stat, memory.events, cgroup.events).
    func keyed(_ file: String) -> [(String, UInt64)] { Cgroup.keyedLines(read(file) ?? "") }

    static func keyedLines(_ text: String) -> [(String, UInt64)] {
        text.split(separator: "\n").compactMap { line in
            let p = line.split(separator: " ")
            guard p.count == 2, let v = UInt64(p[1]) else { return nil }
            return (String(p[0]), v)
        }
    }

    func value(_ file: String, _ key: String) -> UInt64? { keyed(file).first { $0.0 == key }?.1 }

    public func processes() -> [pid_t] {
        (read("cgroup.procs") ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    // MARK: freezer

    public var frozen: Bool { value("cgroup.events", "frozen") == 1 }

    /// `directory`: a cgroup2 directory, or a v1 freezer's (freezer.state).
    public static func isFrozen(directory: String, sys: any Syscalls = LinuxSyscalls()) -> Bool {
        if let state = try? sys.readFile(directory + "/freezer.state") {
            return String(decoding: state, as: UTF8.self).hasPrefix("FROZEN")
        }
        guard let bytes = try? sys.readFile(directory + "/cgroup.events") else { return false }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains("frozen 1")
    }

    /// cgroup.freeze, then waits until the kernel says every process is (un)frozen.
    public func freeze(_ on: Bool) throws(CgroupError) {
        do { try sys.overwriteFile(path + "/cgroup.freeze", on ? "1" : "0") } catch { throw CgroupError(on ? "pause: write 1 to" : "resume: write 0 to", path + "/cgroup.freeze", error) }
        let done: Bool
        do { done = try sys.waitForKeyValue(path + "/cgroup.events", key: "frozen", value: on ? 1 : 0, timeoutMilliseconds: 5000) } catch { throw CgroupError("wait for", path + "/cgroup.events", error) }
        if !done { throw .container("\(on ? "pause" : "resume"): \(path) did not become \(on ? "frozen" : "thawed") within 5 s") }
    }

    // MARK: kill and removal

    /// Every process of the cgroup (and its children): cgroup.kill for SIGKILL where the kernel
    /// has it (5.14), else one signal per listed process.
    public func signalAll(_ signal: Int32) throws(CgroupError) {
        if signal == SIGKILL, sys.exists(path + "/cgroup.kill") {
            do { try sys.overwriteFile(path + "/cgroup.kill", "1") } catch { throw CgroupError("kill --all: write 1 to", path + "/cgroup.kill", error) }
            return
        }
        for dir in descendants() {
            for pid in Cgroup(directory: dir, sys: sys).processes() { sys.signal(pid, signal) }
        }
    }

    /// This cgroup and the ones below it, deepest first, at most `maxWalkDepth` levels down.
    /// Each step appends a name readdir returned (never a NUL or '/') to a path without a NUL,
    /// so every path names the directory it was built from and the walk ends with the tree.
    /// (A cgroup path holding a NUL once named an ancestor to opendir: the walk found itself
    /// again and again and grew without bound.)
    func descendants() -> [String] {
        guard !path.containsNUL else { return [] }
        var out: [String] = []
        func walk(_ dir: String, depth: Int) {
            if depth < Cgroup.maxWalkDepth {
                for name in sys.subdirectories(dir) ?? [] { walk(dir + "/" + name, depth: depth + 1) }
            }
            out.append(dir)
        }
        walk(path, depth: 0)
        return out
    }

    /// Deeper than any cgroup tree a container makes; the bound keeps a walk finite whatever
    /// the tree holds.
    static let maxWalkDepth = 64

    /// Kills what is left (a frozen cgroup is thawed so the kill lands), waits until it is
    /// empty, and removes it and the cgroups the container made below it.
    public func destroy() throws(CgroupError) {
        guard exists else { return }
        let deadline = sys.monotonicSeconds() + Cgroup.emptyTimeout
        let dirs = descendants()
        if dirs.count > 1 || !processes().isEmpty {
            if sys.exists(path + "/cgroup.kill") {
                try signalAll(SIGKILL)
            } else {
                while !processes().isEmpty && sys.monotonicSeconds() < deadline { try signalAll(SIGKILL); sys.sleep(microseconds: 10_000) }
            }
            if frozen { try? sys.overwriteFile(path + "/cgroup.freeze", "0") }
        }
        // Usually empty already (the init was reaped); the kernel may say so a moment later.
        for dir in dirs { try Cgroup.removeWhenEmpty(dir, deadline: deadline, sys: sys) }
    }

    /// How long removal waits for the kernel to say a killed cgroup is empty.
    static let emptyTimeout = 5.0

    /// rmdir, retried while the kernel says EBUSY (a cgroup is empty a moment after its last
    /// process died), until `deadline` on `sys`'s clock. A directory already gone is fine.
    /// Where cgroup.events says processes are left (v2), the retry waits for "populated 0";
    /// else (v1, or a child cgroup still going) it comes 10 ms later.
    static func removeWhenEmpty(_ dir: String, deadline: Double, sys: any Syscalls) throws(CgroupError) {
        let events = dir + "/cgroup.events"
        while true {
            do {
                try sys.removeDirectory(dir)
                return
            } catch {
                if error.errno == ENOENT { return }
                guard error.errno == EBUSY, sys.monotonicSeconds() < deadline else {
                    throw CgroupError("delete: remove the cgroup", dir, error)
                }
            }
            let populated = (try? sys.readFile(events)).map { keyedLines(String(decoding: $0, as: UTF8.self)) }?.first { $0.0 == "populated" }?.1
            if populated == 1 {
                let left = Int(((deadline - sys.monotonicSeconds()) * 1000).rounded(.up))
                _ = try? sys.waitForKeyValue(events, key: "populated", value: 0, timeoutMilliseconds: max(left, 1))
            } else {
                sys.sleep(microseconds: 10_000)
            }
        }
    }

    // MARK: stats and events

    /// OOM kills so far (memory.events, 0 without the memory controller).
    public var oomKills: UInt64 { value("memory.events", "oom_kill") ?? 0 }

    /// runc's stats event data (libcontainer/types.Stats) from the cgroup v2 files.
    public func stats() -> JSONValue {
        func num(_ v: UInt64?) -> JSONValue { .number("\(v ?? 0)") }
        func limitValue(_ file: String) -> UInt64 {
            let s = (read(file) ?? "").trimmingCharacters(in: "\n")
            return s == "max" || s.isEmpty ? UInt64.max : UInt64(s) ?? 0
        }
        var data: [(String, JSONValue)] = []
        let cpu = keyed("cpu.stat")
        func c(_ k: String) -> UInt64 { cpu.first { $0.0 == k }?.1 ?? 0 }
        data.append(("cpu", .object([
            ("usage", .object([("total", num(c("usage_usec") * 1000)), ("percpu", .array([])),
                               ("kernel", num(c("system_usec") * 1000)), ("user", num(c("user_usec") * 1000))])),
            ("throttling", .object([("periods", num(c("nr_periods"))), ("throttledPeriods", num(c("nr_throttled"))),
                                    ("throttledTime", num(c("throttled_usec") * 1000))])),
        ])))
        if sys.exists(path + "/memory.current") {
            let stat = keyed("memory.stat")
            let events = keyed("memory.events")
            data.append(("memory", .object([
                ("cache", num(stat.first { $0.0 == "file" }?.1)),
                ("usage", .object([("limit", num(limitValue("memory.max"))), ("usage", num(UInt64((read("memory.current") ?? "").trimmingCharacters(in: "\n")))),
                                   ("max", num(UInt64((read("memory.peak") ?? "").trimmingCharacters(in: "\n")))),
                                   ("failcnt", num(events.first { $0.0 == "max" }?.1))])),
                ("swap", .object([("limit", num(limitValue("memory.swap.max"))), ("usage", num(UInt64((read("memory.swap.current") ?? "").trimmingCharacters(in: "\n"))))])),
                ("raw", .object(stat.map { ($0.0, num($0.1)) })),
                ("events", .object(events.map { ($0.0, num($0.1)) })),
            ])))
        }
        let current = UInt64((read("pids.current") ?? "").trimmingCharacters(in: "\n")) ?? UInt64(processes().count)
        var pids: [(String, JSONValue)] = [("current", num(current))]
        if sys.exists(path + "/pids.max") {
            let l = limitValue("pids.max")
            pids.append(("limit", num(l == UInt64.max ? 0 : l)))
        }
        data.append(("pids", .object(pids)))
        var bytes: [JSONValue] = [], ios: [JSONValue] = []
        for line in (read("io.stat") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            let dev = fields.first?.split(separator: ":").compactMap { UInt64($0) } ?? []
            guard dev.count == 2 else { continue }
            var kv: [String: UInt64] = [:]
            for f in fields.dropFirst() {
                let p = f.split(separator: "=")
                if p.count == 2, let v = UInt64(p[1]) { kv[String(p[0])] = v }
            }
            for (op, b, n) in [("Read", "rbytes", "rios"), ("Write", "wbytes", "wios")] {
                let base: [(String, JSONValue)] = [("major", num(dev[0])), ("minor", num(dev[1])), ("op", .string(op))]
                bytes.append(.object(base + [("value", num(kv[b]))]))
                ios.append(.object(base + [("value", num(kv[n]))]))
            }
        }
        data.append(("blkio", .object([("ioServiceBytesRecursive", .array(bytes)), ("ioServicedRecursive", .array(ios))])))
        var huge: [(String, JSONValue)] = []
        for size in hugetlbSizes() {
            huge.append((size, .object([("usage", num(UInt64((read("hugetlb.\(size).current") ?? "").trimmingCharacters(in: "\n")))),
                                        ("failcnt", num(value("hugetlb.\(size).events", "max")))])))
        }
        if !huge.isEmpty { data.append(("hugetlb", .object(huge))) }
        return .object(data)
    }

    func hugetlbSizes() -> [String] {
        (sys.entries(path) ?? []).filter { $0.hasPrefix("hugetlb.") && $0.hasSuffix(".max") }
            .map { String($0.dropFirst(8).dropLast(4)) }.sorted()
    }
}

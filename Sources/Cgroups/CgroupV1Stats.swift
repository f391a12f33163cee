import CShim
import Glibc
import LinuxSys
import JSONCore

/// runc's stats event data (types.Stats, as `runc events --stats` prints it) from a container's
/// cgroup v1 directories, one per controller ("memory" -> /sys/fs/cgroup/memory/default/web;
/// co-mounted controllers share a directory). A controller without a directory, or a file this
/// kernel lacks, reads as zeros, as runc's fs driver does.
/// (@unchecked: `sys` is a class; used by one thread at a time.)
public struct CgroupV1Stats: @unchecked Sendable {
    public let paths: [String: String]
    let sys: any Syscalls

    public init(paths: [String: String], sys: any Syscalls = LinuxSyscalls()) {
        self.paths = paths
        self.sys = sys
    }

    func read(_ controller: String, _ file: String) -> String? {
        guard let dir = paths[controller] else { return nil }
        return (try? sys.readFile(dir + "/" + file)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A file holding one number ("max" in pids.max reads as nil).
    func number(_ controller: String, _ file: String) -> UInt64? {
        read(controller, file).flatMap { UInt64($0.trimmingCharacters(in: "\n")) }
    }

    /// "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.oom_control), in file order.
    func keyed(_ controller: String, _ file: String) -> [(String, UInt64)] {
        (read(controller, file) ?? "").split(separator: "\n").compactMap { line in
            let p = line.split(separator: " ")
            guard p.count == 2, let v = UInt64(p[1]) else { return nil }
            return (String(p[0]), v)
        }
    }

    static func num(_ v: UInt64?) -> JSONValue { .number("\(v ?? 0)") }

    // MARK: the event data

    public func stats() -> JSONValue {
        var data: [(String, JSONValue)] = [("cpu", cpu())]
        if paths["cpuset"] != nil { data.append(("cpuset", cpuset())) }
        if paths["memory"] != nil { data.append(("memory", memory())) }
        data.append(("pids", pids()))
        data.append(("blkio", blkio()))
        data.append(("hugetlb", hugetlb()))
        return .object(data)
    }

    /// cpuacct (usage in ns; cpuacct.stat in USER_HZ ticks, 100 a second as runc assumes) and
    /// cpu's throttling (cpu.stat, throttled_time in ns).
    func cpu() -> JSONValue {
        let ticks = keyed("cpuacct", "cpuacct.stat")
        func tick(_ k: String) -> UInt64 { (ticks.first { $0.0 == k }?.1 ?? 0) * 1_000_000_000 / 100 }
        let percpu = (read("cpuacct", "cpuacct.usage_percpu") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) }
        // cpuacct.usage_all: a "cpu user system" header, then one "N USER SYSTEM" line per cpu.
        var kernel: [UInt64] = [], user: [UInt64] = []
        for line in (read("cpuacct", "cpuacct.usage_all") ?? "").split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ").compactMap { UInt64($0) }
            guard f.count == 3 else { continue }
            user.append(f[1]); kernel.append(f[2])
        }
        let throttle = keyed("cpu", "cpu.stat")
        func t(_ k: String) -> UInt64 { throttle.first { $0.0 == k }?.1 ?? 0 }
        var usage: [(String, JSONValue)] = [("total", Self.num(number("cpuacct", "cpuacct.usage")))]
        usage.append(("percpu", .array(percpu.map { Self.num($0) })))
        if !kernel.isEmpty {
            usage.append(("percpu_kernel", .array(kernel.map { Self.num($0) })))
            usage.append(("percpu_user", .array(user.map { Self.num($0) })))
        }
        usage += [("kernel", Self.num(tick("system"))), ("user", Self.num(tick("user")))]
        return .object([
            ("usage", .object(usage)),
            ("throttling", .object([("periods", Self.num(t("nr_periods"))), ("throttledPeriods", Self.num(t("nr_throttled"))),
                                    ("throttledTime", Self.num(t("throttled_time")))])),
        ])
    }

    /// "0-2,4" -> [0, 1, 2, 4].
    static func cpuList(_ s: String) -> [UInt64] {
        var out: [UInt64] = []
        for part in s.trimmingCharacters(in: "\n").split(separator: ",") {
            let r = part.split(separator: "-").compactMap { UInt64($0) }
            if r.count == 1 { out.append(r[0]) } else if r.count == 2, r[0] <= r[1], r[1] - r[0] < 65536 { out += Array(r[0]...r[1]) }
        }
        return out
    }

    func cpuset() -> JSONValue {
        func flag(_ f: String) -> JSONValue { Self.num(number("cpuset", "cpuset." + f)) }
        let relax = Int64((read("cpuset", "cpuset.sched_relax_domain_level") ?? "").trimmingCharacters(in: "\n")) ?? 0
        return .object([
            ("cpus", .array(Self.cpuList(read("cpuset", "cpuset.cpus") ?? "").map { Self.num($0) })),
            ("cpu_exclusive", flag("cpu_exclusive")),
            ("mems", .array(Self.cpuList(read("cpuset", "cpuset.mems") ?? "").map { Self.num($0) })),
            ("mem_hardwall", flag("mem_hardwall")), ("mem_exclusive", flag("mem_exclusive")),
            ("memory_migrate", flag("memory_migrate")), ("memory_spread_page", flag("memory_spread_page")),
            ("memory_spread_slab", flag("memory_spread_slab")), ("memory_pressure", flag("memory_pressure")),
            ("sched_load_balance", flag("sched_load_balance")), ("sched_relax_domain_level", .number("\(relax)")),
        ])
    }

    /// memory.{,memsw.,kmem.,kmem.tcp.}{limit_in_bytes,usage_in_bytes,max_usage_in_bytes,failcnt}
    /// (runc's "swap" is memsw: memory plus swap) and memory.stat as "raw".
    func memory() -> JSONValue {
        func entry(_ prefix: String) -> JSONValue {
            .object([("limit", Self.num(number("memory", prefix + "limit_in_bytes"))),
                     ("usage", Self.num(number("memory", prefix + "usage_in_bytes"))),
                     ("max", Self.num(number("memory", prefix + "max_usage_in_bytes"))),
                     ("failcnt", Self.num(number("memory", prefix + "failcnt")))])
        }
        let stat = keyed("memory", "memory.stat")
        return .object([
            ("cache", Self.num(stat.first { $0.0 == "cache" }?.1)),
            ("usage", entry("memory.")),
            ("swap", entry("memory.memsw.")),
            ("kernel", entry("memory.kmem.")),
            ("kernelTCP", entry("memory.kmem.tcp.")),
            ("raw", .object(stat.map { ($0.0, Self.num($0.1)) })),
        ])
    }

    func pids() -> JSONValue {
        // pids.max "max" is no limit: 0, as runc reports it.
        .object([("current", Self.num(number("pids", "pids.current"))), ("limit", Self.num(number("pids", "pids.max")))])
    }

    /// "MAJ:MIN Op VALUE" lines; the closing "Total N" line is not a device's.
    static func blkioEntries(_ text: String) -> [JSONValue] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count == 3, let v = UInt64(f[2]) else { return nil }
            let dev = f[0].split(separator: ":").compactMap { UInt64($0) }
            guard dev.count == 2 else { return nil }
            return .object([("major", num(dev[0])), ("minor", num(dev[1])), ("op", .string(String(f[1]))), ("value", num(v))])
        }
    }

    /// As runc: the CFQ scheduler's recursive counters if it keeps any, else BFQ's, else the
    /// throttle layer's (which counts every I/O whatever the scheduler).
    func blkio() -> JSONValue {
        for (prefix, bytes, ios) in [("blkio.", "io_service_bytes_recursive", "io_serviced_recursive"),
                                     ("blkio.bfq.", "io_service_bytes_recursive", "io_serviced_recursive"),
                                     ("blkio.throttle.", "io_service_bytes_recursive", "io_serviced_recursive")] {
            let b = Self.blkioEntries(read("blkio", prefix + bytes) ?? "")
            let n = Self.blkioEntries(read("blkio", prefix + ios) ?? "")
            if !b.isEmpty || !n.isEmpty || prefix == "blkio.throttle." {
                return .object([("ioServiceBytesRecursive", .array(b)), ("ioServicedRecursive", .array(n))])
            }
        }
        return .object([])
    }

    /// hugetlb.<size>.{usage_in_bytes,max_usage_in_bytes,failcnt}, keyed by size ("2MB").
    func hugetlb() -> JSONValue {
        guard let dir = paths["hugetlb"] else { return .object([]) }
        let sizes = (sys.entries(dir) ?? []).filter { $0.hasPrefix("hugetlb.") && $0.hasSuffix(".usage_in_bytes") && !$0.contains(".rsvd.") }
            .map { String($0.dropFirst(8).dropLast(15)) }.sorted()
        return .object(sizes.map { size in
            (size, .object([("usage", Self.num(number("hugetlb", "hugetlb.\(size).usage_in_bytes"))),
                            ("max", Self.num(number("hugetlb", "hugetlb.\(size).max_usage_in_bytes"))),
                            ("failcnt", Self.num(number("hugetlb", "hugetlb.\(size).failcnt")))]))
        })
    }

    // MARK: OOM

    /// OOM kills so far (memory.oom_control's oom_kill, kernel 4.13+; 0 without it).
    public var oomKills: UInt64 { keyed("memory", "memory.oom_control").first { $0.0 == "oom_kill" }?.1 ?? 0 }

    /// memory.limit_in_bytes as a message shows it ("memory.limit_in_bytes 1048576").
    public var memoryLimitText: String {
        "memory.limit_in_bytes " + ((read("memory", "memory.limit_in_bytes") ?? "?").trimmingCharacters(in: "\n"))
    }
}

/// `events`' OOM notifications on cgroup v1: memory.oom_control's eventfd, which the kernel
/// signals at each OOM of the cgroup and once more when the cgroup is removed.
public final class CgroupV1OOMWatch {
    public let fd: Int32
    let memoryDir: String

    /// nil when the cgroup has no memory controller or the kernel refuses the registration
    /// (the caller then compares oom_kill counts).
    public init?(memoryDir: String) {
        let r = cs_memcg_oom_eventfd(memoryDir)
        guard r >= 0 else { return nil }
        fd = r
        self.memoryDir = memoryDir
    }

    deinit { close(fd) }

    /// After poll says `fd` is readable: the notifications since the last call that are OOMs
    /// (0 when the signal was the cgroup's removal).
    public func take() -> UInt64 {
        var count: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &count) { Glibc.read(fd, $0.baseAddress, 8) }
        guard n == 8 else { return 0 }
        // Removal signals the eventfd too: only a cgroup still there had an OOM.
        if !Files.exists(memoryDir + "/memory.oom_control") { return 0 }
        return count
    }
}

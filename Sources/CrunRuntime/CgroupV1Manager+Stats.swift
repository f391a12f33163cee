import Glibc
import JSONCore

/// runc's stats event data (libcontainer/types.Stats) from the cgroup v1 files.
extension CgroupV1Manager {
    public func stats() -> JSONValue {
        func num(_ v: UInt64?) -> JSONValue { .number("\(v ?? 0)") }
        var data: [(String, JSONValue)] = []
        // cpuacct.stat counts USER_HZ ticks (100 per second).
        let acct = keyed("cpuacct", "cpuacct.stat")
        func ticks(_ k: String) -> UInt64 { (acct.first { $0.0 == k }?.1 ?? 0) * 10_000_000 }
        let percpu = (read("cpuacct", "cpuacct.usage_percpu") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map { num(UInt64($0)) }
        let cpu = keyed("cpu", "cpu.stat")
        func c(_ k: String) -> UInt64 { cpu.first { $0.0 == k }?.1 ?? 0 }
        data.append(("cpu", .object([
            ("usage", .object([("total", num(number("cpuacct", "cpuacct.usage"))), ("percpu", .array(percpu)),
                               ("kernel", num(ticks("system"))), ("user", num(ticks("user")))])),
            ("throttling", .object([("periods", num(c("nr_periods"))), ("throttledPeriods", num(c("nr_throttled"))),
                                    ("throttledTime", num(c("throttled_time")))])),
        ])))
        if paths["memory"] != nil {
            func entry(_ prefix: String) -> JSONValue {
                .object([("usage", num(number("memory", prefix + "usage_in_bytes"))), ("max", num(number("memory", prefix + "max_usage_in_bytes"))),
                         ("failcnt", num(number("memory", prefix + "failcnt"))), ("limit", num(number("memory", prefix + "limit_in_bytes")))])
            }
            let stat = keyed("memory", "memory.stat")
            data.append(("memory", .object([
                ("cache", num(stat.first { $0.0 == "cache" }?.1)),
                ("usage", entry("memory.")), ("swap", entry("memory.memsw.")), ("kernel", entry("memory.kmem.")),
                ("kernelTCP", entry("memory.kmem.tcp.")),
                ("raw", .object(stat.map { ($0.0, num($0.1)) })),
            ])))
        }
        var pids: [(String, JSONValue)] = [("current", num(number("pids", "pids.current") ?? UInt64(processes().count)))]
        if let l = read("pids", "pids.max") { pids.append(("limit", num(UInt64(l.trimmingCharacters(in: "\n")) ?? 0))) }
        data.append(("pids", .object(pids)))
        func blkio(_ file: String) -> JSONValue {
            .array((read("blkio", file) ?? "").split(separator: "\n").compactMap { line in
                let f = line.split(separator: " ")
                guard f.count == 3, let v = UInt64(f[2]) else { return nil }
                let dev = f[0].split(separator: ":").compactMap { UInt64($0) }
                guard dev.count == 2 else { return nil }
                return .object([("major", num(dev[0])), ("minor", num(dev[1])), ("op", .string(String(f[1]))), ("value", num(v))])
            })
        }
        data.append(("blkio", .object([("ioServiceBytesRecursive", blkio("blkio.throttle.io_service_bytes_recursive")),
                                       ("ioServicedRecursive", blkio("blkio.throttle.io_serviced_recursive"))])))
        if let dir = paths["hugetlb"] {
            let sizes = Cgroup.entries(dir).map(\.name).filter { $0.hasPrefix("hugetlb.") && $0.hasSuffix(".limit_in_bytes") && !$0.contains(".rsvd.") }
                .map { String($0.dropFirst(8).dropLast(15)) }.sorted()
            data.append(("hugetlb", .object(sizes.map { size in
                (size, .object([("usage", num(number("hugetlb", "hugetlb.\(size).usage_in_bytes"))),
                                ("max", num(number("hugetlb", "hugetlb.\(size).max_usage_in_bytes"))),
                                ("failcnt", num(number("hugetlb", "hugetlb.\(size).failcnt")))]))
            })))
        }
        return .object(data)
    }
}

import LinuxSys
import CShim
import OCISpec

/// linux.resources as cgroup v2 file writes, with the conversions runc uses. Pure: unit-tested
/// without a cgroup.
public enum CgroupResources {
    /// One file to write, the controller it needs (nil: a core file), and the config field it
    /// comes from (named in every error).
    public struct Write: Equatable, Sendable {
        public var file: String
        public var value: String
        public var controller: String?
        public var field: String
    }

    public struct Conversion: Sendable {
        public var writes: [Write] = []
        /// Settings cgroup v2 has no file for (named, never dropped silently).
        public var warnings: [String] = []
    }

    /// runc's shares -> weight: [2, 262144] onto [1, 10000].
    public static func cpuWeight(shares: UInt64) -> UInt64 {
        shares == 0 ? 0 : 1 + ((max(shares, 2) - 2) * 9999) / 262142
    }

    /// runc's blkio weight -> io.weight: [10, 1000] onto [1, 10000].
    public static func ioWeight(_ weight: UInt16) -> UInt64 {
        weight == 0 ? 0 : 1 + (UInt64(max(weight, 10)) - 10) * 9999 / 990
    }

    /// The OCI swap value is memory+swap; cgroup v2's memory.swap.max is swap alone.
    /// nil: leave unset.
    public static func swapMax(swap: Int64, limit: Int64?) throws(CgroupError) -> String? {
        let memory = limit ?? 0
        if memory == -1 && swap == 0 { return "max" }
        if swap == -1 { return "max" }
        if swap == 0 { return nil }
        guard memory > 0 else {
            throw .container("linux.resources.memory.swap: a swap limit needs a memory limit (linux.resources.memory.limit)")
        }
        guard swap >= memory else {
            throw .container("linux.resources.memory.swap: \(swap) is memory+swap and must be >= linux.resources.memory.limit (\(memory))")
        }
        return "\(swap - memory)"
    }

    static func limit(_ v: Int64) -> String { v < 0 ? "max" : "\(v)" }

    /// hugetlb page size as the files name it: "2MB", "1GB", "64KB".
    static func hugetlbSize(_ s: String) -> String? {
        let upper = s.uppercased()
        guard let unit = ["KB", "MB", "GB"].first(where: { upper.hasSuffix($0) }),
              let n = UInt64(upper.dropLast(2)), n > 0 else { return nil }
        return "\(n)\(unit)"
    }

    public static func convert(_ r: Resources, path: String = "linux.resources") throws(CgroupError) -> Conversion {
        var c = Conversion()
        func add(_ file: String, _ value: String, _ controller: String?, _ field: String) {
            c.writes.append(Write(file: file, value: value, controller: controller, field: "\(path).\(field)"))
        }
        if let m = r.memory {
            if let v = m.reservation { add("memory.low", limit(v), "memory", "memory.reservation") }
            if let v = m.limit, v != 0 { add("memory.max", limit(v), "memory", "memory.limit") }
            if let swap = m.swap, let v = try swapMax(swap: swap, limit: m.limit) { add("memory.swap.max", v, "memory", "memory.swap") }
            else if m.swap == nil, m.limit == -1 { add("memory.swap.max", "max", "memory", "memory.limit") }
            if m.disableOOMKiller == true { c.warnings.append("\(path).memory.disableOOMKiller: not applied: cgroup v2 has no per-cgroup OOM killer switch") }
            if let k = m.kernel, k != 0 { c.warnings.append("\(path).memory.kernel: not applied: kernel memory is part of memory.max on cgroup v2") }
            if let k = m.kernelTCP, k != 0 { c.warnings.append("\(path).memory.kernelTCP: not applied: TCP buffers are part of memory.max on cgroup v2") }
            if let s = m.swappiness, s <= 100 { c.warnings.append("\(path).memory.swappiness: not applied: cgroup v2 has no per-cgroup swappiness") }
        }
        if let cpu = r.cpu {
            if let s = cpu.shares, s != 0 { add("cpu.weight", "\(cpuWeight(shares: s))", "cpu", "cpu.shares") }
            if cpu.quota != nil || cpu.period != nil {
                let quota = cpu.quota.map { $0 > 0 ? "\($0)" : "max" } ?? "max"
                let period = cpu.period.map { $0 > 0 ? " \($0)" : "" } ?? ""
                add("cpu.max", quota + period, "cpu", cpu.quota != nil ? "cpu.quota" : "cpu.period")
            }
            if let b = cpu.burst { add("cpu.max.burst", "\(b)", "cpu", "cpu.burst") }
            if let i = cpu.idle { add("cpu.idle", "\(i)", "cpu", "cpu.idle") }
            if let rt = cpu.realtimeRuntime, rt != 0 {
                throw .container("\(path).cpu.realtimeRuntime: real-time CPU time cannot be limited on cgroup v2 (no cpu.rt_runtime_us)")
            }
            if let rt = cpu.realtimePeriod, rt != 0 {
                throw .container("\(path).cpu.realtimePeriod: real-time CPU time cannot be limited on cgroup v2 (no cpu.rt_period_us)")
            }
            if let s = cpu.cpus, !s.isEmpty { add("cpuset.cpus", s, "cpuset", "cpu.cpus") }
            if let s = cpu.mems, !s.isEmpty { add("cpuset.mems", s, "cpuset", "cpu.mems") }
        }
        if let p = r.pids?.limit { add("pids.max", p > 0 ? "\(p)" : "max", "pids", "pids.limit") }
        if let io = r.blockIO {
            if let w = io.weight, w != 0 { add("io.weight", "default \(ioWeight(w))", "io", "blockIO.weight") }
            for (i, d) in (io.weightDevice ?? []).enumerated() {
                if let w = d.weight { add("io.weight", "\(d.major):\(d.minor) \(ioWeight(w))", "io", "blockIO.weightDevice[\(i)]") }
            }
            let throttles: [(String, [Resources.ThrottleDevice]?, String)] = [
                ("rbps", io.throttleReadBpsDevice, "throttleReadBpsDevice"), ("wbps", io.throttleWriteBpsDevice, "throttleWriteBpsDevice"),
                ("riops", io.throttleReadIOPSDevice, "throttleReadIOPSDevice"), ("wiops", io.throttleWriteIOPSDevice, "throttleWriteIOPSDevice"),
            ]
            for (key, list, name) in throttles {
                for (i, d) in (list ?? []).enumerated() {
                    add("io.max", "\(d.major):\(d.minor) \(key)=\(d.rate == 0 ? "max" : "\(d.rate)")", "io", "blockIO.\(name)[\(i)]")
                }
            }
            if io.leafWeight != nil { c.warnings.append("\(path).blockIO.leafWeight: not applied: cgroup v2 has no leaf weight") }
        }
        for (i, h) in (r.hugepageLimits ?? []).enumerated() {
            guard let size = hugetlbSize(h.pageSize) else {
                throw .container("\(path).hugepageLimits[\(i)].pageSize: \"\(h.pageSize)\" is not a page size like 2MB or 1GB")
            }
            add("hugetlb.\(size).max", "\(h.limit)", "hugetlb", "hugepageLimits[\(i)]")
        }
        for (device, limits) in (r.rdma ?? [:]).sorted(by: { $0.key < $1.key }) {
            var parts: [String] = []
            if let h = limits.hcaHandles { parts.append("hca_handle=\(h)") }
            if let o = limits.hcaObjects { parts.append("hca_object=\(o)") }
            if !parts.isEmpty { add("rdma.max", "\(device) " + parts.joined(separator: " "), "rdma", "rdma.\(device)") }
        }
        if r.network != nil { c.warnings.append("\(path).network: not applied: net_cls and net_prio exist on cgroup v1 only") }
        for (key, value) in (r.unified ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard !key.isEmpty, !key.contains("/"), key != ".", key != "..", key.contains(".") else {
                throw .container("\(path).unified: \"\(key)\" is not a cgroup file name")
            }
            let prefix = String(key[..<key.firstIndex(of: ".")!])
            add(key, value, prefix == "cgroup" ? nil : prefix, "unified.\(key)")
        }
        return c
    }

    /// A device rule as the BPF filter takes it.
    public struct DeviceRule: Equatable, Sendable {
        public var allow: Bool
        public var type: Character   // "a", "c", "b"
        public var major: Int64      // -1: any
        public var minor: Int64
        public var access: String    // subset of "rwm"
    }

    /// runc's list, appended after the config's rules: mknod of anything, the standard
    /// character devices, ptys, the console and tun.
    public static let defaultAllowed: [DeviceRule] = [
        DeviceRule(allow: true, type: "c", major: -1, minor: -1, access: "m"),
        DeviceRule(allow: true, type: "b", major: -1, minor: -1, access: "m"),
        DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),   // null
        DeviceRule(allow: true, type: "c", major: 1, minor: 8, access: "rwm"),   // random
        DeviceRule(allow: true, type: "c", major: 1, minor: 7, access: "rwm"),   // full
        DeviceRule(allow: true, type: "c", major: 5, minor: 0, access: "rwm"),   // tty
        DeviceRule(allow: true, type: "c", major: 1, minor: 5, access: "rwm"),   // zero
        DeviceRule(allow: true, type: "c", major: 1, minor: 9, access: "rwm"),   // urandom
        DeviceRule(allow: true, type: "c", major: 5, minor: 1, access: "rwm"),   // console
        DeviceRule(allow: true, type: "c", major: 136, minor: -1, access: "rwm"), // pts
        DeviceRule(allow: true, type: "c", major: 5, minor: 2, access: "rwm"),   // ptmx
        DeviceRule(allow: true, type: "c", major: 10, minor: 200, access: "rwm"), // tun
    ]

    /// The config's device rules, the devices it creates (linux.devices, allowed rwm), then
    /// runc's defaults. Evaluated last to first: the first rule that matches decides.
    public static func deviceRules(_ rules: [Resources.DeviceCgroup], created: [Device], path: String = "linux.resources.devices") throws(CgroupError) -> [DeviceRule] {
        var out: [DeviceRule] = []
        for (i, d) in rules.enumerated() {
            let type = d.type ?? "a"
            guard type == "a" || type == "c" || type == "b" || type == "u" else {
                throw .container("\(path)[\(i)].type: \"\(type)\" is not a, c or b")
            }
            let access = d.access ?? "rwm"
            guard access.allSatisfy({ "rwm".contains($0) }) else {
                throw .container("\(path)[\(i)].access: \"\(access)\" is not a combination of r, w and m")
            }
            out.append(DeviceRule(allow: d.allow, type: type == "u" ? "c" : Character(type), major: d.major ?? -1, minor: d.minor ?? -1, access: access))
        }
        for d in created where d.type == "c" || d.type == "b" || d.type == "u" {
            out.append(DeviceRule(allow: true, type: d.type == "b" ? "b" : "c", major: d.major ?? -1, minor: d.minor ?? -1, access: "rwm"))
        }
        return out + defaultAllowed
    }

    static func cRules(_ rules: [DeviceRule]) -> [cs_dev_rule] {
        rules.map { r in
            var access: Int32 = 0
            if r.access.contains("r") { access |= CS_DEV_READ }
            if r.access.contains("w") { access |= CS_DEV_WRITE }
            if r.access.contains("m") { access |= CS_DEV_MKNOD }
            return cs_dev_rule(allow: r.allow ? 1 : 0, type: CChar(r.type.asciiValue!), major: r.major, minor: r.minor, access: access)
        }
    }
}

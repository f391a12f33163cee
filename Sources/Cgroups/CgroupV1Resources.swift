import Glibc
import LinuxSys
import OCISpec

/// linux.resources as cgroup v1 file writes, in the order runc writes them, with runc's
/// values (-1: unlimited; swap is memory+swap as memory.memsw.limit_in_bytes takes it).
/// Pure: unit-tested without a cgroup. The writes reuse CgroupResources.Write: `controller`
/// names the v1 hierarchy whose directory holds the file.
public enum CgroupV1Resources {
    public static func convert(_ r: Resources, path: String = "linux.resources") throws(CgroupError) -> CgroupResources.Conversion {
        var c = CgroupResources.Conversion()
        func add(_ file: String, _ value: String, _ controller: String, _ field: String) {
            c.writes.append(CgroupResources.Write(file: file, value: value, controller: controller, field: "\(path).\(field)"))
        }
        if let m = r.memory {
            if let v = m.reservation, v != 0 { add("memory.soft_limit_in_bytes", "\(v)", "memory", "memory.reservation") }
            // memory.memsw.limit_in_bytes must stay >= memory.limit_in_bytes: the manager
            // orders these two by the limit in force (CgroupV1Manager.apply).
            if let v = m.limit, v != 0 { add("memory.limit_in_bytes", "\(v)", "memory", "memory.limit") }
            if let swap = m.swap, swap != 0 {
                if swap > 0, let limit = m.limit, limit > 0, swap < limit {
                    throw .container("\(path).memory.swap: \(swap) is memory+swap and must be >= \(path).memory.limit (\(limit))")
                }
                add("memory.memsw.limit_in_bytes", "\(swap)", "memory", "memory.swap")
            } else if m.limit == -1 {
                add("memory.memsw.limit_in_bytes", "-1", "memory", "memory.limit")
            }
            if let k = m.kernel, k != 0 { add("memory.kmem.limit_in_bytes", "\(k)", "memory", "memory.kernel") }
            if let k = m.kernelTCP, k != 0 { add("memory.kmem.tcp.limit_in_bytes", "\(k)", "memory", "memory.kernelTCP") }
            if let s = m.swappiness {
                guard s <= 100 else { throw .container("\(path).memory.swappiness: \(s) is not between 0 and 100") }
                add("memory.swappiness", "\(s)", "memory", "memory.swappiness")
            }
            if m.disableOOMKiller == true { add("memory.oom_control", "1", "memory", "memory.disableOOMKiller") }
        }
        if let cpu = r.cpu {
            if let s = cpu.shares, s != 0 { add("cpu.shares", "\(s)", "cpu", "cpu.shares") }
            // Period before quota; a quota too small for the old period is retried in the other
            // order (CgroupV1Manager.apply), as runc does.
            if let p = cpu.period, p != 0 { add("cpu.cfs_period_us", "\(p)", "cpu", "cpu.period") }
            if let q = cpu.quota, q != 0 { add("cpu.cfs_quota_us", "\(q > 0 ? q : -1)", "cpu", "cpu.quota") }
            if let b = cpu.burst { add("cpu.cfs_burst_us", "\(b)", "cpu", "cpu.burst") }
            if let p = cpu.realtimePeriod, p != 0 { add("cpu.rt_period_us", "\(p)", "cpu", "cpu.realtimePeriod") }
            if let rt = cpu.realtimeRuntime, rt != 0 { add("cpu.rt_runtime_us", "\(rt)", "cpu", "cpu.realtimeRuntime") }
            if let i = cpu.idle { add("cpu.idle", "\(i)", "cpu", "cpu.idle") }
            if let s = cpu.cpus, !s.isEmpty { add("cpuset.cpus", s, "cpuset", "cpu.cpus") }
            if let s = cpu.mems, !s.isEmpty { add("cpuset.mems", s, "cpuset", "cpu.mems") }
        }
        if let p = r.pids?.limit { add("pids.max", p > 0 ? "\(p)" : "max", "pids", "pids.limit") }
        if let io = r.blockIO {
            // blkio.weight under CFQ; blkio.bfq.weight under BFQ (the manager picks the one the
            // kernel has).
            if let w = io.weight, w != 0 { add("blkio.weight", "\(w)", "blkio", "blockIO.weight") }
            if let w = io.leafWeight, w != 0 { add("blkio.leaf_weight", "\(w)", "blkio", "blockIO.leafWeight") }
            for (i, d) in (io.weightDevice ?? []).enumerated() {
                if let w = d.weight, w != 0 { add("blkio.weight_device", "\(d.major):\(d.minor) \(w)", "blkio", "blockIO.weightDevice[\(i)].weight") }
                if let w = d.leafWeight, w != 0 { add("blkio.leaf_weight_device", "\(d.major):\(d.minor) \(w)", "blkio", "blockIO.weightDevice[\(i)].leafWeight") }
            }
            let throttles: [(String, [Resources.ThrottleDevice]?, String)] = [
                ("read_bps_device", io.throttleReadBpsDevice, "throttleReadBpsDevice"),
                ("write_bps_device", io.throttleWriteBpsDevice, "throttleWriteBpsDevice"),
                ("read_iops_device", io.throttleReadIOPSDevice, "throttleReadIOPSDevice"),
                ("write_iops_device", io.throttleWriteIOPSDevice, "throttleWriteIOPSDevice"),
            ]
            for (file, list, name) in throttles {
                for (i, d) in (list ?? []).enumerated() {
                    add("blkio.throttle.\(file)", "\(d.major):\(d.minor) \(d.rate)", "blkio", "blockIO.\(name)[\(i)]")
                }
            }
        }
        for (i, h) in (r.hugepageLimits ?? []).enumerated() {
            guard let size = CgroupResources.hugetlbSize(h.pageSize) else {
                throw .container("\(path).hugepageLimits[\(i)].pageSize: \"\(h.pageSize)\" is not a page size like 2MB or 1GB")
            }
            add("hugetlb.\(size).limit_in_bytes", "\(h.limit)", "hugetlb", "hugepageLimits[\(i)]")
        }
        if let n = r.network {
            if let id = n.classID { add("net_cls.classid", "\(id)", "net_cls", "network.classID") }
            for (i, p) in (n.priorities ?? []).enumerated() {
                add("net_prio.ifpriomap", "\(p.name) \(p.priority)", "net_prio", "network.priorities[\(i)]")
            }
        }
        if let rdma = r.rdma, !rdma.isEmpty {
            for (device, limits) in rdma.sorted(by: { $0.key < $1.key }) {
                var parts: [String] = []
                if let h = limits.hcaHandles { parts.append("hca_handle=\(h)") }
                if let o = limits.hcaObjects { parts.append("hca_object=\(o)") }
                if !parts.isEmpty { add("rdma.max", "\(device) " + parts.joined(separator: " "), "rdma", "rdma.\(device)") }
            }
        }
        if let unified = r.unified, !unified.isEmpty {
            throw .container("\(path).unified: cgroup v2 files (\(unified.keys.sorted().joined(separator: ", "))) cannot be set on a cgroup v1 host")
        }
        return c
    }

    /// The device rules (CgroupResources.deviceRules: the config's, the created devices', runc's
    /// defaults) as devices.allow/devices.deny writes. Everything is denied first, then each
    /// rule is written in order, so a later rule overrides an earlier one as the spec says.
    public static func deviceWrites(_ rules: [CgroupResources.DeviceRule], path: String = "linux.resources.devices") -> [CgroupResources.Write] {
        var out = [CgroupResources.Write(file: "devices.deny", value: "a", controller: "devices", field: path)]
        for r in rules {
            let file = r.allow ? "devices.allow" : "devices.deny"
            let line: String
            if r.type == "a" && r.major < 0 && r.minor < 0 && Set(r.access) == Set("rwm") {
                line = "a"  // everything: resets the list (allow all / deny all)
            } else {
                func n(_ v: Int64) -> String { v < 0 ? "*" : "\(v)" }
                line = "\(r.type) \(n(r.major)):\(n(r.minor)) \(r.access)"
            }
            if let last = out.last, last.file == file, last.value == line { continue }
            out.append(CgroupResources.Write(file: file, value: line, controller: "devices", field: path))
        }
        return out
    }

    /// Why a file may be missing (ENOENT) or refuse a value (any other errno): said after the
    /// kernel's error.
    static func hint(_ file: String, errno e: Int32 = 0) -> String? {
        let missing = e == ENOENT
        if file.hasPrefix("memory.kmem.") { return missing ? "kernel without kmem accounting" : nil }
        if file.hasPrefix("memory.memsw.") {
            return missing ? "kernel without swap accounting: boot with swapaccount=1" : "memory+swap must be at least memory.limit_in_bytes"
        }
        if file == "memory.limit_in_bytes", !missing {
            return "more than memory.memsw.limit_in_bytes allows (set linux.resources.memory.swap too), or below what the container uses"
        }
        if file.hasPrefix("cpu.rt_") { return "kernel without CONFIG_RT_GROUP_SCHED, or the parent's cpu.rt_runtime_us is too small" }
        if file == "cpu.idle", missing { return "kernel without SCHED_IDLE for groups (5.15)" }
        if file == "cpu.cfs_burst_us", missing { return "kernel without CFS burst (5.14)" }
        if file.hasPrefix("blkio.leaf_weight") || file.hasPrefix("blkio.weight"), missing { return "the I/O scheduler has no CFQ/BFQ weights" }
        if file.hasPrefix("blkio.throttle.") { return missing ? "kernel without CONFIG_BLK_DEV_THROTTLING" : "no such block device?" }
        if file.hasPrefix("hugetlb."), missing { return "no such huge page size on this machine" }
        if file.hasPrefix("cpuset."), !missing { return "must be within the parent's cpuset.cpus/cpuset.mems" }
        return nil
    }
}

import Foundation
import JSONCore
@testable import Cgroups
@testable import CrunRuntime
import OCISpec
import Testing

/// cgroup v1 logic without a cgroup: the mount table and /proc/self/cgroup, runc's path
/// mapping per controller, the v1 files and values, and the writes against temp directories
/// standing in for the hierarchies.
@Suite struct CgroupV1Tests {
    func resources(_ json: String) throws -> Resources {
        try Resources(json: try JSONParser.parse(json), path: "linux.resources")
    }

    func writes(_ json: String) throws -> [String] {
        try CgroupV1Resources.convert(try resources(json)).writes.map { "\($0.controller!):\($0.file)=\($0.value)" }
    }

    static let mountinfo = """
        25 30 0:22 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755
        26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
        27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd
        28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:12 - cgroup cgroup rw,cpu,cpuacct
        29 25 0:26 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory
        30 25 0:27 /kubepods /sys/fs/cgroup/pids rw,nosuid shared:14 master:3 - cgroup cgroup rw,pids
        31 25 0:28 / /mnt/elsewhere rw - cgroup cgroup rw,freezer
        32 25 0:26 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory,release_agent=/x
        """

    @Test func mountTableAndOwnCgroups() {
        let m = CgroupV1Mounts(mountinfo: Self.mountinfo, base: "/sys/fs/cgroup")
        // Named hierarchies, cgroup2 and mounts outside the base are not v1 controllers here;
        // stacked mounts count once.
        #expect(m.hierarchies.map(\.mountPoint) == ["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory"])
        #expect(m.hierarchy(of: "cpuacct")?.controllers == ["cpu", "cpuacct"])
        #expect(m.hierarchy(of: "pids")?.root == "/kubepods")
        #expect(m.hierarchy(of: "freezer") == nil)
        #expect(CgroupV1Mounts.unescape("/a\\040b") == "/a b")
        let own = OwnCgroups(text: "9:name=systemd:/user.slice\n4:cpu,cpuacct:/user.slice/s\n3:memory:/m\n0::/u\n")
        #expect(own.of("cpu") == "/user.slice/s" && own.of("cpuacct") == "/user.slice/s" && own.of("memory") == "/m")
        #expect(own.of("") == "/u" && own.of("pids") == "/" && own.byController["name=systemd"] == nil)
    }

    @Test func pathsPerControllerAsRuncMapsThem() throws {
        let m = CgroupV1Mounts(mountinfo: Self.mountinfo, base: "/sys/fs/cgroup")
        let own = OwnCgroups(text: "4:cpu,cpuacct:/user.slice\n3:memory:/m\n2:pids:/kubepods/p\n0::/u\n")
        let unified = CgroupHierarchy(mount: "/sys/fs/cgroup/unified", hybrid: true)
        // Absolute: below every hierarchy's root (a bind-mounted subtree shows its root at the top).
        let abs = try CgroupV1Manager.plan("/pods/c1", id: "c1", systemd: false, mounts: m, unified: unified, own: own)
        #expect(abs.paths == ["cpu": "/sys/fs/cgroup/cpu,cpuacct/pods/c1", "cpuacct": "/sys/fs/cgroup/cpu,cpuacct/pods/c1",
                              "memory": "/sys/fs/cgroup/memory/pods/c1", "pids": "/sys/fs/cgroup/pids/pods/c1"])
        #expect(abs.unified?.path == "/sys/fs/cgroup/unified/pods/c1")
        // Relative or absent: below the caller's own cgroup of each controller.
        let rel = try CgroupV1Manager.plan("box/c1", id: "c1", systemd: false, mounts: m, unified: nil, own: own)
        #expect(rel.paths["cpu"] == "/sys/fs/cgroup/cpu,cpuacct/user.slice/box/c1")
        #expect(rel.paths["memory"] == "/sys/fs/cgroup/memory/m/box/c1")
        #expect(rel.paths["pids"] == "/sys/fs/cgroup/pids/p/box/c1")
        #expect(rel.unified == nil)
        let none = try CgroupV1Manager.plan(nil, id: "c9", systemd: false, mounts: m, unified: unified, own: own)
        #expect(none.paths["memory"] == "/sys/fs/cgroup/memory/m/c9" && none.unified?.path == "/sys/fs/cgroup/unified/u/c9")
        // systemd's naming, as on v2.
        let sd = try CgroupV1Manager.plan("machine-pods.slice:cri:abc", id: "x", systemd: true, mounts: m, unified: nil, own: own)
        #expect(sd.paths["memory"] == "/sys/fs/cgroup/memory/machine.slice/machine-pods.slice/cri-abc.scope")
        // The freezer's directory names the container (state.json's cgroupPath); memory without it.
        #expect(abs.path == "/sys/fs/cgroup/memory/pods/c1")
        #expect(abs.directories.count == 4 && abs.directories.last == "/sys/fs/cgroup/unified/pods/c1")
        // The state records every directory and rebuilds the same manager.
        let again = CgroupV1Manager(controllerPaths: abs.controllerPaths)
        #expect(again.paths == abs.paths && again.unified?.path == abs.unified?.path)
        #expect(throws: CgroupError.self) { try CgroupV1Manager.plan("/a/../b", id: "c", systemd: false, mounts: m, unified: nil, own: own) }
    }

    @Test func runcV1Files() throws {
        #expect(try writes(#"{"memory": {"limit": 1000, "reservation": 500, "swap": 3000, "kernel": 100, "kernelTCP": 50, "swappiness": 10, "disableOOMKiller": true}}"#) == [
            "memory:memory.soft_limit_in_bytes=500", "memory:memory.limit_in_bytes=1000", "memory:memory.memsw.limit_in_bytes=3000",
            "memory:memory.kmem.limit_in_bytes=100", "memory:memory.kmem.tcp.limit_in_bytes=50", "memory:memory.swappiness=10",
            "memory:memory.oom_control=1",
        ])
        // -1: unlimited, also for the swap that goes with it.
        #expect(try writes(#"{"memory": {"limit": -1}}"#) == ["memory:memory.limit_in_bytes=-1", "memory:memory.memsw.limit_in_bytes=-1"])
        #expect(try writes(#"{"cpu": {"shares": 1024, "quota": 50000, "period": 100000, "realtimeRuntime": 950, "realtimePeriod": 1000, "cpus": "0-1", "mems": "0", "idle": 1}}"#) == [
            "cpu:cpu.shares=1024", "cpu:cpu.cfs_period_us=100000", "cpu:cpu.cfs_quota_us=50000", "cpu:cpu.rt_period_us=1000",
            "cpu:cpu.rt_runtime_us=950", "cpu:cpu.idle=1", "cpuset:cpuset.cpus=0-1", "cpuset:cpuset.mems=0",
        ])
        #expect(try writes(#"{"cpu": {"quota": -1}}"#) == ["cpu:cpu.cfs_quota_us=-1"])
        #expect(try writes(#"{"pids": {"limit": 0}}"#) == ["pids:pids.max=max"])
        #expect(try writes(#"{"pids": {"limit": 7}}"#) == ["pids:pids.max=7"])
        #expect(try writes(#"{"blockIO": {"weight": 300, "leafWeight": 200, "weightDevice": [{"major": 8, "minor": 0, "weight": 100, "leafWeight": 50}], "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}], "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 10}]}}"#) == [
            "blkio:blkio.weight=300", "blkio:blkio.leaf_weight=200", "blkio:blkio.weight_device=8:0 100", "blkio:blkio.leaf_weight_device=8:0 50",
            "blkio:blkio.throttle.read_bps_device=8:0 1048576", "blkio:blkio.throttle.write_iops_device=8:16 10",
        ])
        #expect(try writes(#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}], "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]}}"#) == [
            "hugetlb:hugetlb.2MB.limit_in_bytes=4194304", "net_cls:net_cls.classid=1048577", "net_prio:net_prio.ifpriomap=eth0 5",
        ])
        // Refused with the field named.
        for (json, message) in [
            (#"{"memory": {"limit": 1000, "swap": 500}}"#, "linux.resources.memory.swap: 500 is memory+swap"),
            (#"{"memory": {"swappiness": 101}}"#, "linux.resources.memory.swappiness: 101"),
            (#"{"unified": {"memory.high": "5"}}"#, "linux.resources.unified: cgroup v2 files (memory.high) cannot be set on a cgroup v1 host"),
        ] {
            do {
                _ = try writes(json)
                Issue.record("accepted \(json)")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }

    @Test func deviceRulesAsAllowAndDenyWrites() throws {
        let rules = try CgroupResources.deviceRules([
            try Resources.DeviceCgroup(json: try JSONParser.parse(#"{"allow": false, "access": "rwm"}"#), path: "d"),
            try Resources.DeviceCgroup(json: try JSONParser.parse(#"{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "r"}"#), path: "d"),
            try Resources.DeviceCgroup(json: try JSONParser.parse(#"{"allow": false, "type": "b", "major": 8, "access": "w"}"#), path: "d"),
        ], created: [])
        let w = CgroupV1Resources.deviceWrites(rules).map { "\($0.file) \($0.value)" }
        // Deny everything, then the rules in order (a later one overrides), then runc's defaults.
        #expect(Array(w.prefix(5)) == ["devices.deny a", "devices.allow c 10:229 r", "devices.deny b 8:* w", "devices.allow c *:* m", "devices.allow b *:* m"])
        #expect(w.contains("devices.allow c 136:* rwm") && w.contains("devices.allow c 1:3 rwm"))
        let all = CgroupV1Resources.deviceWrites([.init(allow: true, type: "a", major: -1, minor: -1, access: "rwm")]).map { "\($0.file) \($0.value)" }
        #expect(all == ["devices.deny a", "devices.allow a"])
    }

    /// Temp directories stand in for the hierarchies: the files a kernel would offer.
    @Test func writesLandInEachControllersDirectory() throws {
        let root = NSTemporaryDirectory() + "cgroup-v1-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        for c in ["memory", "cpu,cpuacct", "cpuset", "pids", "blkio", "freezer", "devices"] {
            try fm.createDirectory(atPath: "\(root)/\(c)", withIntermediateDirectories: true)
        }
        try "0-3\n".write(toFile: root + "/cpuset/cpuset.cpus", atomically: true, encoding: .utf8)
        try "0\n".write(toFile: root + "/cpuset/cpuset.mems", atomically: true, encoding: .utf8)
        let mounts = CgroupV1Mounts(hierarchies: [
            .init(mountPoint: root + "/memory", root: "/", controllers: ["memory"]),
            .init(mountPoint: root + "/cpu,cpuacct", root: "/", controllers: ["cpu", "cpuacct"]),
            .init(mountPoint: root + "/cpuset", root: "/", controllers: ["cpuset"]),
            .init(mountPoint: root + "/pids", root: "/", controllers: ["pids"]),
            .init(mountPoint: root + "/blkio", root: "/", controllers: ["blkio"]),
            .init(mountPoint: root + "/freezer", root: "/", controllers: ["freezer"]),
            .init(mountPoint: root + "/devices", root: "/", controllers: ["devices"]),
        ])
        let cgroup = try CgroupV1Manager.plan("/pods/c1", id: "c1", systemd: false, mounts: mounts, unified: nil, own: OwnCgroups(text: ""))
        let created = try cgroup.create()
        #expect(created.count == 14 && created.first == root + "/blkio/pods" && created.contains(root + "/memory/pods/c1"))
        // A new cpuset gets its parent's cpus and mems (a kernel makes the files empty; the
        // stand-in has none, which is skipped, so they are made here).
        #expect(!fm.fileExists(atPath: root + "/cpuset/pods/cpuset.cpus"))
        try "".write(toFile: root + "/cpuset/pods/cpuset.cpus", atomically: true, encoding: .utf8)
        try "".write(toFile: root + "/cpuset/pods/cpuset.mems", atomically: true, encoding: .utf8)
        try cgroup.inheritCpuset(root + "/cpuset/pods", parent: root + "/cpuset")
        #expect(try String(contentsOfFile: root + "/cpuset/pods/cpuset.cpus", encoding: .utf8) == "0-3")
        #expect(try String(contentsOfFile: root + "/cpuset/pods/cpuset.mems", encoding: .utf8) == "0")

        let files = ["memory/pods/c1/memory.limit_in_bytes", "memory/pods/c1/memory.memsw.limit_in_bytes", "pids/pods/c1/pids.max",
                     "cpu,cpuacct/pods/c1/cpu.shares", "blkio/pods/c1/blkio.bfq.weight", "freezer/pods/c1/freezer.state",
                     "devices/pods/c1/devices.allow", "devices/pods/c1/devices.deny"]
        for f in files { fm.createFile(atPath: root + "/" + f, contents: nil) }
        try "9223372036854771712\n".write(toFile: root + "/memory/pods/c1/memory.limit_in_bytes", atomically: true, encoding: .utf8)
        let conversion = try CgroupV1Resources.convert(try resources(#"{"memory": {"limit": 4096, "swap": 8192}, "pids": {"limit": 5}, "cpu": {"shares": 512}, "blockIO": {"weight": 300}}"#))
        try cgroup.apply(conversion.writes)
        func content(_ f: String) throws -> String { try String(contentsOfFile: root + "/" + f, encoding: .utf8) }
        #expect(try content("memory/pods/c1/memory.limit_in_bytes") == "4096")
        #expect(try content("memory/pods/c1/memory.memsw.limit_in_bytes") == "8192")
        #expect(try content("pids/pods/c1/pids.max") == "5")
        #expect(try content("cpu,cpuacct/pods/c1/cpu.shares") == "512")
        #expect(try content("blkio/pods/c1/blkio.bfq.weight") == "300")  // BFQ's file where CFQ's is missing
        #expect(cgroup.memoryLimit == 4096)
        // A file the kernel lacks: the field, controller, file, directory and why.
        let kmem = try CgroupV1Resources.convert(try resources(#"{"memory": {"kernel": 100}}"#))
        do {
            try cgroup.apply(kmem.writes)
            Issue.record("kmem accepted")
        } catch {
            #expect("\(error)" == "linux.resources.memory.kernel: memory controller: memory.kmem.limit_in_bytes does not exist in \(root)/memory/pods/c1 (kernel without kmem accounting)")
        }
        // A controller the host does not mount.
        let net = try CgroupV1Resources.convert(try resources(#"{"network": {"classID": 1}}"#))
        do {
            try cgroup.apply(net.writes)
            Issue.record("net_cls accepted")
        } catch {
            #expect("\(error)".hasPrefix("linux.resources.network.classID: needs the net_cls controller, which is not mounted"))
        }
        // Freezer: written and read back.
        try cgroup.freeze(true)
        #expect(try content("freezer/pods/c1/freezer.state") == "FROZEN" && cgroup.frozen)
        #expect(Cgroup.isFrozen(directory: cgroup.path))
        try cgroup.freeze(false)
        #expect(!cgroup.frozen)
        // Devices: deny everything, then the rules, in order (the stand-in file keeps the last).
        try cgroup.applyDevices(CgroupResources.defaultAllowed)
        #expect(try content("devices/pods/c1/devices.deny") == "a")
        #expect(try content("devices/pods/c1/devices.allow") == "c 10:200 rwm")
        let p = try cgroup.placement()
        #expect(p.cloneInto == -1 && p.procsFiles.count == 7 && p.procsFiles.contains(root + "/cpu,cpuacct/pods/c1/cgroup.procs"))
    }

    @Test func memoryAndSwapOrderFollowsTheLimitInForce() throws {
        let root = NSTemporaryDirectory() + "cgroup-v1-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/c", withIntermediateDirectories: true)
        let cgroup = CgroupV1Manager(paths: ["memory": root + "/c"], unified: nil)
        try "1000".write(toFile: root + "/c/memory.limit_in_bytes", atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: root + "/c/memory.memsw.limit_in_bytes", contents: nil)
        try cgroup.apply(try CgroupV1Resources.convert(try resources(#"{"memory": {"limit": 5000, "swap": 9000}}"#)).writes)
        #expect(try String(contentsOfFile: root + "/c/memory.memsw.limit_in_bytes", encoding: .utf8) == "9000")
        #expect(cgroup.memoryLimit == 5000)
        // Raising (the limit in force is below the new memory+swap): memsw first, so with memsw
        // missing the limit is not touched.
        var writes = try CgroupV1Resources.convert(try resources(#"{"memory": {"limit": 6000, "swap": 9000}}"#)).writes
        try FileManager.default.removeItem(atPath: root + "/c/memory.memsw.limit_in_bytes")
        do {
            try cgroup.apply(writes)
        } catch {
            // memsw was written first and is missing: the limit was not touched.
            #expect("\(error)".contains("memory.memsw.limit_in_bytes does not exist"))
        }
        #expect(cgroup.memoryLimit == 5000)
        // Lowering below the limit in force: the limit first.
        writes = try CgroupV1Resources.convert(try resources(#"{"memory": {"limit": 1000, "swap": 2000}}"#)).writes
        do {
            try cgroup.apply(writes)
        } catch {
            #expect("\(error)".contains("memory.memsw.limit_in_bytes does not exist"))
        }
        #expect(cgroup.memoryLimit == 1000)
    }

    @Test func hugetlbGoesToCgroup2WhereNoV1HierarchyHasIt() throws {
        let root = NSTemporaryDirectory() + "cgroup-v1-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/unified", withIntermediateDirectories: true)
        try "hugetlb\n".write(toFile: root + "/unified/cgroup.controllers", atomically: true, encoding: .utf8)
        let unified = Cgroup(hierarchy: CgroupHierarchy(mount: root + "/unified", hybrid: true), relative: "/c")
        let r = try resources(#"{"memory": {"limit": 4096}, "hugepageLimits": [{"pageSize": "2MB", "limit": 0}]}"#)
        let hybrid = CgroupV1Manager(paths: ["memory": root + "/memory/c"], unified: unified)
        let (rest, writes) = try hybrid.unifiedShare(r)
        #expect(rest.hugepageLimits == nil && rest.memory?.limit == 4096)
        #expect(writes.map { "\($0.file)=\($0.value)" } == ["hugetlb.2MB.max=0"])
        // A v1 hugetlb hierarchy, or no cgroup2 offer: the v1 files (or the named error).
        let v1 = CgroupV1Manager(paths: ["memory": root + "/memory/c", "hugetlb": root + "/hugetlb/c"], unified: unified)
        #expect(try v1.unifiedShare(r).1.isEmpty)
        try "memory\n".write(toFile: root + "/unified/cgroup.controllers", atomically: true, encoding: .utf8)
        #expect(try hybrid.unifiedShare(r).1.isEmpty)
    }
}

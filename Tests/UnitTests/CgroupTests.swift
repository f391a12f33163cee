import CShim
import Foundation
import JSONCore
@testable import Cgroups
@testable import CrunRuntime
import OCISpec
import Testing

/// cgroup v2 logic without a cgroup: runc's conversions, paths, the device filter's program,
/// and the writes against a temp directory standing in for the cgroup mount.
@Suite struct CgroupTests {
    func resources(_ json: String) throws -> Resources {
        try Resources(json: try JSONParser.parse(json), path: "linux.resources")
    }

    func writes(_ json: String) throws -> [String] {
        try CgroupResources.convert(try resources(json)).writes.map { "\($0.file)=\($0.value)" }
    }

    @Test func runcConversions() throws {
        #expect(CgroupResources.cpuWeight(shares: 2) == 1)
        #expect(CgroupResources.cpuWeight(shares: 1024) == 39)
        #expect(CgroupResources.cpuWeight(shares: 262144) == 10000)
        #expect(CgroupResources.ioWeight(10) == 1 && CgroupResources.ioWeight(500) == 4950 && CgroupResources.ioWeight(1000) == 10000)
        #expect(try CgroupResources.swapMax(swap: 200, limit: 100) == "100")
        #expect(try CgroupResources.swapMax(swap: -1, limit: 100) == "max")
        #expect(try CgroupResources.swapMax(swap: 0, limit: -1) == "max")
        #expect(try CgroupResources.swapMax(swap: 0, limit: 100) == nil)
        #expect(throws: CgroupError.self) { try CgroupResources.swapMax(swap: 50, limit: 100) }
        #expect(throws: CgroupError.self) { try CgroupResources.swapMax(swap: 50, limit: nil) }
    }

    @Test func everyResourceBecomesItsFile() throws {
        #expect(try writes(#"{"memory": {"limit": 1048576, "reservation": 524288, "swap": 2097152, "useHierarchy": true}}"#)
                == ["memory.low=524288", "memory.max=1048576", "memory.swap.max=1048576"])
        #expect(try writes(#"{"memory": {"limit": -1}}"#) == ["memory.max=max", "memory.swap.max=max"])
        #expect(try writes(#"{"cpu": {"shares": 1024, "quota": 50000, "period": 100000, "burst": 1000, "idle": 1, "cpus": "0-1", "mems": "0"}}"#)
                == ["cpu.weight=39", "cpu.max=50000 100000", "cpu.max.burst=1000", "cpu.idle=1", "cpuset.cpus=0-1", "cpuset.mems=0"])
        #expect(try writes(#"{"cpu": {"quota": -1}}"#) == ["cpu.max=max"])
        #expect(try writes(#"{"cpu": {"period": 20000}}"#) == ["cpu.max=max 20000"])
        #expect(try writes(#"{"pids": {"limit": 32}}"#) == ["pids.max=32"])
        #expect(try writes(#"{"pids": {"limit": -1}}"#) == ["pids.max=max"])
        #expect(try writes(#"{"blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 10}], "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}], "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 0}]}}"#)
                == ["io.weight=default 4950", "io.weight=8:0 1", "io.max=8:0 rbps=1048576", "io.max=8:16 wiops=max"])
        #expect(try writes(#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}"#) == ["hugetlb.2MB.max=4194304"])
        #expect(try writes(#"{"rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}}}"#) == ["rdma.max=mlx5_1 hca_handle=3 hca_object=10000"])
        #expect(try writes(#"{"unified": {"memory.high": "1G", "cgroup.max.depth": "4"}}"#) == ["cgroup.max.depth=4", "memory.high=1G"])
        let c = try CgroupResources.convert(try resources(#"{"memory": {"limit": 100, "disableOOMKiller": true}, "network": {"classID": 1}}"#))
        #expect(c.writes.first?.field == "linux.resources.memory.limit" && c.writes.first?.controller == "memory")
        #expect(c.warnings.count == 2 && c.warnings[0].hasPrefix("linux.resources.memory.disableOOMKiller"))
    }

    @Test func impossibleSettingsNameTheirField() throws {
        func message(_ json: String) -> String {
            do { _ = try CgroupResources.convert(try resources(json)); return "" } catch { return "\(error)" }
        }
        #expect(message(#"{"cpu": {"realtimeRuntime": 950000}}"#).hasPrefix("linux.resources.cpu.realtimeRuntime:"))
        #expect(message(#"{"hugepageLimits": [{"pageSize": "huge", "limit": 1}]}"#).hasPrefix("linux.resources.hugepageLimits[0].pageSize:"))
        #expect(message(#"{"unified": {"../memory.max": "1"}}"#).hasPrefix("linux.resources.unified:"))
        #expect(message(#"{"memory": {"limit": 100, "swap": 50}}"#).hasPrefix("linux.resources.memory.swap:"))
        #expect(throws: JSONDecodeError.self) { try resources(#"{"memory": {"limit": "lots"}}"#) }
    }

    @Test func cgroupPaths() throws {
        func path(_ p: String?, systemd: Bool = false) throws -> String {
            try CgroupHierarchy.containerPath(p, id: "c1", systemd: systemd, own: "/user.slice/me")
        }
        #expect(try path("/default/c1") == "/default/c1")
        #expect(try path("pods/c1") == "/user.slice/me/pods/c1")
        #expect(try path(nil) == "/user.slice/me/c1")
        #expect(try path(nil, systemd: true) == "/system.slice/crun-swift-c1.scope")
        #expect(try path("system.slice:docker:abc") == "/system.slice/docker-abc.scope")
        #expect(try path("kubepods-besteffort-pod12.slice:cri-containerd:abc")
                == "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-abc.scope")
        #expect(try path("-.slice::machine.slice") == "/machine.slice")
        #expect(throws: CgroupError.self) { try path("/a/../b") }
        #expect(throws: CgroupError.self) { try path("a:b") }
        #expect(throws: CgroupError.self) { try path("nope:x:y") }
        #expect(throws: CgroupError.self) { try path("/") }
    }

    @Test func deviceRulesAndTheirProgram() throws {
        let spec = try JSONParser.parse(#"[{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}]"#)
        let rules = try CgroupResources.deviceRules(spec.arrayValue!.enumerated().map { try Resources.DeviceCgroup(json: $1, path: "d[\($0)]") },
                                                    created: [try Device(json: try JSONParser.parse(#"{"path": "/dev/x", "type": "b", "major": 7, "minor": 0}"#), path: "x")])
        #expect(rules.count == 3 + CgroupResources.defaultAllowed.count)
        #expect(rules[2] == .init(allow: true, type: "b", major: 7, minor: 0, access: "rwm"))
        #expect(throws: CgroupError.self) {
            try CgroupResources.deviceRules([try Resources.DeviceCgroup(json: try JSONParser.parse(#"{"allow": true, "access": "rwx"}"#), path: "d")], created: [])
        }
        // The program: a 6-instruction prologue, rules last to first, and the deny-all rule
        // (matching everything) ends it: nothing unreachable follows.
        let c = CgroupResources.cRules(rules)
        var insns = [UInt64](repeating: 0, count: 512)
        let n = Int(c.withUnsafeBufferPointer { cs_cgroup_devices_program($0.baseAddress, Int32($0.count), &insns, 512) })
        #expect(n > 6 && n < 512)
        let last = insns[n - 1], verdict = insns[n - 2]
        #expect(last & 0xff == 0x95)                                // BPF_JMP | BPF_EXIT
        #expect(verdict & 0xff == 0xb7 && verdict >> 32 == 0)       // r0 = 0: deny
        let allowAll = CgroupResources.cRules([.init(allow: true, type: "a", major: -1, minor: -1, access: "rwm")])
        #expect(allowAll.withUnsafeBufferPointer { cs_cgroup_devices_program($0.baseAddress, 1, &insns, 512) } == 8)
    }

    @Test func writesLandInTheCgroupDirectory() throws {
        // A temp directory stands in for the cgroup2 mount: the files a kernel would offer.
        let root = NSTemporaryDirectory() + "cgroup-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "cpuset cpu io memory pids\n".write(toFile: root + "/cgroup.controllers", atomically: true, encoding: .utf8)
        try "".write(toFile: root + "/cgroup.subtree_control", atomically: true, encoding: .utf8)
        let cgroup = Cgroup(hierarchy: CgroupHierarchy(mount: root, hybrid: false), relative: "/pods/c1")
        let conversion = try CgroupResources.convert(try resources(#"{"memory": {"limit": 4096}, "pids": {"limit": 5}}"#))
        // Parents get the controllers in subtree_control (a real kernel creates the file).
        try FileManager.default.createDirectory(atPath: root + "/pods", withIntermediateDirectories: true)
        try "".write(toFile: root + "/pods/cgroup.subtree_control", atomically: true, encoding: .utf8)
        let created = try cgroup.create(controllers: ["memory", "pids"]) { $0 }
        #expect(created == [root + "/pods/c1"])
        #expect(try String(contentsOfFile: root + "/cgroup.subtree_control", encoding: .utf8) == "+memory +pids")
        #expect(try String(contentsOfFile: root + "/pods/cgroup.subtree_control", encoding: .utf8) == "+memory +pids")
        for f in ["memory.max", "pids.max"] { FileManager.default.createFile(atPath: root + "/pods/c1/" + f, contents: nil) }
        try cgroup.apply(conversion.writes)
        #expect(try String(contentsOfFile: root + "/pods/c1/memory.max", encoding: .utf8) == "4096")
        #expect(try String(contentsOfFile: root + "/pods/c1/pids.max", encoding: .utf8) == "5")
        // A file the kernel does not offer, a controller the hierarchy lacks: named errors.
        let hugetlb = try CgroupResources.convert(try resources(#"{"hugepageLimits": [{"pageSize": "2MB", "limit": 1}]}"#))
        #expect(throws: CgroupError.self) { try cgroup.apply(hugetlb.writes) }
        do { try cgroup.apply(hugetlb.writes) } catch { #expect("\(error)".contains("linux.resources.hugepageLimits[0]: needs the hugetlb controller")) }
        let unified = try CgroupResources.convert(try resources(#"{"unified": {"memory.zswap.max": "0"}}"#))
        do { try cgroup.apply(unified.writes) } catch { #expect("\(error)".contains("memory.zswap.max does not exist")) }
        // Stats read the same files.
        try "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 2\nthrottled_usec 30\n"
            .write(toFile: root + "/pods/c1/cpu.stat", atomically: true, encoding: .utf8)
        try "3\n".write(toFile: root + "/pods/c1/pids.current", atomically: true, encoding: .utf8)
        let stats = cgroup.stats()
        #expect(stats["cpu"]?["usage"]?["total"] == .number("1500000"))
        #expect(stats["cpu"]?["throttling"]?["throttledPeriods"] == .number("2"))
        #expect(stats["pids"]?["current"] == .number("3") && stats["pids"]?["limit"] == .number("5"))
        Cgroup.removeCreated(created)
    }
}

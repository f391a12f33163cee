import Foundation
import Glibc
import JSONCore
@testable import Cgroups
import OCISpec
import Testing

/// Setting a container's cgroup up through the Syscalls seam (RecordingSyscalls over a temp
/// directory): where directories go, which files get which values in which order, what is
/// refused before anything is made, and that a failure at any step leaves nothing made behind.
@Suite struct CgroupSetupTests {
    func resources(_ json: String) throws -> Resources {
        try Resources(json: try JSONParser.parse(json), path: "linux.resources")
    }

    func v2(_ fake: FakeCgroupRoot, _ relative: String) -> Cgroup {
        Cgroup(hierarchy: CgroupHierarchy(mount: fake.root, hybrid: false), relative: relative, sys: fake.sys)
    }

    var limits: String { #"{"memory": {"limit": 4096, "swap": 8192}, "pids": {"limit": 5}}"# }

    @Test func v2DirectoriesGoUnderTheRootWithControllersEnabledOnTheWayDown() throws {
        let fake = try FakeCgroupRoot()
        fake.write("cgroup.subtree_control", "memory\n")  // enabled already: only pids is added
        let writes = try CgroupResources.convert(resources(limits)).writes
        let made = try v2(fake, "/pods/c1").setUp(writes)
        #expect(made == [fake.root + "/pods", fake.root + "/pods/c1"])
        #expect(fake.calls("mkdir", "overwrite") == [
            "overwrite R/cgroup.subtree_control=+pids",
            "mkdir R/pods",
            "overwrite R/pods/cgroup.subtree_control=+memory +pids",
            "mkdir R/pods/c1",
            "overwrite R/pods/c1/memory.max=4096",
            "overwrite R/pods/c1/memory.swap.max=4096",
            "overwrite R/pods/c1/pids.max=5",
        ])
        #expect(fake.read("pods/c1/memory.swap.max") == "4096")
        #expect(fake.tree == ["pods", "pods/c1"])
    }

    @Test func noLimitsMeansNoControllerWrites() throws {
        let fake = try FakeCgroupRoot(dirs: ["pods"])
        let made = try v2(fake, "/pods/c1").setUp([])
        #expect(made == [fake.root + "/pods/c1"])
        #expect(fake.calls("mkdir", "overwrite") == ["mkdir R/pods", "mkdir R/pods/c1"])
    }

    @Test func aMissingControllerNamesTheConfigFieldAndMakesNothing() throws {
        let fake = try FakeCgroupRoot(controllers: "cpu memory")
        let writes = try CgroupResources.convert(resources(#"{"pids": {"limit": 5}}"#)).writes
        #expect {
            _ = try v2(fake, "/pods/c1").setUp(writes)
        } throws: { error in
            "\(error)".contains("linux.resources.pids.limit: needs the pids controller") && "\(error)".contains("cgroup.controllers: cpu memory")
        }
        #expect(fake.calls("mkdir", "overwrite").isEmpty)
        #expect(fake.tree.isEmpty)
    }

    @Test func aCgroupThatHasProcessesIsRefused() throws {
        let fake = try FakeCgroupRoot(dirs: ["c1", "c2"])
        fake.write("c1/cgroup.procs", "42\n")
        #expect {
            try v2(fake, "/c1").requireVacant()
        } throws: { error in
            "\(error)" == "linux.cgroupsPath: the cgroup \(fake.root)/c1 already has processes (another container's?)"
        }
        try v2(fake, "/c2").requireVacant()   // there but empty: fine
        try v2(fake, "/c3").requireVacant()   // not there: fine
        let v1 = CgroupV1Manager(paths: ["memory": fake.root + "/c2", "pids": fake.root + "/c1"], unified: nil, sys: fake.sys)
        #expect(throws: CgroupError.self) { try v1.requireVacant() }
    }

    @Test func v1MakesOneDirectoryPerHierarchyAndCopiesTheCpuset() throws {
        var files = ["cgroup.procs": "", "memory.limit_in_bytes": "9223372036854771712\n", "cpu.shares": "1024\n"]
        let fake = try FakeCgroupRoot(dirs: ["memory", "cpu,cpuacct"], files: files)
        files["cpuset.cpus"] = ""; files["cpuset.mems"] = ""   // a new cpuset has none
        try FileManager.default.createDirectory(atPath: fake.root + "/cpuset", withIntermediateDirectories: true)
        FakeCgroupRoot.layOut(fake.root + "/cpuset", ["cgroup.procs": "", "cpuset.cpus": "0-3\n", "cpuset.mems": "0\n"])
        fake.sys.onMakeDirectory = { FakeCgroupRoot.layOut($0, files) }
        let dir = { (h: String) in fake.root + "/" + h + "/pods/c1" }
        let v1 = CgroupV1Manager(paths: ["memory": dir("memory"), "cpu": dir("cpu,cpuacct"), "cpuacct": dir("cpu,cpuacct"), "cpuset": dir("cpuset")],
                                 unified: nil, sys: fake.sys)
        let writes = try CgroupV1Resources.convert(resources(#"{"memory": {"limit": 4096}, "cpu": {"shares": 512}}"#)).writes
        let made = try v1.setUp(writes)
        #expect(made.map { String($0.dropFirst(fake.root.count + 1)) } ==
                ["cpu,cpuacct/pods", "cpu,cpuacct/pods/c1", "cpuset/pods", "cpuset/pods/c1", "memory/pods", "memory/pods/c1"])
        #expect(fake.read("cpuset/pods/cpuset.cpus") == "0-3" && fake.read("cpuset/pods/c1/cpuset.mems") == "0")
        #expect(fake.calls("overwrite").filter { !$0.contains("cpuset") } == [
            "overwrite R/memory/pods/c1/memory.limit_in_bytes=4096",
            "overwrite R/cpu,cpuacct/pods/c1/cpu.shares=512",
        ])
    }

    /// Every mkdir and write of a good run fails once in turn: the error names the step, and
    /// the tree is as it was (a parent someone else made stays).
    @Test func v2FailureAtEachStepLeavesNothingMadeBehind() throws {
        let good = try FakeCgroupRoot(dirs: ["pods"])
        let writes = try CgroupResources.convert(resources(limits)).writes
        _ = try v2(good, "/pods/a/c1").setUp(writes)
        let steps = good.calls("mkdir", "overwrite")
        #expect(steps.count == 9)  // three mkdirs (one EEXIST), three subtree_control writes, three limits
        for step in steps {
            let fake = try FakeCgroupRoot(dirs: ["pods"])
            fake.sys.failures[fake.call(step)] = EIO
            #expect(throws: CgroupError.self, "\(step)") { _ = try v2(fake, "/pods/a/c1").setUp(writes) }
            #expect(fake.tree == ["pods"], "after a failing \(step)")
        }
    }

    @Test func v1FailureAtEachStepLeavesNothingMadeBehind() throws {
        let files = ["cgroup.procs": "", "memory.limit_in_bytes": "9223372036854771712\n", "pids.max": "max\n",
                     "devices.allow": "", "devices.deny": ""]
        let writes = try CgroupV1Resources.convert(resources(#"{"memory": {"limit": 4096}, "pids": {"limit": 5}}"#)).writes
        let devices = try CgroupResources.deviceRules([], created: [])
        func manager(_ fake: FakeCgroupRoot) -> CgroupV1Manager {
            CgroupV1Manager(paths: ["memory": fake.root + "/memory/c1", "pids": fake.root + "/pids/c1", "devices": fake.root + "/devices/c1"],
                            unified: nil, sys: fake.sys)
        }
        let good = try FakeCgroupRoot(dirs: ["memory", "pids", "devices"], files: files)
        _ = try manager(good).setUp(writes, devices: devices)
        let steps = good.calls("mkdir", "overwrite")
        #expect(steps.count == 9 + 2 + CgroupV1Resources.deviceWrites(devices).count)  // mkdir from the root down, per hierarchy
        for step in steps {
            let fake = try FakeCgroupRoot(dirs: ["memory", "pids", "devices"], files: files)
            fake.sys.failures[fake.call(step)] = EIO
            #expect(throws: CgroupError.self, "\(step)") { _ = try manager(fake).setUp(writes, devices: devices) }
            #expect(fake.tree == ["devices", "memory", "pids"], "after a failing \(step)")
        }
    }

    @Test func aFailedMkdirNamesTheStepThePathAndErrno() throws {
        let fake = try FakeCgroupRoot()
        fake.sys.failures[fake.call("mkdir R/pods/c1")] = EACCES
        #expect {
            _ = try v2(fake, "/pods/c1").setUp([])
        } throws: { error in
            "\(error)" == "linux.cgroupsPath: create the cgroup `\(fake.root)/pods/c1`: Permission denied"
        }
        #expect(fake.tree.isEmpty)
    }
}

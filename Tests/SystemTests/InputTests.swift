import Foundation
import Testing

/// Input that once got through validation (issue 13 §3), driven through the binary: nothing
/// runs, nothing is left, and the error names the field.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
struct BlackBoxInputTests {
    /// The cgroups below `dir` of the cgroup2 hierarchy (other suites run in parallel, so a
    /// test looks only at cgroups of its own).
    static func cgroupTree(_ dir: String) -> [String] {
        let base = Harness.cgroupMount + "/" + dir
        var out: [String] = []
        let items = FileManager.default.enumerator(atPath: base)
        while let item = items?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + item, isDirectory: &isDir), isDir.boolValue { out.append(item) }
        }
        return out.sorted()
    }

    /// `"/\u0000"` ran the container in the hierarchy's root cgroup and then spun without bound;
    /// `"..\u0000"` in the parent; `"/decoy\u0000x"` joined a cgroup that already had processes.
    @Test(arguments: ["/\u{0}", "..\u{0}", "/DECOY\u{0}x", "DECOY/\u{0}"])
    func nulInCgroupsPathRunsNothingAndLeavesNothing(_ template: String) throws {
        let decoy = "cs-decoy-\(UUID().uuidString.prefix(8))"
        let decoyDir = Harness.cgroupMount + "/" + decoy
        #expect(mkdir(decoyDir, 0o755) == 0)
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["1000"]
        try sleeper.run()
        defer {
            kill(sleeper.processIdentifier, SIGKILL)
            sleeper.waitUntilExit()
            rmdir(decoyDir)
        }
        try "\(sleeper.processIdentifier)".write(toFile: decoyDir + "/cgroup.procs", atomically: false, encoding: .utf8)

        let host = NSTemporaryDirectory() + "crun-swift-nul-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: host + "/state", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: host) }
        var c = Harness.baseConfig(args: ["sh", "-c", "touch /mnt/host/ran"])
        c.append("mounts", [["destination": "/mnt/host", "type": "bind", "source": host, "options": ["rbind"]]])
        let path = template.replacingOccurrences(of: "DECOY", with: decoy)
        c.edit("linux") { $0["cgroupsPath"] = path }

        let mountsBefore = Harness.hostMounts()
        let r = try Harness.run(c, timeout: 30, globalArgs: ["--root", host + "/state"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("crun-swift: ") && r.stderr.contains("config.json: linux.cgroupsPath: contains a NUL byte"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: host + "/ran"), "the container ran")
        #expect(BlackBoxInputTests.cgroupTree(decoy) == [], "a cgroup was made below the decoy")
        #expect((try? String(contentsOfFile: decoyDir + "/cgroup.procs", encoding: .utf8)) == "\(sleeper.processIdentifier)\n")
        #expect(Harness.hostMounts() == mountsBefore)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: host + "/state")) ?? ["?"]).isEmpty)
    }

    /// The other reproductions of §3, each refused with its path before anything is made.
    @Test(arguments: [
        ("capabilities", "process.capabilities.bounding[0]: unknown capability \"CAP_SYS_ADMIN \""),
        ("device", "linux.devices[0].major: 4294967297 is not a device major"),
        ("rule", "linux.resources.devices[0].major: -5 is not a device major"),
        ("uid", "process.user.uid: 4294967295 is (uid_t)-1"),
        ("gid", "process.user.gid: 4294967295 is (uid_t)-1"),
    ])
    func truncatedInputIsRefused(_ what: String, _ message: String) throws {
        var c = Harness.baseConfig(args: ["true"])
        switch what {
        case "capabilities": c.edit("process") { $0["capabilities"] = ["bounding": ["CAP_SYS_ADMIN "], "effective": ["CAP_SYS_ADMIN "], "permitted": ["CAP_SYS_ADMIN "]] }
        case "device": c.edit("linux") { $0["devices"] = [["type": "c", "path": "/dev/x", "major": 4_294_967_297, "minor": 3]] }
        case "rule": c.edit("linux") { $0["resources"] = ["devices": [["allow": true, "type": "c", "major": -5, "minor": 1, "access": "rwm"]]] }
        case "uid": c.edit("process") { $0["user"] = ["uid": 4_294_967_295, "gid": 0] }
        default: c.edit("process") { $0["user"] = ["uid": 0, "gid": 4_294_967_295] }
        }
        let parent = "cs-input-\(UUID().uuidString.prefix(8))"
        c.edit("linux") { $0["cgroupsPath"] = "/\(parent)/c" }
        let r = try Harness.run(c)
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("crun-swift: " + message), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: Harness.cgroupMount + "/" + parent), "a cgroup was left")
        rmdir(Harness.cgroupMount + "/" + parent + "/c")
        rmdir(Harness.cgroupMount + "/" + parent)
    }
}

import Foundation
import Testing

/// The built binary as users and orchestrators call it: command-line forms, exit codes, and
/// bad input that must fail with a clear message and leave nothing behind.
@Suite(.enabled(if: Harness.binaryExists))
struct BlackBoxTests {
    @Test func versionLines() throws {
        let r = try Harness.crun(["--version"])
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("crun-swift version ") == true)
        #expect(lines.contains { $0.hasPrefix("commit: ") })
        #expect(lines.contains { $0.hasPrefix("spec: 1.") })
    }

    func failure(_ rawConfig: String) throws -> Harness.Result {
        let bundle = try Harness.TempBundle(rawConfig: rawConfig)
        return try Harness.crun(["run", bundle.path])
    }

    @Test func malformedJSON() throws {
        let r = try failure("{\"ociVersion\": \"1.0.2\", \"process\": {")
        #expect(r.status != 0)
        #expect(r.stderr.contains("config.json: invalid JSON at line 1"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func wrongTypeNamesTheField() throws {
        let r = try failure(#"{"ociVersion": "1.0.2", "root": {"path": "/"}, "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh", 1], "cwd": "/"}}"#)
        #expect(r.status != 0)
        #expect(r.stderr.contains("process.args[1]: expected a string, found a number"))
    }

    @Test func missingConfig() throws {
        let dir = NSTemporaryDirectory() + "crun-swift-empty-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Harness.crun(["run", "--bundle", dir, "x"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("open bundle config `\(dir)/config.json`: No such file or directory"))
    }

    @Test func everyValidationProblemIsReported() throws {
        var c = Harness.baseConfig()
        c["ociVersion"] = "2.0.0"
        c.edit("process") { $0["args"] = [String]() }
        c.edit("linux") { $0.append("namespaces", [["type": "pidgin"]]) }
        c.append("mounts", [["destination": "", "type": "tmpfs", "source": "tmpfs"]])
        let bundle = try Harness.TempBundle(config: c)
        let r = try Harness.crun(["run", bundle.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("ociVersion: unsupported version \"2.0.0\""))
        #expect(r.stderr.contains("process.args: must not be empty"))
        #expect(r.stderr.contains("linux.namespaces[5].type: unknown namespace type \"pidgin\""))
        #expect(r.stderr.contains("mounts[5].destination: must not be empty"))
    }

    @Test func missingRootfs() throws {
        var c = Harness.baseConfig()
        c.edit("root") { $0["path"] = "/nonexistent/rootfs" }
        let bundle = try Harness.TempBundle(config: c)
        let r = try Harness.crun(["run", bundle.path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("root.path: /nonexistent/rootfs is not a directory"))
    }
}

/// Black-box tests that start containers.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
struct BlackBoxRunTests {
    @Test func runcFormWithBundleFlagAndCwdBundle() throws {
        let bundle = try Harness.TempBundle(config: Harness.baseConfig(args: ["sh", "-c", "echo hi"]))
        #expect(try Harness.crun(["run", "--bundle", bundle.path, "id-1"]).stdout == "hi\n")
        #expect(try Harness.crun(["run", "-b", bundle.path, "id-2"]).stdout == "hi\n")
        #expect(try Harness.crun(["run", "id-3"], cwd: bundle.path).stdout == "hi\n")
        #expect(try Harness.crun(["--root", bundle.path + "/state", "--log-format", "json", "run", bundle.path]).stdout == "hi\n")
    }

    @Test func acceptsEveryGeneratorVersion() throws {
        for v in ["1.0.0", "1.0.2", "1.1.0", "1.2.0", "1.3.0"] {
            var c = Harness.baseConfig(args: ["true"])
            c["ociVersion"] = v
            #expect(try Harness.run(c).status == 0, "ociVersion \(v)")
        }
    }

    @Test func failedSetupLeavesNothingBehind() throws {
        let before = Harness.hostMounts()
        var c = Harness.baseConfig()
        c.append("mounts", [["destination": "/tmp/x", "type": "nosuchfs", "source": "none"]])
        let r = try Harness.run(c)
        #expect(r.status != 0)
        #expect(r.stderr == "crun-swift: mounts[5]: mount nosuchfs `none` on `/tmp/x`: No such device\n")
        #expect(Harness.hostMounts() == before)
        // No child is left: the test process has no zombie or live children from crun-swift.
        let children = (try? String(contentsOfFile: "/proc/self/task/\(getpid())/children", encoding: .utf8)) ?? ""
        #expect(children.trimmingCharacters(in: .whitespaces).isEmpty)
    }

    @Test func execFailureNamesTheProgram() throws {
        let r = try Harness.run(Harness.baseConfig(args: ["/no/such/program"]))
        #expect(r.status != 0)
        #expect(r.stderr == "crun-swift: process.args[0]: exec `/no/such/program`: No such file or directory\n")
    }

    @Test func badCwdAndUnmappedUser() throws {
        var c = Harness.baseConfig()
        c.edit("process") { $0["cwd"] = "/no/such/dir" }
        #expect(try Harness.run(c).stderr == "crun-swift: process.cwd: chdir `/no/such/dir`: No such file or directory\n")
    }

    @Test func limitsAreAppliedOrRefusedNeverDropped() throws {
        var c = Harness.baseConfig(args: ["true"])
        c.edit("linux") { $0["resources"] = ["memory": ["limit": 100_000_000], "pids": ["limit": 10]] }
        let disabled = try Harness.run(c, globalArgs: ["--cgroup-manager=disabled"])
        #expect(disabled.status == 0)
        #expect(disabled.stderr.contains("warning: linux.resources: not applied"))
        // cgroup v2, or the v1 controllers of a hybrid / v1 host.
        let r = try Harness.run(c)
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func containersLiveInTheirCgroupBehindADeviceFilter() throws {
        // Membership and the device filter: cgroup2's BPF filter, or the v1 devices controller.
        var c = Harness.baseConfig(args: ["sh", "-c", "cat /proc/self/cgroup; head -c 0 /dev/fuse && echo fuse-open || echo fuse-denied; head -c 3 /dev/zero | wc -c"])
        c.edit("linux") { $0["cgroupsPath"] = "/cs-blackbox/box1" }
        c["mounts"] = (c["mounts"] as? [[String: Any]] ?? []) + [["destination": "/dev/fuse", "type": "bind", "source": "/dev/fuse", "options": ["bind"]]]
        let r = try Harness.run(c)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasSuffix("/cs-blackbox/box1\nfuse-denied\n3\n"), "\(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: Harness.cgroupMount + "/cs-blackbox/box1"), "run left its cgroup")
        rmdir(Harness.cgroupMount + "/cs-blackbox")
        c.edit("linux") { $0["resources"] = ["devices": [["allow": false, "access": "rwm"], ["allow": true, "type": "c", "major": 10, "minor": 229, "access": "r"]]] }
        #expect(try Harness.run(c).stdout.contains("fuse-open"))
        rmdir(Harness.cgroupMount + "/cs-blackbox")
        c.edit("linux") { $0["resources"] = ["devices": [["allow": true, "type": "c", "major": 10, "minor": 229, "access": "w"]]] }
        #expect(try Harness.run(c).stdout.contains("fuse-denied"))
        rmdir(Harness.cgroupMount + "/cs-blackbox")
        c.edit("linux") { $0["cgroupsPath"] = "/a/../../escape" }
        let bad = try Harness.run(c)
        #expect(bad.status == 1 && bad.stderr.contains("linux.cgroupsPath: \"/a/../../escape\" must not contain . or .. components"))
    }
}

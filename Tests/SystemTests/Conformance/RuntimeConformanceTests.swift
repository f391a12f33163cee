import Foundation
import Testing

/// runtime.md: State, Lifecycle, Errors, Operations.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
final class RuntimeConformanceTests {
    let c = Conformance()

    func sleeper(_ version: String = "1.2.0") throws -> String {
        var config = Harness.baseConfig(args: ["sleep", "1000"])
        config["ociVersion"] = version
        config["annotations"] = ["com.example.a": "1", "com.example.b": "two"]
        return try c.bundle(config)
    }

    /// "State": ociVersion, id, status, pid (created/running), bundle (absolute), annotations.
    @Test func runtimeStateProperties() throws {
        let b = try sleeper()
        #expect(try c.cs(["create", "--bundle", b, "st"]).status == 0)
        let s = try c.state("st")
        #expect((s["ociVersion"] as? String)?.hasPrefix("1.") == true)
        #expect(s["id"] as? String == "st")
        #expect(s["status"] as? String == "created")
        #expect((s["pid"] as? Int ?? 0) > 0)
        #expect(s["bundle"] as? String == b && b.hasPrefix("/"))
        #expect(s["annotations"] as? [String: String] == ["com.example.a": "1", "com.example.b": "two"])
    }

    /// "State": the status follows the lifecycle: created, running, stopped.
    @Test func runtimeStateStatusFollowsTheLifecycle() throws {
        let pid = try c.createAndStart("life", try sleeper())
        #expect(try c.state("life")["status"] as? String == "running")
        #expect(try c.state("life")["pid"] as? Int == pid)
        #expect(try c.cs(["kill", "life", "KILL"]).status == 0)
        try c.waitUntil("stopped") { try c.state("life")["status"] as? String == "stopped" }
    }

    /// "State": the id MUST be unique; "Create": a duplicate id MUST generate an error and a
    /// new container MUST NOT be created (the existing one is untouched).
    @Test func runtimeCreateDuplicateIdIsAnError() throws {
        let b = try sleeper()
        #expect(try c.cs(["create", "--bundle", b, "dup"]).status == 0)
        let before = try c.state("dup")
        let r = try c.cs(["create", "--bundle", b, "dup"])
        #expect(r.status != 0 && r.stderr.contains("dup"), "\(r.stderr)")
        let after = try c.state("dup")
        #expect(after["pid"] as? Int == before["pid"] as? Int && after["status"] as? String == "created")
    }

    /// "Lifecycle" step 2 / "Create": the user-specified code MUST NOT run at create; "Start":
    /// it MUST run, and the status is then `running`.
    @Test func runtimeLifecycleCreateDoesNotRunTheProcess() throws {
        let out = Conformance.temp("ran")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        var config = Harness.baseConfig(args: ["sh", "-c", "echo ran > /out/ran; sleep 1000"])
        config.append("mounts", [["destination": "/out", "type": "bind", "source": out, "options": ["rbind"]]])
        let b = try c.bundle(config)
        #expect(try c.cs(["create", "--bundle", b, "norun"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: out + "/ran"))
        #expect(try c.cs(["start", "norun"]).status == 0)
        #expect(try c.state("norun")["status"] as? String == "running")
        try c.waitUntil("the process to run") { FileManager.default.fileExists(atPath: out + "/ran") }
    }

    /// "Lifecycle" step 2: "Any updates to config.json after this step MUST NOT affect the
    /// container."
    @Test func runtimeLifecycleConfigChangesAfterCreateHaveNoEffect() throws {
        let b = try sleeper()
        #expect(try c.cs(["create", "--bundle", b, "frozen"]).status == 0)
        let pid = try c.state("frozen")["pid"] as? Int ?? 0
        try Data(#"{"ociVersion": "1.0.0", "process": {"args": ["false"], "cwd": "/", "user": {"uid": 0, "gid": 0}}, "root": {"path": "elsewhere"}}"#.utf8)
            .write(to: URL(fileURLWithPath: b + "/config.json"))
        #expect(try c.cs(["start", "frozen"]).status == 0)
        try c.waitUntil("sleep to run") {
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").hasPrefix("sleep\u{0}1000")
        }
        #expect(try c.state("frozen")["status"] as? String == "running")
    }

    /// "Errors": a failed operation MUST leave the environment as if it were never
    /// attempted: no state, no cgroup, the same mount table.
    @Test func runtimeErrorsFailedCreateLeavesNothing() throws {
        let mounts = Conformance.mountTable()
        var config = Harness.baseConfig(args: ["true"])
        config.append("mounts", [["destination": "/x", "type": "nosuchfs", "source": "none"]])
        config.edit("linux") { $0["cgroupsPath"] = "/crun-swift-conformance-errors" }
        let r = try c.cs(["create", "--bundle", try c.bundle(config), "failed"])
        #expect(r.status != 0 && r.stderr.contains("mounts[5]"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: c.root + "/failed"))
        #expect(!FileManager.default.fileExists(atPath: Harness.cgroupMount + "/crun-swift-conformance-errors"))
        #expect(Conformance.mountTable() == mounts)
        #expect(try c.cs(["list", "-q"]).stdout == "")
    }

    /// "Query State": an error without an id and for a container that does not exist.
    @Test func runtimeQueryStateErrors() throws {
        #expect(try c.cs(["state"]).status != 0)
        let r = try c.cs(["state", "nosuch"])
        #expect(r.status != 0 && r.stderr.contains("nosuch"))
    }

    /// "Create": an error without an id; an invalid id is refused and nothing is created.
    @Test(arguments: ["", "../escape", "a/b", ".."])
    func runtimeCreateInvalidIdIsAnError(_ id: String) throws {
        let b = try sleeper()
        let r = try c.cs(id.isEmpty ? ["create", "--bundle", b] : ["create", "--bundle", b, id])
        #expect(r.status != 0)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: c.root)) ?? []
        #expect(left.isEmpty, "\(left)")
    }

    /// "Start": errors without an id and for a missing container; starting a started
    /// container MUST have no effect on it and MUST generate an error.
    @Test func runtimeStartErrorsAndStartingTwice() throws {
        #expect(try c.cs(["start"]).status != 0)
        #expect(try c.cs(["start", "nosuch"]).status != 0)
        let pid = try c.createAndStart("twice", try sleeper())
        let r = try c.cs(["start", "twice"])
        #expect(r.status != 0 && r.stderr.contains("twice"))
        #expect(try c.state("twice")["status"] as? String == "running")
        #expect(try c.state("twice")["pid"] as? Int == pid)
    }

    /// "Kill": the signal MUST reach the container's process; errors without an id, for a
    /// missing container, and for a stopped one (no effect); the status becomes `stopped`.
    @Test func runtimeKillSendsTheSignalAndRefusesStoppedContainers() throws {
        #expect(try c.cs(["kill"]).status != 0)
        #expect(try c.cs(["kill", "nosuch", "TERM"]).status != 0)
        let out = Conformance.temp("kill")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        var config = Harness.baseConfig(args: ["sh", "-c", "trap 'echo usr1 > /out/got; exit 0' USR1; echo ready > /out/ready; while :; do sleep 1; done"])
        config.append("mounts", [["destination": "/out", "type": "bind", "source": out, "options": ["rbind"]]])
        try c.createAndStart("k", try c.bundle(config))
        try c.waitUntil("the trap") { FileManager.default.fileExists(atPath: out + "/ready") }
        #expect(try c.cs(["kill", "k", "USR1"]).status == 0)
        try c.waitUntil("the signal") { FileManager.default.fileExists(atPath: out + "/got") }
        try c.waitUntil("stopped") { try c.state("k")["status"] as? String == "stopped" }
        let r = try c.cs(["kill", "k", "TERM"])
        #expect(r.status != 0)
        #expect(try c.state("k")["status"] as? String == "stopped")
    }

    /// "Delete": errors without an id, for a missing container, and for a running one; it
    /// removes what create made (state, cgroup) and nothing it did not (bundle, rootfs, a
    /// bind-mount source, a namespace joined by path).
    @Test func runtimeDeleteRemovesOnlyWhatCreateMade() throws {
        #expect(try c.cs(["delete"]).status != 0)
        #expect(try c.cs(["delete", "nosuch"]).status != 0)
        let shared = Conformance.temp("shared")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: shared + "/file"))
        defer { try? FileManager.default.removeItem(atPath: shared) }
        var config = Harness.baseConfig(args: ["sleep", "1000"])
        config.append("mounts", [["destination": "/shared", "type": "bind", "source": shared, "options": ["rbind"]]])
        // The test's own uts namespace, joined by path.
        config.edit("linux") { $0["namespaces"] = [["type": "pid"], ["type": "mount"], ["type": "uts", "path": "/proc/self/ns/uts"]] }
        config.removeValue(forKey: "hostname")
        config.edit("linux") { $0["cgroupsPath"] = "/crun-swift-conformance-delete" }
        let b = try c.bundle(config)
        try c.createAndStart("del", b)
        let r = try c.cs(["delete", "del"])
        #expect(r.status != 0 && r.stderr.contains("running"), "\(r.stderr)")
        #expect(try c.state("del")["status"] as? String == "running")
        #expect(try c.cs(["kill", "del", "KILL"]).status == 0)
        try c.waitUntil("stopped") { try c.state("del")["status"] as? String == "stopped" }
        #expect(try c.cs(["delete", "del"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: c.root + "/del"))
        #expect(!FileManager.default.fileExists(atPath: Harness.cgroupMount + "/crun-swift-conformance-delete"))
        #expect(FileManager.default.fileExists(atPath: b + "/config.json"))
        #expect(FileManager.default.fileExists(atPath: Harness.rootfs + "/bin/busybox"))
        #expect((try? String(contentsOfFile: shared + "/file", encoding: .utf8)) == "keep")
        #expect(!Harness.nsInode("uts").isEmpty && Harness.nsInode("uts") != "?")
        // Once deleted, the id may be used again.
        try c.createAndStart("del", b)
        #expect(try c.cs(["delete", "--force", "del"]).status == 0)
    }
}

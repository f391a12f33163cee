import Foundation
import Testing

/// Issue 14 §5: `run` is create + start (+ wait + delete) on the lifecycle's own path: it is
/// registered under --root while it runs, its hooks run, and killing it leaves a container
/// that `delete --force` removes.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
final class RunLifecycleTests {
    let root: String
    var bundles: [Harness.TempBundle] = []

    init() {
        root = NSTemporaryDirectory() + "crun-swift-root-\(UUID().uuidString.prefix(8))"
    }

    deinit {
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            _ = try? Harness.crun(["--root", root, "delete", "--force", id])
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    func cs(_ args: [String], timeout: Double = 20, onStart: ((Process) -> Void)? = nil) throws -> Harness.Result {
        try Harness.crun(["--root", root] + args, timeout: timeout, onStart: onStart)
    }

    func bundle(_ args: [String], _ change: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        var c = Harness.baseConfig(args: args)
        change(&c)
        let b = try Harness.TempBundle(config: c)
        bundles.append(b)
        return b.path
    }

    func state(_ id: String) -> [String: Any] {
        guard let r = try? cs(["state", id]), r.status == 0 else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func waitUntil(_ what: String, _ condition: () throws -> Bool) rethrows {
        try Harness.waitUntil(what, condition)
    }

    func storedCgroup(_ id: String) -> String? {
        guard let data = FileManager.default.contents(atPath: root + "/" + id + "/state.json"),
              let s = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return s["cgroupPath"] as? String
    }

    @Test func aRunningRunIsRegisteredAndGoneAfterwards() throws {
        let b = try bundle(["sleep", "1000"])
        var seen: [String] = []
        let r = try cs(["run", "--bundle", b, "r1"], timeout: 60) { _ in
            self.waitUntil("for r1 to be running") { self.state("r1")["status"] as? String == "running" }
            // Another process sees it as it sees any started container.
            seen.append((try? self.cs(["exec", "r1", "echo", "hello"]))?.stdout ?? "")
            seen.append((try? self.cs(["list", "-q"]))?.stdout ?? "")
            seen.append((try? self.cs(["ps", "--format", "json", "r1"]))?.stdout ?? "")
            _ = try? self.cs(["kill", "r1", "KILL"])
        }
        #expect(r.status == 137, "\(r.stderr)")
        #expect(seen.count == 3 && seen[0] == "hello\n" && seen[1] == "r1\n" && seen[2].hasPrefix("["), "\(seen)")
        // Deleted when it exited.
        #expect(!FileManager.default.fileExists(atPath: root + "/r1"))
        #expect(try cs(["state", "r1"]).stderr.contains("container \"r1\" does not exist"))
    }

    @Test func aFailingPrestartHookFailsRun() throws {
        let b = try bundle(["true"]) { c in
            c["hooks"] = ["prestart": [["path": "/bin/sh", "args": ["sh", "-c", "exit 4"]]]]
        }
        let r = try cs(["run", "--bundle", b, "r2"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("hooks.prestart[0] `/bin/sh`: exited with status 4"), "\(r.stderr)")
        #expect(!r.stderr.contains("not run by this build"))
        #expect(!FileManager.default.fileExists(atPath: root + "/r2"))
    }

    @Test func runHooksSeeTheirMoments() throws {
        let log = NSTemporaryDirectory() + "crun-swift-runhooks-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: log) }
        func hook(_ name: String) -> [String: Any] {
            ["path": "/bin/sh", "args": ["sh", "-c", #"echo "$0 $(cat | tr -d ' \n' | sed 's/.*"status":"\([a-z]*\)".*/\1/')" >> "# + log, name]]
        }
        let b = try bundle(["true"]) { c in
            c["hooks"] = ["prestart": [hook("prestart")], "poststart": [hook("poststart")], "poststop": [hook("poststop")]]
        }
        let r = try cs(["run", "--bundle", b, "r3"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(lines.first == "prestart creating" && lines.last == "poststop stopped" && lines.contains { $0.hasPrefix("poststart ") }, "\(lines)")
    }

    @Test func detachReturnsAStartedContainer() throws {
        let b = try bundle(["sleep", "1000"])
        let r = try cs(["run", "--detach", "--bundle", b, "r4"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(state("r4")["status"] as? String == "running")
        #expect(try cs(["exec", "r4", "true"]).status == 0)
        #expect(try cs(["delete", "--force", "r4"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/r4"))
    }

    @Test func keepLeavesTheStoppedContainer() throws {
        let b = try bundle(["sh", "-c", "exit 3"])
        let r = try cs(["run", "--keep", "--bundle", b, "r5"])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(state("r5")["status"] as? String == "stopped")
        #expect(try cs(["delete", "r5"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/r5"))
    }

    @Test func consoleSocketWithDetach() throws {
        let b = try bundle(["sh", "-c", "tty"]) { c in c.edit("process") { $0["terminal"] = true } }
        let sock = b + "/console.sock"
        let refused = try cs(["run", "--console-socket", sock, "--bundle", b, "r6"])
        #expect(refused.status != 0 && refused.stderr.contains("--console-socket: only with --detach"), "\(refused.stderr)")
        let receiver = try Harness.ConsoleReceiver(socket: sock)
        let r = try cs(["run", "--detach", "--console-socket", sock, "--bundle", b, "r6"])
        #expect(r.status == 0, "\(r.stderr)")
        let text = receiver.read()
        #expect(text == "/dev/pts/0\n")
        #expect(try cs(["delete", "--force", "r6"]).status == 0)
    }

    @Test func aKilledRunLeavesWhatDeleteForceRemoves() throws {
        let b = try bundle(["sleep", "1000"])
        let pidFile = b + "/pid"
        var initPid = 0
        var cgroup: String?
        let r = try cs(["run", "--pid-file", pidFile, "--bundle", b, "r7"], timeout: 60) { p in
            self.waitUntil("for r7 to be running") { self.state("r7")["status"] as? String == "running" }
            initPid = self.state("r7")["pid"] as? Int ?? 0
            cgroup = self.storedCgroup("r7")
            kill(p.processIdentifier, SIGKILL)
        }
        #expect(r.status == 9 || r.status == 137)
        // Registered and still running: runc's behaviour.
        #expect(state("r7")["status"] as? String == "running")
        #expect(initPid > 0 && kill(pid_t(initPid), 0) == 0)
        #expect(try cs(["list", "-q"]).stdout == "r7\n")
        let d = try cs(["delete", "--force", "r7"])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/r7"))
        #expect(!FileManager.default.fileExists(atPath: pidFile))
        if let cgroup { #expect(!FileManager.default.fileExists(atPath: cgroup)) }
        waitUntil("for the init to be gone") {
            let stat = (try? String(contentsOfFile: "/proc/\(initPid)/stat", encoding: .utf8)) ?? ""
            return stat.isEmpty || stat.contains(") Z ")
        }
        // The id is free again.
        #expect(try cs(["run", "--bundle", try bundle(["true"]), "r7"]).status == 0)
    }

    @Test func deleteRemovesTheParentCgroupsCreateMade() throws {
        let own = ((try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? "")
            .split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? "/"
        let parent = Harness.cgroupMount + (own == "/" ? "" : own) + "/crash-parent-\(getpid())"
        let b = try bundle(["sleep", "1000"]) { c in
            c.edit("linux") { $0["cgroupsPath"] = "crash-parent-\(getpid())/slice/leaf" }
        }
        #expect(try cs(["create", "--bundle", b, "p1"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: parent + "/slice/leaf"))
        #expect(try cs(["delete", "--force", "p1"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: parent))
    }

    @Test func aHalfBuiltContainerIsListedAndDeleted() throws {
        // What a crash between registering the id and writing its state leaves: a directory
        // with a temp file half written.
        try FileManager.default.createDirectory(atPath: root + "/half/network", withIntermediateDirectories: true)
        try "{\"ociVersion\"".write(toFile: root + "/half/state.json.tmp", atomically: false, encoding: .utf8)
        try "12".write(toFile: root + "/half/init.tmp", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/half/network/out", withDestinationPath: "/etc")
        // While a command holds its lock (a create in progress) it is being created...
        let lock = open(root + "/half", O_RDONLY | O_DIRECTORY)
        #expect(lock >= 0 && flock(lock, LOCK_EX) == 0)
        #expect(state("half")["status"] as? String == "creating")
        close(lock)
        // ...and once nobody does, a create that was cut short: stopped, still listed.
        #expect(state("half")["status"] as? String == "stopped")
        #expect(try cs(["list"]).stdout.contains("half "))
        let d = try cs(["delete", "--force", "half"])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/half"))
        #expect(FileManager.default.fileExists(atPath: "/etc/hostname") || FileManager.default.fileExists(atPath: "/etc/passwd"))
    }
}

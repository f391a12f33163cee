import Foundation
import Testing

/// The lifecycle as orchestrators drive it: runc's argv, state JSON, and the bad cases.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
final class LifecycleTests {
    let root: String
    var bundles: [Harness.TempBundle] = []

    init() {
        root = NSTemporaryDirectory() + "crun-swift-root-\(UUID().uuidString.prefix(8))"
    }

    deinit {
        // Nothing survives a test: kill what is left through the runtime, then the root.
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            _ = try? Harness.crun(["--root", root, "delete", "--force", id])
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    func cs(_ args: [String], timeout: Double = 120) throws -> Harness.Result {
        try Harness.crun(["--root", root] + args, timeout: timeout)
    }

    func bundle(_ args: [String], _ change: (inout [String: Any]) -> Void = { _ in }) throws -> String {
        var c = Harness.baseConfig(args: args)
        change(&c)
        let b = try Harness.TempBundle(config: c)
        bundles.append(b)
        return b.path
    }

    func state(_ id: String) throws -> [String: Any] {
        let r = try cs(["state", id])
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func waitUntil(_ what: String = "", _ condition: () throws -> Bool) rethrows {
        try Harness.waitUntil(what, condition)
    }

    @Test func createStartStateKillDelete() throws {
        let b = try bundle(["sh", "-c", "echo started > /dev/null; sleep 1000"])
        let pidFile = b + "/init.pid"
        // containerd's exact argv (go-runc): globals, then create with bundle and pid file.
        let r = try Harness.crun(["--root", root, "--log", b + "/log.json", "--log-format", "json",
                                  "create", "--bundle", b, "--pid-file", pidFile, "c1"])
        #expect(r.status == 0, "\(r.stderr)")
        let pid = Int((try String(contentsOfFile: pidFile, encoding: .utf8)))
        var s = try state("c1")
        #expect(s["status"] as? String == "created")
        #expect(s["pid"] as? Int == pid && pid != nil)
        #expect(s["id"] as? String == "c1" && s["bundle"] as? String == b && s["ociVersion"] as? String == "1.3.0")
        #expect((s["rootfs"] as? String) == Harness.rootfs && (s["created"] as? String)?.hasSuffix("Z") == true)
        #expect(s["owner"] as? String == "")
        // The created init has not exec'd the process yet.
        let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid!)/exe")
        #expect(exe?.hasSuffix("crun-swift") == true)

        #expect(try cs(["start", "c1"]).status == 0)
        s = try state("c1")
        #expect(s["status"] as? String == "running")
        try waitUntil("for exec") { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid!)/exe"))?.hasSuffix("busybox") == true }

        let list = try cs(["list", "--format=json"])
        let items = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
        #expect(items.map { $0["id"] as? String } == ["c1"])
        #expect(try cs(["list", "-q"]).stdout == "c1\n")
        #expect(try cs(["list"]).stdout.contains("c1 "))
        #expect(try cs(["ps", "--format", "json", "c1"]).stdout == "[\(pid!)]\n")

        #expect(try cs(["kill", "c1", "KILL"]).status == 0)
        try waitUntil("for stopped") { try state("c1")["status"] as? String == "stopped" }
        #expect(try cs(["delete", "c1"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/c1"))
    }

    @Test(arguments: ["TERM", "SIGTERM", "15", "sigterm"])
    func killTakesNamesAndNumbers(_ signal: String) throws {
        // As pid 1, sh ignores SIGTERM until its trap is set: it says when by writing a file.
        let b = try bundle(["sh", "-c", "trap 'exit 0' TERM; touch /tmp/trap-set; while :; do sleep 0.05; done"])
        #expect(try cs(["create", "--bundle", b, "k1"]).status == 0)
        let pid = try state("k1")["pid"] as? Int ?? 0
        #expect(try cs(["start", "k1"]).status == 0)
        waitUntil("for the trap") { FileManager.default.fileExists(atPath: "/proc/\(pid)/root/tmp/trap-set") }
        #expect(try cs(["kill", "k1", signal]).status == 0)
        try waitUntil("for stopped") { try state("k1")["status"] as? String == "stopped" }
        #expect(try cs(["delete", "k1"]).status == 0)
    }

    @Test func killAllReachesEveryProcess() throws {
        let b = try bundle(["sh", "-c", "sleep 1000 & sleep 1000 & wait"])
        #expect(try cs(["create", "--bundle", b, "ka"]).status == 0)
        #expect(try cs(["start", "ka"]).status == 0)
        try waitUntil("for 3 processes") {
            let pids = try cs(["ps", "--format", "json", "ka"]).stdout
            return pids.split(separator: ",").count == 3
        }
        let pids = try cs(["ps", "--format", "json", "ka"]).stdout
        #expect(try cs(["kill", "--all", "ka", "9"]).status == 0)
        try waitUntil("for stopped") { try state("ka")["status"] as? String == "stopped" }
        for pid in pids.trimmingCharacters(in: CharacterSet(charactersIn: "[]\n")).split(separator: ",") {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            #expect(stat.isEmpty || stat.contains(") Z "), "process \(pid) survived kill --all")
        }
        #expect(try cs(["delete", "ka"]).status == 0)
    }

    @Test func execIntoARunningContainer() throws {
        let b = try bundle(["sleep", "1000"]) { c in
            c.edit("process") { $0["env"] = ["PATH=/bin", "BASE=1"] }
        }
        #expect(try cs(["create", "--bundle", b, "e1"]).status == 0)
        #expect(try cs(["start", "e1"]).status == 0)
        let r = try cs(["exec", "--env", "EXTRA=2", "--cwd", "/tmp", "--user", "1000:1001", "e1",
                        "sh", "-c", "echo $BASE$EXTRA; pwd; id -u; id -g; tr '\\0' ' ' </proc/1/cmdline; exit 6"])
        #expect(r.stdout == "12\n/tmp\n1000\n1001\nsleep 1000 ")
        #expect(r.status == 6)
        // containerd's form: --process file, --detach, --pid-file.
        let process: [String: Any] = ["terminal": false, "user": ["uid": 0, "gid": 0], "args": ["sh", "-c", "echo detached > /tmp/out; sleep 1000"],
                                      "env": ["PATH=/bin"], "cwd": "/"]
        let pfile = b + "/process.json"
        try JSONSerialization.data(withJSONObject: process).write(to: URL(fileURLWithPath: pfile))
        let d = try cs(["exec", "--process", pfile, "--detach", "--pid-file", b + "/exec.pid", "e1"])
        #expect(d.status == 0, "\(d.stderr)")
        let execPid = Int((try String(contentsOfFile: b + "/exec.pid", encoding: .utf8)))
        #expect(execPid != nil)
        try waitUntil("for the detached exec") { try cs(["exec", "e1", "cat", "/tmp/out"]).stdout == "detached\n" }
        let del = try cs(["delete", "--force", "e1"]); #expect(del.status == 0, "\(del.stderr)")
        let stat = (try? String(contentsOfFile: "/proc/\(execPid!)/stat", encoding: .utf8)) ?? ""
        #expect(stat.isEmpty || stat.contains(") Z "), "the exec'd process outlived delete --force")
    }

    @Test func execCapAddsACapability() throws {
        let b = try bundle(["sleep", "1000"]) { c in
            c.edit("process") { $0["capabilities"] = ["bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]] }
        }
        #expect(try cs(["create", "--bundle", b, "ec1"]).status == 0)
        #expect(try cs(["start", "ec1"]).status == 0)
        // CAP_KILL = bit 5, CAP_NET_RAW = bit 13.
        #expect(try cs(["exec", "ec1", "sh", "-c", "grep CapEff /proc/self/status | tr -d '\\t'"]).stdout == "CapEff:0000000000000020\n")
        #expect(try cs(["exec", "--cap", "CAP_NET_RAW", "ec1", "sh", "-c", "grep CapEff /proc/self/status | tr -d '\\t'"]).stdout == "CapEff:0000000000002020\n")
        #expect(try cs(["delete", "--force", "ec1"]).status == 0)
    }

    @Test func consoleSocketGetsThePtyMaster() throws {
        let b = try bundle(["sh", "-c", "tty; stty size"]) { c in
            c.edit("process") { $0["terminal"] = true; $0["consoleSize"] = ["height": 21, "width": 77] }
        }
        let sock = b + "/console.sock"
        let receiver = try Harness.ConsoleReceiver(socket: sock)
        let c = try cs(["create", "--bundle", b, "--console-socket", sock, "t1"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(try cs(["start", "t1"]).status == 0)
        let text = receiver.read()
        #expect(text == "/dev/pts/0\n21 77\n")
        try waitUntil("for stopped") { try state("t1")["status"] as? String == "stopped" }
        #expect(try cs(["delete", "t1"]).status == 0)
    }

    @Test func terminalWithoutConsoleSocketIsRefused() throws {
        let b = try bundle(["true"]) { c in c.edit("process") { $0["terminal"] = true } }
        let r = try cs(["create", "--bundle", b, "t2"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("create needs --console-socket"))
        #expect(!FileManager.default.fileExists(atPath: root + "/t2"))
    }

    @Test func badInputNamesTheContainer() throws {
        for verb in [["state"], ["start"], ["kill"], ["delete"], ["exec"], ["pause"], ["ps"]] {
            let r = try cs(verb + ["ghost"] + (verb == ["exec"] ? ["true"] : []))
            #expect(r.status != 0)
            #expect(r.stderr.contains("container \"ghost\" does not exist"), "\(verb): \(r.stderr)")
        }
        #expect(try cs(["delete", "--force", "ghost"]).status == 0)  // as runc: nothing to do

        let b = try bundle(["sleep", "1000"])
        #expect(try cs(["create", "--bundle", b, "dup"]).status == 0)
        let again = try cs(["create", "--bundle", b, "dup"])
        #expect(again.status != 0 && again.stderr.contains("container \"dup\" already exists"))
        #expect(try cs(["start", "dup"]).status == 0)
        let restart = try cs(["start", "dup"])
        #expect(restart.status != 0 && restart.stderr.contains("container \"dup\" cannot be started: it is running"))
        let del = try cs(["delete", "dup"])
        #expect(del.status != 0 && del.stderr.contains("cannot delete container \"dup\" that is not stopped: running"))
        #expect(try state("dup")["status"] as? String == "running")  // undamaged

        // A corrupt state file: a clear error for that id; the other container is untouched.
        let b2 = try bundle(["sleep", "1000"])
        #expect(try cs(["create", "--bundle", b2, "bad"]).status == 0)
        try "{not json".write(toFile: root + "/bad/state.json", atomically: true, encoding: .utf8)
        let st = try cs(["state", "bad"])
        #expect(st.status != 0 && st.stderr.contains("container \"bad\": state file") && st.stderr.contains("corrupt"))
        #expect(try state("dup")["status"] as? String == "running")
        let badPid = Int((try String(contentsOfFile: root + "/bad/init", encoding: .utf8)).split(separator: " ")[0])!
        #expect(try cs(["delete", "--force", "bad"]).status == 0)
        try waitUntil("for the init of the corrupt container to die") {
            let stat = (try? String(contentsOfFile: "/proc/\(badPid)/stat", encoding: .utf8)) ?? ""
            return stat.isEmpty || stat.contains(") Z ")
        }
        #expect(try cs(["delete", "--force", "dup"]).status == 0)
        #expect(try cs(["list", "-q"]).stdout == "")
    }

    /// What containerd's shim (go-runc, checkKillError), CRI-O (runtimeCmd) and podman parse
    /// once the init has exited: runc's words and exit codes, or pods cannot be stopped.
    @Test func anExitedContainerAnswersAsRuncDoes() throws {
        let b = try bundle(["true"])
        let log = b + "/log.json"
        let globals = ["--log", log, "--log-format", "json"]
        #expect(try cs(globals + ["create", "--bundle", b, "gone"]).status == 0)
        #expect(try cs(globals + ["start", "gone"]).status == 0)
        try waitUntil("for stopped") { try state("gone")["status"] as? String == "stopped" }

        // kill: exit 1, "container not running" on stderr (go-runc reads it) and in the log.
        for signal in ["15", "9", "KILL"] {
            let k = try cs(globals + ["kill", "gone", signal])
            #expect(k.status == 1, "kill \(signal): \(k.status)")
            #expect(k.stderr == "cannot kill container \"gone\": container not running\n", "\(k.stderr)")
        }
        let last = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").last.map(String.init) ?? ""
        let entry = (try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: String]) ?? [:]
        #expect(entry["level"] == "error" && entry["msg"]?.contains("container not running") == true, "\(last)")
        // Without --log (CRI-O, podman): the same words after our name.
        #expect(try cs(["kill", "gone", "9"]).stderr.contains("container not running"))
        // kill --all of a stopped container is no error (runc's kill.go).
        let all = try cs(globals + ["kill", "--all", "gone", "9"])
        #expect(all.status == 0 && all.stderr.isEmpty, "\(all.stderr)")
        #expect(try cs(["kill", "-a", "gone", "KILL"]).status == 0)
        let pause = try cs(["pause", "gone"])
        #expect(pause.status == 1 && pause.stderr.contains("container not running"), "\(pause.stderr)")
        // state of a stopped container: exit 0, "stopped".
        let st = try cs(["state", "gone"])
        #expect(st.status == 0 && st.stderr.isEmpty)
        // delete of a stopped container without --force: exit 0, nothing printed.
        let del = try cs(globals + ["delete", "gone"])
        #expect(del.status == 0 && del.stderr.isEmpty, "\(del.stderr)")
        // Then "does not exist", which containerd reads as "no such container" (kill) and
        // "already deleted" (delete), podman and CRI-O as "exited" (state).
        for verb in [["state"], ["kill"], ["kill", "--all"], ["delete"], ["pause"]] {
            let r = try cs(verb + ["gone"])
            #expect(r.status == 1 && r.stderr.contains("does not exist"), "\(verb): \(r.status) \(r.stderr)")
        }
        #expect(try cs(["delete", "--force", "gone"]).status == 0)
    }

    /// Under containerd's shim and conmon, the runtime's stderr during create is the container's
    /// stderr: with --log, warnings go only to the log; an error goes to both.
    @Test func warningsGoOnlyToTheLog() throws {
        let b = try bundle(["true"]) { c in c.edit("linux") { $0["intelRdt"] = ["closID": "x"] } }
        let log = b + "/log.json"
        let r = try cs(["--log", log, "--log-format", "json", "create", "--bundle", b, "warned"])
        #expect(r.status == 0 && r.stderr.isEmpty, "stderr: \(r.stderr)")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("\"level\":\"warning\",\"msg\":\"linux.intelRdt: not applied by this build\""), "\(text)")
        #expect(try cs(["delete", "--force", "warned"]).status == 0)
        // Without --log the warning is on stderr, named.
        let plain = try cs(["create", "--bundle", b, "warned2"])
        #expect(plain.stderr == "crun-swift: warning: linux.intelRdt: not applied by this build\n", "\(plain.stderr)")
        #expect(try cs(["delete", "--force", "warned2"]).status == 0)
        // A log that cannot be opened: the warning is not lost.
        let lost = try cs(["--log", b + "/no/such/dir/log.json", "create", "--bundle", b, "warned3"])
        #expect(lost.stderr.contains("warning: linux.intelRdt: not applied by this build"), "\(lost.stderr)")
        #expect(try cs(["delete", "--force", "warned3"]).status == 0)
        // An error: on stderr as well as in the log, exit 1.
        let bad = try bundle(["/no/such/program"])
        let f = try cs(["--log", log, "--log-format", "json", "create", "--bundle", bad, "failed"])
        #expect(f.status == 1 && f.stderr.contains("exec `/no/such/program`: No such file or directory"), "\(f.stderr)")
        #expect(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("\"level\":\"error\""))
    }

    @Test func aCreateInterruptedBeforeItsStateIsDeletedByForce() throws {
        // What a crash of crun-swift between mkdir and writing the state leaves behind.
        try FileManager.default.createDirectory(atPath: root + "/half", withIntermediateDirectories: true)
        // Shown, never hidden (runc shows "creating" for an init that has not finished).
        #expect(try state("half")["status"] as? String == "stopped")
        #expect(try cs(["delete", "--force", "half"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/half"))
    }

    @Test func errorsGoToTheJSONLog() throws {
        let b = try bundle(["/no/such/program"])
        let log = b + "/log.json"
        let r = try cs(["--log", log, "--log-format", "json", "create", "--bundle", b, "nolog"])
        #expect(r.status != 0)
        let last = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").last.map(String.init) ?? ""
        let entry = (try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: String]) ?? [:]
        #expect(entry["level"] == "error")
        #expect(entry["msg"] == "process.args[0]: exec `/no/such/program`: No such file or directory")
        #expect(entry["time"]?.hasSuffix("Z") == true)
        #expect(!FileManager.default.fileExists(atPath: root + "/nolog"))
    }

    @Test func containersDoNotSerializeAndIdsStayApart() throws {
        let b = try bundle(["sleep", "1000"])
        let ids = (0..<8).map { "par\($0)" }
        let results = Harness.Collected()
        DispatchQueue.concurrentPerform(iterations: ids.count) { i in
            let r = try? Harness.crun(["--root", root, "create", "--bundle", b, ids[i]])
            if r?.status != 0 { results.set(err: Data("create \(ids[i]) failed: \(r?.stderr ?? "")".utf8)) }
        }
        #expect(results.err.isEmpty, "\(String(decoding: results.err, as: UTF8.self))")
        #expect(try cs(["list", "-q"]).stdout == ids.sorted().map { $0 + "\n" }.joined())
        DispatchQueue.concurrentPerform(iterations: ids.count) { i in
            _ = try? Harness.crun(["--root", root, "delete", "--force", ids[i]])
        }
        #expect(try cs(["list", "-q"]).stdout == "")
    }

    @Test func hooksRunAtTheirMoments() throws {
        let log = NSTemporaryDirectory() + "crun-swift-hooks-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: log); try? FileManager.default.removeItem(atPath: log + ".cc") }
        func hook(_ name: String, _ script: String, timeout: Int? = nil) -> [String: Any] {
            var h: [String: Any] = ["path": "/bin/sh", "args": ["sh", "-c", script, name], "env": ["HOOK=\(name)"]]
            if let timeout { h["timeout"] = timeout }
            return h
        }
        // Runtime-namespace hooks append to a host file: their name, the mount namespace they
        // see, and the status from the state on stdin.
        let record = #"echo "$HOOK $(readlink /proc/self/ns/mnt) $(cat | tr -d ' \n' | sed 's/.*"status":"\([a-z]*\)".*/\1/')" >> "#
        let b = try bundle(["sh", "-c", "cat /tmp/started-by-hook; sleep 1000"]) { c in
            c["hooks"] = [
                "prestart": [hook("prestart", record + log)],
                "createRuntime": [hook("createRuntime", record + log)],
                "createContainer": [hook("createContainer", "readlink /proc/self/ns/mnt >> " + log + ".cc; cat > /dev/null")],
                "startContainer": [hook("startContainer", "echo $HOOK-ran > /tmp/started-by-hook")],
                "poststart": [hook("poststart", record + log)],
                "poststop": [hook("poststop", record + log)],
            ]
        }
        #expect(try cs(["create", "--bundle", b, "h1"]).status == 0)
        let pid = try state("h1")["pid"] as? Int ?? 0
        let containerMnt = Harness.nsInode("mnt", pid: "\(pid)")
        #expect(try cs(["start", "h1"]).status == 0)
        #expect(try cs(["exec", "h1", "cat", "/tmp/started-by-hook"]).stdout == "startContainer-ran\n")
        #expect(try cs(["delete", "--force", "h1"]).status == 0)
        let hostMnt = Harness.nsInode("mnt")
        let lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").map(String.init)
        #expect(lines == ["prestart \(hostMnt) creating", "createRuntime \(hostMnt) creating",
                          "poststart \(hostMnt) running", "poststop \(hostMnt) stopped"])
        #expect((try String(contentsOfFile: log + ".cc", encoding: .utf8)) == containerMnt + "\n")
    }

    @Test func failingAndSlowHooks() throws {
        let fail = try bundle(["true"]) { c in
            c["hooks"] = ["createRuntime": [["path": "/bin/sh", "args": ["sh", "-c", "exit 3"]]]]
        }
        let r = try cs(["create", "--bundle", fail, "hf"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("hooks.createRuntime[0] `/bin/sh`: exited with status 3"))
        #expect(!FileManager.default.fileExists(atPath: root + "/hf"))

        let slow = try bundle(["true"]) { c in
            c["hooks"] = ["prestart": [["path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1]]]
        }
        let t = try cs(["create", "--bundle", slow, "hs"])
        #expect(t.status != 0)
        #expect(t.stderr.contains("hooks.prestart[0] `/bin/sleep`: timed out after 1s"))

        let warnOnly = try bundle(["sleep", "1000"]) { c in
            c["hooks"] = ["poststart": [["path": "/bin/sh", "args": ["sh", "-c", "exit 1"]]]]
        }
        #expect(try cs(["create", "--bundle", warnOnly, "hw"]).status == 0)
        let s = try cs(["start", "hw"])
        #expect(s.status == 0)
        #expect(s.stderr.contains("warning: hooks.poststart[0]"))
        #expect(try cs(["delete", "--force", "hw"]).status == 0)
    }

    @Test func specFeaturesAndCgroupVerbs() throws {
        let dir = NSTemporaryDirectory() + "crun-swift-spec-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try cs(["spec", "--bundle", dir]).status == 0)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as? [String: Any]
        #expect((config?["root"] as? [String: Any])?["path"] as? String == "rootfs")
        #expect(try cs(["spec", "--bundle", dir]).stderr.contains("exists"))
        let f = try cs(["features"])
        let features = try JSONSerialization.jsonObject(with: Data(f.stdout.utf8)) as? [String: Any]
        #expect(features?["ociVersionMax"] as? String == "1.3.0")
        let linux = features?["linux"] as? [String: Any]
        #expect((linux?["namespaces"] as? [String])?.contains("time") == true)
        #expect((linux?["capabilities"] as? [String])?.contains("CAP_SYS_ADMIN") == true)
        #expect(((linux?["seccomp"] as? [String: Any])?["enabled"] as? Bool) == true)
        let cgroup = linux?["cgroup"] as? [String: Any]
        #expect(cgroup?["v1"] as? Bool == true && cgroup?["v2"] as? Bool == true)

        let b = try bundle(["sleep", "1000"])
        #expect(try cs(["create", "--bundle", b, "cg"]).status == 0)
        #expect(try cs(["start", "cg"]).status == 0)
        // The freezer: cgroup2's, or the v1 freezer of a hybrid / v1 host.
        let p = try cs(["pause", "cg"])
        #expect(p.status == 0, "\(p.stderr)")
        #expect(try state("cg")["status"] as? String == "paused")
        #expect(try cs(["exec", "cg", "true"]).stderr.contains("paused, not running"))
        #expect(try cs(["resume", "cg"]).status == 0)
        #expect(try state("cg")["status"] as? String == "running")
        #expect(try cs(["resume", "cg"]).stderr.contains("not paused"))
        let u = try cs(["update", "--pids-limit", "10", "cg"])
        #expect(u.status == 0, "\(u.stderr)")
        #expect(try cs(["update", "--memory", "lots", "cg"]).stderr.contains("--memory: expected bytes"))
        let stats = try cs(["events", "--stats", "cg"]).stdout
        #expect(stats.contains("\"type\":\"stats\"") && stats.contains("\"cpu\":{\"usage\"") && stats.contains("\"pids\":{\"current\":1"), "\(stats)")
        #expect(try cs(["delete", "--force", "cg"]).status == 0)
    }
}

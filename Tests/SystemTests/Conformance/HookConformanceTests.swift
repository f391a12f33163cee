import Foundation
import Testing

/// config.md "POSIX-platform Hooks" and runtime.md "Lifecycle" (issue 14 §4): each kind at
/// its moment, in its namespace, with the state on stdin; failures of poststart/poststop
/// warn and the rest still run; the others stop the lifecycle.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
final class HookConformanceTests {
    let c = Conformance()
    let log: String

    init() throws {
        log = Conformance.temp("hooklog")
        try FileManager.default.createDirectory(atPath: log, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: log) }

    /// A hook running `sh -c script NAME` with HOOK=NAME in its environment.
    func hook(_ name: String, _ script: String, timeout: Int? = nil) -> [String: Any] {
        var h: [String: Any] = ["path": "/bin/sh", "args": ["sh", "-c", script, name], "env": ["HOOK=\(name)", "PATH=/usr/bin:/bin"]]
        if let timeout { h["timeout"] = timeout }
        return h
    }

    /// Saves the state from stdin as DIR/NAME.json and the hook's mount namespace as DIR/NAME.mnt.
    func recorder(_ name: String, dir: String) -> [String: Any] {
        hook(name, "cat > \(dir)/$HOOK.json; readlink /proc/self/ns/mnt > \(dir)/$HOOK.mnt; echo $HOOK >> \(dir)/order")
    }

    func read(_ file: String) -> String { (try? String(contentsOfFile: log + "/" + file, encoding: .utf8)) ?? "" }

    func json(_ file: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(read(file).utf8)) as? [String: Any]) ?? [:]
    }

    func config(_ args: [String], hooks: [String: Any]) -> [String: Any] {
        var config = Harness.baseConfig(args: args)
        config["hooks"] = hooks
        config["annotations"] = ["org.example.key": "value"]
        // The container side sees the log directory at /hooklog (startContainer writes there).
        config.append("mounts", [["destination": "/hooklog", "type": "bind", "source": log, "options": ["rbind", "rw"]]])
        return config
    }

    /// config.md: prestart, createRuntime, poststart, poststop in the runtime namespace;
    /// createContainer and startContainer in the container's; each receives the state
    /// (runtime.md "State": ociVersion, id, status, pid, bundle, annotations) on stdin, with
    /// the status of its moment; hooks of one kind run in the order listed.
    @Test func configHooksMomentNamespaceAndState() throws {
        let b = try c.bundle(config(["sleep", "1000"], hooks: [
            "prestart": [recorder("prestart", dir: log)],
            "createRuntime": [recorder("createRuntime", dir: log)],
            "createContainer": [recorder("createContainer", dir: log)],
            "startContainer": [recorder("startContainer", dir: "/hooklog")],
            "poststart": [recorder("poststart", dir: log), recorder("poststart2", dir: log)],
            "poststop": [recorder("poststop", dir: log)],
        ]))
        let created = try c.cs(["create", "--bundle", b, "hk"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(read("order") == "prestart\ncreateRuntime\ncreateContainer\n")
        let pid = try c.state("hk")["pid"] as? Int ?? -1
        let containerMnt = Harness.nsInode("mnt", pid: "\(pid)") + "\n", hostMnt = Harness.nsInode("mnt") + "\n"
        #expect(try c.cs(["start", "hk"]).status == 0)
        #expect(read("order") == "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststart2\n")
        #expect(try c.cs(["delete", "--force", "hk"]).status == 0)
        #expect(read("order").hasSuffix("poststart2\npoststop\n"))

        let expected: [(String, String, String)] = [
            ("prestart", "creating", hostMnt), ("createRuntime", "creating", hostMnt), ("createContainer", "creating", containerMnt),
            ("startContainer", "created", containerMnt), ("poststart", "running", hostMnt), ("poststop", "stopped", hostMnt),
        ]
        for (name, status, mnt) in expected {
            let s = json(name + ".json")
            #expect(s["status"] as? String == status, "\(name): \(s)")
            #expect(s["id"] as? String == "hk" && s["bundle"] as? String == b && (s["ociVersion"] as? String)?.hasPrefix("1.") == true, "\(name): \(s)")
            #expect(s["annotations"] as? [String: String] == ["org.example.key": "value"], "\(name)")
            if status != "stopped" { #expect(s["pid"] as? Int == pid, "\(name): \(s)") }
            #expect(read(name + ".mnt") == mnt, "\(name) runs in the wrong mount namespace")
        }
    }

    /// runtime.md lifecycle steps 9 and 13: "If any poststart hook fails, the runtime MUST log
    /// a warning, but the remaining hooks and lifecycle continue" (and the same for poststop).
    @Test func configHooksPoststartAndPoststopFailuresWarnAndTheRestRun() throws {
        let b = try c.bundle(config(["sleep", "1000"], hooks: [
            "poststart": [hook("ps1", "exit 3"), hook("ps2", "echo $HOOK >> \(log)/order")],
            "poststop": [hook("pp1", "exit 4"), hook("pp2", "kill -9 $$"), hook("pp3", "echo $HOOK >> \(log)/order")],
        ]))
        #expect(try c.cs(["create", "--bundle", b, "warn"]).status == 0)
        let s = try c.cs(["start", "warn"])
        #expect(s.status == 0)
        #expect(s.stderr.contains("warning: hooks.poststart[0] `/bin/sh`: exited with status 3"), "\(s.stderr)")
        #expect(try c.state("warn")["status"] as? String == "running")
        let d = try c.cs(["delete", "--force", "warn"])
        #expect(d.status == 0)
        #expect(d.stderr.contains("hooks.poststop[0] `/bin/sh`: exited with status 4"), "\(d.stderr)")
        #expect(d.stderr.contains("hooks.poststop[1] `/bin/sh`: killed by signal 9"), "\(d.stderr)")
        #expect(read("order") == "ps2\npp3\n")
        #expect(!FileManager.default.fileExists(atPath: c.root + "/warn"))
    }

    /// runtime.md lifecycle step 3-5: "If any prestart/createRuntime/createContainer hook
    /// fails, the runtime MUST generate an error, stop the container, and continue the
    /// lifecycle at step 12": create fails naming the hook, nothing is left, later hooks of
    /// the step do not run, the poststop hooks do.
    @Test(arguments: ["prestart", "createRuntime", "createContainer"])
    func configHooksCreateStepFailureStopsTheContainerAndRunsPoststop(_ kind: String) throws {
        let b = try c.bundle(config(["sh", "-c", "echo ran > /hooklog/container"], hooks: [
            kind: [hook("fails", "exit 5"), hook("never", "echo $HOOK >> \(log)/order")],
            "poststop": [hook("poststop", "cat > /dev/null; echo $HOOK >> \(log)/order")],
        ]))
        let r = try c.cs(["create", "--bundle", b, "cf"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("hooks.\(kind)[0] `/bin/sh`: exited with status 5"), "\(r.stderr)")
        #expect(read("order") == "poststop\n")
        #expect(!FileManager.default.fileExists(atPath: c.root + "/cf"))
        #expect(!FileManager.default.fileExists(atPath: log + "/container"))
    }

    /// runtime.md lifecycle step 7: a failed startContainer hook is an error of `start`, the
    /// user process never runs, the container is stopped; delete runs the poststop hooks.
    @Test func configHooksStartContainerFailureStopsTheContainer() throws {
        let b = try c.bundle(config(["sh", "-c", "echo ran > /hooklog/container; sleep 1000"], hooks: [
            "startContainer": [hook("fails", "exit 6")],
            "poststop": [hook("poststop", "echo $HOOK >> \(log)/order")],
        ]))
        #expect(try c.cs(["create", "--bundle", b, "sf"]).status == 0)
        let r = try c.cs(["start", "sf"])
        #expect(r.status != 0 && r.stderr.contains("hooks.startContainer[0] `/bin/sh`: exited with status 6"), "\(r.stderr)")
        try c.waitUntil("stopped") { try c.state("sf")["status"] as? String == "stopped" }
        #expect(!FileManager.default.fileExists(atPath: log + "/container"))
        #expect(try c.cs(["delete", "sf"]).status == 0)
        #expect(read("order") == "poststop\n")
    }

    /// config.md: hook `path` MUST be absolute; `timeout`, if set, MUST be greater than zero.
    @Test func configHooksPathAbsoluteAndTimeoutPositive() throws {
        let b = try c.bundle(config(["true"], hooks: [
            "prestart": [["path": "sh", "args": ["sh", "-c", "true"]]],
            "poststop": [["path": "/bin/true", "timeout": 0]],
        ]))
        let r = try c.cs(["create", "--bundle", b, "bad"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("hooks.prestart[0].path: must be absolute"), "\(r.stderr)")
        #expect(r.stderr.contains("hooks.poststop[0].timeout: must be greater than zero, got 0"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: c.root + "/bad"))
    }

    /// config.md: the hook's `timeout` aborts it; args and env are the hook's own.
    @Test func configHooksArgsEnvAndTimeout() throws {
        let b = try c.bundle(config(["true"], hooks: [
            "prestart": [hook("argv0", "cat > /dev/null; echo \"$0 $HOOK\" > \(log)/argsenv"), hook("slow", "sleep 60", timeout: 1)],
        ]))
        let r = try c.cs(["create", "--bundle", b, "slow"], timeout: 40)
        #expect(r.status != 0 && r.stderr.contains("hooks.prestart[1] `/bin/sh`: timed out after 1s"), "\(r.stderr)")
        #expect(read("argsenv") == "argv0 argv0\n")
    }

    /// `run` is create + start + delete: the same hooks at the same moments.
    @Test
    func configHooksRunRunsEveryKind() throws {
        let b = try c.bundle(config(["true"], hooks: [
            "prestart": [recorder("prestart", dir: log)], "createRuntime": [recorder("createRuntime", dir: log)],
            "createContainer": [recorder("createContainer", dir: log)], "startContainer": [recorder("startContainer", dir: "/hooklog")],
            "poststart": [recorder("poststart", dir: log)], "poststop": [recorder("poststop", dir: log)],
        ]))
        let r = try c.cs(["run", "--bundle", b, "runhooks"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(read("order") == "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop\n")
        let failing = try c.bundle(config(["true"], hooks: ["prestart": [hook("fails", "exit 7")]]))
        let f = try c.cs(["run", "--bundle", failing, "runfail"])
        #expect(f.status != 0 && f.stderr.contains("hooks.prestart[0]"))
    }

    /// runtime.md "State": the state a hook reads carries every annotation, however large: a
    /// 1 MiB annotation (far past a pipe's 64 KiB) reaches each kind of hook whole, and no
    /// step waits on a reader that has not started yet.
    @Test func configHooksReceiveALargeStateWhole() throws {
        var cfg = config(["true"], hooks: [
            "prestart": [hook("prestart", "wc -c > \(log)/$HOOK.size")],
            "createContainer": [hook("createContainer", "wc -c > \(log)/$HOOK.size")],
            "poststop": [hook("poststop", "wc -c > \(log)/$HOOK.size")],
        ])
        cfg["annotations"] = ["org.example.big": String(repeating: "x", count: 1 << 20)]
        let b = try c.bundle(cfg)
        let r = try c.cs(["run", "--bundle", b, "bigstate"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        for kind in ["prestart", "createContainer", "poststop"] {
            let size = Int(read(kind + ".size").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(size > 1 << 20, "\(kind): \(size) bytes of state")
        }
    }
}

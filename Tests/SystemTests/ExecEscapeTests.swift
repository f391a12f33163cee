import Foundation
import Testing

/// Issue 13 §1: a process `exec` is setting up must never be visible in the container while it
/// holds anything of the host (root, cwd, mount namespace, descriptors, privileges). Each test
/// is the attacker: a container that holds CAP_SYS_PTRACE and watches its /proc while the
/// runtime execs into it.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
struct ExecEscapeTests {
    /// runc's default capabilities plus CAP_SYS_PTRACE (podman/docker `--cap-add SYS_PTRACE`).
    static let caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                       "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                       "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", "CAP_SYS_PTRACE"]
    static let execs = 50

    /// A throwaway state root and a host directory the container must never reach: the runtime
    /// runs from it (its cwd), and it holds `hostmarker`.
    final class Scene {
        let root = NSTemporaryDirectory() + "crun-swift-root-\(UUID().uuidString.prefix(8))"
        let hostDir = NSTemporaryDirectory() + "crun-swift-host-\(UUID().uuidString.prefix(8))"
        let id = "escape-\(UUID().uuidString.prefix(6))"
        var bundle: Harness.TempBundle?
        init() throws {
            try FileManager.default.createDirectory(atPath: hostDir, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: hostDir + "/hostmarker", contents: nil)
        }
        deinit {
            _ = try? Harness.crun(["--root", root, "delete", "--force", id])
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: hostDir)
        }
        /// CRUN_SWIFT_EXESEAL for every command (empty: the runtime's own order).
        var sealing = ""
        func crun(_ args: [String], timeout: Double = 30) throws -> Harness.Result {
            try Harness.crun(["--root", root] + args, cwd: hostDir, timeout: timeout,
                             environment: sealing.isEmpty ? [:] : ["CRUN_SWIFT_EXESEAL": sealing])
        }
        func exec(_ args: [String]) throws -> Harness.Result { try crun(["exec", id] + args) }
        func start(_ config: [String: Any]) throws {
            bundle = try Harness.TempBundle(config: config)
            let c = try crun(["create", "--bundle", bundle!.path, id])
            #expect(c.status == 0, "\(c.stderr)")
            let s = try crun(["start", id])
            #expect(s.status == 0, "\(s.stderr)")
        }
        /// Execs `test -e path` until it succeeds (the container wrote it), up to 60 s.
        func waitForFile(_ path: String) throws -> Bool {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                if try exec(["test", "-e", path]).status == 0 { return true }
            }
            return false
        }
    }

    static func config(args: [String], userNamespace: Bool = false, seccomp: Bool = false) -> [String: Any] {
        var c = Harness.baseConfig(args: args)
        c.edit("process") {
            $0["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps]
            $0["noNewPrivileges"] = false
        }
        if seccomp {
            // Without no_new_privs loading a filter needs CAP_SYS_ADMIN, which these
            // capabilities lack: the runtime must not show it to the container while it has it.
            c.edit("linux") { $0["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"]]] }
        }
        if userNamespace {
            c.edit("linux") {
                $0.append("namespaces", [["type": "user"]])
                $0["uidMappings"] = [["containerID": 0, "hostID": 200000, "size": 65536]]
                $0["gidMappings"] = [["containerID": 0, "hostID": 200000, "size": 65536]]
            }
        }
        return c
    }

    /// The issue's reproduction: the container reaches for the host's root through every
    /// /proc/PID/root it sees and writes a proof file into a host directory.
    @Test func execNeverShowsTheHostsRootToTheContainer() throws {
        let scene = try Scene()
        #expect(!FileManager.default.fileExists(atPath: Harness.rootfs + "/etc/debian_version"))
        #expect(FileManager.default.fileExists(atPath: "/etc/debian_version"), "the host marker is missing: the test proves nothing")
        let loop = """
            touch /tmp/looping
            while :; do for p in /proc/[0-9]*; do
              [ -e $p/root/etc/debian_version ] && echo -n > $p/root\(scene.hostDir)/proof && echo "HIT $p" >> /tmp/hits
            done; done
            """
        try scene.start(Self.config(args: ["sh", "-c", loop]))
        #expect(try scene.waitForFile("/tmp/looping"))
        for i in 0..<Self.execs {
            let r = try scene.exec(["true"])
            #expect(r.status == 0, "exec \(i): \(r.stderr)")
        }
        let hits = try scene.exec(["sh", "-c", "cat /tmp/hits 2>/dev/null; true"])
        #expect(hits.stdout.isEmpty, "the container reached the host's root:\n\(hits.stdout)")
        #expect(!FileManager.default.fileExists(atPath: scene.hostDir + "/proof"), "the container wrote into the host")
    }

    /// What a ptrace attacker got of every process it saw appear: parsed ptracer lines.
    struct Sighting {
        var fields: [String: String]
        var pid: String { fields["pid"] ?? "?" }
        func flag(_ key: String) -> Bool { fields[key] == "1" }
        /// Descriptors above stdio that name a file (stdio is what exec hands the process; the
        /// ptracer's own files are the container's: the test's `cat` of its log shows them).
        var hostFiles: [String] {
            (fields["fds"] ?? "").split(separator: "|").compactMap { entry in
                let parts = entry.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, let fd = Int(parts[0]), fd > 2 else { return nil }
                let link = String(parts[1])
                for ok in ["pipe:", "socket:", "anon_inode:", "/dev/null", "/dev/pts/", "/tmp/ptracer."] where link.hasPrefix(ok) { return nil }
                return "\(fd) -> \(link)"
            }
        }
        var capEff: UInt64 { UInt64(fields["capeff"] ?? "", radix: 16) ?? 0 }
    }

    /// The host binary as the ptracer takes it: "DEV:INO:SIZE:HASH" (FNV-1a 64 of its first MiB).
    static func binaryIdentity() throws -> String {
        var st = stat()
        #expect(stat(Harness.binary, &st) == 0)
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: Harness.binary))
        defer { try? handle.close() }
        var hash: UInt64 = 14695981039346656037
        for byte in try handle.read(upToCount: 1 << 20) ?? Data() { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
        return "\(st.st_dev):\(st.st_ino):\(st.st_size):\(String(hash, radix: 16))"
    }

    static func parse(_ log: String) -> [Sighting] {
        log.split(separator: "\n").map { line in
            Sighting(fields: Dictionary(line.split(separator: " ").compactMap { word -> (String, String)? in
                let kv = word.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            }, uniquingKeysWith: { a, _ in a }))
        }
    }

    /// Runs the ptracer as the container's process, execs into the container 50 times from a
    /// host directory, and returns what the ptracer saw.
    func attack(userNamespace: Bool, seccomp: Bool = false) throws -> [Sighting] {
        let scene = try Scene()
        let args = ["ptracer", "/tmp/ptracer.log", try Self.binaryIdentity(), Harness.nsInode("mnt")]
        try scene.start(Self.config(args: args, userNamespace: userNamespace, seccomp: seccomp))
        #expect(try scene.waitForFile("/tmp/ptracer.ready"))
        for i in 0..<Self.execs {
            let r = try scene.exec(["true"])
            #expect(r.status == 0, "exec \(i): \(r.stderr)")
        }
        // A process that lives until the ptracer stops: ptrace works in this container, so a
        // runtime that could not be attached was protected, not missed.
        let target = try scene.crun(["exec", "--detach", scene.id, "sh", "-c", "while [ ! -e /tmp/ptracer.stop ]; do :; done"])
        #expect(target.status == 0, "\(target.stderr)")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, try scene.exec(["grep", "-q", "attached=1", "/tmp/ptracer.log"]).status != 0 {}
        // Read before the ptracer stops: it is the container's process, the container ends with it.
        let log = try scene.exec(["cat", "/tmp/ptracer.log"]).stdout
        let stop = try scene.exec(["touch", "/tmp/ptracer.stop"])
        #expect(stop.status == 0, "exec touch: \(stop.stderr)\nptracer log:\n\(log)")
        let sightings = Self.parse(log)
        #expect(sightings.contains { $0.flag("attached") }, "the ptracer never attached to anything: the test proves nothing\n\(log)")
        for s in sightings {
            #expect(!s.flag("exe_runtime"), "pid \(s.pid): /proc/PID/exe was the host's runtime binary")
            #expect(!s.flag("hostroot"), "pid \(s.pid) had the host's root")
            #expect(!s.flag("hostcwd"), "pid \(s.pid) had the runtime's host cwd")
            #expect(!s.flag("hostmnt"), "pid \(s.pid) was in the runtime's mount namespace")
            #expect(!s.flag("exe_writable"), "pid \(s.pid): the runtime binary was opened for writing")
            #expect(s.hostFiles.isEmpty, "pid \(s.pid) held host descriptors: \(s.hostFiles)")
            // Not more privilege than the container's process gets: CAP_SYS_ADMIN is bit 21.
            #expect(s.capEff & (1 << 21) == 0, "pid \(s.pid) held CAP_SYS_ADMIN (CapEff \(s.fields["capeff"] ?? ""))")
        }
        return sightings
    }

    @Test func aPtraceAttackerGetsNothingOfTheHost() throws {
        // Without a user namespace CAP_SYS_PTRACE overrides non-dumpable: the attacker may hold
        // the process being set up, which must already be all container (checked in attack).
        _ = try attack(userNamespace: false)
    }

    @Test func theProcessBeingSetUpNeverShowsCapSysAdmin() throws {
        // A seccomp profile without no_new_privs: the load needs CAP_SYS_ADMIN (checked in attack).
        _ = try attack(userNamespace: false, seccomp: true)
    }

    /// A pod: the init of a second container joins the pid namespace of the attacker's
    /// container by path; it must not be visible there while it sets up on the host's root.
    @Test(arguments: [false, true])
    func anInitJoiningAPidNamespaceIsNeverVisibleWithTheHost(userNamespace: Bool) throws {
        let scene = try Scene()
        let loop = """
            touch /tmp/looping
            while :; do for p in /proc/[0-9]*; do
              [ -e $p/root/etc/debian_version ] && echo -n > $p/root\(scene.hostDir)/proof && echo "HIT $p" >> /tmp/hits
            done; done
            """
        try scene.start(Self.config(args: ["sh", "-c", loop]))
        #expect(try scene.waitForFile("/tmp/looping"))
        let state = try JSONSerialization.jsonObject(with: Data(try scene.crun(["state", scene.id]).stdout.utf8)) as? [String: Any]
        let pid = state?["pid"] as? Int ?? 0
        var member = Harness.baseConfig(args: ["true"])
        member.edit("linux") { $0["namespaces"] = [["type": "mount"], ["type": "pid", "path": "/proc/\(pid)/ns/pid"]] }
        member.removeValue(forKey: "hostname")
        if userNamespace {
            // Its own user namespace, in a pid namespace the host's owns (no /proc of it then).
            member.edit("linux") {
                $0.append("namespaces", [["type": "user"]])
                $0["uidMappings"] = [["containerID": 0, "hostID": 200000, "size": 65536]]
                $0["gidMappings"] = [["containerID": 0, "hostID": 200000, "size": 65536]]
            }
            member["mounts"] = (member["mounts"] as? [[String: Any]] ?? []).filter { $0["type"] as? String != "proc" }
        }
        let b = try Harness.TempBundle(config: member)
        for i in 0..<20 {
            let id = "\(scene.id)-m\(i)"
            let r = try scene.crun(["create", "--bundle", b.path, id])
            #expect(r.status == 0, "create \(id): \(r.stderr)")
            _ = try scene.crun(["delete", "--force", id])
        }
        let hits = try scene.exec(["sh", "-c", "cat /tmp/hits 2>/dev/null; true"])
        #expect(hits.stdout.isEmpty, "the container reached the host's root:\n\(hits.stdout)")
        #expect(!FileManager.default.fileExists(atPath: scene.hostDir + "/proof"), "the container wrote into the host")
    }

    /// Whether this kernel's procfs takes the `pidns=` mount option (Linux 6.18), tried in a
    /// throwaway mount namespace.
    static let procHasPidnsOption: Bool = {
        let dir = NSTemporaryDirectory() + "crun-swift-pidns-\(UUID().uuidString.prefix(8))"
        guard (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil else { return false }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["--mount", "--propagation", "private", "--", "mount", "-t", "proc", "-o", "pidns=/proc/self/ns/pid", "proc", dir]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    /// A pod whose first container is the ptrace attacker; the init of a second container joins
    /// its pid namespace by path 24 times. With procfs's pidns option the first step (outside the
    /// namespace) makes proc and everything on it, and the second only execs: no process the
    /// attacker sees may ever hold CAP_SYS_ADMIN (the member's capabilities lack it). The
    /// member's /proc is the pod's: its pid 1 is the attacker, and /proc/self resolves.
    @Test(.enabled(if: procHasPidnsOption, "procfs has no pidns= mount option on this kernel (Linux < 6.18): the second step mounts proc there, holding CAP_SYS_ADMIN until done"))
    func aPodMembersInitNeverShowsCapSysAdminToThePod() throws {
        let scene = try Scene()
        let args = ["ptracer", "/tmp/ptracer.log", try Self.binaryIdentity(), Harness.nsInode("mnt")]
        try scene.start(Self.config(args: args))
        #expect(try scene.waitForFile("/tmp/ptracer.ready"))
        let state = try JSONSerialization.jsonObject(with: Data(try scene.crun(["state", scene.id]).stdout.utf8)) as? [String: Any]
        let pid = state?["pid"] as? Int ?? 0
        var member = Harness.baseConfig(args: ["sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; readlink /proc/self"])
        member.edit("linux") {
            $0["namespaces"] = [["type": "mount"], ["type": "pid", "path": "/proc/\(pid)/ns/pid"]]
            $0["maskedPaths"] = ["/proc/kcore", "/proc/keys", "/proc/timer_list"]
            $0["readonlyPaths"] = ["/proc/sys", "/proc/sysrq-trigger"]
        }
        // runc's default capabilities: no CAP_SYS_ADMIN (nor CAP_SYS_PTRACE) for the member.
        let caps = Self.caps.filter { $0 != "CAP_SYS_PTRACE" }
        member.edit("process") { $0["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps] }
        member.removeValue(forKey: "hostname")
        let b = try Harness.TempBundle(config: member)
        let members = 24
        for i in 0..<members {
            let id = "\(scene.id)-m\(i)"
            let r = try scene.crun(["create", "--bundle", b.path, id])
            #expect(r.status == 0, "create \(id): \(r.stderr)")
            // Deleted once the attacker has seen it (its pid in the pod: NSpid's last field).
            let state = try JSONSerialization.jsonObject(with: Data(try scene.crun(["state", id]).stdout.utf8)) as? [String: Any]
            let status = (try? String(contentsOfFile: "/proc/\(state?["pid"] as? Int ?? 0)/status", encoding: .utf8)) ?? ""
            let nspid = status.split(separator: "\n").first { $0.hasPrefix("NSpid:") }?.split(separator: "\t").last.map(String.init) ?? "?"
            try Harness.waitUntil("for the attacker to log member \(i) (pod pid \(nspid))") {
                try scene.exec(["grep", "-q", "^pid=\(nspid) ", "/tmp/ptracer.log"]).status == 0
            }
            _ = try scene.crun(["delete", "--force", id])
        }
        let run = try scene.crun(["run", "--bundle", b.path, "\(scene.id)-run"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ptracer ") == true, "the member's /proc/1 is not the pod's attacker:\n\(run.stdout)")
        #expect(lines.count == 2 && Int(lines[1]) != nil, "the member's /proc/self does not resolve (a proc of another pid namespace):\n\(run.stdout)")
        let log = try scene.exec(["cat", "/tmp/ptracer.log"]).stdout
        let stop = try scene.exec(["touch", "/tmp/ptracer.stop"])
        #expect(stop.status == 0, "exec touch: \(stop.stderr)")
        let sightings = Self.parse(log).filter { $0.fields["pid"] != nil }
        #expect(sightings.count >= members, "the attacker saw \(sightings.count) new processes, fewer than the \(members) members: the test proves nothing\n\(log)")
        #expect(sightings.contains { $0.flag("attached") }, "the ptracer never attached to anything: the test proves nothing\n\(log)")
        for s in sightings {
            #expect(s.capEff & (1 << 21) == 0, "pid \(s.pid) held CAP_SYS_ADMIN in the pod (CapEff \(s.fields["capeff"] ?? ""))")
            #expect(!s.flag("hostroot"), "pid \(s.pid) had the host's root")
            #expect(s.hostFiles.isEmpty, "pid \(s.pid) held host descriptors: \(s.hostFiles)")
        }
    }

    /// The two-step init of a pod member still runs its createContainer hooks in the pod's pid
    /// namespace (the first step itself lives in the runtime's).
    @Test func createContainerHooksOfAPodMemberRunInThePodsPidNamespace() throws {
        let scene = try Scene()
        try scene.start(Self.config(args: ["sleep", "1000"]))
        let state = try JSONSerialization.jsonObject(with: Data(try scene.crun(["state", scene.id]).stdout.utf8)) as? [String: Any]
        let pid = state?["pid"] as? Int ?? 0
        var member = Harness.baseConfig(args: ["true"])
        member.edit("linux") { $0["namespaces"] = [["type": "mount"], ["type": "pid", "path": "/proc/\(pid)/ns/pid"]] }
        member.removeValue(forKey: "hostname")
        member["hooks"] = ["createContainer": [["path": "/bin/sh", "args": ["sh", "-c", "readlink /proc/self/ns/pid > \(scene.hostDir)/hookns"]]]]
        let b = try Harness.TempBundle(config: member)
        let id = "\(scene.id)-hook"
        defer { _ = try? scene.crun(["delete", "--force", id]) }
        let r = try scene.crun(["create", "--bundle", b.path, id])
        #expect(r.status == 0, "\(r.stderr)")
        let got = (try? String(contentsOfFile: scene.hostDir + "/hookns", encoding: .utf8)) ?? ""
        #expect(got == Harness.nsInode("pid", pid: "\(pid)") + "\n")
    }

    @Test func inAUserNamespacePtraceOfTheRuntimeFails() throws {
        // The runtime's memory belongs to the host's user namespace and it is not dumpable:
        // nothing in the container's user namespace may attach to it or open its exe
        // (attack checks that no exe was the runtime binary).
        _ = try attack(userNamespace: true)
    }

    /// CVE-2019-5736: the attacker (CAP_SYS_PTRACE, no user namespace) keeps every
    /// /proc/PID/exe of the runtime's size it sees while the runtime execs into its container 50
    /// times and while the init of a second container joining its pid namespace waits for
    /// `start`; once every runtime process has exited it tries each descriptor again. None may
    /// be the host binary (st_dev/st_ino) nor writable; one at least must hold the runtime's
    /// bytes, or the attack never reached the runtime and the test proves nothing. `sealing`:
    /// the mechanism forced through CRUN_SWIFT_EXESEAL ("": the runtime's first choice).
    @Test(arguments: ["", "overlay-path", "memfd"])
    func aHeldRuntimeExeIsNeverTheHostBinary(sealing: String) throws {
        let scene = try Scene()
        scene.sealing = sealing
        // A host directory shared with the container: the test reads the ptracer's results
        // and stops it without running the runtime (which would keep its binary busy).
        let exchange = scene.hostDir + "-x"
        try FileManager.default.createDirectory(atPath: exchange, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: exchange) }
        var config = Self.config(args: ["ptracer", "/x/ptracer.log", try Self.binaryIdentity(), Harness.nsInode("mnt"), "/x/stop"])
        config["mounts"] = (config["mounts"] as? [[String: Any]] ?? []) + [["destination": "/x", "type": "bind", "source": exchange, "options": ["rbind", "rw"]]]
        try scene.start(config)
        func waitFor(_ file: String) -> Bool {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline { if FileManager.default.fileExists(atPath: exchange + "/" + file) { return true } }
            return false
        }
        #expect(waitFor("ptracer.ready"))
        let debug = try scene.crun(["--debug", "exec", scene.id, "true"])
        #expect(debug.status == 0, "\(debug.stderr)")
        let expected = ["": "layers by descriptor", "overlay-path": "layers by path", "memfd": "sealed memfd copy"][sealing]!
        #expect(debug.stderr.contains("exeseal: the runtime runs from") && debug.stderr.contains(expected), "--debug does not say the sealing used:\n\(debug.stderr)")
        for i in 0..<Self.execs {
            let r = try scene.exec(["true"])
            #expect(r.status == 0, "exec \(i): \(r.stderr)")
        }
        // A pod member: its init is the runtime's code, in the attacker's pid namespace, until `start`.
        let state = try JSONSerialization.jsonObject(with: Data(try scene.crun(["state", scene.id]).stdout.utf8)) as? [String: Any]
        var member = Harness.baseConfig(args: ["true"])
        member.edit("linux") { $0["namespaces"] = [["type": "mount"], ["type": "pid", "path": "/proc/\(state?["pid"] as? Int ?? 0)/ns/pid"]] }
        member.removeValue(forKey: "hostname")
        let b = try Harness.TempBundle(config: member)
        let memberID = scene.id + "-m"
        let c = try scene.crun(["create", "--bundle", b.path, memberID])
        #expect(c.status == 0, "\(c.stderr)")
        let memberState = try JSONSerialization.jsonObject(with: Data(try scene.crun(["state", memberID]).stdout.utf8)) as? [String: Any]
        // Its pid as the ptracer sees it (the last NSpid): wait until the ptracer has logged it.
        let status = (try? String(contentsOfFile: "/proc/\(memberState?["pid"] as? Int ?? 0)/status", encoding: .utf8)) ?? ""
        let nspid = status.split(separator: "\n").first { $0.hasPrefix("NSpid:") }?.split(whereSeparator: { $0 == "\t" || $0 == " " }).last.map(String.init) ?? "?"
        let log = exchange + "/ptracer.log"
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("pid=\(nspid) ") {}
        #expect(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("pid=\(nspid) "), "the ptracer never saw the waiting init (pid \(nspid))")
        _ = try scene.crun(["delete", "--force", memberID])
        FileManager.default.createFile(atPath: exchange + "/stop", contents: nil)
        #expect(waitFor("ptracer.done"), "the ptracer did not finish")
        let sightings = Self.parse((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        for s in sightings where s.fields["held"] == nil {
            #expect(!s.flag("exe_runtime"), "pid \(s.pid): /proc/PID/exe was the host's runtime binary")
            #expect(!s.flag("exe_writable"), "pid \(s.pid): /proc/PID/exe opened for writing")
        }
        let held = sightings.filter { $0.fields["same"] != nil }
        for h in held {
            #expect(!h.flag("same"), "pid \(h.pid): the held exe descriptor is the host binary")
            #expect(!h.flag("writable"), "pid \(h.pid): the held exe descriptor was written after the runtime exited")
        }
        #expect(held.contains { $0.flag("content") }, "no held exe had the runtime's bytes: the attack never reached the runtime\n\(sightings.map(\.fields))")
    }

    /// No sealing mechanism: a container that shares the runtime's user namespace gets nothing
    /// cloned into it, with an error that says why; one with its own user namespace still runs.
    @Test func withoutASealedBinaryNothingIsClonedIntoTheContainer() throws {
        let scene = try Scene()
        try scene.start(Self.config(args: ["sleep", "1000"]))
        scene.sealing = "none-such"
        let r = try scene.exec(["true"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("could not be sealed") && r.stderr.contains("unknown mechanism \"none-such\""), "\(r.stderr)")
        let bundle = try Harness.TempBundle(config: Self.config(args: ["true"], userNamespace: true))
        let inUserNamespace = try Harness.crun(["--root", scene.root, "run", bundle.path], environment: ["CRUN_SWIFT_EXESEAL": "none-such"])
        #expect(inUserNamespace.status == 0, "\(inUserNamespace.stderr)")
    }
}

import Foundation
import Testing

@Suite(.enabled(if: Harness.canRunContainers), .serialized)
struct ProcessTests {
    @Test func argsEnvCwd() throws {
        let r = try Harness.probe { c in
            c.edit("process") {
                $0["env"] = ["PATH=/bin", "A=1", "B=two words"]
                $0["cwd"] = "/tmp/work/dir"
            }
            c.append("mounts", [["destination": "/tmp/work/dir", "type": "tmpfs", "source": "tmpfs"]])
        }
        #expect(r["env"] as? [String] == ["PATH=/bin", "A=1", "B=two words"])
        #expect(r["cwd"] as? String == "/tmp/work/dir")
    }

    @Test func argsAreFoundOnTheContainersPath() throws {
        // "probe" lives in /bin of the rootfs: found through PATH from process.env, not the host's.
        let r = try Harness.run(Harness.baseConfig(args: ["probe"]))
        #expect(r.status == 0 && r.probe != nil)
    }

    @Test func userAndGroups() throws {
        let r = try Harness.probe { c in
            c.edit("process") { $0["user"] = ["uid": 1000, "gid": 1001, "additionalGids": [5, 6, 7], "umask": 0o27] }
        }
        #expect(r["uid"] as? Int == 1000 && r["euid"] as? Int == 1000)
        #expect(r["gid"] as? Int == 1001 && r["egid"] as? Int == 1001)
        #expect(r["groups"] as? [Int] == [5, 6, 7])
        #expect(r["umask"] as? String == "0027")
    }

    @Test func allFiveCapabilitySets() throws {
        // CAP_CHOWN=0, CAP_KILL=5, CAP_NET_BIND_SERVICE=10, CAP_NET_RAW=13, CAP_SYS_ADMIN=21
        let r = try Harness.probe { c in
            c.edit("process") {
                $0["user"] = ["uid": 1000, "gid": 1000]
                $0["capabilities"] = [
                    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_ADMIN"],
                    "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
                    "effective": ["CAP_KILL", "CAP_NET_RAW"],
                    "inheritable": ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
                    "ambient": ["CAP_NET_RAW"],
                ]
            }
        }
        let caps = r["caps"] as? [String: String] ?? [:]
        // After execve as a non-root user: permitted/effective = ambient (+ file caps, none here).
        #expect(caps["CapBnd"] == "0000000000202421")
        #expect(caps["CapInh"] == "0000000000002400")
        #expect(caps["CapAmb"] == "0000000000002000")
        #expect(caps["CapPrm"] == "0000000000002000")
        #expect(caps["CapEff"] == "0000000000002000")
    }

    @Test func rootKeepsTheConfiguredSets() throws {
        let r = try Harness.probe { c in
            c.edit("process") {
                $0["capabilities"] = ["bounding": ["CAP_KILL", "CAP_CHOWN"], "permitted": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"]]
            }
        }
        let caps = r["caps"] as? [String: String] ?? [:]
        #expect(caps["CapBnd"] == "0000000000000021")
        // execve as uid 0 recomputes permitted/effective from the bounding set (no file caps).
        #expect(caps["CapPrm"] == "0000000000000021")
        #expect(caps["CapAmb"] == "0000000000000000")
    }

    @Test func rlimitsNoNewPrivsOomAndPersonality() throws {
        let r = try Harness.probe { c in
            c.edit("process") {
                $0["rlimits"] = [["type": "RLIMIT_NOFILE", "soft": 123, "hard": 456], ["type": "RLIMIT_CORE", "soft": 0, "hard": 0],
                                 ["type": "RLIMIT_AS", "soft": 18446744073709551615 as UInt64, "hard": 18446744073709551615 as UInt64]]
                $0["noNewPrivileges"] = true
                $0["oomScoreAdj"] = 321
            }
            c.edit("linux") { $0["personality"] = ["domain": "LINUX32"] }
        }
        let limits = r["rlimits"] as? [String: [String: Any]] ?? [:]
        #expect(limits["RLIMIT_NOFILE"]?["soft"] as? Int == 123 && limits["RLIMIT_NOFILE"]?["hard"] as? Int == 456)
        #expect(limits["RLIMIT_CORE"]?["hard"] as? Int == 0)
        #expect((limits["RLIMIT_AS"]?["soft"] as? NSNumber)?.uint64Value == UInt64.max)
        #expect(r["no_new_privs"] as? Int == 1)
        #expect(r["oom_score_adj"] as? String == "321")
        #expect(r["personality"] as? Int == 8)
        let without = try Harness.probe { c in c.edit("process") { $0["noNewPrivileges"] = false } }
        #expect(without["no_new_privs"] as? Int == 0)
    }

    @Test func noDescriptorLeaksIntoTheContainer() throws {
        // The test process has plenty of descriptors open; crun-swift inherits some of them.
        let extra = open("/etc/hostname", O_RDONLY)  // not close-on-exec: crun-swift inherits it
        defer { close(extra) }
        let r = try Harness.probe()
        let fds = (r["fds"] as? [[String: Any]] ?? []).compactMap { $0["fd"] as? Int }
        #expect(fds == [0, 1, 2])
    }

    @Test func preserveFdsPassesExactlyN() throws {
        let bundle = try Harness.TempBundle(config: Harness.baseConfig())
        // fd 3 of crun-swift: Foundation's Process passes only 0-2, so run through sh.
        let sh = Process()
        sh.executableURL = URL(fileURLWithPath: "/bin/sh")
        sh.arguments = ["-c", "exec 3</etc/hostname 4</etc/hostname; exec \"$0\" run --preserve-fds 1 --bundle \"$1\" preserve-test", Harness.binary, bundle.path]
        let out = Pipe()
        sh.standardOutput = out
        try sh.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        sh.waitUntilExit()
        let report = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let fds = (report?["fds"] as? [[String: Any]] ?? [])
        #expect(fds.compactMap { $0["fd"] as? Int } == [0, 1, 2, 3])
        #expect(fds.last?["target"] as? String == "/etc/hostname")
    }

    @Test func terminalGetsAPtyWithItsSize() throws {
        let r = try Harness.shell("tty; stty size; ls -l /dev/console | awk '{print $1}'; [ -t 0 ] && echo stdin-is-tty") { c in
            c.edit("process") {
                $0["terminal"] = true
                $0["consoleSize"] = ["height": 33, "width": 111]
            }
        }
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.replacingOccurrences(of: "\r", with: "").split(separator: "\n")
        #expect(lines.first == "/dev/pts/0")
        #expect(lines.dropFirst().first == "33 111")
        #expect(lines.contains("stdin-is-tty"))
    }

    @Test func exitStatusIsTheContainers() throws {
        #expect(try Harness.shell("exit 42").status == 42)
        // Killed by a signal: 128+N. (Outside a pid namespace, so SIGKILL to itself works.)
        let r = try Harness.shell("kill -9 $$") { c in
            c.edit("linux") { $0["namespaces"] = [["type": "mount"], ["type": "uts"]] }
        }
        #expect(r.status == 137)
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGHUP, SIGUSR1])
    func signalsAreForwardedToInit(_ sig: Int32) throws {
        let bundle = try Harness.TempBundle(config: Harness.baseConfig(args: ["sh", "-c",
            "trap 'echo got; exit 9' TERM INT HUP USR1; echo ready; touch /tmp/trap-set; while :; do sleep 0.05; done"]))
        let pidFile = bundle.path + "/init.pid"
        let r = try Harness.crun(["run", "--pid-file", pidFile, bundle.path]) { p in
            // As pid 1, sh ignores the signal until its trap is set: it says when by writing a file.
            Harness.waitUntil("for the trap") {
                let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? ""
                return !pid.isEmpty && FileManager.default.fileExists(atPath: "/proc/\(pid)/root/tmp/trap-set")
            }
            kill(p.processIdentifier, sig)
        }
        #expect(r.stdout == "ready\ngot\n")
        #expect(r.status == 9)
    }
}

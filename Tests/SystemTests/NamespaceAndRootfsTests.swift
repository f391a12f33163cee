import Foundation
import Testing

/// Root integration tests: real containers, checked by the probe from inside.
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
struct NamespaceTests {
    @Test func everyRequestedNamespaceIsNew() throws {
        let r = try Harness.probe { c in
            c.edit("linux") { $0.append("namespaces", [["type": "cgroup"], ["type": "time"]]) }
        }
        let ns = r["namespaces"] as? [String: String] ?? [:]
        for kind in ["pid", "net", "mnt", "ipc", "uts", "cgroup", "time"] {
            #expect(ns[kind] != nil && ns[kind] != Harness.nsInode(kind), "\(kind) namespace is not new")
        }
        #expect(ns["user"] == Harness.nsInode("user"))
        #expect(r["pid"] as? Int == 1)
        #expect(r["hostname"] as? String == "box")
    }

    @Test func unlistedNamespacesAreShared() throws {
        let r = try Harness.probe { c in
            c.edit("linux") { $0["namespaces"] = [["type": "mount"]] }
            c.removeValue(forKey: "hostname")
        }
        let ns = r["namespaces"] as? [String: String] ?? [:]
        for kind in ["pid", "net", "ipc", "uts"] { #expect(ns[kind] == Harness.nsInode(kind)) }
        #expect(ns["mnt"] != Harness.nsInode("mnt"))
    }

    @Test func namespacesWithAPathAreJoined() throws {
        // A holder process owns fresh net and uts namespaces; the container joins them.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        holder.arguments = ["--net", "--uts", "sleep", "1000"]
        try holder.run()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        var pid = "\(holder.processIdentifier)"
        // unshare execs sleep in place; wait until the namespaces differ from ours.
        Harness.waitUntil("for the holder's namespaces") { Harness.nsInode("net", pid: pid) != Harness.nsInode("net") }
        pid = "\(holder.processIdentifier)"
        let r = try Harness.probe { c in
            c.edit("linux") { $0["namespaces"] = [["type": "mount"], ["type": "pid"],
                ["type": "network", "path": "/proc/\(pid)/ns/net"], ["type": "uts", "path": "/proc/\(pid)/ns/uts"]] }
            c.removeValue(forKey: "hostname")
        }
        let ns = r["namespaces"] as? [String: String] ?? [:]
        #expect(ns["net"] == Harness.nsInode("net", pid: pid))
        #expect(ns["uts"] == Harness.nsInode("uts", pid: pid))
        #expect(ns["net"] != Harness.nsInode("net"))
    }

    @Test func pidNamespaceWithAPathIsJoined() throws {
        // unshare --pid --fork: sleep is pid 1 of a new pid namespace; join it by path.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        holder.arguments = ["--pid", "--fork", "--kill-child", "sleep", "1000"]
        try holder.run()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        let path = "/proc/\(holder.processIdentifier)/ns/pid_for_children"
        // The namespace has its pid 1 once unshare has forked sleep.
        let children = "/proc/\(holder.processIdentifier)/task/\(holder.processIdentifier)/children"
        Harness.waitUntil("for the holder's pid 1") {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != Harness.nsInode("pid")
                && !((try? String(contentsOfFile: children, encoding: .utf8)) ?? "").isEmpty
        }
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
        let r = try Harness.probe { c in
            c.edit("linux") { $0["namespaces"] = [["type": "mount"], ["type": "pid", "path": path]] }
            c.removeValue(forKey: "hostname")
        }
        let ns = r["namespaces"] as? [String: String] ?? [:]
        #expect(ns["pid"] == target)
        #expect(r["pid"] as? Int ?? 1 > 1)  // sleep is pid 1 there
    }

    /// A pid namespace of the host's, held by `unshare`, with a `sleep` as its pid 1 once this
    /// returns. The caller kills the holder.
    static func pidNamespaceHolder() throws -> Process {
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        holder.arguments = ["--pid", "--fork", "--kill-child", "sleep", "1000"]
        try holder.run()
        let children = "/proc/\(holder.processIdentifier)/task/\(holder.processIdentifier)/children"
        Harness.waitUntil("for the holder's pid 1") { !((try? String(contentsOfFile: children, encoding: .utf8)) ?? "").isEmpty }
        return holder
    }

    /// /proc shows the joined pid namespace, not the runtime's: the holder's sleep is pid 1.
    @Test func procOfAJoinedPidNamespace() throws {
        let holder = try Self.pidNamespaceHolder()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        let r = try Harness.shell("tr '\\0' ' ' </proc/1/cmdline; echo; ls /proc | grep -c '^[0-9]'") { c in
            c.edit("linux") { $0["namespaces"] = [["type": "mount"], ["type": "pid", "path": "/proc/\(holder.processIdentifier)/ns/pid_for_children"]] }
            c.removeValue(forKey: "hostname")
            c["mounts"] = (c["mounts"] as? [[String: Any]] ?? []).map { m in
                var m = m
                if m["type"] as? String == "proc" { m["options"] = ["nosuid", "noexec", "nodev", "hidepid=1"] }
                return m
            }
        }
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first == "sleep 1000 ", "\(r.stdout)")
        #expect(Int(lines.last ?? "") ?? 99 <= 4, "\(r.stdout)")  // sleep, sh, and its pipeline
    }

    /// What depends on the /proc of a joined pid namespace is made on it, in the planned order:
    /// a host file bound over a proc file (lxcfs's way, read-only), a tmpfs on a proc directory,
    /// masked and read-only paths under /proc; a non-root process with its own capabilities.
    @Test func whatLiesOnProcOfAJoinedPidNamespace() throws {
        let holder = try Self.pidNamespaceHolder()
        defer { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() }
        let uptime = NSTemporaryDirectory() + "crun-swift-uptime-\(getpid())"
        FileManager.default.createFile(atPath: uptime, contents: Data("lxcfs-uptime\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: uptime) }
        let script = "tr '\\0' ' ' </proc/1/cmdline | cut -d' ' -f1; cat /proc/uptime; "
            + "awk '$2 ~ /^\\/proc\\/(sys|uptime|driver|timer_list)$/ {print $2, ($2 ~ /uptime|timer/ ? \"-\" : $3), substr($4, 1, 2)}' /proc/mounts; id -u; grep CapEff /proc/self/status"
        let r = try Harness.shell(script) { c in
            c.edit("linux") {
                $0["namespaces"] = [["type": "mount"], ["type": "pid", "path": "/proc/\(holder.processIdentifier)/ns/pid_for_children"]]
                $0["maskedPaths"] = ["/proc/timer_list"]
                $0["readonlyPaths"] = ["/proc/sys"]
            }
            c.removeValue(forKey: "hostname")
            c.edit("process") {
                $0["user"] = ["uid": 1000, "gid": 1000]
                $0["capabilities"] = ["bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"],
                                     "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]]
            }
            c.append("mounts", [["destination": "/proc/uptime", "type": "bind", "source": uptime, "options": ["bind", "ro"]]])
            c.append("mounts", [["destination": "/proc/driver", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=64k"]]])
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").map(String.init) == [
            "sleep", "lxcfs-uptime", "/proc/uptime - ro", "/proc/driver tmpfs rw", "/proc/sys proc ro", "/proc/timer_list - rw",
            "1000", "CapEff:\t0000000000000020",
        ], "\(r.stdout)")
    }

    @Test func userNamespaceWithMappings() throws {
        let r = try Harness.shell("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; touch /tmp/x && stat -c %u /tmp/x") { c in
            c.edit("linux") {
                $0.append("namespaces", [["type": "user"]])
                $0["uidMappings"] = [["containerID": 0, "hostID": 200000, "size": 65536]]
                $0["gidMappings"] = [["containerID": 0, "hostID": 300000, "size": 65536]]
            }
        }
        #expect(r.status == 0, "\(r.stderr)")
        let words = r.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        #expect(Array(words.prefix(6)) == ["0", "200000", "65536", "0", "300000", "65536"])
        #expect(Array(words.suffix(3)) == ["0", "0", "0"])
    }

    @Test func timeNamespaceOffsets() throws {
        let hostUptime = Double((try String(contentsOfFile: "/proc/uptime", encoding: .utf8)).split(separator: " ")[0])!
        let r = try Harness.probe { c in
            c.edit("linux") {
                $0.append("namespaces", [["type": "time"]])
                $0["timeOffsets"] = ["boottime": ["secs": 100000, "nanosecs": 0]]
            }
        }
        let inside = Double((r["uptime"] as? String ?? "0").split(separator: " ")[0]) ?? 0
        #expect(inside > hostUptime + 99000)
    }

    @Test func hostnameDomainnameAndSysctl() throws {
        let r = try Harness.shell("hostname; cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni") { c in
            c["hostname"] = "inner"
            c["domainname"] = "example.test"
            c.edit("linux") { $0["sysctl"] = ["net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"] }
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "inner\nexample.test\n1\n1234\n")
        let hostForward = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8)
        #expect(hostForward == "0\n" || hostForward == "1\n")  // untouched: our netns is separate
    }
}

@Suite(.enabled(if: Harness.canRunContainers), .serialized)
struct RootfsTests {
    func mounts(_ r: [String: Any]) -> [String] { r["mounts"] as? [String] ?? [] }
    func mount(_ r: [String: Any], at point: String) -> String? {
        mounts(r).first { $0.split(separator: " ")[4] == point }
    }

    @Test func relativeRootPathAndPivotRoot() throws {
        let bundle = try Harness.TempBundle(config: [:])
        var c = Harness.baseConfig()
        // root.path relative to the bundle directory.
        let up = String(repeating: "../", count: bundle.path.split(separator: "/").count)
        c.edit("root") { $0["path"] = up + Harness.rootfs.dropFirst() }
        try bundle.write(config: c)
        let r = try Harness.crun(["run", bundle.path])
        #expect(r.status == 0, "\(r.stderr)")
        let root = r.probe.flatMap { mount($0, at: "/") }
        #expect(root?.contains(Harness.rootfs) == true)
        // After pivot_root no mount of the host's is left in the container.
        let points = r.probe.map { mounts($0).map { String($0.split(separator: " ")[4]) } } ?? []
        #expect(!points.isEmpty && !points.contains { $0.hasPrefix("/work") || $0.hasPrefix("/etc") || $0.hasPrefix("/run") })
    }

    @Test func readonlyRoot() throws {
        let r = try Harness.shell("touch /newfile; echo rc=$?; touch /tmp/ok && echo tmp-ok") { c in
            c.edit("root") { $0["readonly"] = true }
        }
        #expect(r.stdout.contains("rc=1"))
        #expect(r.stdout.contains("tmp-ok"))
        #expect(!FileManager.default.fileExists(atPath: Harness.rootfs + "/newfile"))
    }

    @Test func noPivotUsesMoveAndChroot() throws {
        let bundle = try Harness.TempBundle(config: Harness.baseConfig(args: ["sh", "-c", "ls /; cat /proc/self/mountinfo | wc -l"]))
        let r = try Harness.crun(["run", "--no-pivot", "--bundle", bundle.path, "nopivot-test"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("bin\n"))
    }

    @Test func mountsWithOptionsInOrder() throws {
        let src = NSTemporaryDirectory() + "crun-swift-src-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: src + "/sub", withIntermediateDirectories: true)
        try "hello\n".write(toFile: src + "/file.txt", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: src) }
        let r = try Harness.probe { c in
            c.append("mounts", [
                ["destination": "/tmp/a", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=700", "noexec", "nosuid", "nodev", "noatime"]],
                ["destination": "/tmp/a/b", "type": "bind", "source": src, "options": ["ro", "nosuid"]],
                ["destination": "/tmp/file", "source": src + "/file.txt", "options": ["bind", "ro"]],
                ["destination": "/tmp/shared", "type": "tmpfs", "source": "tmpfs", "options": ["rshared"]],
                ["destination": "/tmp/rec", "source": src, "options": ["rbind", "rro"]],
                ["destination": "/tmp/mq", "type": "mqueue", "source": "mqueue", "options": ["nosuid"]],
                ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro", "nosuid"]],
                ["destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]],
            ])
        }
        let a = mount(r, at: "/tmp/a") ?? ""
        #expect(a.contains("noexec") && a.contains("nosuid") && a.contains("nodev") && a.contains("noatime"))
        #expect(a.contains("size=1024k") && a.contains("mode=700"))
        let b = mount(r, at: "/tmp/a/b") ?? ""
        #expect(b.split(separator: " ")[5].hasPrefix("ro,nosuid"))
        #expect(mount(r, at: "/tmp/file")?.split(separator: " ")[5].hasPrefix("ro") == true)
        #expect(mount(r, at: "/tmp/shared")?.contains("shared:") == true)
        #expect(mount(r, at: "/tmp/rec")?.split(separator: " ")[5].hasPrefix("ro") == true)
        #expect(mount(r, at: "/tmp/mq")?.contains(" - mqueue ") == true)
        #expect(mount(r, at: "/sys")?.contains(" - sysfs ") == true)
        #expect(mount(r, at: "/sys/fs/cgroup")?.contains(" - cgroup2 ") == true)
        // Order: /tmp/a/b is mounted on top of /tmp/a, which came first.
        let points = mounts(r).map { String($0.split(separator: " ")[4]) }
        #expect((points.firstIndex(of: "/tmp/a") ?? 99) < (points.firstIndex(of: "/tmp/a/b") ?? -1))
    }

    @Test func bindContentIsVisibleAndReadOnly() throws {
        let src = NSTemporaryDirectory() + "crun-swift-src-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        try "hello\n".write(toFile: src + "/file.txt", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: src) }
        let r = try Harness.shell("cat /tmp/mnt/data/file.txt; echo x > /tmp/mnt/data/new; echo rc=$?") { c in
            c.append("mounts", [["destination": "/tmp/mnt/data", "type": "bind", "source": src, "options": ["ro"]]])
        }
        #expect(r.stdout.hasPrefix("hello\n"))
        #expect(r.stdout.contains("rc=1"))
    }

    @Test func symlinkInTheImageCannotPointAMountAtTheHost() throws {
        // A private copy of the rootfs with hostile links.
        let rootfs = NSTemporaryDirectory() + "crun-swift-evil-\(UUID().uuidString.prefix(6))"
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["-a", Harness.rootfs, rootfs]
        try cp.run(); cp.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: rootfs) }
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/evil", withDestinationPath: "/etc")
        try FileManager.default.createSymbolicLink(atPath: rootfs + "/evil2", withDestinationPath: "../../../../../../../etc")
        let before = Harness.hostMounts()
        let r = try Harness.shell("ls -d /etc/crun-swift-escape /etc/crun-swift-escape2 && grep -c crun-swift-escape /proc/self/mountinfo") { c in
            c.edit("root") { $0["path"] = rootfs }
            c.append("mounts", [["destination": "/evil/crun-swift-escape", "type": "tmpfs", "source": "tmpfs"],
                                ["destination": "/evil2/crun-swift-escape2", "type": "tmpfs", "source": "tmpfs"]])
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasSuffix("2\n"))  // mounted inside the container, at its /etc
        #expect(!FileManager.default.fileExists(atPath: "/etc/crun-swift-escape"))
        #expect(!FileManager.default.fileExists(atPath: "/etc/crun-swift-escape2"))
        #expect(FileManager.default.fileExists(atPath: rootfs + "/etc/crun-swift-escape"))
        #expect(Harness.hostMounts() == before)
    }

    @Test func rootfsPropagation() throws {
        let shared = try Harness.probe { c in c.edit("linux") { $0["rootfsPropagation"] = "rshared" } }
        #expect(mount(shared, at: "/")?.contains("shared:") == true)
        let priv = try Harness.probe { c in c.edit("linux") { $0["rootfsPropagation"] = "private" } }
        let root = mount(priv, at: "/") ?? ""
        #expect(!root.contains("shared:") && !root.contains("master:"))
        let dflt = try Harness.probe()
        #expect(mount(dflt, at: "/")?.contains("shared:") == false)
    }

    @Test func maskedAndReadonlyPaths() throws {
        let r = try Harness.shell("cat /proc/kcore | wc -c; ls /proc/acpi | wc -l; echo 1 > /proc/sys/kernel/domainname; echo rc=$?; cat /proc/self/mountinfo") { c in
            c.edit("linux") {
                $0["maskedPaths"] = ["/proc/kcore", "/proc/acpi", "/proc/does-not-exist"]
                $0["readonlyPaths"] = ["/proc/sys", "/proc/nothing-here"]
            }
        }
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first == "0")
        #expect(r.stdout.contains("rc=1"))
        #expect(r.stdout.contains(" /proc/sys ro,"))
        #expect(r.stdout.contains(" /proc/acpi ro,"))
    }

    @Test func defaultDevicesAndLinuxDevices() throws {
        let r = try Harness.shell("ls -ln /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/fuse /dev/my-fifo | awk '{print $1, $3, $4, $5, $6, $NF}'; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; echo hi > /dev/null && head -c 4 /dev/zero | wc -c; ls -d /dev/shm /dev/pts") { c in
            c.edit("linux") {
                $0["devices"] = [["type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 7, "gid": 8],
                                 ["type": "p", "path": "/dev/my-fifo", "fileMode": 0o600]]
            }
        }
        #expect(r.status == 0, "\(r.stderr)")
        let expected = """
            crw-rw-rw- 0 0 1, 3 /dev/null
            crw-rw-rw- 0 0 1, 5 /dev/zero
            crw-rw-rw- 0 0 1, 7 /dev/full
            crw-rw-rw- 0 0 1, 8 /dev/random
            crw-rw-rw- 0 0 1, 9 /dev/urandom
            crw-rw-rw- 0 0 5, 0 /dev/tty
            crw-r----- 7 8 10, 229 /dev/fuse
            prw------- 0 0 0 Nov /dev/my-fifo
            """
        let got = r.stdout.split(separator: "\n").prefix(8).map(String.init)
        let want = expected.split(separator: "\n").map(String.init)
        #expect(Set(got.filter { !$0.hasPrefix("p") }) == Set(want.prefix(7)))
        #expect(got.contains { $0.hasPrefix("prw------- 0 0") && $0.hasSuffix("/dev/my-fifo") })
        #expect(r.stdout.contains("/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx\n4\n/dev/pts\n/dev/shm\n"))
    }

    @Test func devicesInAUserNamespaceAreBindMounted() throws {
        let r = try Harness.shell("echo ok > /dev/null && head -c 3 /dev/urandom | wc -c") { c in
            c.edit("linux") {
                $0.append("namespaces", [["type": "user"]])
                $0["uidMappings"] = [["containerID": 0, "hostID": 0, "size": 65536]]
                $0["gidMappings"] = [["containerID": 0, "hostID": 0, "size": 65536]]
            }
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "3\n")
    }
}

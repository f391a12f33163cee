import Foundation
import Testing

/// config-linux.md: namespaces, user namespace mappings, devices, sysctl, masked and
/// read-only paths, personality, cgroups path, seccomp (default deny).
@Suite(.enabled(if: Harness.canRunContainers), .serialized)
final class ConfigLinuxConformanceTests {
    let c = Conformance()

    func shell(_ script: String, _ change: (inout [String: Any]) -> Void = { _ in }) throws -> Harness.Result {
        var config = Harness.baseConfig(args: ["sh", "-c", script])
        change(&config)
        return try c.cs(["run", "--bundle", try c.bundle(config), "lnx"])
    }

    /// "Namespaces": a listed type without a path MUST be a new namespace; with a path, the
    /// process MUST be placed in that namespace.
    @Test func configLinuxNamespacesNewAndJoined() throws {
        var config = Harness.baseConfig(args: ["sleep", "1000"])
        config.edit("linux") {
            $0["namespaces"] = [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"], ["type": "cgroup"],
                                ["type": "user"], ["type": "time"]]
            $0["uidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
            $0["gidMappings"] = [["containerID": 0, "hostID": 100000, "size": 65536]]
        }
        config["mounts"] = (config["mounts"] as? [[String: Any]] ?? []).filter { $0["destination"] as? String != "/dev/pts" }
        let pid = try c.createAndStart("newns", try c.bundle(config))
        for kind in ["pid", "net", "ipc", "uts", "mnt", "cgroup", "user", "time"] {
            #expect(Harness.nsInode(kind, pid: "\(pid)") != Harness.nsInode(kind), "\(kind)")
        }
        // A second container joins the first one's network and ipc namespaces by path.
        var joiner = Harness.baseConfig(args: ["sleep", "1000"])
        joiner.edit("linux") {
            $0["namespaces"] = [["type": "pid"], ["type": "mount"], ["type": "network", "path": "/proc/\(pid)/ns/net"], ["type": "ipc", "path": "/proc/\(pid)/ns/ipc"]]
        }
        joiner.removeValue(forKey: "hostname")
        let pid2 = try c.createAndStart("joiner", try c.bundle(joiner))
        #expect(Harness.nsInode("net", pid: "\(pid2)") == Harness.nsInode("net", pid: "\(pid)"))
        #expect(Harness.nsInode("ipc", pid: "\(pid2)") == Harness.nsInode("ipc", pid: "\(pid)"))
    }

    /// "Namespaces": a type listed twice MUST be an error; a path that is not a namespace of
    /// that type is an error.
    @Test func configLinuxNamespacesDuplicateAndWrongPath() throws {
        let dup = try shell("true") { $0.edit("linux") { $0["namespaces"] = [["type": "mount"], ["type": "pid"], ["type": "pid"]] } }
        #expect(dup.status != 0 && dup.stderr.contains("linux.namespaces[2].type: pid namespace listed twice"), "\(dup.stderr)")
        let wrong = try shell("true") { config in
            config.edit("linux") { $0["namespaces"] = [["type": "mount"], ["type": "network", "path": "/proc/self/ns/uts"]] }
            config.removeValue(forKey: "hostname")
        }
        #expect(wrong.status != 0 && wrong.stderr.contains("linux.namespaces[1]"), "\(wrong.stderr)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: c.root))?.isEmpty ?? true)
    }

    /// "User namespace mappings": uid_map and gid_map as configured.
    @Test func configLinuxUserNamespaceMappings() throws {
        let r = try shell("cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '") { config in
            config.edit("linux") {
                $0["namespaces"] = [["type": "pid"], ["type": "mount"], ["type": "user"]]
                $0["uidMappings"] = [["containerID": 0, "hostID": 200000, "size": 1000]]
                $0["gidMappings"] = [["containerID": 0, "hostID": 300000, "size": 2000]]
            }
            config.removeValue(forKey: "hostname")
            config["mounts"] = (config["mounts"] as? [[String: Any]] ?? []).filter { $0["destination"] as? String != "/dev/pts" }
        }
        #expect(r.status == 0 && r.stdout == " 0 200000 1000\n 0 300000 2000\n", "\(r.stdout) \(r.stderr)")
    }

    /// "Default Devices": null, zero, full, random, urandom, tty, ptmx; "Devices": each listed
    /// device is created with its type, numbers, mode and owner.
    @Test func configLinuxDefaultDevicesAndDevices() throws {
        let r = try shell("for d in null zero full random urandom tty; do stat -c '%n %F %t:%T' /dev/$d; done; ls -l /dev/ptmx | grep -o 'pts/ptmx'; stat -c '%n %F %t:%T %a %u:%g' /dev/fuse") { config in
            config.edit("linux") { $0["devices"] = [["path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 416, "uid": 7, "gid": 8] as [String: Any]] }
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == """
            /dev/null character special file 1:3
            /dev/zero character special file 1:5
            /dev/full character special file 1:7
            /dev/random character special file 1:8
            /dev/urandom character special file 1:9
            /dev/tty character special file 5:0
            pts/ptmx
            /dev/fuse character special file a:e5 640 7:8

            """, "\(r.stdout)")
    }

    /// "Sysctl": a namespaced key is set in the container's namespace.
    @Test func configLinuxSysctl() throws {
        let r = try shell("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni") { config in
            config.edit("linux") { $0["sysctl"] = ["net.ipv4.ip_forward": "1", "kernel.shmmni": "1234"] }
        }
        #expect(r.status == 0 && r.stdout == "1\n1234\n", "\(r.stdout) \(r.stderr)")
    }

    /// "Masked Paths": MUST be masked so they cannot be read; "Readonly Paths": MUST be
    /// read-only.
    @Test func configLinuxMaskedAndReadonlyPaths() throws {
        let r = try shell("wc -c < /proc/timer_list; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/shmmni 2>/dev/null && echo writable || echo readonly") { config in
            config.append("mounts", [["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]]])
            config.edit("linux") {
                $0["maskedPaths"] = ["/proc/timer_list", "/sys/firmware", "/proc/does-not-exist"]
                $0["readonlyPaths"] = ["/proc/sys"]
            }
        }
        #expect(r.status == 0 && r.stdout == "0\n0\nreadonly\n", "\(r.stdout) \(r.stderr)")
    }

    /// "Personality": LINUX32 makes the container see a 32-bit machine.
    @Test func configLinuxPersonality() throws {
        let r = try shell("uname -m") { $0.edit("linux") { $0["personality"] = ["domain": "LINUX32"] } }
        #expect(r.status == 0 && r.stdout == "i686\n", "\(r.stdout) \(r.stderr)")
    }

    /// "Control groups": the container's processes are in the cgroup at cgroupsPath.
    @Test func configLinuxCgroupsPath() throws {
        let r = try shell("grep '^0::' /proc/self/cgroup") { $0.edit("linux") { $0["cgroupsPath"] = "/crun-swift-conformance/cg1" } }
        #expect(r.status == 0 && r.stdout.hasSuffix("/crun-swift-conformance/cg1\n"), "\(r.stdout) \(r.stderr)")
        rmdir(Harness.cgroupMount + "/crun-swift-conformance")
    }

    /// "Seccomp": a default-deny profile (defaultAction ERRNO) that allows what busybox
    /// needs; a syscall it does not list gets the default errno.
    @Test func configLinuxSeccompDefaultDeny() throws {
        let profile: [String: Any] = [
            "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [["names": Self.busyboxSyscalls, "action": "SCMP_ACT_ALLOW"]],
        ]
        let r = try shell("echo ok; mkdir /tmp/d 2>&1 | grep -o 'Function not implemented'") { config in
            config.edit("linux") { $0["seccomp"] = profile }
            config.edit("process") { $0["noNewPrivileges"] = true }
        }
        #expect(r.status == 0 && r.stdout == "ok\nFunction not implemented\n", "\(r.stdout) \(r.stderr)")
    }

    /// What busybox `sh -c 'echo ok'` (and mkdir's error path) needs after execve.
    static let busyboxSyscalls = ["execve", "brk", "mmap", "munmap", "mprotect", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
                                   "write", "writev", "read", "exit", "exit_group", "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "rt_sigaction",
                                   "rt_sigprocmask", "rt_sigreturn", "ioctl", "fcntl", "close", "openat", "newfstatat", "fstat", "stat", "lstat", "getcwd",
                                   "uname", "wait4", "clone", "clone3", "fork", "vfork", "dup2", "dup3", "access", "faccessat", "faccessat2", "readlink", "getdents64", "futex",
                                   "getrandom", "statx", "lseek", "sigaltstack", "poll", "ppoll", "nanosleep", "clock_nanosleep", "umask", "sched_getaffinity",
                                   "setpgid", "getpgrp", "getpgid", "gettid", "tgkill", "kill", "sysinfo", "clock_gettime", "pipe", "pipe2", "prctl"]

    /// The same profile without no_new_privs: the runtime itself must not need a syscall the
    /// profile denies once the filter is in force.
    @Test
    func configLinuxSeccompDefaultDenyWithoutNoNewPrivileges() throws {
        let profile: [String: Any] = [
            "defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [["names": Self.busyboxSyscalls, "action": "SCMP_ACT_ALLOW"]],
        ]
        let r = try shell("echo ok") { config in
            config.edit("linux") { $0["seccomp"] = profile }
            config.edit("process") { $0["noNewPrivileges"] = false }
        }
        #expect(r.status == 0 && r.stdout == "ok\n", "\(r.stdout) \(r.stderr)")
    }
}

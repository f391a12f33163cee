import CShim
import JSONCore
import OCISpec
import Seccomp

/// The runtime-spec `features` document, true to what this build applies.
public enum Features {
    public static func document() -> JSONValue {
        let capLast = Int(cs_cap_last_cap())
        var caps: [JSONValue] = []
        for n in 0...capLast {
            // Names from libcap: ask it for every known name's number and keep the ones <= last.
            if let name = capabilityName(n) { caps.append(.string(name)) }
        }
        func strings(_ items: [String]) -> JSONValue { .array(items.map { .string($0) }) }
        return .object([
            ("ociVersionMin", .string("1.0.0")),
            ("ociVersionMax", .string(CrunVersion.spec)),
            ("hooks", strings(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])),
            ("mountOptions", strings(MountOptions.applied)),
            ("linux", .object([
                ("namespaces", strings(NamespaceKind.allCases.map(\.rawValue))),
                ("capabilities", .array(caps)),
                ("cgroup", .object([("v1", .bool(true)), ("v2", .bool(true)), ("systemd", .bool(false)),
                                    ("systemdUser", .bool(false)), ("rdma", .bool(true))])),
                ("seccomp", .object([("enabled", .bool(true))] + SeccompCompiler.features().map { ($0.0, strings($0.1)) })),
                ("apparmor", .object([("enabled", .bool(SecurityModules.appArmorEnabled))])),
                ("selinux", .object([("enabled", .bool(false))])),
                ("intelRdt", .object([("enabled", .bool(false))])),
                ("mountExtensions", .object([("idmap", .object([("enabled", .bool(cs_idmap_kernel_support() != 0))]))])),
                ("netDevices", .object([("enabled", .bool(false))])),
            ])),
            ("annotations", .object([("io.github.crun-swift.version", .string(CrunVersion.version)),
                                     ("io.github.seccomp.libseccomp.version", .string(String(cString: cs_seccomp_version())))])),
            ("potentiallyUnsafeConfigAnnotations", .array([])),
        ])
    }

    static let capabilityNames = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    static func capabilityName(_ n: Int) -> String? {
        capabilityNames.first { Int(cs_cap_from_name($0)) == n }
    }
}

/// `spec`: a starting config.json like runc's.
public enum SpecTemplate {
    public static func config(rootless: Bool, uid: UInt32, gid: UInt32) -> String {
        let caps = #"["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]"#
        let namespaces = rootless
            ? #"[{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}, {"type": "user"}]"#
            : #"[{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}]"#
        let maps = rootless
            ? """
            ,
                "uidMappings": [{"containerID": 0, "hostID": \(uid), "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": \(gid), "size": 1}]
            """ : ""
        return """
        {
          "ociVersion": "\(CrunVersion.spec)",
          "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": \(caps), "effective": \(caps), "permitted": \(caps)},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
          },
          "root": {"path": "rootfs", "readonly": true},
          "hostname": "crun-swift",
          "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"\(rootless ? "" : ", \"gid=5\"")]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "\(rootless ? "none" : "sysfs")", "source": "\(rootless ? "/sys" : "sysfs")", "options": [\(rootless ? "\"rbind\", " : "")"nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
          ],
          "linux": {
            "namespaces": \(namespaces)\(maps),
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
          }
        }

        """
    }
}

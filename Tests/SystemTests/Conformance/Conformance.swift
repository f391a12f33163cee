import Foundation
import Testing

/// The conformance tier: each test checks one MUST of the runtime-spec and is named after its
/// section (`runtimeState...`, `configLinuxNamespaces...`). Black-box: they drive the binary
/// under test (CRUN_SWIFT_BIN, else the debug build) with configs shaped the way other tools
/// write them: `runc spec`, `crun spec`, podman, containerd, hand-written 1.0.0 ... 1.3.0.
final class Conformance {
    let root: String
    var bundles: [Harness.TempBundle] = []

    init() {
        root = NSTemporaryDirectory() + "crun-swift-conf-\(UUID().uuidString.prefix(8))"
    }

    deinit {
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            _ = try? Harness.crun(["--root", root, "delete", "--force", id])
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    @discardableResult
    func cs(_ args: [String], timeout: Double = 30) throws -> Harness.Result {
        try Harness.crun(["--root", root] + args, timeout: timeout)
    }

    func bundle(_ config: [String: Any]) throws -> String {
        let b = try Harness.TempBundle(config: config)
        bundles.append(b)
        return b.path
    }

    func bundle(raw: String) throws -> String {
        let b = try Harness.TempBundle(rawConfig: raw)
        bundles.append(b)
        return b.path
    }

    func state(_ id: String) throws -> [String: Any] {
        let r = try cs(["state", id])
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// Polls `condition` (no fixed sleep decides anything) for up to 60 s.
    func waitUntil(_ what: String, _ condition: () throws -> Bool) rethrows {
        try Harness.waitUntil(what, condition)
    }

    /// `create` + `start`; returns the init's pid.
    @discardableResult
    func createAndStart(_ id: String, _ bundle: String) throws -> Int {
        let c = try cs(["create", "--bundle", bundle, id])
        #expect(c.status == 0, "create \(id): \(c.stderr)")
        let pid = try state(id)["pid"] as? Int ?? 0
        let s = try cs(["start", id])
        #expect(s.status == 0, "start \(id): \(s.stderr)")
        return pid
    }

    static func temp(_ name: String) -> String {
        NSTemporaryDirectory() + "crun-swift-\(name)-\(UUID().uuidString.prefix(8))"
    }

    // MARK: configs as generators write them

    /// The config `tool spec` writes (runc, crun), pointed at the test rootfs and made
    /// runnable without a terminal; everything else as the tool wrote it.
    static func generated(by tool: String, args: [String]) throws -> [String: Any] {
        let dir = temp("\(tool)-spec")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool, "spec"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))
        var c = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        c.edit("root") { $0["path"] = Harness.rootfs; $0["readonly"] = false }
        c.edit("process") { $0["terminal"] = false; $0["args"] = args }
        return c
    }

    /// A config in the shape podman 4 writes (runtime-tools generator): ociVersion 1.0.2-dev,
    /// annotations, sysctl, pids limit, cgroupsPath, podman's mounts and paths, empty
    /// inheritable set, its seccomp profile for its default capabilities.
    static func podmanStyle(args: [String]) throws -> [String: Any] {
        let caps = SeccompProfiles.podmanDefaultCaps
        return [
            "ociVersion": "1.0.2-dev",
            "process": [
                "user": ["uid": 0, "gid": 0, "umask": 18, "additionalGids": [0]] as [String: Any],
                "args": args,
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", "container=podman", "HOSTNAME=pod1", "HOME=/root"],
                "cwd": "/",
                "capabilities": ["bounding": caps, "effective": caps, "permitted": caps],
                "rlimits": [["type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024], ["type": "RLIMIT_NPROC", "hard": 4096, "soft": 4096]],
                "oomScoreAdj": 0,
            ] as [String: Any],
            "root": ["path": Harness.rootfs],
            "hostname": "pod1",
            "mounts": [
                ["destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]],
                ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
                ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]],
                ["destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]],
                ["destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]],
                ["destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["rprivate", "nosuid", "noexec", "nodev", "relatime", "ro"]],
                ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
            ],
            "annotations": ["io.container.manager": "libpod", "org.opencontainers.image.stopSignal": "15"],
            "linux": [
                "sysctl": ["net.ipv4.ping_group_range": "0 0"],
                "resources": ["pids": ["limit": 2048]] as [String: Any],
                "namespaces": [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"], ["type": "cgroup"]],
                "seccomp": try SeccompProfiles.resolve("podman-containers-common-0.50.1.json", bounding: caps),
                "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block"],
                "readonlyPaths": ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            ] as [String: Any],
        ]
    }

    /// A config in the shape containerd's CRI plugin writes: ociVersion 1.1.0, default-deny
    /// device cgroup rules, oom score, docker's default capabilities and profile, a cgroups
    /// path, masked/readonly paths, an explicitly empty `devices` list.
    static func containerdStyle(args: [String]) throws -> [String: Any] {
        let caps = SeccompProfiles.dockerDefaultCaps
        return [
            "ociVersion": "1.1.0",
            "process": [
                "user": ["uid": 0, "gid": 0, "additionalGids": [0, 10]] as [String: Any],
                "args": args,
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=ctd"],
                "cwd": "/",
                "capabilities": ["bounding": caps, "effective": caps, "permitted": caps],
                "noNewPrivileges": false,
                "oomScoreAdj": 1000,  // CRI's BestEffort value (lowering it needs CAP_SYS_RESOURCE, which the test sandbox lacks)
            ] as [String: Any],
            "root": ["path": Harness.rootfs, "readonly": false] as [String: Any],
            "hostname": "ctd",
            "mounts": [
                ["destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]],
                ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
                ["destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]],
                ["destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]],
                ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]],
                ["destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]],
                ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
            ],
            "annotations": ["io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-id": "abc"],
            "linux": [
                "resources": ["devices": [["allow": false, "access": "rwm"]]] as [String: Any],
                "namespaces": [["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "mount"], ["type": "network"]],
                "devices": [] as [Any],
                "seccomp": try SeccompProfiles.resolve("moby-default.json", bounding: caps),
                "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
                "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            ] as [String: Any],
        ]
    }

    /// The smallest config: only what the spec requires (no linux object, no mounts, no
    /// hostname): every namespace is the runtime's.
    static func minimal(_ version: String, args: [String]) -> [String: Any] {
        ["ociVersion": version, "process": ["user": ["uid": 0, "gid": 0], "args": args, "cwd": "/"] as [String: Any],
         "root": ["path": Harness.rootfs]]
    }

    /// `mountinfo` of the test's own mount namespace without mount ids (to compare before/after).
    static func mountTable() -> [String] { Harness.hostMounts() }
}

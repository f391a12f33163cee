import Foundation
import Testing

/// Runs the built crun-swift binary on throwaway bundles. Every bundle lives in its own temp
/// directory, removed after the test; every container lives in its own mount namespace.
enum Harness {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let binary = ProcessInfo.processInfo.environment["CRUN_SWIFT_BIN"]
        ?? packageRoot + "/.build/debug/crun-swift"
    static let rootfs = ProcessInfo.processInfo.environment["CRUN_SWIFT_ROOTFS"]
        ?? packageRoot + "/rootfs/build/rootfs"

    /// Root tests run when we are root and the rootfs is built. scripts/test sets
    /// CRUN_SWIFT_REQUIRE_SYSTEM_TESTS=1 so that a missing prerequisite fails instead of skipping.
    static let canRunContainers: Bool = {
        let ok = getuid() == 0 && FileManager.default.isExecutableFile(atPath: rootfs + "/bin/probe")
            && FileManager.default.isExecutableFile(atPath: binary)
        if !ok && ProcessInfo.processInfo.environment["CRUN_SWIFT_REQUIRE_SYSTEM_TESTS"] == "1" {
            fatalError("system tests required but cannot run: need root, \(binary) and \(rootfs)/bin/probe")
        }
        return ok
    }()
    static let binaryExists = FileManager.default.isExecutableFile(atPath: binary)

    /// `run` registers its container under --root: a test that names no root gets a temp one
    /// of this test process (removed at exit when empty), never the machine's /run/crun-swift,
    /// where another test run's containers of the same id could be.
    static let stateRoot: String = {
        let path = NSTemporaryDirectory() + "crun-swift-state-\(getpid())"
        atexit { _ = rmdir(NSTemporaryDirectory() + "crun-swift-state-\(getpid())") }
        return path
    }()

    /// The base config, like `runc spec`'s, for the test rootfs.
    static func baseConfig(args: [String] = ["probe"]) -> [String: Any] {
        [
            "ociVersion": "1.2.0",
            "process": [
                "terminal": false,
                "user": ["uid": 0, "gid": 0],
                "args": args,
                "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
                "cwd": "/",
                "noNewPrivileges": true,
            ] as [String: Any],
            "root": ["path": rootfs, "readonly": false] as [String: Any],
            "hostname": "box",
            "mounts": [
                ["destination": "/proc", "type": "proc", "source": "proc"],
                ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
                ["destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]],
                ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
                ["destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]],
            ],
            "linux": [
                "namespaces": [["type": "pid"], ["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]],
            ] as [String: Any],
        ]
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var probe: [String: Any]? {
            guard let line = stdout.split(separator: "\n").last(where: { $0.hasPrefix("{") }) else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
    }

    /// A bundle directory with config.json; removed by `cleanup`.
    final class TempBundle {
        let path: String
        init(config: [String: Any]) throws {
            path = NSTemporaryDirectory() + "crun-swift-test-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try write(config: config)
        }
        init(rawConfig: String) throws {
            path = NSTemporaryDirectory() + "crun-swift-test-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try rawConfig.write(toFile: path + "/config.json", atomically: true, encoding: .utf8)
        }
        func write(config: [String: Any]) throws {
            let data = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: path + "/config.json"))
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Runs crun-swift with `arguments`; kills it after `timeout` seconds so no test hangs. The
    /// timeout only catches a hang: it is generous, the suite must pass on a loaded machine.
    @discardableResult
    static func crun(_ arguments: [String], cwd: String? = nil, stdin: FileHandle? = nil, timeout: Double = 120,
                     extraFds: [Int32] = [], environment: [String: String] = [:],
                     onStart: ((Process) -> Void)? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.arguments = arguments.contains { $0 == "--root" || $0.hasPrefix("--root=") } ? arguments : ["--root", stateRoot] + arguments
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        // Files, not pipes: after `create` the waiting init keeps the runtime's stdio open (it
        // is the container's), so reading a pipe to its end would wait for the container.
        let base = NSTemporaryDirectory() + "crun-swift-out-\(UUID().uuidString.prefix(8))"
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer { try? FileManager.default.removeItem(atPath: base + ".out"); try? FileManager.default.removeItem(atPath: base + ".err") }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
        p.standardOutput = out
        p.standardError = err
        p.standardInput = stdin ?? FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in exited.signal() }
        try p.run()
        try? out.close()
        try? err.close()
        onStart?(p)
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            kill(p.processIdentifier, SIGKILL)
            Issue.record("crun-swift \(arguments) timed out after \(timeout)s")
        }
        p.waitUntilExit()
        return Result(status: p.terminationStatus,
                      stdout: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }

    /// Output gathered by two reader threads.
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var out = Data()
        private(set) var err = Data()
        func set(out data: Data) { lock.lock(); out = data; lock.unlock() }
        func set(err data: Data) { lock.lock(); err = data; lock.unlock() }
    }

    /// Runs a container from `config` with `crun-swift run BUNDLE`.
    static func run(_ config: [String: Any], timeout: Double = 120, globalArgs: [String] = []) throws -> Result {
        let bundle = try TempBundle(config: config)
        return try crun(globalArgs + ["run", bundle.path], timeout: timeout)
    }

    /// A console-socket receiver like containerd's: binds `socket`, says so with `socket.ready`,
    /// takes the pty master sent over it and reads the terminal until it closes. `read()`
    /// returns what the terminal printed (without carriage returns).
    final class ConsoleReceiver {
        let process = Process()
        let out = Pipe()

        init(socket: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", """
                import socket, os, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)
                open(sys.argv[1] + ".ready", "w").close()
                c, _ = s.accept(); msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
                out = b""
                while True:
                    try:
                        d = os.read(fds[0], 4096)
                    except OSError:
                        break
                    if not d: break
                    out += d
                sys.stdout.write(out.decode().replace("\\r", ""))
                """, socket]
            process.standardOutput = out
            try process.run()
            Harness.waitUntil("for the console socket") { FileManager.default.fileExists(atPath: socket + ".ready") }
        }

        func read() -> String {
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return text
        }
    }

    /// Polls `condition` until it holds; records an issue if it still does not after `timeout`
    /// seconds. Tests wait for the condition itself (a file, a state, a namespace), never for a
    /// guessed time, and the deadline is generous: the suite must pass on a loaded machine.
    @discardableResult
    static func waitUntil(_ what: String, timeout: Double = 60, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            if Date() >= deadline {
                Issue.record("timed out after \(Int(timeout)) s waiting \(what)")
                return false
            }
            usleep(10_000)
        }
        return true
    }

    /// Where the cgroup2 hierarchy is, and whether this host is hybrid (v1 controllers).
    static let hybridCgroups = !isCgroup2("/sys/fs/cgroup") && isCgroup2("/sys/fs/cgroup/unified")
    static let cgroupMount = hybridCgroups ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup"
    /// v1 controllers mounted under /sys/fs/cgroup (the runtime then drives cgroup v1).
    static let v1Cgroups: Bool = ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
        .split(separator: "\n").contains { $0.contains(" /sys/fs/cgroup/memory ") && $0.contains(" - cgroup ") }
    static func isCgroup2(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/cgroup.controllers")
    }

    /// Runs a probe container with `change` applied to the base config; returns the report.
    static func probe(_ change: (inout [String: Any]) -> Void = { _ in }) throws -> [String: Any] {
        var config = baseConfig()
        change(&config)
        let r = try run(config)
        guard r.status == 0, let report = r.probe else {
            Issue.record("probe failed: status \(r.status), stderr: \(r.stderr)")
            return [:]
        }
        return report
    }

    /// Runs `sh -c script` in a container built from the base config; returns the result.
    static func shell(_ script: String, _ change: (inout [String: Any]) -> Void = { _ in }) throws -> Result {
        var config = baseConfig(args: ["sh", "-c", script])
        change(&config)
        return try run(config)
    }

    /// The mount table of the test's own mount namespace (to prove nothing leaked).
    static func hostMounts() -> [String] {
        ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
            .split(separator: "\n").map { line in
                // Drop the mount ids, which change; keep mount point and source.
                line.split(separator: " ").dropFirst(3).prefix(2).joined(separator: " ")
            }
    }

    static func nsInode(_ kind: String, pid: String = "self") -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(kind)")) ?? "?"
    }
}

extension Dictionary where Key == String, Value == Any {
    /// Edits a nested dictionary in place: config[path: "process"] { $0["cwd"] = "/tmp" }.
    mutating func edit(_ key: String, _ body: (inout [String: Any]) -> Void) {
        var inner = self[key] as? [String: Any] ?? [:]
        body(&inner)
        self[key] = inner
    }

    mutating func append(_ key: String, _ items: [Any]) {
        self[key] = (self[key] as? [Any] ?? []) + items
    }
}

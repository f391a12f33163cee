import Foundation
import Testing

/// Limits enforced by the cgroup v1 driver on a v1 or hybrid host (scripts/cgroup-sandbox gives
/// the test a parent of its own in every hierarchy, mounted at /sys/fs/cgroup/<controller>).
/// Every test checks that nothing is left in any hierarchy afterwards.
@Suite(.enabled(if: Harness.canRunContainers && Harness.v1Cgroups), .serialized)
final class CgroupV1SystemTests {
    static let hierarchies = ["memory", "cpu", "cpuacct", "cpuset", "pids", "devices", "freezer", "blkio", "unified"]

    let root = NSTemporaryDirectory() + "crun-swift-v1-\(UUID().uuidString.prefix(8))"
    let parent = "/cs-v1-\(UUID().uuidString.prefix(8))"
    var bundles: [Harness.TempBundle] = []

    deinit {
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            _ = try? Harness.crun(["--root", root, "delete", "--force", id])
        }
        try? FileManager.default.removeItem(atPath: root)
        for h in Self.hierarchies { rmdir("/sys/fs/cgroup/\(h)\(parent)/c"); rmdir("/sys/fs/cgroup/\(h)\(parent)") }
    }

    func cs(_ args: [String], stdin: String? = nil) throws -> Harness.Result {
        guard let stdin else { return try Harness.crun(["--root", root] + args) }
        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data(stdin.utf8))
        try pipe.fileHandleForWriting.close()
        return try Harness.crun(["--root", root] + args, stdin: pipe.fileHandleForReading)
    }

    func config(_ args: [String], _ resources: [String: Any]) -> [String: Any] {
        var c = Harness.baseConfig(args: args)
        c.edit("linux") { $0["cgroupsPath"] = parent + "/c"; $0["resources"] = resources }
        return c
    }

    func start(_ id: String, _ args: [String], _ resources: [String: Any]) throws {
        let b = try Harness.TempBundle(config: config(args, resources))
        bundles.append(b)
        let r = try cs(["create", "--bundle", b.path, id])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try cs(["start", id]).status == 0)
    }

    func dir(_ controller: String) -> String { "/sys/fs/cgroup/\(controller)\(parent)/c" }

    func file(_ controller: String, _ name: String) -> String {
        ((try? String(contentsOfFile: dir(controller) + "/" + name, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Nothing of the container in any hierarchy.
    func expectGone(sourceLocation: SourceLocation = #_sourceLocation) {
        for h in Self.hierarchies where FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(h)") {
            #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/\(h)\(parent)"), "left in \(h)", sourceLocation: sourceLocation)
        }
    }

    @Test func oomKillAtTheMemoryLimit() throws {
        // tail of an endless line keeps all of it: the init grows until the OOM killer ends it.
        let r = try Harness.run(config(["tail", "/dev/zero"], ["memory": ["limit": 16 << 20, "swap": 16 << 20]]))
        #expect(r.status == 137, "\(r.stderr)")
        #expect(r.stderr.contains("killed by the OOM killer (memory.limit_in_bytes 16777216)"), "\(r.stderr)")
        expectGone()
    }

    @Test func pidsLimitFailsFork() throws {
        let r = try Harness.run(config(["sh", "-c", "for i in 1 2 3 4 5 6; do sleep 100 & done; echo done"], ["pids": ["limit": 4]]))
        // The shell gives up at the first fork the kernel refuses (EAGAIN).
        #expect(r.status != 0 && !r.stdout.contains("done"))
        #expect(r.stderr.contains("can't fork: Resource temporarily unavailable"), "\(r.stderr)")
        expectGone()
    }

    @Test func cpuQuotaThrottles() throws {
        try start("q", ["sh", "-c", "while :; do :; done"], ["cpu": ["quota": 5000, "period": 100000, "shares": 2]])
        #expect(file("cpu", "cpu.cfs_quota_us") == "5000" && file("cpu", "cpu.shares") == "2")
        Harness.waitUntil("for cpu.stat nr_throttled > 0") {
            file("cpu", "cpu.stat").split(separator: "\n").contains { $0.hasPrefix("nr_throttled ") && $0 != "nr_throttled 0" }
        }
        #expect(try cs(["delete", "--force", "q"]).status == 0)
        expectGone()
    }

    @Test func devicesDeniedAndAllowed() throws {
        func probe(_ rules: [[String: Any]]) throws -> Harness.Result {
            var c = config(["sh", "-c", "head -c 0 /dev/fuse && echo fuse-open || echo fuse-denied; echo x > /dev/null && echo null-ok"], ["devices": rules])
            c["mounts"] = (c["mounts"] as? [[String: Any]] ?? []) + [["destination": "/dev/fuse", "type": "bind", "source": "/dev/fuse", "options": ["bind"]]]
            return try Harness.run(c)
        }
        let denied = try probe([["allow": false, "access": "rwm"]])
        #expect(denied.stdout == "fuse-denied\nnull-ok\n" && denied.stderr.contains("Operation not permitted"), "\(denied.stdout) \(denied.stderr)")
        let allowed = try probe([["allow": false, "access": "rwm"], ["allow": true, "type": "c", "major": 10, "minor": 229, "access": "r"]])
        #expect(allowed.stdout == "fuse-open\nnull-ok\n", "\(allowed.stderr)")
        expectGone()
    }

    @Test func pauseFreezesAndResumeThaws() throws {
        // Renamed into place: a counter frozen mid-write is still readable.
        try start("p", ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; done"], [:])
        let pid = try #require(try JSONSerialization.jsonObject(with: Data(try cs(["state", "p"]).stdout.utf8)) as? [String: Any])["pid"] as! Int
        func counter() -> Int? { Int(((try? String(contentsOfFile: "/proc/\(pid)/root/tmp/n", encoding: .utf8)) ?? "").trimmingCharacters(in: .newlines)) }
        Harness.waitUntil("for the counter") { counter() != nil }
        #expect(try cs(["pause", "p"]).status == 0)
        // pause returns once freezer.state says FROZEN; the counter then stays where it is.
        #expect(file("freezer", "freezer.state") == "FROZEN")
        let state = try JSONSerialization.jsonObject(with: Data(try cs(["state", "p"]).stdout.utf8)) as? [String: Any]
        #expect(state?["status"] as? String == "paused")
        var frozenAt: Int?
        Harness.waitUntil("for the frozen counter to be readable") { frozenAt = counter(); return frozenAt != nil }
        for _ in 0..<20 {
            #expect(counter() == frozenAt)
            usleep(10_000)  // an observation window, not a synchronization
        }
        #expect(try cs(["resume", "p"]).status == 0)
        #expect(file("freezer", "freezer.state") == "THAWED")
        Harness.waitUntil("for the counter to advance") { (counter() ?? 0) > (frozenAt ?? Int.max) }
        // A paused container is deleted too (thawed so that the kill lands).
        #expect(try cs(["pause", "p"]).status == 0)
        #expect(try cs(["delete", "--force", "p"]).status == 0)
        expectGone()
    }

    @Test func updateRaisesLimitsOfALiveContainer() throws {
        try start("u", ["sleep", "1000"], ["pids": ["limit": 2], "memory": ["limit": 64 << 20]])
        let fork = ["exec", "u", "sh", "-c", "true & wait; echo forked"]
        let refused = try cs(fork)
        #expect(!refused.stdout.contains("forked") && refused.stderr.contains("Resource temporarily unavailable"), "\(refused.stdout) \(refused.stderr)")
        let u = try cs(["update", "--pids-limit", "20", "--memory", "128M", "u"])
        #expect(u.status == 0, "\(u.stderr)")
        #expect(file("pids", "pids.max") == "20" && file("memory", "memory.limit_in_bytes") == "\(128 << 20)")
        #expect(try cs(fork).stdout == "forked\n")
        // exec joined every hierarchy, and the cgroup2 one of a hybrid host.
        let cgroups = try cs(["exec", "u", "cat", "/proc/self/cgroup"]).stdout
        for line in cgroups.split(separator: "\n") where !line.contains("name=") {
            #expect(line.hasSuffix(parent + "/c"), "\(line)")
        }
        #expect(try cs(["kill", "--all", "u", "KILL"]).status == 0)
        Harness.waitUntil("for the cgroup to empty") { file("memory", "cgroup.procs").isEmpty && file("pids", "cgroup.procs").isEmpty }
        #expect(try cs(["delete", "u"]).status == 0)
        expectGone()
    }

    @Test func hugetlbGoesToCgroup2WhereV1LacksIt() throws {
        // This machine: no v1 hugetlb hierarchy, the controller on the hybrid cgroup2 one. The
        // sandbox's cgroup2 parent holds the test's own processes, so the kernel refuses to
        // enable hugetlb below it (v2's no-internal-processes rule): the error shows the limit
        // was routed to cgroup2, and nothing is left. (On a host the cgroup2 root is exempt.)
        let offered = (try? String(contentsOfFile: "/sys/fs/cgroup/unified/cgroup.controllers", encoding: .utf8)) ?? ""
        guard !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/hugetlb"), offered.contains("hugetlb") else { return }
        let b = try Harness.TempBundle(config: config(["true"], ["hugepageLimits": [["pageSize": "2MB", "limit": 4 << 20]]]))
        let r = try cs(["create", "--bundle", b.path, "h"])
        #expect(r.status == 1 && r.stderr.contains("cannot enable hugetlb in /sys/fs/cgroup/unified/cgroup.subtree_control"), "\(r.stderr)")
        expectGone()
    }

    @Test func cgroupMountShowsTheContainersOwnV1Hierarchies() throws {
        // A `cgroup` mount with a cgroup namespace: a tmpfs with each hierarchy, as runc's.
        var c = config(["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; ls /sys/fs/cgroup; mkdir /sys/fs/cgroup/pids/x && echo writable"],
                       ["memory": ["limit": 32 << 20], "pids": ["limit": 9]])
        c.edit("linux") { $0["namespaces"] = ($0["namespaces"] as! [[String: Any]]) + [["type": "cgroup"]] }
        c["mounts"] = (c["mounts"] as! [[String: Any]]) + [
            ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]],
            ["destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]],
        ]
        let r = try Harness.run(c)
        #expect(r.status == 1, "\(r.stderr)")  // the hierarchies are read-only
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.prefix(2) == ["\(32 << 20)", "9"], "\(r.stdout) \(r.stderr)")
        #expect(lines.contains("memory") && lines.contains("pids") && lines.contains("freezer") && !lines.contains("writable"), "\(r.stdout)")
        #expect(lines.contains("unified") == Harness.hybridCgroups)
        expectGone()
    }

    @Test func refusedLimitNamesFieldControllerFileAndValueAndLeavesNothing() throws {
        // The sandbox's parent has no real-time budget to hand down.
        let b = try Harness.TempBundle(config: config(["true"], ["cpu": ["realtimeRuntime": 1000, "realtimePeriod": 1000000]]))
        let r = try cs(["create", "--bundle", b.path, "rt"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("linux.resources.cpu.realtimeRuntime: cpu controller: cpu.rt_runtime_us: write \"1000\" in /sys/fs/cgroup/cpu\(parent)/c: Invalid argument"), "\(r.stderr)")
        #expect(try cs(["state", "rt"]).status != 0)
        expectGone()
    }
}

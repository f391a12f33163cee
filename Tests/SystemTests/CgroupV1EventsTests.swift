import Foundation
import Testing

/// `events --stats` and `events` on a v1 or hybrid host: runc's stats fields holding the
/// container's own numbers (its v1 directories, under the sandbox's parents), and an "oom"
/// event from memory.oom_control's eventfd when a process of the container is OOM-killed.
@Suite(.enabled(if: Harness.canRunContainers && Harness.v1Cgroups), .serialized)
final class CgroupV1EventsTests {
    let root = NSTemporaryDirectory() + "crun-swift-v1ev-\(UUID().uuidString.prefix(8))"
    let parent = "/cs-v1ev-\(UUID().uuidString.prefix(8))"
    var bundles: [Harness.TempBundle] = []

    deinit {
        for id in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            _ = try? Harness.crun(["--root", root, "delete", "--force", id])
        }
        try? FileManager.default.removeItem(atPath: root)
        for h in CgroupV1SystemTests.hierarchies { rmdir("/sys/fs/cgroup/\(h)\(parent)/c"); rmdir("/sys/fs/cgroup/\(h)\(parent)") }
    }

    func cs(_ args: [String]) throws -> Harness.Result { try Harness.crun(["--root", root] + args) }

    func start(_ id: String, _ args: [String], _ resources: [String: Any]) throws {
        var c = Harness.baseConfig(args: args)
        c.edit("linux") { $0["cgroupsPath"] = parent + "/c"; $0["resources"] = resources }
        let b = try Harness.TempBundle(config: c)
        bundles.append(b)
        let r = try cs(["create", "--bundle", b.path, id])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try cs(["start", id]).status == 0)
    }

    func file(_ controller: String, _ name: String) -> String {
        ((try? String(contentsOfFile: "/sys/fs/cgroup/\(controller)\(parent)/c/" + name, encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func number(_ v: Any?) -> UInt64 { (v as? NSNumber)?.uint64Value ?? 0 }

    @Test func statsAreTheContainersOwn() throws {
        try start("s", ["sh", "-c", "while :; do :; done"],
                  ["memory": ["limit": 64 << 20], "pids": ["limit": 20], "cpu": ["quota": 10000, "period": 100000]])
        Harness.waitUntil("for cpu.stat nr_throttled > 0") {
            file("cpu", "cpu.stat").split(separator: "\n").contains { $0.hasPrefix("nr_throttled ") && $0 != "nr_throttled 0" }
        }
        let r = try cs(["events", "--stats", "s"])
        #expect(r.status == 0, "\(r.stderr)")
        let event = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(event["type"] as? String == "stats" && event["id"] as? String == "s")
        let data = event["data"] as? [String: Any] ?? [:]
        let memory = data["memory"] as? [String: Any] ?? [:]
        let usage = memory["usage"] as? [String: Any] ?? [:]
        // The container's limit, and a usage within it: its own cgroup, not the host's.
        #expect(number(usage["limit"]) == 64 << 20, "\(r.stdout)")
        #expect(number(usage["usage"]) > 0 && number(usage["usage"]) < 64 << 20, "\(r.stdout)")
        #expect((memory["raw"] as? [String: Any])?["total_rss"] != nil, "\(r.stdout)")
        let pids = data["pids"] as? [String: Any] ?? [:]
        #expect(number(pids["current"]) == 1 && number(pids["limit"]) == 20, "\(r.stdout)")
        let cpu = data["cpu"] as? [String: Any] ?? [:]
        let cpuUsage = cpu["usage"] as? [String: Any] ?? [:]
        #expect(number(cpuUsage["total"]) > 0 && number(cpuUsage["total"]) <= UInt64(file("cpuacct", "cpuacct.usage")) ?? 0, "\(r.stdout)")
        #expect((cpuUsage["percpu"] as? [Any])?.count == file("cpuacct", "cpuacct.usage_percpu").split(separator: " ").count)
        #expect(number((cpu["throttling"] as? [String: Any])?["throttledPeriods"]) > 0, "\(r.stdout)")
        #expect(data["blkio"] is [String: Any] && data["hugetlb"] is [String: Any])
        #expect(try cs(["delete", "--force", "s"]).status == 0)
    }

    @Test func oomEventFromTheEventfd() throws {
        try start("o", ["sleep", "1000"], ["memory": ["limit": 16 << 20, "swap": 16 << 20]])
        let out = NSTemporaryDirectory() + "crun-swift-events-\(UUID().uuidString.prefix(8))"
        FileManager.default.createFile(atPath: out, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let events = Process()
        events.executableURL = URL(fileURLWithPath: Harness.binary)
        events.arguments = ["--root", root, "events", "--interval", "60s", "o"]
        events.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        events.standardError = FileHandle.nullDevice
        try events.run()
        defer { if events.isRunning { kill(events.processIdentifier, SIGKILL) }; events.waitUntilExit() }
        func lines() -> [String] { ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        // The first stats event: the eventfd is registered by then.
        Harness.waitUntil("for the first stats event") { lines().contains { $0.contains("\"type\":\"stats\"") } }
        // tail of an endless line grows until the OOM killer ends it; the container's init lives on.
        let r = try cs(["exec", "o", "tail", "/dev/zero"])
        #expect(r.status == 137, "\(r.stderr)")
        Harness.waitUntil("for the oom event") { lines().contains(#"{"type":"oom","id":"o"}"#) }
        #expect(file("memory", "memory.oom_control").contains("oom_kill 1"))
        // Deleting the container ends the stream.
        #expect(try cs(["delete", "--force", "o"]).status == 0)
        Harness.waitUntil("for events to end with the container") { !events.isRunning }
        #expect(lines().allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "\(lines())")
    }
}

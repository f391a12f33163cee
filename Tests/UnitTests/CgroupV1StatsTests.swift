import Foundation
import JSONCore
@testable import Cgroups
@testable import CrunRuntime
import Testing

/// runc's stats event from cgroup v1 files: temp directories stand in for a container's
/// controllers (each file as this kernel writes it); then, on a host with the v1 memory
/// controller and inside scripts/cgroup-sandbox, a real OOM wakes memory.oom_control's eventfd.
@Suite struct CgroupV1StatsTests {
    func fixture(_ files: [String: [String: String]]) throws -> (String, [String: String]) {
        let root = NSTemporaryDirectory() + "cgv1-\(UUID().uuidString.prefix(8))"
        var paths: [String: String] = [:]
        for (controller, contents) in files {
            let dir = root + "/" + controller + "/pod/c1"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, text) in contents { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
            paths[controller] = dir
        }
        return (root, paths)
    }

    @Test func everyControllerBecomesRuncsFields() throws {
        let (root, paths) = try fixture([
            "cpu": ["cpu.stat": "nr_periods 10\nnr_throttled 4\nthrottled_time 2500000\nnr_bursts 0\nburst_time 0\n"],
            "cpuacct": ["cpuacct.usage": "123456789\n", "cpuacct.usage_percpu": "100000000 23456789 \n",
                        "cpuacct.usage_all": "cpu user system\n0 90000000 10000000\n1 20000000 3456789\n",
                        "cpuacct.stat": "user 7\nsystem 3\n"],
            "cpuset": ["cpuset.cpus": "0-2,5\n", "cpuset.mems": "0\n", "cpuset.cpu_exclusive": "0\n", "cpuset.sched_load_balance": "1\n",
                       "cpuset.sched_relax_domain_level": "-1\n"],
            "memory": ["memory.usage_in_bytes": "4194304\n", "memory.max_usage_in_bytes": "8388608\n", "memory.failcnt": "2\n",
                       "memory.limit_in_bytes": "16777216\n", "memory.memsw.usage_in_bytes": "4194304\n",
                       "memory.memsw.limit_in_bytes": "9223372036854771712\n", "memory.memsw.max_usage_in_bytes": "8388608\n",
                       "memory.memsw.failcnt": "0\n", "memory.stat": "cache 65536\nrss 4128768\ntotal_cache 65536\n",
                       "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"],
            "pids": ["pids.current": "4\n", "pids.max": "max\n"],
            "blkio": ["blkio.io_service_bytes_recursive": "Total 0\n",
                      "blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n8:0 Total 12288\nTotal 12288\n",
                      "blkio.throttle.io_serviced_recursive": "8:0 Read 1\n8:0 Write 2\nTotal 3\n"],
            "hugetlb": ["hugetlb.2MB.usage_in_bytes": "2097152\n", "hugetlb.2MB.max_usage_in_bytes": "4194304\n", "hugetlb.2MB.failcnt": "1\n",
                        "hugetlb.2MB.limit_in_bytes": "4194304\n", "hugetlb.1GB.usage_in_bytes": "0\n", "hugetlb.2MB.rsvd.usage_in_bytes": "0\n"],
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let v1 = CgroupV1Stats(paths: paths)
        let s = v1.stats()
        let cpu = s["cpu"]
        #expect(cpu?["usage"]?["total"] == .number("123456789"))
        #expect(cpu?["usage"]?["percpu"] == .array([.number("100000000"), .number("23456789")]))
        #expect(cpu?["usage"]?["percpu_user"] == .array([.number("90000000"), .number("20000000")]))
        #expect(cpu?["usage"]?["percpu_kernel"] == .array([.number("10000000"), .number("3456789")]))
        #expect(cpu?["usage"]?["user"] == .number("70000000") && cpu?["usage"]?["kernel"] == .number("30000000"))
        #expect(cpu?["throttling"]?["periods"] == .number("10") && cpu?["throttling"]?["throttledPeriods"] == .number("4"))
        #expect(cpu?["throttling"]?["throttledTime"] == .number("2500000"))
        #expect(s["cpuset"]?["cpus"] == .array(["0", "1", "2", "5"].map { .number($0) }))
        #expect(s["cpuset"]?["sched_relax_domain_level"] == .number("-1"))
        let mem = s["memory"]
        #expect(mem?["cache"] == .number("65536"))
        #expect(mem?["usage"]?["usage"] == .number("4194304") && mem?["usage"]?["max"] == .number("8388608"))
        #expect(mem?["usage"]?["limit"] == .number("16777216") && mem?["usage"]?["failcnt"] == .number("2"))
        #expect(mem?["swap"]?["limit"] == .number("9223372036854771712"))
        #expect(mem?["kernel"]?["usage"] == .number("0"))  // no kmem files: zeros, as runc
        #expect(mem?["raw"]?["rss"] == .number("4128768"))
        #expect(s["pids"]?["current"] == .number("4") && s["pids"]?["limit"] == .number("0"))
        // CFQ's file holds only its Total: the throttle layer's counters are used.
        let bytes = s["blkio"]?["ioServiceBytesRecursive"]?.arrayValue ?? []
        #expect(bytes.count == 6)
        #expect(bytes.first == .object([("major", .number("8")), ("minor", .number("0")), ("op", .string("Read")), ("value", .number("4096"))]))
        #expect(s["blkio"]?["ioServicedRecursive"]?.arrayValue?.count == 2)
        #expect(s["hugetlb"]?["2MB"] == .object([("usage", .number("2097152")), ("max", .number("4194304")), ("failcnt", .number("1"))]))
        #expect(s["hugetlb"]?["1GB"]?["usage"] == .number("0"))
        #expect(v1.oomKills == 3)
        #expect(v1.memoryLimitText == "memory.limit_in_bytes 16777216")
        // The serialized event parses back, as containerd's go-runc would read it.
        #expect(try JSONParser.parse(s.serialized()) == s)
    }

    @Test func missingControllersReadAsZeros() {
        let s = CgroupV1Stats(paths: [:]).stats()
        #expect(s["cpu"]?["usage"]?["total"] == .number("0"))
        #expect(s["memory"] == nil && s["cpuset"] == nil)
        #expect(s["pids"]?["current"] == .number("0"))
        #expect(s["blkio"]?["ioServiceBytesRecursive"] == .array([]))
        #expect(CgroupV1Stats(paths: [:]).oomKills == 0)
        #expect(CgroupV1Stats.cpuList("0-3,8\n") == [0, 1, 2, 3, 8] && CgroupV1Stats.cpuList("") == [])
    }

    /// /bin/sh -c SCRIPT with no signal blocked or ignored (the test runner blocks most signals,
    /// and a child inherits that across exec).
    func spawnShell(_ script: String) throws -> pid_t {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let args: [String] = ["/bin/sh", "-c", script]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let r = posix_spawn(&pid, "/bin/sh", nil, &attr, &argv, environ)
        try #require(r == 0)
        return pid
    }

    /// The wait status, or nil (and the process SIGKILLed and reaped) after `seconds`.
    func waitWithDeadline(_ pid: pid_t, seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return status }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return nil
    }

    /// A real v1 memory cgroup (only inside scripts/cgroup-sandbox, whose parent it lands
    /// under): a process that outgrows the limit is OOM-killed and the eventfd says so; the
    /// cgroup's removal wakes it again, but that is not an OOM.
    @Test func oomWakesTheEventfdOnARealV1MemoryCgroup() throws {
        let base = "/sys/fs/cgroup/memory"
        guard getuid() == 0, ProcessInfo.processInfo.environment["CRUN_SWIFT_CGROUP_SANDBOX"] != nil,
              FileManager.default.fileExists(atPath: base + "/memory.oom_control") else { return }
        let dir = base + "/oom-test-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { rmdir(dir) }
        try "16777216".write(toFile: dir + "/memory.limit_in_bytes", atomically: false, encoding: .utf8)
        if FileManager.default.fileExists(atPath: dir + "/memory.memsw.limit_in_bytes") {
            try "16777216".write(toFile: dir + "/memory.memsw.limit_in_bytes", atomically: false, encoding: .utf8)
        }
        let watch = try #require(CgroupV1OOMWatch(memoryDir: dir))
        // awk doubles a string until the OOM killer ends it.
        let pid = try spawnShell("echo $$ > \(dir)/cgroup.procs && exec awk 'BEGIN { s = \"x\"; while (1) s = s s }'")
        let status = waitWithDeadline(pid, seconds: 60)
        #expect(status.map { $0 & 0x7f } == SIGKILL)
        var pfd = pollfd(fd: watch.fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pfd, 1, 60_000) == 1)
        #expect(watch.take() >= 1)
        #expect(CgroupV1Stats(paths: ["memory": dir]).oomKills >= 1)
        #expect(rmdir(dir) == 0)
        pfd.revents = 0
        #expect(poll(&pfd, 1, 60_000) == 1)
        #expect(watch.take() == 0)
    }
}

import CrunRuntime
import Glibc
import JSONCore
import LinuxSys

/// runc's `update` flags as a linux.resources patch, over the `--resources` file (or stdin).
enum UpdateFlags {
    enum Kind { case bytes, integer, string }
    static let names: [(flag: String, section: String, key: String, kind: Kind, help: String)] = [
        ("memory", "memory", "limit", .bytes, "memory limit in bytes (512m, 1g; -1: none)"),
        ("memory-reservation", "memory", "reservation", .bytes, "memory soft limit in bytes"),
        ("memory-swap", "memory", "swap", .bytes, "memory + swap limit in bytes (-1: unlimited swap)"),
        ("kernel-memory", "memory", "kernel", .bytes, "kernel memory limit (not applied: part of memory.max on cgroup v2)"),
        ("kernel-memory-tcp", "memory", "kernelTCP", .bytes, "kernel TCP buffer limit (not applied: part of memory.max on cgroup v2)"),
        ("cpu-share", "cpu", "shares", .integer, "CPU shares (relative weight; converted to cpu.weight)"),
        ("cpu-shares", "cpu", "shares", .integer, "same as --cpu-share"),
        ("cpu-quota", "cpu", "quota", .integer, "CPU time allowed per period, in microseconds (-1: no limit)"),
        ("cpu-period", "cpu", "period", .integer, "CPU CFS period in microseconds"),
        ("cpu-burst", "cpu", "burst", .integer, "CPU time that may be borrowed beyond the quota, in microseconds"),
        ("cpu-idle", "cpu", "idle", .integer, "1: the cgroup gets SCHED_IDLE priority"),
        ("cpu-rt-period", "cpu", "realtimePeriod", .integer, "realtime period (refused: cgroup v2 has no cpu.rt_period_us)"),
        ("cpu-rt-runtime", "cpu", "realtimeRuntime", .integer, "realtime runtime (refused: cgroup v2 has no cpu.rt_runtime_us)"),
        ("cpuset-cpus", "cpu", "cpus", .string, "CPUs the container may use (0-3,5)"),
        ("cpuset-mems", "cpu", "mems", .string, "memory nodes the container may use (0-1)"),
        ("pids-limit", "pids", "limit", .integer, "maximum number of processes (-1: no limit)"),
        ("blkio-weight", "blockIO", "weight", .integer, "block IO weight, 10 to 1000"),
        ("l3-cache-schema", "", "", .string, "Intel RDT L3 cache schema (not supported)"),
        ("mem-bw-schema", "", "", .string, "Intel RDT memory bandwidth schema (not supported)"),
    ]

    /// "512m", "1G", "4096", "-1" -> bytes (runc takes the same, through docker's units).
    static func bytes(_ text: String) -> Int64? {
        if text == "-1" { return -1 }
        let lower = text.lowercased()
        let units: [(String, Int64)] = [("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("b", 1)]
        for (suffix, factor) in units where lower.hasSuffix(suffix) {
            guard let n = Int64(lower.dropLast(suffix.count)), n >= 0 else { return nil }
            return n * factor
        }
        return Int64(lower)
    }

    static func patch(_ p: ParsedArguments) throws(RuntimeError) -> JSONValue {
        var base = JSONMembers()
        if let source = p.value("resources") {
            let bytes = source == "-" ? readStandardInput() : try FileSystem.readFile(source, step: "update --resources: read")
            guard let value = try? JSONParser.parse(bytes), case .object(let members) = value else {
                throw .usage("update --resources: \(source == "-" ? "stdin" : source) is not a JSON object (linux.resources)")
            }
            base = members
        }
        for n in names {
            guard let text = p.value(n.flag) else { continue }
            guard !n.section.isEmpty else { throw .usage("update --\(n.flag): Intel RDT is not supported by this build") }
            let value: JSONValue
            switch n.kind {
            case .bytes:
                guard let v = bytes(text) else { throw .usage("update --\(n.flag): expected bytes like 512m or -1, got \"\(text)\"") }
                value = .number("\(v)")
            case .integer:
                guard let v = Int64(text) else { throw .usage("update --\(n.flag): expected a number, got \"\(text)\"") }
                value = .number("\(v)")
            case .string:
                value = .string(text)
            }
            var section = JSONMembers()
            if case .object(let existing)? = base[n.section] { section = existing }
            section[n.key] = value
            base[n.section] = .object(section)
        }
        if base.isEmpty { throw .usage("update: nothing to change (--resources FILE|- or flags such as --memory, --cpu-quota, --pids-limit)") }
        return .object(base)
    }

    static func readStandardInput() -> [UInt8] { Files.readAll(fd: 0) }
}

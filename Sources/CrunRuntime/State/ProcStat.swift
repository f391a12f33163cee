import Glibc
import LinuxSys

/// The fields of /proc/<pid>/stat that tell a process apart and whether it still runs.
struct ProcStat {
    let state: Character
    let startTime: UInt64

    init?(pid: Int32) {
        guard let bytes = try? FileSystem.readFile("/proc/\(pid)/stat") else { return nil }
        // The command name may hold spaces and parentheses: fields start after the last ')'.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
        guard fields.count > 19, let s = fields[0].first,
              let start = UInt64(String(decoding: fields[19], as: UTF8.self)) else { return nil }
        state = Character(Unicode.Scalar(s))
        startTime = start
    }

    /// The inode of one of a process's namespaces, e.g. "pid:[4026531836]".
    static func namespace(_ pid: Int32, _ name: String) -> String? {
        var buf = [CChar](repeating: 0, count: 64)
        let n = readlink("/proc/\(pid)/ns/\(name)", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Every process in the pid namespace of `pid` (as seen from ours), when that namespace is
    /// not ours; otherwise just `pid`.
    static func processesInPidNamespace(of pid: Int32) -> [Int32] {
        guard let target = namespace(pid, "pid"), target != namespace(getpid(), "pid") else { return [pid] }
        guard let names = Files.entries("/proc") else { return [pid] }
        return names.compactMap { Int32($0) }.filter { namespace($0, "pid") == target }.sorted()
    }
}

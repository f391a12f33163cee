import Glibc
import JSONCore
import LinuxSys

/// Messages for the user: one line each, prefixed with the program name, on stderr or, with
/// --log, in that file (as runc's JSON lines with --log-format json: containerd shows the last
/// error from there); errors go to both.
enum Diagnostics {
    nonisolated(unsafe) static var logPath: String?
    nonisolated(unsafe) static var jsonLog = false

    /// With --log an orchestrator reads us and adds the runtime's name itself (as for runc,
    /// whose stderr lines carry no prefix); by hand, lines say who speaks.
    static var prefix: String { logPath == nil ? "crun-swift: " : "" }

    static func error(_ lines: [String]) {
        for line in lines {
            write(2, "\(prefix)\(line)\n")
            log("error", line)
        }
    }

    /// With --log, only there: under containerd's shim and conmon our stderr during `create` is
    /// the container's own stderr, so a warning there would land in its log (runc and crun
    /// write warnings only to --log too). Errors still go to both, as runc's do.
    static func warning(_ line: String) {
        if !log("warning", line) { write(2, "\(prefix)warning: \(line)\n") }
    }

    nonisolated(unsafe) static var debugEnabled = false

    /// --debug: what the runtime is doing, in the log or else on stderr.
    static func debug(_ line: String) {
        guard debugEnabled else { return }
        if !log("debug", line) { write(2, "\(prefix)debug: \(line)\n") }
    }

    static func print(_ text: String) {
        write(1, text)
    }

    /// Appends to --log; false when there is none or it cannot be opened.
    @discardableResult
    static func log(_ level: String, _ message: String) -> Bool {
        guard let logPath else { return false }
        let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let time = timestamp()
        if jsonLog {
            write(fd, "{\"level\":\"\(level)\",\"msg\":\(quoted(message)),\"time\":\"\(time)\"}\n")
        } else {
            write(fd, "time=\"\(time)\" level=\(level) msg=\(quoted(message))\n")
        }
        return true
    }

    static func quoted(_ s: String) -> String { JSONValue.string(s).serialized() }

    static func timestamp() -> String {
        var t = time(nil)
        var tm = Glibc.tm()
        gmtime_r(&t, &tm)
        var buf = [CChar](repeating: 0, count: 32)
        strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%SZ", &tm)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func write(_ fd: Int32, _ s: String) { Files.writeAll(fd: fd, s) }
}

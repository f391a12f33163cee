import Glibc
import LinuxSys
import Cgroups
import OCISpec

/// The runtime's one error type. Every case renders as lines that name the step, the path or
/// config field, and the errno.
public enum RuntimeError: Error, CustomStringConvertible {
    /// config.json could not be read or decoded.
    case config(String)
    /// config.json decoded but is not valid; every problem with its JSON path.
    case invalid([ValidationIssue])
    /// A system call in the runtime itself failed.
    case system(step: String, subject: String?, errno: Int32)
    /// The container's init failed before execve; the message names step and field.
    case container(String)
    /// The command line is wrong.
    case usage(String)

    public var description: String { lines.joined(separator: "\n") }

    public var lines: [String] {
        switch self {
        case .config(let m): return [m]
        case .invalid(let issues): return issues.map(\.description)
        case .system(let step, let subject, let err):
            let what = subject.map { "\(step) `\($0)`" } ?? step
            return ["\(what): \(errnoString(err))"]
        case .container(let m): return [m]
        case .usage(let m): return [m]
        }
    }
}

extension RuntimeError {
    /// A LinuxSys call that failed, with its own step and path.
    static func system(_ e: SysError) -> RuntimeError { .system(step: e.step, subject: e.path, errno: e.errno) }
}

func errnoString(_ err: Int32) -> String { errnoText(err) }

extension RuntimeError {
    /// A cgroup step's failure, case for case.
    public init(_ e: CgroupError) {
        switch e {
        case .system(let step, let subject, let err): self = .system(step: step, subject: subject, errno: err)
        case .container(let m): self = .container(m)
        }
    }
}

/// Runs a step of the Cgroups module, its error as the runtime's.
func cgroupStep<T>(_ body: () throws(CgroupError) -> T) throws(RuntimeError) -> T {
    do { return try body() } catch { throw RuntimeError(error) }
}

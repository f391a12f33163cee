import LinuxSys

/// A cgroup step that failed: a system call (step, path, errno) or a refusal that names the
/// config field. CrunRuntime's CgroupError takes these over case for case.
public enum CgroupError: Error, CustomStringConvertible, Equatable {
    case system(step: String, subject: String?, errno: Int32)
    case container(String)

    /// A failed call on `subject` (a fake's SysError names no path: the subject is ours).
    public init(_ step: String, _ subject: String, _ e: SysError) {
        self = .system(step: step, subject: subject, errno: e.errno)
    }

    public var description: String {
        switch self {
        case .system(let step, let subject, let err): return (subject.map { "\(step) `\($0)`" } ?? step) + ": " + errnoText(err)
        case .container(let m): return m
        }
    }
}

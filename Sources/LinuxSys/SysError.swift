import Glibc

/// A failed system call: the step, the object and errno ("create `/var/lib/cni/n`: Permission denied").
public struct SysError: Error, CustomStringConvertible, Equatable, Sendable {
    public let step: String
    public let path: String?
    public let errno: Int32

    public init(_ step: String, _ path: String? = nil, errno: Int32) {
        self.step = step
        self.path = path
        self.errno = errno
    }

    public var description: String {
        (path.map { "\(step) `\($0)`" } ?? step) + ": " + errnoText(errno)
    }
}

/// strerror's text for `e`.
public func errnoText(_ e: Int32) -> String { String(cString: strerror(e)) }

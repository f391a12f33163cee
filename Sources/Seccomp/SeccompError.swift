/// A linux.seccomp profile that libseccomp refused, or a notify fd the listener did not get:
/// one line naming the config field, the object and the errno
/// ("linux.seccomp.syscalls[1]: add rule for socket: File exists ...").
public struct SeccompError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}

import CShim
import Glibc
import JSONCore
import LinuxSys

/// The runtime spec's seccomp notify hand-off: the listener gets the notify fd by SCM_RIGHTS
/// with the container process state as the message.
public enum SeccompListener {
    /// `ociVersion`: the runtime spec version the message is written in.
    public static func send(_ fd: Int32, to path: String, metadata: String, pid: pid_t, state: JSONValue,
                            ociVersion: String) throws(SeccompError) {
        let message = JSONValue.object([
            ("ociVersion", .string(ociVersion)), ("fds", .array([.string("seccompFd")])),
            ("pid", .number("\(pid)")), ("metadata", .string(metadata)), ("state", state),
        ]).serialized()
        let r = cs_send_fd(path, fd, message)
        if r < 0 { throw SeccompError("linux.seccomp.listenerPath: send the notify fd to `\(path)`: \(errnoText(-r))") }
    }
}

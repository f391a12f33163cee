import CShim

/// One message from the container's init on its channel (cs_channel_receive, CS_MSG_* in
/// cshim.h), or what reading it found.
public enum InitMessage {
    /// EOF: the process exec'd (its end was close-on-exec), or the init died before reporting.
    case closed
    /// Reading the channel failed (EAGAIN: nothing queued, when not waiting).
    case unreadable(errno: Int32)
    /// Two steps: the pid of the process the container sees (CS_MSG_PID).
    case pid(pid_t)
    /// The first child created the user namespace: write its maps (CS_MSG_USERNS).
    case userNamespace
    /// Mounts done, before pivot_root: run the createRuntime hooks, then release it (CS_MSG_HOOKS).
    case hookPoint
    /// create: set up and waiting for `start` (CS_MSG_READY).
    case ready
    /// process.terminal: the pty master, now the runtime's (CS_MSG_CONSOLE).
    case console(fd: Int32)
    /// The seccomp notify fd for the listener, now the runtime's (CS_MSG_SECCOMP).
    case seccompNotify(fd: Int32)
    /// The init failed: {step, errno, index, detail} (CS_MSG_ERROR).
    case failure(cs_error)

    /// What cs_channel_receive returned: `kind`, the report and fd it filled, errno after it.
    init(kind: Int32, report: cs_error, fd: Int32, errno: Int32) {
        switch kind {
        case 0: self = .closed
        case ..<0: self = .unreadable(errno: errno)
        case Kind.pid: self = .pid(pid_t(report.index))
        case Kind.userNamespace: self = .userNamespace
        case Kind.hooks: self = .hookPoint
        case Kind.ready: self = .ready
        case Kind.console: self = .console(fd: fd)
        case Kind.seccomp: self = .seccompNotify(fd: fd)
        default: self = .failure(report)
        }
    }

    /// The descriptor the message carries, which whoever receives it must close.
    var fd: Int32? {
        switch self {
        case .console(let fd), .seccompNotify(let fd): return fd
        default: return nil
        }
    }

    /// The CS_MSG_* bytes (character macros, which Swift does not import).
    private enum Kind {
        static let ready = Int32(UInt8(ascii: "R"))
        static let hooks = Int32(UInt8(ascii: "H"))
        static let console = Int32(UInt8(ascii: "C"))
        static let seccomp = Int32(UInt8(ascii: "S"))
        static let pid = Int32(UInt8(ascii: "P"))
        static let userNamespace = Int32(UInt8(ascii: "U"))
    }
}

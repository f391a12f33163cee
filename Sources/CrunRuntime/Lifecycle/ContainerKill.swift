import Cgroups
import CShim
import Glibc

/// `kill [--all] ID [SIGNAL]`.
public enum ContainerKill {
    static let names: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ILL", SIGILL), ("TRAP", SIGTRAP), ("ABRT", SIGABRT),
        ("IOT", SIGIOT), ("BUS", SIGBUS), ("FPE", SIGFPE), ("KILL", SIGKILL), ("USR1", SIGUSR1), ("SEGV", SIGSEGV),
        ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM), ("TERM", SIGTERM), ("STKFLT", SIGSTKFLT),
        ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP), ("TSTP", SIGTSTP), ("TTIN", SIGTTIN),
        ("TTOU", SIGTTOU), ("URG", SIGURG), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ), ("VTALRM", SIGVTALRM),
        ("PROF", SIGPROF), ("WINCH", SIGWINCH), ("IO", SIGIO), ("POLL", SIGPOLL), ("PWR", SIGPWR), ("SYS", SIGSYS),
    ]

    /// runc's words for a container whose init has exited; clients match them verbatim.
    public static let notRunning = "container not running"

    /// "KILL", "SIGKILL", "sigkill", "9" -> 9.
    public static func parseSignal(_ text: String) -> Int32? {
        if let n = Int32(text) { return n > 0 && n < 65 ? n : nil }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        return names.first { $0.0 == name }?.1
    }

    public static func kill(_ id: String, signal: Int32, all: Bool, store: StateStore) throws(RuntimeError) {
        let state = try store.read(id)
        guard state.initAlive else {
            // runc's outcomes, which containerd's shim, CRI-O and podman parse: `kill --all` of a
            // stopped container succeeds; a plain kill fails with "container not running", which
            // they read as "already finished" (any other wording fails StopContainer).
            if all { return }
            throw .container("cannot kill container \"\(id)\": \(notRunning)")
        }
        try signalContainer(state, signal: signal, all: all)
    }

    /// Signals the init through a pidfd (checked against its start time, so a reused pid is
    /// never hit); with `all`, every process of its pid namespace. With `waitSeconds`, also
    /// waits until the init has exited.
    static func signalContainer(_ state: ContainerState, signal: Int32, all: Bool, waitSeconds: Int? = nil) throws(RuntimeError) {
        guard state.pid > 0 else { return }  // no init recorded yet (a create cut short before the clone)
        let pidfd = cs_pidfd_open(state.pid)
        if pidfd < 0 {
            if -pidfd == ESRCH { return }
            throw .system(step: "pidfd_open", subject: "\(state.pid)", errno: -pidfd)
        }
        defer { close(pidfd) }
        guard state.initAlive else { return }  // the pid now names another process
        var signalled = false
        if all, let cgroup = ContainerCgroup.of(state), cgroup.exists {
            signalled = true
            // Every process of the container's cgroup, wherever its pid namespace is; a frozen
            // cgroup is thawed for SIGKILL, as the processes could not die otherwise.
            try cgroupStep { () throws(CgroupError) in try cgroup.signalAll(signal) }
            if signal == SIGKILL, cgroup.frozen { try? cgroup.freeze(false) }
        }
        // SIGKILL to the init of a pid namespace takes every process in it down with it.
        let ownPidNamespace = ProcStat.namespace(state.pid, "pid") != ProcStat.namespace(getpid(), "pid")
        if all && !signalled && !(signal == SIGKILL && ownPidNamespace) {
            for pid in ProcStat.processesInPidNamespace(of: state.pid) where pid != state.pid {
                _ = Glibc.kill(pid, signal)
            }
        }
        let r = signalled ? 0 : cs_pidfd_send_signal(pidfd, signal)
        if r < 0 && -r != ESRCH { throw .system(step: "send signal \(signal) to", subject: "\(state.pid)", errno: -r) }
        if let waitSeconds, cs_pidfd_wait(pidfd, Int32(waitSeconds * 1000)) == 0 {
            throw .container("container \"\(state.id)\": init \(state.pid) did not exit within \(waitSeconds)s of signal \(signal)")
        }
    }
}

import Glibc
import JSONCore

/// The container's init after a successful launch: it has exec'd the process.
public struct LaunchedContainer: Sendable {
    public let pid: pid_t
    /// The pty master, when process.terminal is set.
    public let consoleMaster: Int32?
    /// create with startAtOnce: the process has exec'd, no `start` is needed.
    public var started = false

    public init(pid: pid_t, consoleMaster: Int32?, started: Bool = false) {
        self.pid = pid
        self.consoleMaster = consoleMaster
        self.started = started
    }
}

/// Runs a ContainerPlan: clones the init through the C shim, writes its id maps, and waits
/// until it has exec'd or reported a failure (the steps: InitLaunch). On failure the init is
/// reaped and nothing is left: every mount it made lived in its own mount namespace.
public enum Launcher {
    /// What a launch waits for besides the plan itself.
    public struct Options {
        /// create: the listening socket the init waits on for `start`; launch returns once the
        /// init is set up and waiting, instead of after execve.
        public var startSocket: Int32 = -1
        /// Becomes the process's stdin (hooks read the state there).
        public var stdin: Int32 = -1
        /// Runs when the init stops before pivot_root (plan.hookPause), with its pid.
        public var atHookPoint: ((pid_t) throws(RuntimeError) -> Void)?
        /// The container's state for the seccomp listener (status, bundle...), given the pid.
        public var listenerState: ((pid_t) -> JSONValue)?
        /// The cgroup directory the init is cloned into (-1: the caller's).
        public var cgroupFd: Int32 = -1
        /// cgroup v1: the cgroup.procs files the init's pid is written to before it is
        /// released to set up (it waits; its cgroup namespace is made after the move).
        public var cgroupProcs: [String] = []
        /// Runs as soon as the init is cloned, with its pid (create records it: the init has
        /// PDEATHSIG while it sets up, but not once it waits for `start`).
        public var onSpawn: ((pid_t) throws(RuntimeError) -> Void)?
        public init() {}
    }

    /// `syscalls`: the kernel side (LaunchSyscalls); tests pass a scripted one.
    public static func launch(_ plan: ContainerPlan, options: Options = Options(),
                              runtimeIsRoot: Bool = geteuid() == 0,
                              syscalls: any LaunchSyscalls = LinuxLaunchSyscalls()) throws(RuntimeError) -> LaunchedContainer {
        // Until execve the process is a copy of the runtime; in a container that shares the
        // runtime's user namespace, a process holding CAP_SYS_PTRACE could open its exe (ExeSeal).
        if !plan.becomeRoot && (plan.cloneFlags != 0 || !plan.joins.isEmpty || plan.pidNamespacePath != nil) {
            try syscalls.requireSealedExecutable()
        }
        if !plan.execMode { DebugLog.note("spawn: cloning the init into its namespaces (\(options.startSocket >= 0 ? "it waits for start" : "it execs at once"))") }
        var launch = InitLaunch(plan: plan, options: options, runtimeIsRoot: runtimeIsRoot, sys: syscalls)
        defer { launch.closeDescriptors() }
        try launch.spawn()
        try launch.register()
        try launch.mapIdsAndRelease()
        return try launch.follow()
    }
}

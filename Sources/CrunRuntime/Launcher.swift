import CShim
import Glibc
import JSONCore
import Seccomp

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
/// until it has exec'd or reported a failure. On failure the init is reaped and nothing is
/// left: every mount it made lived in its own mount namespace.
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

    public static func launch(_ plan: ContainerPlan, options: Options = Options(),
                              runtimeIsRoot: Bool = geteuid() == 0) throws(RuntimeError) -> LaunchedContainer {
        // Until execve the process is a copy of the runtime; in a container that shares the
        // runtime's user namespace, a process holding CAP_SYS_PTRACE could open its exe (ExeSeal).
        if !plan.becomeRoot && (plan.cloneFlags != 0 || !plan.joins.isEmpty || plan.pidNamespacePath != nil) {
            try ExeSeal.require()
        }
        if !plan.execMode { DebugLog.note("spawn: cloning the init into its namespaces (\(options.startSocket >= 0 ? "it waits for start" : "it execs at once"))") }
        var pair: [Int32] = [-1, -1]
        if socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) < 0 {
            throw .system(step: "socketpair", subject: nil, errno: errno)
        }
        let (parentEnd, childEnd) = (pair[0], pair[1])
        var openFds: [Int32] = []
        defer { for fd in openFds { close(fd) } }
        var parentEndOpen = true
        defer { if parentEndOpen { close(parentEnd) } }

        var joinFds: [Int32] = []
        for join in plan.joins {
            let fd = open(join.path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                close(childEnd)
                throw .container("linux.namespaces[\(join.configIndex)].path: open `\(join.path)`: \(errnoString(errno))")
            }
            joinFds.append(fd)
            openFds.append(fd)
        }
        var pidFd: Int32 = -1
        if let path = plan.pidNamespacePath {
            pidFd = open(path, O_RDONLY | O_CLOEXEC)
            if pidFd < 0 {
                close(childEnd)
                throw .container("linux.namespaces: open pid namespace `\(path)`: \(errnoString(errno))")
            }
            openFds.append(pidFd)
        }

        var trees = IdmappedTrees()
        if plan.mounts.contains(where: { $0.idmap != nil }) {
            do { trees = try IdmappedTrees.make(plan) } catch { close(childEnd); throw error }
        }
        defer { trees.close() }

        let arena = CPlanArena()
        var cplan = plan.cPlan(arena: arena, channel: childEnd, parentChannel: parentEnd,
                               joinFds: joinFds, pidNamespaceFd: pidFd, capLast: Int(cs_cap_last_cap()),
                               startFd: options.startSocket, stdinFd: options.stdin, cgroupFd: options.cgroupFd,
                               treeFds: trees.fds)
        if !options.cgroupProcs.isEmpty {
            // The init must be in its v1 cgroups before it runs anything of the container, and
            // its cgroup namespace must be rooted there: it waits for the release byte, and
            // makes the namespace after it (unless the first of two steps makes it anyway).
            cplan.wait_for_release = 1
            if cs_plan_user_after_clone(&cplan) == 0 && cplan.clone_flags & CS_CLONE_NEWCGROUP != 0 {
                cplan.clone_flags &= ~CS_CLONE_NEWCGROUP
                cplan.unshare_flags |= CS_CLONE_NEWCGROUP
            }
        }
        let pid = cs_spawn(&cplan)
        let spawnErrno = errno
        close(childEnd)
        if pid < 0 {
            if options.cgroupFd >= 0 && spawnErrno == EACCES {
                // CLONE_INTO_CGROUP is a migration: the user must be able to write cgroup.procs of
                // the common ancestor of its own cgroup and the container's.
                throw .container("clone the container init into its cgroup: \(errnoString(spawnErrno)) (as uid \(geteuid()), crun-swift must run in a cgroup of the same delegated subtree as the container's)")
            }
            if plan.newUserNamespace && !runtimeIsRoot && [EPERM, ENOSPC, EUSERS].contains(spawnErrno) {
                throw .container(Rootless.userNamespaceUnavailable(errno: spawnErrno))
            }
            throw .system(step: "clone the container init", subject: nil, errno: spawnErrno)
        }
        // Two steps (spawn.c): `pid` sets up outside the container's pid namespace and reports
        // the process the container sees, which is ours to wait for; until then it is unknown.
        let twoStep = cs_plan_two_step(&cplan) != 0 || cs_plan_pid_after_user(&cplan) != 0
        var visiblePid: pid_t? = twoStep ? nil : pid

        func reap(_ p: pid_t) {
            var status: Int32 = 0
            while waitpid(p, &status, 0) < 0 && errno == EINTR {}
        }
        var firstReaped = false
        func abort(_ error: RuntimeError) -> RuntimeError {
            if !firstReaped {
                kill(pid, SIGKILL)
                reap(pid)
                firstReaped = true
            }
            if visiblePid == nil {
                // The first child reports the second's pid right after cloning it: now that it
                // is gone, whatever it sent is queued. (Killed between the clone and the report,
                // the second child is not known here; the cgroup still holds it.)
                _ = fcntl(parentEnd, F_SETFL, fcntl(parentEnd, F_GETFL) | O_NONBLOCK)
                while visiblePid == nil {
                    var report = cs_error()
                    var fd: Int32 = -1
                    let kind = cs_channel_receive(parentEnd, &report, &fd)
                    if kind <= 0 { break }
                    if kind == CS_MSG_PID_VALUE { visiblePid = pid_t(report.index) }
                    if fd >= 0 && (kind == CS_MSG_CONSOLE_VALUE || kind == CS_MSG_SECCOMP_VALUE) { close(fd) }
                }
            }
            if let visible = visiblePid, visible != pid {
                kill(visible, SIGKILL)
                reap(visible)
            }
            return error
        }
        do {
            try options.onSpawn?(pid)
            for file in options.cgroupProcs {
                try FileSystem.writeFile(file, "\(pid)", step: "cgroup v1: move the container init into")
            }
        } catch {
            throw abort(error)
        }

        if plan.newUserNamespace && cs_plan_user_after_clone(&cplan) != 0 {
            // The first child joins the pid namespace, then creates the user namespace.
            var report = cs_error()
            var fd: Int32 = -1
            let kind = cs_channel_receive(parentEnd, &report, &fd)
            if kind == CS_MSG_ERROR_VALUE { throw abort(.container(ChildFailure(error: report, plan: plan).message)) }
            if kind != CS_MSG_USERNS_VALUE {
                throw abort(.system(step: "wait for the container's user namespace", subject: nil, errno: kind < 0 ? errno : EPIPE))
            }
        }
        if plan.newUserNamespace {
            do {
                // The child stays dumpable (its /proc files ours) until these are written (spawn.c).
                try IdMapWriter.write(pid: pid, uidMap: plan.uidMap, gidMap: plan.gidMap, runtimeIsRoot: runtimeIsRoot)
            } catch {
                throw abort(error)
            }
        }
        if cplan.wait_for_release != 0 {
            var byte: UInt8 = 1
            if send(parentEnd, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 {
                throw abort(.system(step: "release the container init", subject: nil, errno: errno))
            }
        }

        var console: Int32?
        // Messages of the second child that need its pid, when they overtake the first child's report.
        var deferred: [(kind: Int32, fd: Int32)] = []
        while true {
            var report = cs_error()
            var fd: Int32 = -1
            var kind: Int32
            if visiblePid != nil, !deferred.isEmpty {
                (kind, fd) = deferred.removeFirst()
            } else {
                kind = cs_channel_receive(parentEnd, &report, &fd)
            }
            if kind == 0 {
                // EOF: the process exec'd (or, before its pid came, the first child died).
                if visiblePid == nil { throw abort(.container("container process: its setup ended without a report")) }
                break
            }
            if kind < 0 { throw abort(.system(step: "read from the container init", subject: nil, errno: errno)) }
            if kind == CS_MSG_PID_VALUE {
                reap(pid)
                firstReaped = true
                visiblePid = pid_t(report.index)
                continue
            }
            if visiblePid == nil && (kind == CS_MSG_READY_VALUE || kind == CS_MSG_SECCOMP_VALUE) {
                deferred.append((kind, fd))
                continue
            }
            if kind == CS_MSG_READY_VALUE { break }  // create: set up and waiting for start
            if kind == CS_MSG_HOOKS_VALUE {
                do {
                    try options.atHookPoint?(visiblePid ?? pid)
                } catch {
                    if let console { close(console) }
                    throw abort(error)
                }
                var byte: UInt8 = 1
                if send(parentEnd, &byte, 1, Int32(MSG_NOSIGNAL)) != 1 {
                    throw abort(.system(step: "release the container init after hooks", subject: nil, errno: errno))
                }
                continue
            }
            if kind == CS_MSG_SECCOMP_VALUE {
                defer { close(fd) }
                guard let seccomp = plan.seccomp, let path = seccomp.listenerPath, let visible = visiblePid else { continue }
                do throws(SeccompError) {
                    try SeccompListener.send(fd, to: path, metadata: seccomp.listenerMetadata ?? "",
                                             pid: visible, state: options.listenerState?(visible) ?? .object([]),
                                             ociVersion: CrunVersion.spec)
                } catch {
                    if let console { close(console) }
                    throw abort(.container(error.description))
                }
                continue
            }
            if kind == CS_MSG_CONSOLE_VALUE {
                console = fd
                continue
            }
            if let console { close(console) }
            throw abort(.container(ChildFailure(error: report, plan: plan).message))
        }
        close(parentEnd)
        parentEndOpen = false
        return LaunchedContainer(pid: visiblePid ?? pid, consoleMaster: console)
    }
}

let CS_MSG_READY_VALUE = Int32(UInt8(ascii: "R"))
let CS_MSG_HOOKS_VALUE = Int32(UInt8(ascii: "H"))
let CS_MSG_CONSOLE_VALUE = Int32(UInt8(ascii: "C"))
let CS_MSG_SECCOMP_VALUE = Int32(UInt8(ascii: "S"))
let CS_MSG_PID_VALUE = Int32(UInt8(ascii: "P"))
let CS_MSG_USERNS_VALUE = Int32(UInt8(ascii: "U"))
let CS_MSG_ERROR_VALUE = Int32(UInt8(ascii: "E"))

import CShim
import Glibc
import LinuxSys

/// One launch of a container's init, in the order Launcher.launch runs the steps. Every call
/// to the kernel goes through `sys`. After the clone every failure goes through `abort`, which
/// kills and reaps what was cloned; `closeDescriptors` closes what the launch opened.
struct InitLaunch {
    let plan: ContainerPlan
    let options: Launcher.Options
    let runtimeIsRoot: Bool
    let sys: any LaunchSyscalls

    /// The runtime's end of the channel; the init's end, until the clone.
    private var parentEnd: Int32 = -1
    private var childEnd: Int32 = -1
    /// Namespace files and idmapped trees for the init to inherit.
    private var inherited: [Int32] = []
    /// The process cloned: the init, or in two steps (spawn.c) the first child, which sets up
    /// outside the container's pid namespace and reports the process the container sees.
    private var pid: pid_t = -1
    /// The process the container sees, ours to wait for; in two steps unknown until reported.
    private var visiblePid: pid_t?
    private var firstReaped = false
    private var userAfterClone = false
    private var waitsForRelease = false
    private var console: Int32?
    /// Messages of the second child that need its pid, when they overtake the first child's report.
    private var deferred: [InitMessage] = []

    init(plan: ContainerPlan, options: Launcher.Options, runtimeIsRoot: Bool, sys: any LaunchSyscalls) {
        self.plan = plan
        self.options = options
        self.runtimeIsRoot = runtimeIsRoot
        self.sys = sys
    }

    /// Opens the channel and what the init inherits, flattens the plan and clones the init.
    mutating func spawn() throws(RuntimeError) {
        do {
            (parentEnd, childEnd) = try sys.makeChannel()
        } catch {
            throw .system(step: "socketpair", subject: nil, errno: error.errno)
        }
        let (joinFds, pidFd, treeFds) = try openInherited()

        let arena = CPlanArena()
        var cplan = plan.cPlan(arena: arena, channel: childEnd, parentChannel: parentEnd,
                               joinFds: joinFds, pidNamespaceFd: pidFd, capLast: Int(cs_cap_last_cap()),
                               startFd: options.startSocket, stdinFd: options.stdin, cgroupFd: options.cgroupFd,
                               treeFds: treeFds)
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
        // The plan's strings and arrays (joins too) live in the arena until cs_spawn returned.
        var spawnErrno: Int32 = 0
        var twoStep = false
        withExtendedLifetime(arena) {
            userAfterClone = cs_plan_user_after_clone(&cplan) != 0
            twoStep = cs_plan_two_step(&cplan) != 0 || cs_plan_pid_after_user(&cplan) != 0
            do throws(SysError) { pid = try sys.spawn(cplan) } catch { spawnErrno = error.errno }
        }
        waitsForRelease = cplan.wait_for_release != 0
        sys.close(childEnd)
        childEnd = -1
        if pid < 0 { throw cloneFailure(spawnErrno) }
        if !twoStep { visiblePid = pid }
    }

    /// The namespace files the init joins (in plan.joins order), the pid namespace's, and the
    /// idmapped trees (by mount index).
    private mutating func openInherited() throws(RuntimeError) -> (joins: [Int32], pid: Int32, trees: [Int: Int32]) {
        var joinFds: [Int32] = []
        for join in plan.joins {
            do {
                joinFds.append(try sys.openNamespace(join.path))
                inherited.append(joinFds.last!)
            } catch {
                throw .container("linux.namespaces[\(join.configIndex)].path: open `\(join.path)`: \(errnoString(error.errno))")
            }
        }
        var pidFd: Int32 = -1
        if let path = plan.pidNamespacePath {
            do {
                pidFd = try sys.openNamespace(path)
                inherited.append(pidFd)
            } catch {
                throw .container("linux.namespaces: open pid namespace `\(path)`: \(errnoString(error.errno))")
            }
        }
        var treeFds: [Int: Int32] = [:]
        if plan.mounts.contains(where: { $0.idmap != nil }) {
            treeFds = try sys.makeIdmappedTrees(plan)
            inherited += treeFds.values
        }
        return (joinFds, pidFd, treeFds)
    }

    private func cloneFailure(_ err: Int32) -> RuntimeError {
        if options.cgroupFd >= 0 && err == EACCES {
            // CLONE_INTO_CGROUP is a migration: the user must be able to write cgroup.procs of
            // the common ancestor of its own cgroup and the container's.
            return .container("clone the container init into its cgroup: \(errnoString(err)) (as uid \(geteuid()), crun-swift must run in a cgroup of the same delegated subtree as the container's)")
        }
        if plan.newUserNamespace && !runtimeIsRoot && [EPERM, ENOSPC, EUSERS].contains(err) {
            return .container(Rootless.userNamespaceUnavailable(errno: err))
        }
        return .system(step: "clone the container init", subject: nil, errno: err)
    }

    /// Tells the caller the pid, and moves the init into its v1 cgroups.
    mutating func register() throws(RuntimeError) {
        do {
            try options.onSpawn?(pid)
            for file in options.cgroupProcs { try sys.moveIntoCgroup(pid, procs: file) }
        } catch {
            throw abort(error)
        }
    }

    /// A new user namespace: writes its maps once it exists (the child stays dumpable, its /proc
    /// files ours, until then: spawn.c). Then releases the init if it waits.
    mutating func mapIdsAndRelease() throws(RuntimeError) {
        if plan.newUserNamespace && userAfterClone {
            // The first child joins the pid namespace, then creates the user namespace.
            let message = sys.receive(parentEnd, wait: true)
            if let fd = message.fd { sys.close(fd) }
            switch message {
            case .userNamespace: break
            case .failure(let report): throw abort(.container(ChildFailure(error: report, plan: plan).message))
            case .unreadable(let err): throw abort(.system(step: "wait for the container's user namespace", subject: nil, errno: err))
            default: throw abort(.system(step: "wait for the container's user namespace", subject: nil, errno: EPIPE))
            }
        }
        if plan.newUserNamespace {
            do {
                try sys.writeIdMaps(pid: pid, uidMap: plan.uidMap, gidMap: plan.gidMap, runtimeIsRoot: runtimeIsRoot)
            } catch {
                throw abort(error)
            }
        }
        if waitsForRelease {
            do {
                try sys.release(parentEnd)
            } catch {
                throw abort(.system(step: "release the container init", subject: nil, errno: error.errno))
            }
        }
    }

    /// Follows the init until it exec'd (EOF) or, for create, waits for `start` (ready).
    mutating func follow() throws(RuntimeError) -> LaunchedContainer {
        while true {
            let message: InitMessage
            if visiblePid != nil, !deferred.isEmpty {
                message = deferred.removeFirst()
            } else {
                message = sys.receive(parentEnd, wait: true)
            }
            switch message {
            case .closed:
                // Before its pid came, EOF means the first child died.
                if visiblePid == nil { throw abort(.container("container process: its setup ended without a report")) }
                return LaunchedContainer(pid: visiblePid ?? pid, consoleMaster: console)
            case .unreadable(let err):
                throw abort(.system(step: "read from the container init", subject: nil, errno: err))
            case .pid(let reported):
                sys.reap(pid)
                firstReaped = true
                visiblePid = reported
            case .ready where visiblePid == nil, .seccompNotify where visiblePid == nil:
                deferred.append(message)
            case .ready:
                return LaunchedContainer(pid: visiblePid ?? pid, consoleMaster: console)
            case .hookPoint:
                do {
                    try options.atHookPoint?(visiblePid ?? pid)
                } catch {
                    throw abort(error)
                }
                do {
                    try sys.release(parentEnd)
                } catch {
                    throw abort(.system(step: "release the container init after hooks", subject: nil, errno: error.errno))
                }
            case .seccompNotify(let fd):
                try handOff(notifyFd: fd)
            case .console(let fd):
                console = fd
            case .failure(let report):
                throw abort(.container(ChildFailure(error: report, plan: plan).message))
            case .userNamespace:
                throw abort(.container(ChildFailure(error: cs_error(), plan: plan).message))
            }
        }
    }

    private mutating func handOff(notifyFd fd: Int32) throws(RuntimeError) {
        defer { sys.close(fd) }
        guard let seccomp = plan.seccomp, let path = seccomp.listenerPath, let visible = visiblePid else { return }
        do {
            try sys.sendNotifyFd(fd, to: path, metadata: seccomp.listenerMetadata ?? "",
                                 pid: visible, state: options.listenerState?(visible) ?? .object([]))
        } catch {
            throw abort(error)
        }
    }

    /// Leaves nothing: kills and reaps what was cloned (in two steps both processes, as far as
    /// the runtime knows the second), and closes what the init sent.
    private mutating func abort(_ error: RuntimeError) -> RuntimeError {
        if let console { sys.close(console) }
        console = nil
        for message in deferred { if let fd = message.fd { sys.close(fd) } }
        deferred = []
        if !firstReaped {
            sys.kill(pid)
            sys.reap(pid)
            firstReaped = true
        }
        // The first child reports the second's pid right after cloning it: now that it is
        // gone, whatever it sent is queued. (Killed between the clone and the report, the
        // second child is not known here; the cgroup still holds it.)
        drain: while visiblePid == nil {
            let message = sys.receive(parentEnd, wait: false)
            if let fd = message.fd { sys.close(fd) }
            switch message {
            case .closed, .unreadable: break drain
            case .pid(let reported): visiblePid = reported
            default: continue
            }
        }
        if let visible = visiblePid, visible != pid {
            sys.kill(visible)
            sys.reap(visible)
        }
        return error
    }

    /// The channel and the inherited descriptors; the console, once returned, is the caller's.
    mutating func closeDescriptors() {
        for fd in [childEnd, parentEnd] + inherited where fd >= 0 { sys.close(fd) }
        childEnd = -1
        parentEnd = -1
        inherited = []
    }
}

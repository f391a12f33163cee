import CShim
@testable import CrunRuntime
import Glibc
import JSONCore
import OCISpec
@testable import Seccomp
import Testing

/// The launch protocol (InitLaunch) against a scripted init: what the runtime does, in which
/// order, and that a failure at any point after the clone leaves no process and no descriptor.
/// Descriptors in the calls: 10 and 11 are the channel's ends (the runtime's, the init's),
/// then namespace files from 12; 50 and 51 are what the init sends.
@Suite struct LauncherTests {
    static let maps = "0 100000 65536"

    /// A container in namespaces of its own, not sharing the runtime's user namespace.
    static func plan(userNamespace: Bool = false) -> ContainerPlan {
        var p = ContainerPlan()
        p.rootfs = "/bundle/rootfs"
        p.args = ["/bin/sh"]
        p.cloneFlags = CS_CLONE_NEWNS | CS_CLONE_NEWPID | CS_CLONE_NEWUTS
        if userNamespace {
            p.cloneFlags |= CS_CLONE_NEWUSER
            p.newUserNamespace = true
            p.becomeRoot = true
            p.uidMap = maps
            p.gidMap = maps
        }
        return p
    }

    /// Joins an existing pid namespace (cs_plan_two_step), or joins a user namespace and makes
    /// a pid namespace in it (cs_plan_pid_after_user): the init is cloned in two steps, and the
    /// first child reports the pid the container sees.
    static func twoStepPlan(userNamespace: Bool = false, afterJoinedUserNamespace: Bool = false) -> ContainerPlan {
        var p = plan(userNamespace: userNamespace)
        if afterJoinedUserNamespace {
            p.joins = [.init(kind: .user, path: "/proc/500/ns/user", configIndex: 1)]
        } else {
            p.cloneFlags &= ~CS_CLONE_NEWPID
            p.pidNamespacePath = "/proc/500/ns/pid"
        }
        return p
    }

    static func seccompPlan(_ base: ContainerPlan) -> ContainerPlan {
        var p = base
        p.seccomp = SeccompProgram(bpf: [0], flags: 0, early: false, notify: true, listenerPath: "/run/listener.sock",
                                   listenerMetadata: "m", skipped: [])
        return p
    }

    static func bindMount(_ source: String, on destination: String, configIndex: Int) -> ContainerPlan.PlannedMount {
        .init(source: source, destination: destination, fstype: nil, data: nil, flags: CS_MS_BIND, propagation: 0,
              attrSet: 0, attrClear: 0, destinationIsFile: false, remount: false, sysfsFallback: false, configIndex: configIndex)
    }

    func launch(_ plan: ContainerPlan, _ sys: ScriptedLaunchSyscalls, options: Launcher.Options = Launcher.Options(),
                runtimeIsRoot: Bool = true) throws(RuntimeError) -> LaunchedContainer {
        try Launcher.launch(plan, options: options, runtimeIsRoot: runtimeIsRoot, syscalls: sys)
    }

    func failure(_ plan: ContainerPlan, _ sys: ScriptedLaunchSyscalls, options: Launcher.Options = Launcher.Options(),
                 runtimeIsRoot: Bool = true) -> String? {
        do {
            _ = try launch(plan, sys, options: options, runtimeIsRoot: runtimeIsRoot)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func clonesTheInitAndReturnsItsPid() throws {
        let sys = ScriptedLaunchSyscalls()
        var spawned: pid_t?
        var options = Launcher.Options()
        options.onSpawn = { spawned = $0 }
        let launched = try launch(Self.plan(), sys, options: options)
        #expect(launched.pid == 4242 && spawned == 4242 && launched.consoleMaster == nil)
        // Sharing the runtime's user namespace: the sealed binary is required before anything.
        // The init's end is closed as soon as it is cloned; EOF on ours means it exec'd.
        #expect(sys.calls == ["seal", "channel", "spawn", "close 11", "receive", "close 10"])
        #expect(sys.spawnedPlan?.channel_fd == 11 && sys.spawnedPlan?.parent_channel_fd == 10)
        #expect(sys.spawnedPlan?.wait_for_release == 0)
        #expect(sys.leftOver(pids: [4242]) == [])
    }

    @Test func idMapsAreWrittenBeforeTheInitContinues() throws {
        let sys = ScriptedLaunchSyscalls()
        let launched = try launch(Self.plan(userNamespace: true), sys)
        #expect(launched.pid == 4242)
        #expect(sys.spawnedPlan?.wait_for_release == 1)
        #expect(sys.calls == ["channel", "spawn", "close 11", "maps 4242 uid \(Self.maps) gid \(Self.maps)", "release",
                              "receive", "close 10"])
        #expect(sys.leftOver(pids: [4242]) == [])
    }

    /// In two steps with a new user namespace, the first child makes the namespace after the
    /// clone: the maps wait for it to say so.
    @Test func idMapsWaitForTheUserNamespaceMadeAfterTheClone() throws {
        let sys = ScriptedLaunchSyscalls([.userNamespace, .pid(4243)])
        let launched = try launch(Self.twoStepPlan(userNamespace: true), sys)
        #expect(launched.pid == 4243)
        #expect(sys.calls == ["channel", "open /proc/500/ns/pid", "spawn", "close 11", "receive",
                              "maps 4242 uid \(Self.maps) gid \(Self.maps)", "release", "receive", "reap 4242", "receive",
                              "close 10", "close 12"])
        #expect(sys.leftOver(pids: [4243]) == [])
    }

    @Test func theUserNamespaceNeverComing() throws {
        let sys = ScriptedLaunchSyscalls([])
        #expect(failure(Self.twoStepPlan(userNamespace: true), sys) == "wait for the container's user namespace: Broken pipe")
        #expect(!sys.calls.contains { $0.hasPrefix("maps") })
        #expect(sys.leftOver() == [])
    }

    @Test(arguments: [false, true]) func twoStepsReportTheSecondChild(afterJoinedUserNamespace: Bool) throws {
        let plan = Self.twoStepPlan(afterJoinedUserNamespace: afterJoinedUserNamespace)
        let sys = ScriptedLaunchSyscalls([.pid(4243), .ready])
        var options = Launcher.Options()
        options.startSocket = 7
        let launched = try launch(plan, sys, options: options)
        #expect(launched.pid == 4243)
        let opened = afterJoinedUserNamespace ? "open /proc/500/ns/user" : "open /proc/500/ns/pid"
        #expect(sys.calls == ["seal", "channel", opened, "spawn", "close 11", "receive", "reap 4242", "receive", "close 10", "close 12"])
        #expect(sys.spawnedPlan?.start_fd == 7)
        #expect(sys.leftOver(pids: [4243]) == [])
    }

    /// The second child's messages can overtake the first child's report: they wait for the pid.
    @Test func messagesBeforeThePidWaitForIt() throws {
        let sys = ScriptedLaunchSyscalls([.seccompNotify(fd: 50), .ready, .pid(4243)])
        var statePid: pid_t?
        var options = Launcher.Options()
        options.listenerState = { statePid = $0; return .object([]) }
        let launched = try launch(Self.seccompPlan(Self.twoStepPlan()), sys, options: options)
        #expect(launched.pid == 4243 && statePid == 4243)
        #expect(sys.calls == ["seal", "channel", "open /proc/500/ns/pid", "spawn", "close 11", "receive", "receive", "receive",
                              "reap 4242", "notify 50 /run/listener.sock pid 4243", "close 50", "close 10", "close 12"])
        #expect(sys.leftOver(pids: [4243]) == [])
    }

    @Test func descriptorsFromTheInit() throws {
        let sys = ScriptedLaunchSyscalls([.seccompNotify(fd: 50), .console(fd: 51)])
        let launched = try launch(Self.seccompPlan(Self.plan()), sys)
        // The pty master is the caller's; the notify fd went to the listener and is closed.
        #expect(launched.consoleMaster == 51)
        #expect(sys.calls.contains("notify 50 /run/listener.sock pid 4242"))
        #expect(sys.leftOver(keeping: [51], pids: [4242]) == [])
    }

    @Test func theInitPausesForHooks() throws {
        let sys = ScriptedLaunchSyscalls([.hookPoint])
        var hookPid: pid_t?
        var options = Launcher.Options()
        options.atHookPoint = { pid throws(RuntimeError) in
            hookPid = pid
            sys.note("hooks")
        }
        _ = try launch(Self.plan(), sys, options: options)
        #expect(hookPid == 4242)
        #expect(sys.calls == ["seal", "channel", "spawn", "close 11", "receive", "hooks", "release", "receive", "close 10"])
    }

    /// cgroup v1: the init waits until its pid is in every controller's cgroup, and makes its
    /// cgroup namespace after that.
    @Test func cgroupV1MovesTheInitBeforeReleasingIt() throws {
        var plan = Self.plan()
        plan.cloneFlags |= CS_CLONE_NEWCGROUP
        var options = Launcher.Options()
        options.cgroupProcs = ["/sys/fs/cgroup/pids/c/cgroup.procs", "/sys/fs/cgroup/memory/c/cgroup.procs"]
        let sys = ScriptedLaunchSyscalls()
        _ = try launch(plan, sys, options: options)
        #expect(sys.calls == ["seal", "channel", "spawn", "close 11", "cgroup 4242 /sys/fs/cgroup/pids/c/cgroup.procs",
                              "cgroup 4242 /sys/fs/cgroup/memory/c/cgroup.procs", "release", "receive", "close 10"])
        #expect(sys.spawnedPlan.map { $0.wait_for_release == 1 && $0.clone_flags & CS_CLONE_NEWCGROUP == 0
            && $0.unshare_flags & CS_CLONE_NEWCGROUP != 0 } == true)
    }

    struct Report: Sendable, CustomTestStringConvertible {
        var step: cs_step
        var err: Int32
        var index: Int32
        var detail: String
        var message: String
        var testDescription: String { message }
    }

    @Test(arguments: [
        Report(step: CS_STEP_MOUNT, err: ENOENT, index: 0, detail: "", message: "mounts[3]: mount bind `/src` on `/data`: No such file or directory"),
        Report(step: CS_STEP_SYSCTL, err: EACCES, index: 0, detail: "", message: "linux.sysctl.net.ipv4.ip_forward: write /proc/sys: Permission denied"),
        Report(step: CS_STEP_SETNS, err: EINVAL, index: 0, detail: "", message: "linux.namespaces[2].path: setns network `/run/netns/n`: Invalid argument"),
        Report(step: CS_STEP_EXEC, err: ENOENT, index: -1, detail: "/bin/nope", message: "process.args[0]: exec `/bin/nope`: No such file or directory"),
    ])
    func theChildsReportNamesTheField(_ report: Report) throws {
        var plan = Self.plan()
        plan.mounts = [Self.bindMount("/src", on: "/data", configIndex: 3)]
        plan.sysctl = [("net.ipv4.ip_forward", "1")]
        plan.joins = [.init(kind: .network, path: "/run/netns/n", configIndex: 2)]
        let sys = ScriptedLaunchSyscalls([.failure(.report(report.step, report.err, index: report.index, detail: report.detail))])
        #expect(failure(plan, sys) == report.message)
        #expect(sys.calls.suffix(4) == ["kill 4242", "reap 4242", "close 10", "close 12"])
        #expect(sys.leftOver() == [])
    }

    /// EOF before the first child reported: it died, and the container has no process.
    @Test(arguments: [false, true]) func theChannelClosingBeforeThePidIsAFailure(afterJoinedUserNamespace: Bool) {
        let sys = ScriptedLaunchSyscalls([])
        #expect(failure(Self.twoStepPlan(afterJoinedUserNamespace: afterJoinedUserNamespace), sys)
            == "container process: its setup ended without a report")
        let opened = afterJoinedUserNamespace ? "open /proc/500/ns/user" : "open /proc/500/ns/pid"
        #expect(sys.calls == ["seal", "channel", opened, "spawn", "close 11", "receive", "kill 4242", "reap 4242",
                              "receive queued", "close 10", "close 12"])
        #expect(sys.leftOver() == [])
    }

    @Test func aFailedReadIsAFailure() {
        let sys = ScriptedLaunchSyscalls([.unreadable(errno: EIO)])
        #expect(failure(Self.plan(), sys) == "read from the container init: Input/output error")
        #expect(sys.leftOver() == [])
    }

    /// Every point after the clone at which a launch can fail.
    enum FailurePoint: String, CaseIterable, Sendable {
        case onSpawn, cgroupProcs, idMaps, release, userNamespaceReport, hooks, releaseAfterHooks, listener,
             childReportWithConsole, readError
        // Two steps: what the first child already sent is found and undone too.
        case twoStepsPidQueued, twoStepsDeferredNotifyFd, twoStepsChildReport
    }

    @Test(arguments: FailurePoint.allCases)
    func everyFailureAfterTheCloneLeavesNothing(_ point: FailurePoint) {
        var plan = Self.plan()
        var options = Launcher.Options()
        let sys = ScriptedLaunchSyscalls()
        let childReport = cs_error.report(CS_STEP_PIVOT_ROOT, EINVAL)
        switch point {
        case .onSpawn:
            options.onSpawn = { _ throws(RuntimeError) in throw .container("state: write the pid") }
        case .cgroupProcs:
            options.cgroupProcs = ["/sys/fs/cgroup/pids/c/cgroup.procs"]
            sys.failures["cgroup"] = EACCES
        case .idMaps:
            plan = Self.plan(userNamespace: true)
            sys.failures["maps"] = EPERM
        case .release:
            plan = Self.plan(userNamespace: true)
            sys.failures["release"] = EPIPE
        case .userNamespaceReport:
            plan = Self.twoStepPlan(userNamespace: true)
            sys.script = [.failure(.report(CS_STEP_SETNS, EPERM, detail: "pid"))]
        case .hooks:
            sys.script = [.console(fd: 51), .hookPoint]
            options.atHookPoint = { _ throws(RuntimeError) in throw .container("hooks.createRuntime[0]: exit 1") }
        case .releaseAfterHooks:
            sys.script = [.hookPoint]
            sys.failures["release"] = EPIPE
        case .listener:
            plan = Self.seccompPlan(plan)
            sys.script = [.console(fd: 51), .seccompNotify(fd: 50)]
            sys.failures["notify"] = ECONNREFUSED
        case .childReportWithConsole:
            sys.script = [.console(fd: 51), .failure(childReport)]
        case .readError:
            sys.script = [.console(fd: 51), .unreadable(errno: EIO)]
        case .twoStepsPidQueued:
            plan = Self.twoStepPlan()
            options.onSpawn = { _ throws(RuntimeError) in throw .container("state: write the pid") }
            sys.script = [.seccompNotify(fd: 50), .pid(4243)]
        case .twoStepsDeferredNotifyFd:
            plan = Self.seccompPlan(Self.twoStepPlan())
            sys.script = [.seccompNotify(fd: 50), .ready, .failure(childReport)]
        case .twoStepsChildReport:
            plan = Self.twoStepPlan()
            sys.script = [.pid(4243), .console(fd: 51), .failure(childReport)]
        }
        #expect(failure(plan, sys, options: options) != nil)
        // The first child is killed, unless it had reported and been reaped; the second too once known.
        #expect(sys.calls.contains(point == .twoStepsChildReport ? "reap 4242" : "kill 4242"))
        if point == .twoStepsPidQueued || point == .twoStepsChildReport {
            #expect(sys.calls.suffix(4) == ["kill 4243", "reap 4243", "close 10", "close 12"])
        }
        #expect(sys.leftOver() == [])
    }

    @Test func idMapFailureIsTheWritersError() {
        let sys = ScriptedLaunchSyscalls()
        sys.failures["maps"] = EPERM
        #expect(failure(Self.plan(userNamespace: true), sys) == "linux.uidMappings: write `/proc/4242/uid_map`: Operation not permitted")
    }

    @Test func aFailedCloneNamesWhy() {
        var sys = ScriptedLaunchSyscalls()
        sys.failures["spawn"] = EAGAIN
        #expect(failure(Self.plan(), sys) == "clone the container init: Resource temporarily unavailable")
        #expect(sys.leftOver() == [])

        sys = ScriptedLaunchSyscalls()
        sys.failures["spawn"] = EACCES
        var options = Launcher.Options()
        options.cgroupFd = 9
        #expect(failure(Self.plan(), sys, options: options)?.hasPrefix("clone the container init into its cgroup: Permission denied (as uid") == true)

        sys = ScriptedLaunchSyscalls()
        sys.failures["spawn"] = ENOSPC
        #expect(failure(Self.plan(userNamespace: true), sys, runtimeIsRoot: false) == Rootless.userNamespaceUnavailable(errno: ENOSPC))
        #expect(!sys.calls.contains { $0.hasPrefix("kill") })
        #expect(sys.leftOver() == [])
    }

    @Test func aNamespaceThatCannotBeOpenedNamesItsField() {
        var plan = Self.plan()
        plan.joins = [.init(kind: .ipc, path: "/proc/1/ns/ipc", configIndex: 0),
                      .init(kind: .network, path: "/run/netns/gone", configIndex: 4)]
        let sys = ScriptedLaunchSyscalls()
        sys.failures["open /run/netns/gone"] = ENOENT
        #expect(failure(plan, sys) == "linux.namespaces[4].path: open `/run/netns/gone`: No such file or directory")
        #expect(!sys.calls.contains("spawn"))
        #expect(sys.leftOver() == [])
    }

    @Test func anUnsealedRuntimeClonesNothing() {
        let sys = ScriptedLaunchSyscalls()
        sys.failures["seal"] = ENOENT
        #expect(failure(Self.plan(), sys) != nil)
        #expect(sys.calls == ["seal"])
    }

    @Test func channelMessagesDecode() {
        let report = cs_error.report(CS_STEP_EXEC, ENOENT, detail: "/bin/x")
        guard case .failure(let e) = InitMessage(kind: Int32(UInt8(ascii: "E")), report: report, fd: -1, errno: 0) else {
            Issue.record("E is a failure"); return
        }
        #expect(e.err == ENOENT)
        var pidReport = cs_error()
        pidReport.index = 77
        guard case .pid(77) = InitMessage(kind: Int32(UInt8(ascii: "P")), report: pidReport, fd: -1, errno: 0) else {
            Issue.record("P carries the pid in index"); return
        }
        guard case .console(fd: 9) = InitMessage(kind: Int32(UInt8(ascii: "C")), report: cs_error(), fd: 9, errno: 0),
              case .closed = InitMessage(kind: 0, report: cs_error(), fd: -1, errno: 0),
              case .unreadable(errno: EBADMSG) = InitMessage(kind: -1, report: cs_error(), fd: -1, errno: EBADMSG) else {
            Issue.record("C, EOF and errors decode"); return
        }
    }
}

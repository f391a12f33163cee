import CShim
import Glibc
import JSONCore
import OCISpec

/// `crun-swift run`: create the container in the foreground, forward signals, relay the
/// terminal, and return the container's exit status (128+N when killed by signal N).
public enum ContainerRun {
    /// Signals sent to the runtime that go on to the container's init.
    static let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM,
                                     SIGCONT, SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU, 0]

    public static func run(bundle: Bundle, id: String = "", options: PlanOptions, pidFile: String? = nil,
                           network: PodNetwork? = nil,
                           warn: (String) -> Void, debug: (String) -> Void = { _ in }) throws(RuntimeError) -> Int32 {
        var spec = try bundle.loadSpec()
        if let network {
            try network.attach(hostname: spec.hostname)
            network.apply(to: &spec)
        }
        defer { network?.detach() }
        let plan = try ContainerPlanner().plan(spec, bundle: bundle.path, options: options)
        for w in plan.warnings { warn(w) }
        for n in plan.notes { debug(n) }

        let cgroup = try ContainerCgroup.prepare(spec, id: id, options: options, warn: warn, debug: debug)
        var launched: LaunchedContainer?
        defer {
            if let cgroup {
                if launched == nil {
                    cgroup.discard()
                } else {
                    close(cgroup.fd)
                    if let report = ContainerCgroup.oomReport(cgroup.cgroup, id: id) { warn(report) }
                    do { try cgroup.cgroup.destroy() } catch { warn(error.description) }
                    Cgroup.removeCreated(cgroup.created)
                }
            }
        }
        forwarded.withUnsafeBufferPointer { cs_block_signals($0.baseAddress) }
        var launch = Launcher.Options()
        launch.cgroupFd = cgroup?.fd ?? -1
        launch.listenerState = { pid in
            ContainerState(id: id, pid: pid, status: .creating, bundle: bundle.path, rootfs: plan.rootfs,
                           created: rfc3339Now(), annotations: spec.annotations, initStartTime: 0).specJSON(status: .creating)
        }
        let container = try Launcher.launch(plan, options: launch)
        launched = container
        if let pidFile {
            do {
                try PidFile.write(pidFile, pid: container.pid)
            } catch {
                kill(container.pid, SIGKILL)
                var status: Int32 = 0
                waitpid(container.pid, &status, 0)
                throw error
            }
        }
        defer { if let pidFile { unlink(pidFile) } }
        return try supervise(container)
    }

    /// Waits in the foreground: forwards signals, relays the terminal, and turns the wait
    /// status into an exit code (128+N for signal N).
    static func supervise(_ launched: LaunchedContainer) throws(RuntimeError) -> Int32 {
        DebugLog.note("wait: pid \(launched.pid) in the foreground, signals forwarded to it")
        let status = forwarded.withUnsafeBufferPointer {
            cs_supervise(launched.pid, launched.consoleMaster ?? -1, $0.baseAddress)
        }
        if let master = launched.consoleMaster { close(master) }
        if status < 0 { throw .system(step: "wait for the container", subject: nil, errno: errno) }
        DebugLog.note("wait: pid \(launched.pid) " + (cs_wifsignaled(status) != 0 ? "killed by signal \(cs_wtermsig(status))" : "exited \(cs_wexitstatus(status))"))
        if cs_wifsignaled(status) != 0 { return 128 + cs_wtermsig(status) }
        return cs_wexitstatus(status)
    }
}

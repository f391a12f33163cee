import Cgroups
import CShim
import Glibc
import JSONCore
import OCISpec

/// `crun-swift run`: runc's run, which is create + start (+ wait and delete unless --detach or
/// --keep) on the same path as those verbs: the container is registered under --root (state,
/// list, exec, ps, kill and events see it), its hooks run, and if this process is killed the
/// container stays registered for `delete --force`. In the foreground it forwards signals,
/// relays the terminal, and returns the container's exit status (128+N when killed by signal N).
public enum ContainerRun {
    /// Signals sent to the runtime that go on to the container's init.
    static let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM,
                                     SIGCONT, SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU, 0]

    public struct Request {
        public var create: ContainerCreate.Request
        /// Return once the container has started (runc's --detach).
        public var detach = false
        /// Leave the stopped container registered after it exits (runc's --keep).
        public var keep = false
        public init(create: ContainerCreate.Request) { self.create = create }
    }

    public static func run(_ request: Request, store: StateStore, warn: (String) -> Void,
                           debug: (String) -> Void = { _ in }) throws(RuntimeError) -> Int32 {
        let id = request.create.id
        var create = request.create
        create.relayTerminal = !request.detach && create.consoleSocket == nil
        create.startAtOnce = true
        // Blocked from before the clone, so that none is lost before supervise forwards them
        // (the init unblocks them for itself).
        if !request.detach { forwarded.withUnsafeBufferPointer { cs_block_signals($0.baseAddress) } }
        let launched = try ContainerCreate.create(create, store: store, warn: warn, debug: debug)
        do {
            if !launched.started { try ContainerStart.start(id, store: store, warn: warn) }
        } catch {
            if let m = launched.consoleMaster { close(m) }
            do { try ContainerDelete.delete(id, force: true, store: store, warn: warn) } catch { warn(error.description) }
            throw error
        }
        if request.detach { return 0 }
        let status = try supervise(launched)
        if request.keep {
            if let state = try? store.read(id), let cgroup = ContainerCgroup.of(state),
               let report = ContainerCgroup.oomReport(cgroup, id: id) {
                warn(report)
            }
        } else {
            do { try ContainerDelete.delete(id, force: true, store: store, warn: warn, reportOOM: true) } catch { warn(error.description) }
        }
        return status
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

import CShim
import Glibc
import JSONCore
import LinuxSys
import OCISpec

/// Runs OCI hooks: each gets the container state on stdin, its own args and env, and is killed
/// when it outlives its timeout. Hooks of the container namespace join the init's namespaces
/// through the same C path `exec` uses.
public enum HookRunner {
    public enum Kind: String, Sendable {
        case prestart, createRuntime, createContainer, startContainer, poststart, poststop

        /// A failure of these kinds is a warning and the remaining hooks still run (runtime.md,
        /// lifecycle steps 9 and 13); a failure of the others stops the operation.
        public var warnsOnFailure: Bool { self == .poststart || self == .poststop }
    }

    public static func hooks(_ kind: Kind, in spec: Spec) -> [Hook] {
        let h = spec.hooks
        switch kind {
        case .prestart: return h?.prestart ?? []
        case .createRuntime: return h?.createRuntime ?? []
        case .createContainer: return h?.createContainer ?? []
        case .startContainer: return h?.startContainer ?? []
        case .poststart: return h?.poststart ?? []
        case .poststop: return h?.poststop ?? []
        }
    }

    /// Runs every hook of `kind` in order. prestart, createRuntime, createContainer,
    /// startContainer: the first failure stops and is thrown. poststart, poststop: every hook
    /// runs, and the failures are thrown together at the end (one warning for the caller).
    /// `containerPid` set: run inside that process's namespaces (createContainer, startContainer).
    public static func run(_ kind: Kind, spec: Spec, state: JSONValue, bundle: String,
                           containerPid: Int32? = nil) throws(RuntimeError) {
        var failures: [String] = []
        try run(kind, spec: spec, state: state, bundle: bundle, containerPid: containerPid) { failures.append($0) }
        if !failures.isEmpty { throw .container(failures.joined(separator: "; ")) }
    }

    /// The same, with each poststart/poststop failure going to `warn` as it happens.
    public static func run(_ kind: Kind, spec: Spec, state: JSONValue, bundle: String,
                           containerPid: Int32? = nil, warn: (String) -> Void) throws(RuntimeError) {
        for (i, hook) in hooks(kind, in: spec).enumerated() {
            let field = "hooks.\(kind.rawValue)[\(i)]"
            DebugLog.note("hooks: \(field) \(hook.path)")
            do {
                try runOne(hook, spec: spec, state: state, cwd: containerPid == nil ? bundle : "/", containerPid: containerPid)
            } catch {
                let message = "\(field) `\(hook.path)`: \(error.lines.joined(separator: "; "))"
                guard kind.warnsOnFailure else { throw .container(message) }
                warn(message)
            }
        }
    }

    static func runOne(_ hook: Hook, spec: Spec, state: JSONValue, cwd: String, containerPid: Int32?) throws(RuntimeError) {
        var process = Process(user: User(uid: 0, gid: 0), args: hook.args ?? [hook.path], env: hook.env ?? [], cwd: cwd)
        if process.args?.isEmpty ?? true { process.args = [hook.path] }
        var plan: ContainerPlan
        if let pid = containerPid {
            plan = try ContainerPlanner().planExec(process, config: spec, initPid: pid, options: PlanOptions(), applySeccomp: false)
            // The init is still the runtime's code (paused before pivot_root, or waiting for
            // start): the pid namespace its children get is the container's, also when it is
            // the first step of a two-step spawn and itself in the runtime's (spawn.c).
            if let path = plan.pidNamespacePath { plan.pidNamespacePath = path + "_for_children" }
        } else {
            plan = ContainerPlan()
            plan.execMode = true
            ContainerPlanner().planProcess(process, into: &plan)
        }
        plan.executablePath = hook.path

        // The state goes through a memfd: with many annotations it is far larger than a pipe
        // holds, and nothing reads a pipe before the hook runs.
        var text = state.serialized()
        let stateFd = text.withUTF8 { cs_memfd_with("hook-state", $0.baseAddress, $0.count) }
        if stateFd < 0 { throw .system(step: "memfd_create", subject: "hook state", errno: -stateFd) }
        var options = Launcher.Options()
        options.stdin = stateFd
        let launched: LaunchedContainer
        do {
            launched = try Launcher.launch(plan, options: options)
        } catch {
            close(stateFd)
            throw error
        }
        close(stateFd)
        let status = try wait(launched.pid, timeout: hook.timeout)
        if cs_wifsignaled(status) != 0 { throw .container("killed by signal \(cs_wtermsig(status))") }
        if cs_wexitstatus(status) != 0 { throw .container("exited with status \(cs_wexitstatus(status))") }
    }

    /// Waits for `pid`, killing it after `timeout` seconds.
    static func wait(_ pid: pid_t, timeout: Int?) throws(RuntimeError) -> Int32 {
        var status: Int32 = 0
        guard let timeout, timeout > 0 else {
            while waitpid(pid, &status, 0) < 0 { if errno != EINTR { break } }
            return status
        }
        let deadline = monotonicSeconds() + Double(timeout)
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return status }
            if r < 0 && errno != EINTR { return status }
            if monotonicSeconds() > deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                throw .container("timed out after \(timeout)s")
            }
            usleep(2000)
        }
    }
}

func monotonicSeconds() -> Double { LinuxSys.monotonicSeconds() }

import Cgroups
import CShim
import Glibc
import JSONCore
import OCISpec

/// `create`: everything is set up and the init waits, blocked, until `start`.
///
/// The state directory is registered first and each step records what it is about to make
/// before making it (the cgroup's path, then the init's pid the moment it is cloned), so that
/// whenever this process dies, `delete --force` finds and removes all of it. A failure undoes
/// each step next to where it was done.
public enum ContainerCreate {
    public struct Request {
        public var id: String
        public var bundle: Bundle
        public var pidFile: String?
        public var consoleSocket: String?
        public var network: PodNetwork.Request?
        public var options = PlanOptions()
        /// run in the foreground: the pty master comes back to the caller, which relays it.
        public var relayTerminal = false
        /// run: the init goes straight on to execve (no wait for `start`), unless the config
        /// has startContainer hooks; the container is then running, its poststart hooks run.
        public var startAtOnce = false
        public init(id: String, bundle: Bundle) {
            self.id = id
            self.bundle = bundle
        }
    }

    @discardableResult
    public static func create(_ request: Request, store: StateStore, warn: (String) -> Void,
                              debug: (String) -> Void = { _ in }) throws(RuntimeError) -> LaunchedContainer {
        var spec = try request.bundle.loadSpec()
        // Validate (and plan) before anything is made; planned again only if --network
        // changes the config.
        var plan = try ContainerPlanner().plan(spec, bundle: request.bundle.path, options: request.options)
        if plan.terminal && request.consoleSocket == nil && !request.relayTerminal {
            throw .usage("process.terminal is true: \(request.startAtOnce ? "run --detach" : "create") needs --console-socket to hand the terminal to")
        }
        let needsHookPause = !HookRunner.hooks(.prestart, in: spec).isEmpty
            || !HookRunner.hooks(.createRuntime, in: spec).isEmpty || !HookRunner.hooks(.createContainer, in: spec).isEmpty

        // 1. Registered: from here on the id is taken and `list` shows it (a directory without
        // state.json reads as a container being created).
        let handle = try store.create(request.id)
        var committed = false
        defer { if !committed { try? store.remove(handle) } }
        var state = ContainerState(id: request.id, pid: 0, status: .creating, bundle: request.bundle.path,
                                   rootfs: plan.rootfs, created: rfc3339Now(), annotations: spec.annotations, initStartTime: 0)
        state.pidFile = request.pidFile.map { FileSystem.absolute($0, base: FileSystem.currentDirectory()) }

        // 2. The network: recorded (network.json) before it is attached.
        if let req = request.network {
            let pod = PodNetwork(request: req, id: request.id, directory: handle.path + "/network")
            try FileSystem.createFile(handle.path + "/network.json", contents: req.json.serialized())
            try pod.attach(hostname: spec.hostname)
            pod.apply(to: &spec)
            plan = try ContainerPlanner().plan(spec, bundle: request.bundle.path, options: request.options)
        }
        defer { if !committed, let req = request.network { PodNetwork(request: req, id: request.id, directory: handle.path + "/network").detach() } }
        for w in plan.warnings where !w.hasPrefix("hooks:") { warn(w) }
        for n in plan.notes { debug(n) }
        plan.hookPause = needsHookPause

        // Kept for exec (namespaces, process defaults) and for the poststop hooks of delete.
        let configBytes = try FileSystem.readFile(request.bundle.configPath)
        try FileSystem.createFile(handle.path + "/config.json", contents: configBytes, mode: 0o600)
        // run starts the process at once unless startContainer hooks must run in between.
        let startAtOnce = request.startAtOnce && HookRunner.hooks(.startContainer, in: spec).isEmpty
        let listener = startAtOnce ? -1 : try StartSocket.listen(in: handle)
        defer { if listener >= 0 { close(listener) } }

        // 3. The cgroup: its path recorded before it is made.
        let cgroup = try ContainerCgroup.prepare(spec, id: request.id, options: request.options, warn: warn, debug: debug) { c throws(RuntimeError) in
            state.cgroupPath = c.path
            state.cgroupPaths = c.controllerPaths.isEmpty ? nil : c.controllerPaths
            try store.recordCgroup(c.path, controllers: c.controllerPaths, in: handle)
        }
        if cgroup == nil { state.cgroupPath = nil }  // rootless: recorded, then skipped (no permission)
        defer {
            if let cgroup {
                if committed { close(cgroup.fd) } else { cgroup.discard() }
            }
        }
        if let cgroup, cgroup.created.count > 1 {
            try store.recordCgroupParents(cgroup.created.filter { $0 != cgroup.cgroup.path }, in: handle)
        }

        // 4. The init: recorded the moment it is cloned.
        var options = Launcher.Options()
        options.cgroupFd = cgroup?.fd ?? -1
        options.cgroupProcs = cgroup?.placement.procsFiles ?? []
        options.startSocket = listener
        var hooksFailed = false
        options.onSpawn = { (pid: pid_t) throws(RuntimeError) in
            try store.recordInit(pid, startTime: ProcStat(pid: pid)?.startTime ?? 0, in: handle)
        }
        options.atHookPoint = { (pid: pid_t) throws(RuntimeError) in
            var hookState = state
            hookState.pid = pid
            let json = hookState.specJSON(status: .creating)
            do throws(RuntimeError) {
                try HookRunner.run(.prestart, spec: spec, state: json, bundle: request.bundle.path)
                try HookRunner.run(.createRuntime, spec: spec, state: json, bundle: request.bundle.path)
                try HookRunner.run(.createContainer, spec: spec, state: json, bundle: request.bundle.path, containerPid: pid)
            } catch {
                hooksFailed = true
                throw error
            }
        }
        options.listenerState = { (pid: pid_t) -> JSONValue in
            var s = state
            s.pid = pid
            return s.specJSON(status: .creating)
        }
        let launched: LaunchedContainer
        do {
            launched = try Launcher.launch(plan, options: options)
        } catch {
            // runtime.md: a failed prestart/createRuntime/createContainer hook ends the
            // lifecycle at "destroyed", which runs the poststop hooks (as runc's destroy does).
            if hooksFailed {
                try? HookRunner.run(.poststop, spec: spec, state: state.specJSON(status: .stopped), bundle: request.bundle.path, warn: warn)
            }
            throw error
        }
        var consoleMaster = launched.consoleMaster
        func abort(_ error: RuntimeError) -> RuntimeError {
            kill(launched.pid, SIGKILL)
            var status: Int32 = 0
            waitpid(launched.pid, &status, 0)
            if let m = consoleMaster { close(m) }
            return error
        }
        guard let stat = ProcStat(pid: launched.pid) else {
            throw abort(.container("the container init \(launched.pid) exited during create"))
        }
        state.pid = launched.pid
        state.initStartTime = stat.startTime
        state.status = startAtOnce ? .running : .created
        do {
            try store.write(state, in: handle)
            if let master = consoleMaster, let socket = request.consoleSocket {
                try ConsoleSocket.send(master: master, to: socket)
                close(master)
                consoleMaster = nil
            }
            if let pidFile = request.pidFile { try PidFile.write(pidFile, pid: launched.pid) }
        } catch {
            throw abort(error)
        }
        committed = true
        if startAtOnce, !HookRunner.hooks(.poststart, in: spec).isEmpty {
            ContainerStart.runPoststart(state, bundle: request.bundle.path, spec: spec, warn: warn)
        }
        return LaunchedContainer(pid: launched.pid, consoleMaster: consoleMaster, started: startAtOnce)
    }
}

/// The socket the created init waits on; `start` connects to release it.
enum StartSocket {
    static func listen(in handle: StateStore.Handle) throws(RuntimeError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw .system(step: "socket", subject: nil, errno: errno) }
        let path = handle.shortPath + "/start.sock"
        if withAddress(path, { bind(fd, $0, $1) }) < 0 || Glibc.listen(fd, 1) < 0 {
            let e = errno
            close(fd)
            throw .system(step: "listen on", subject: handle.path + "/start.sock", errno: e)
        }
        return fd
    }

    static func connect(in handle: StateStore.Handle) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -1 }
        if withAddress(handle.shortPath + "/start.sock", { Glibc.connect(fd, $0, $1) }) < 0 {
            let e = errno
            close(fd)
            errno = e
            return -1
        }
        return fd
    }

    static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { errno = ENAMETOOLONG; return -1 }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

/// runc's console-socket protocol: the pty master goes to the socket by SCM_RIGHTS.
enum ConsoleSocket {
    static func send(master: Int32, to path: String) throws(RuntimeError) {
        let r = cs_send_fd(path, master, "/dev/ptmx")
        if r < 0 { throw .system(step: "--console-socket: send the terminal to", subject: path, errno: -r) }
    }
}

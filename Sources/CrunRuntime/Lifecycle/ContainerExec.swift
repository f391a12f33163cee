import Cgroups
import CShim
import Glibc
import OCISpec

/// `exec`: a new process in every namespace of a running container, with its process settings.
public enum ContainerExec {
    public struct Request {
        public var id: String
        public var process: Process
        public var detach = false
        public var pidFile: String?
        public var consoleSocket: String?
        public var preserveFds = 0
        public init(id: String, process: Process) {
            self.id = id
            self.process = process
        }
    }

    /// The container's own process settings, the base that exec's flags change.
    public static func baseProcess(_ id: String, store: StateStore) throws(RuntimeError) -> Process {
        _ = try store.read(id)  // "does not exist" before anything else
        let spec = try Bundle.decodeSpec(try FileSystem.readFile(store.directory(id) + "/config.json"))
        guard let p = spec.process else { throw .container("container \"\(id)\": its config has no process") }
        return p
    }

    public static func exec(_ request: Request, store: StateStore) throws(RuntimeError) -> Int32 {
        let state = try store.read(request.id)
        guard state.liveStatus == .running else {
            throw .container("cannot exec in container \"\(request.id)\": it is \(state.liveStatus.rawValue), not running")
        }
        let config = try Bundle.decodeSpec(try FileSystem.readFile(store.directory(request.id) + "/config.json"))
        var options = PlanOptions()
        options.preserveFds = request.preserveFds
        let plan = try ContainerPlanner().planExec(request.process, config: config, initPid: state.pid, options: options)
        if plan.terminal && request.detach && request.consoleSocket == nil {
            throw .usage("process.terminal is true: exec --detach needs --console-socket")
        }
        if !request.detach { ContainerRun.forwarded.withUnsafeBufferPointer { cs_block_signals($0.baseAddress) } }
        var launch = Launcher.Options()
        launch.listenerState = { _ in state.specJSON() }
        // Born in the container's cgroup, like the init.
        var placement = CgroupPlacement()
        if let cgroup = ContainerCgroup.of(state), cgroup.exists { placement = try cgroupStep { () throws(CgroupError) in try cgroup.placement() } }
        defer { if placement.cloneInto >= 0 { close(placement.cloneInto) } }
        launch.cgroupFd = placement.cloneInto
        launch.cgroupProcs = placement.procsFiles
        let launched = try Launcher.launch(plan, options: launch)
        if let pidFile = request.pidFile { try PidFile.write(pidFile, pid: launched.pid) }
        if request.detach {
            if let master = launched.consoleMaster, let socket = request.consoleSocket {
                defer { close(master) }
                try ConsoleSocket.send(master: master, to: socket)
            }
            return 0
        }
        return try ContainerRun.supervise(launched)
    }
}

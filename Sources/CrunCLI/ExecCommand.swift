import CrunRuntime
import JSONCore
import OCISpec

/// `exec`: the process comes from --process, or from the container's own process with
/// the command line's arguments and flags applied (runc's rules).
enum ExecCommand {
    static func run(_ p: ParsedArguments, _ g: GlobalOptions) throws(RuntimeError) -> Int32 {
        guard let id = p.positionals.first else { throw .usage("exec: missing container id") }
        let store = StateStore(root: g.root)
        var process: Process
        if let file = p.value("process") {
            let bytes = try FileSystem.readFile(file, step: "--process: open")
            do {
                process = try Process(json: try JSONParser.parse(bytes), path: "process")
            } catch {
                throw .config("--process \(file): \(error)")
            }
        } else {
            let args = Array(p.positionals.dropFirst())
            guard !args.isEmpty else { throw .usage("exec: missing the command to run (or --process FILE)") }
            process = try ContainerExec.baseProcess(id, store: store)
            process.args = args
            process.terminal = p.has("tty")
            process.consoleSize = nil
            if let cwd = p.value("cwd") { process.cwd = cwd }
            process.env = mergeEnv(process.env ?? [], p.all("env"))
            if let user = p.value("user") { process.user = try parseUser(user, base: process.user) }
            let gids = try p.all("additional-gids").map { (g: String) throws(RuntimeError) -> UInt32 in
                guard let n = UInt32(g) else { throw .usage("--additional-gids: not a number: \(g)") }
                return n
            }
            if !gids.isEmpty { process.user.additionalGids = gids }
            let caps = p.all("cap")
            if !caps.isEmpty {
                var c = process.capabilities ?? Capabilities()
                c.bounding = (c.bounding ?? []) + caps
                c.effective = (c.effective ?? []) + caps
                c.permitted = (c.permitted ?? []) + caps
                process.capabilities = c
            }
            if p.has("no-new-privs") { process.noNewPrivileges = true }
        }
        for unsupported in ["pidfd-socket", "process-label", "apparmor", "cgroup"] where p.value(unsupported) != nil {
            throw .usage("exec --\(unsupported): not supported by this build")
        }
        var request = ContainerExec.Request(id: id, process: process)
        request.detach = p.has("detach")
        request.pidFile = p.value("pid-file")
        request.consoleSocket = p.value("console-socket")
        request.preserveFds = try LifecycleCommands.count(p.value("preserve-fds"), "--preserve-fds")
        return try ContainerExec.exec(request, store: store)
    }

    /// The container's env with the given KEY=VALUE entries replacing or added.
    static func mergeEnv(_ base: [String], _ extra: [String]) -> [String] {
        var out = base
        for e in extra {
            let key = e.split(separator: "=", maxSplits: 1).first.map(String.init) ?? e
            if let i = out.firstIndex(where: { $0.hasPrefix(key + "=") }) { out[i] = e } else { out.append(e) }
        }
        return out
    }

    static func parseUser(_ text: String, base: User) throws(RuntimeError) -> User {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let uid = UInt32(parts[0]) else { throw .usage("--user: expected UID[:GID] as numbers, got \"\(text)\"") }
        var user = base
        user.uid = uid
        if parts.count == 2 {
            guard let gid = UInt32(parts[1]) else { throw .usage("--user: expected UID[:GID] as numbers, got \"\(text)\"") }
            user.gid = gid
        }
        return user
    }
}

/// `ps` in table form: the system's ps, filtered to the container's pids (as runc does).
enum ProcessTable {
    static func render(pids: [Int32], psOptions: [String]) throws(RuntimeError) -> String {
        let output = try Subprocess.output(["ps"] + (psOptions.isEmpty ? ["-ef"] : psOptions))
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let header = lines.first else { return "" }
        guard let pidColumn = header.split(separator: " ").firstIndex(of: "PID") else {
            throw .usage("ps: the output of `ps \(psOptions.joined(separator: " "))` has no PID column")
        }
        let wanted = Set(pids)
        var out = String(header) + "\n"
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ")
            if fields.count > pidColumn, let pid = Int32(fields[pidColumn]), wanted.contains(pid) { out += line + "\n" }
        }
        return out
    }
}

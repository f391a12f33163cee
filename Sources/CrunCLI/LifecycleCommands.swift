import CrunRuntime
import Glibc
import JSONCore
import OCISpec

/// The runc lifecycle verbs. Each parses its flags and calls one CrunRuntime entry point.
enum LifecycleCommands {
    struct Command {
        let specs: [FlagSpec]
        /// Everything after the first positional is positional (exec's and ps's arguments).
        let stopAtPositional: Bool
        let usage: String
        let run: (ParsedArguments, GlobalOptions) throws(RuntimeError) -> Int32
    }

    static func oneID(_ p: ParsedArguments, _ verb: String) throws(RuntimeError) -> String {
        guard p.positionals.count == 1, let id = p.positionals.first else {
            throw .usage("\(verb): expected exactly one container id, got \(p.positionals.count) arguments")
        }
        return id
    }

    static func store(_ g: GlobalOptions) -> StateStore { StateStore(root: g.root) }

    static let commands: [String: Command] = [
        "create": Command(specs: [
            FlagSpec(["bundle", "b"], value: true, help: "bundle directory (default: current directory)"),
            FlagSpec(["pid-file"], value: true, help: "write the init's pid here"),
            FlagSpec(["console-socket"], value: true, help: "unix socket that receives the pty master"),
            FlagSpec(["pidfd-socket"], value: true, help: "not supported"),
            FlagSpec(["no-pivot"], help: "MS_MOVE + chroot instead of pivot_root"),
            FlagSpec(["no-new-keyring"], help: "accepted"),
            FlagSpec(["preserve-fds"], value: true, help: "pass N extra descriptors"),
            FlagSpec(["detach", "d"], help: "accepted (create always detaches)"),
        ] + NetworkFlags.specs, stopAtPositional: false, usage: "create [--bundle DIR] [--pid-file F] [--console-socket S] [--no-pivot] [--preserve-fds N] ID") { p, g throws(RuntimeError) in
            let id = try oneID(p, "create")
            try checkID(id)
            var request = ContainerCreate.Request(id: id, bundle: Bundle(path: p.value("bundle") ?? "."))
            request.pidFile = p.value("pid-file")
            request.consoleSocket = p.value("console-socket")
            request.network = NetworkFlags.request(p)
            request.options.noPivot = p.has("no-pivot")
            request.options = g.planOptions(request.options)
            request.options.preserveFds = try count(p.value("preserve-fds"), "--preserve-fds")
            if p.value("pidfd-socket") != nil { throw .usage("create --pidfd-socket: not supported by this build") }
            try ContainerCreate.create(request, store: store(g), warn: Diagnostics.warning, debug: Diagnostics.debug)
            return 0
        },
        "start": Command(specs: [], stopAtPositional: false, usage: "start ID") { p, g throws(RuntimeError) in
            try ContainerStart.start(try oneID(p, "start"), store: store(g), warn: Diagnostics.warning)
            return 0
        },
        "state": Command(specs: [], stopAtPositional: false, usage: "state ID") { p, g throws(RuntimeError) in
            let state = try store(g).read(try oneID(p, "state"))
            Diagnostics.print(pretty(state.specJSON()) + "\n")
            return 0
        },
        "kill": Command(specs: [FlagSpec(["all", "a"], help: "signal every process of the container")],
                        stopAtPositional: false, usage: "kill [--all] ID [SIGNAL]") { p, g throws(RuntimeError) in
            guard (1...2).contains(p.positionals.count) else { throw .usage("kill: expected ID [SIGNAL]") }
            let name = p.positionals.count == 2 ? p.positionals[1] : "TERM"
            guard let sig = ContainerKill.parseSignal(name) else { throw .usage("kill: unknown signal \"\(name)\"") }
            try ContainerKill.kill(p.positionals[0], signal: sig, all: p.has("all"), store: store(g))
            return 0
        },
        "delete": Command(specs: [FlagSpec(["force", "f"], help: "kill a running container first")],
                          stopAtPositional: false, usage: "delete [--force] ID") { p, g throws(RuntimeError) in
            try ContainerDelete.delete(try oneID(p, "delete"), force: p.has("force"), store: store(g), warn: Diagnostics.warning)
            return 0
        },
        "list": Command(specs: [FlagSpec(["format", "f"], value: true, help: "table or json"), FlagSpec(["quiet", "q"], help: "ids only")],
                        stopAtPositional: false, usage: "list [--format table|json] [-q]") { p, g throws(RuntimeError) in
            let states = ContainerQuery.list(store: store(g))
            if p.has("quiet") {
                Diagnostics.print(states.map { $0.id + "\n" }.joined())
            } else if p.value("format") == "json" {
                Diagnostics.print(ContainerQuery.listJSON(states))
            } else if p.value("format") ?? "table" == "table" {
                Diagnostics.print(ContainerQuery.listTable(states))
            } else {
                throw .usage("list --format: table or json")
            }
            return 0
        },
        "ps": Command(specs: [FlagSpec(["format", "f"], value: true, help: "table or json")],
                      stopAtPositional: true, usage: "ps [--format table|json] ID [PS_OPTIONS]") { p, g throws(RuntimeError) in
            guard let id = p.positionals.first else { throw .usage("ps: missing container id") }
            let pids = try ContainerQuery.pids(id, store: store(g))
            if p.value("format") == "json" {
                Diagnostics.print(JSONValue.array(pids.map { .number("\($0)") }).serialized() + "\n")
            } else {
                Diagnostics.print(try ProcessTable.render(pids: pids, psOptions: Array(p.positionals.dropFirst())))
            }
            return 0
        },
        "exec": Command(specs: [
            FlagSpec(["process", "p"], value: true, help: "process.json to run"),
            FlagSpec(["tty", "t"], help: "allocate a terminal"),
            FlagSpec(["cwd"], value: true, help: "working directory"),
            FlagSpec(["env", "e"], value: true, help: "KEY=VALUE (repeatable)"),
            FlagSpec(["user", "u"], value: true, help: "UID[:GID]"),
            FlagSpec(["additional-gids", "g"], value: true, help: "extra group (repeatable)"),
            FlagSpec(["cap", "c"], value: true, help: "add a capability (repeatable)"),
            FlagSpec(["no-new-privs"], help: "set no_new_privs"),
            FlagSpec(["detach", "d"], help: "do not wait for the process"),
            FlagSpec(["pid-file"], value: true, help: "write the process's pid here"),
            FlagSpec(["console-socket"], value: true, help: "unix socket that receives the pty master"),
            FlagSpec(["pidfd-socket"], value: true, help: "not supported"),
            FlagSpec(["preserve-fds"], value: true, help: "pass N extra descriptors"),
            FlagSpec(["process-label"], value: true, help: "not supported"),
            FlagSpec(["apparmor"], value: true, help: "not supported"),
            FlagSpec(["cgroup"], value: true, help: "not supported"),
            FlagSpec(["ignore-paused"], help: "accepted"),
        ], stopAtPositional: true, usage: "exec [flags] ID [COMMAND ARGS...] | exec --process FILE ID", run: ExecCommand.run),
        "pause": Command(specs: [], stopAtPositional: false, usage: "pause ID") { p, g throws(RuntimeError) in
            try ContainerCgroup.pause(try oneID(p, "pause"), store: store(g))
            return 0
        },
        "resume": Command(specs: [], stopAtPositional: false, usage: "resume ID") { p, g throws(RuntimeError) in
            try ContainerCgroup.resume(try oneID(p, "resume"), store: store(g))
            return 0
        },
        "update": Command(specs: [FlagSpec(["resources", "r"], value: true, help: "linux.resources JSON file, or - for stdin")]
                            + UpdateFlags.names.map { FlagSpec([$0.flag], value: true, help: $0.help) },
                          stopAtPositional: false, usage: "update [--resources FILE|-] [--memory N --memory-swap N --cpu-quota N ...] ID") { p, g throws(RuntimeError) in
            let id = try oneID(p, "update")
            try ContainerCgroup.update(id, patch: try UpdateFlags.patch(p), store: store(g), warn: Diagnostics.warning)
            return 0
        },
        "events": Command(specs: [FlagSpec(["stats"], help: "print one stats event and exit"),
                                  FlagSpec(["interval"], value: true, help: "seconds between stats (default 5s)")],
                          stopAtPositional: false, usage: "events [--stats] [--interval N] ID") { p, g throws(RuntimeError) in
            let id = try oneID(p, "events")
            let s = store(g)
            if p.has("stats") {
                Diagnostics.print(try ContainerCgroup.statsEvent(id, store: s).serialized() + "\n")
                return 0
            }
            let text = p.value("interval") ?? "5s"
            guard let interval = Double(text.trimmingSuffix("s")), interval > 0 else {
                throw .usage("events --interval: expected seconds like 5s, got \"\(text)\"")
            }
            try ContainerCgroup.stream(id, interval: interval, store: s) { Diagnostics.print($0.serialized() + "\n") }
            return 0
        },
        "spec": Command(specs: [FlagSpec(["bundle", "b"], value: true, help: "where to write config.json"),
                                FlagSpec(["rootless"], help: "a config for an unprivileged user")],
                        stopAtPositional: false, usage: "spec [--rootless] [--bundle DIR]") { p, _ throws(RuntimeError) in
            let path = (p.value("bundle") ?? ".") + "/config.json"
            if access(path, F_OK) == 0 { throw .usage("spec: \(path) exists; remove it first") }
            try FileSystem.replaceFile(path, contents: SpecTemplate.config(rootless: p.has("rootless"), uid: getuid(), gid: getgid()))
            return 0
        },
        "features": Command(specs: [], stopAtPositional: false, usage: "features") { _, _ throws(RuntimeError) in
            Diagnostics.print(pretty(Features.document()) + "\n")
            return 0
        },
    ]

    static func checkID(_ id: String) throws(RuntimeError) {
        guard ContainerID.isValid(id) else { throw .usage("invalid container id \"\(id)\" (letters, digits, _ + - .)") }
    }

    static func count(_ text: String?, _ flag: String) throws(RuntimeError) -> Int {
        guard let text else { return 0 }
        guard let n = Int(text), n >= 0 else { throw .usage("\(flag): expected a number >= 0, got \"\(text)\"") }
        return n
    }

    /// Indented JSON, as runc prints state and features.
    static func pretty(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let members) where !members.isEmpty:
            return "{\n" + members.pairs.map { pair in
                inner + JSONValue.string(pair.key).serialized() + ": " + pretty(pair.value, indent: inner)
            }.joined(separator: ",\n") + "\n\(indent)}"
        default:
            return value.serialized()
        }
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}

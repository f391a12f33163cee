/// runc-style help: `crun-swift --help` lists the commands and the global flags;
/// `crun-swift help COMMAND`, `COMMAND --help` and `COMMAND -h` list every flag of the command,
/// one line each, from the same FlagSpec tables the parser uses (so no flag goes unlisted).
enum Help {
    /// Every command in the order `--help` lists them, with its one-line summary.
    static let summaries: [(name: String, summary: String)] = [
        ("run", "create and run a container in the foreground"),
        ("create", "set up a container; its process waits for start"),
        ("start", "run the process of a created container"),
        ("state", "print a container's state (JSON)"),
        ("kill", "send a signal to a container's init (or with --all every process)"),
        ("delete", "remove a stopped container (with --force a running one too)"),
        ("list", "list the containers under --root"),
        ("ps", "list a container's processes"),
        ("exec", "run a new process in a running container"),
        ("pause", "freeze every process of a container"),
        ("resume", "thaw a paused container"),
        ("update", "change a container's cgroup limits"),
        ("events", "print a container's cgroup statistics (and OOM events)"),
        ("spec", "write a config.json template"),
        ("features", "print what this runtime supports (JSON)"),
        ("help", "show the commands, or one command's flags"),
    ]

    static var main: String {
        let width = summaries.map(\.name.count).max()! + 2
        let commands = summaries.map { "  " + pad($0.name, width) + $0.summary }.joined(separator: "\n")
        return """
            Usage: crun-swift [global flags] COMMAND [flags] ARGS

            An OCI container runtime with runc's command line.

            Commands:
            \(commands)

            Global flags (before or after the command):
            \(flagLines(GlobalOptions.specs))

            `crun-swift help COMMAND` or `crun-swift COMMAND --help` lists a command's flags.

            """
    }

    /// The help of one command, nil for an unknown name.
    static func command(_ name: String) -> String? {
        if name == "help" { return "Usage: crun-swift help [COMMAND]\n\nShows the commands, or COMMAND's flags.\n" }
        let usage: String
        let specs: [FlagSpec]
        if name == "run" {
            usage = RunCommand.usage
            specs = RunCommand.specs
        } else if let c = LifecycleCommands.commands[name] {
            let summary = summaries.first { $0.name == name }?.summary ?? ""
            usage = "Usage: crun-swift \(c.usage)\n\n\(summary.prefix(1).uppercased() + summary.dropFirst())."
            specs = c.specs
        } else {
            return nil
        }
        let flags = specs.isEmpty ? "  (none)" : flagLines(specs)
        return usage + "\n\nFlags:\n" + flags + "\n\nGlobal flags (--root, --log, --debug, ...): see crun-swift --help\n"
    }

    /// `  --bundle value, -b value   bundle directory ...`, aligned.
    static func flagLines(_ specs: [FlagSpec]) -> String {
        let names = specs.map { spec in
            spec.names.map { ($0.count == 1 ? "-" : "--") + $0 + (spec.takesValue ? " value" : "") }.joined(separator: ", ")
        }
        let width = min(names.map(\.count).max() ?? 0, 32) + 2
        return zip(names, specs).map { name, spec in
            "  " + (name.count < width ? pad(name, width) : name + "  ") + spec.help
        }.joined(separator: "\n")
    }

    static func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(width - s.count, 0))
    }
}

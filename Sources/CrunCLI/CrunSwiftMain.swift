import Glibc

/// The entry point: global flags, then one subcommand.
public enum CrunSwiftMain {
    public static let version = "0.1.0"
    public static let specVersion = "1.3.0"

    static let usage = """
        Usage: crun-swift [global flags] COMMAND [flags] ARGS

        An OCI container runtime with runc's command line.

        Commands:
          run       create and run a container in the foreground
          create    set up a container; its process waits for start
          start     run the process of a created container
          state     print a container's state (JSON)
          kill      send a signal to a container ([--all] ID [SIGNAL])
          delete    remove a container ([--force] ID)
          list      list containers ([--format table|json] [-q])
          ps        list a container's processes
          exec      run a new process in a running container
          pause, resume, update, events, spec, features

        Global flags:
        \(GlobalOptions.specs.map { "  --\($0.name)\($0.takesValue ? " VALUE" : "")  \($0.help)" }.joined(separator: "\n"))
        """

    public static func main(_ argv: [String]) -> Int32 {
        do {
            return try dispatch(argv.dropFirst())
        } catch {
            Diagnostics.error([error.description])
            return 1
        }
    }

    static func dispatch(_ args: ArraySlice<String>) throws(CommandLineError) -> Int32 {
            guard let sub = CommandLineParser.subcommandIndex(args, globals: GlobalOptions.specs) else {
                let parsed = try CommandLineParser.parse(args, specs: GlobalOptions.specs, command: "crun-swift")
                if parsed.has("version") {
                    Diagnostics.print("crun-swift version \(version)\ncommit: \(BuildInfo.commit)\nspec: \(specVersion)\n")
                    return 0
                }
                Diagnostics.print(usage + "\n")
                return parsed.has("help") ? 0 : 1
            }
            let globalsParsed = try CommandLineParser.parse(args[args.startIndex..<sub], specs: GlobalOptions.specs, command: "crun-swift")
            let early = try GlobalOptions(globalsParsed)
            Diagnostics.logPath = early.log
            Diagnostics.jsonLog = early.logFormat == "json"
            let command = args[sub]
            let rest = args[(sub + 1)...]
            switch command {
            case "run":
                let parsed = try CommandLineParser.parse(rest, specs: RunCommand.specs + GlobalOptions.specs, command: "run")
                if parsed.has("help") { Diagnostics.print(RunCommand.usage + "\n"); return 0 }
                let globals = try GlobalOptions(globalsParsed.merging(parsed))
                Diagnostics.debugEnabled = globals.debug
                return try RunCommand.main(parsed, globals: globals)
            case let c where LifecycleCommands.commands[c] != nil:
                let cmd = LifecycleCommands.commands[c]!
                let parsed = try CommandLineParser.parse(rest, specs: cmd.specs + GlobalOptions.specs, command: c,
                                                         stopAtFirstPositional: cmd.stopAtPositional)
                if parsed.has("help") { Diagnostics.print("Usage: crun-swift \(cmd.usage)\n"); return 0 }
                let globals = try GlobalOptions(globalsParsed.merging(parsed))
                Diagnostics.logPath = globals.log
                Diagnostics.jsonLog = globals.logFormat == "json"
                Diagnostics.debugEnabled = globals.debug
                Diagnostics.debug("\(c) \(parsed.positionals.joined(separator: " ")) (root \(globals.root)); cgroup manager \(globals.cgroups)")
                do {
                    return try cmd.run(parsed, globals)
                } catch {
                    Diagnostics.error(error.lines)
                    return 1
                }
            default:
                throw .bad("unknown command \"\(command)\" (see crun-swift --help)")
            }
    }
}

enum BuildInfo {
    static let commit = "unknown"
}

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

        Global flags:
        \(GlobalOptions.specs.map { "  --\($0.name)\($0.takesValue ? " VALUE" : "")  \($0.help)" }.joined(separator: "\n"))

        Not in this build yet: create, start, state, kill, delete, list, ps, exec, pause, resume,
        update, events, spec, features.
        """

    static let lifecycleCommands: Set<String> = ["create", "start", "state", "kill", "delete", "list", "ps", "exec",
                                                 "pause", "resume", "update", "events", "spec", "features", "checkpoint", "restore"]

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
            let command = args[sub]
            let rest = args[(sub + 1)...]
            switch command {
            case "run":
                let parsed = try CommandLineParser.parse(rest, specs: RunCommand.specs + GlobalOptions.specs, command: "run")
                if parsed.has("help") { Diagnostics.print(RunCommand.usage + "\n"); return 0 }
                var merged = globalsParsed
                merged.values.merge(parsed.values) { $1 }
                merged.flags.formUnion(parsed.flags)
                return try RunCommand.main(parsed, globals: GlobalOptions(merged))
            case let c where lifecycleCommands.contains(c):
                throw .bad("\(c): not implemented in this build (only `run` is; the lifecycle commands come next)")
            default:
                throw .bad("unknown command \"\(command)\" (see crun-swift --help)")
            }
    }
}

enum BuildInfo {
    static let commit = "unknown"
}

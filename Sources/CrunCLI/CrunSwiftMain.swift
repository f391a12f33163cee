import CrunRuntime
import Glibc

/// The entry point: global flags, then one subcommand.
public enum CrunSwiftMain {
    public static let version = "0.1.0"
    public static let specVersion = "1.3.0"

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
                let parsed = try CommandLineParser.parse(args, specs: GlobalOptions.specs, command: "")
                if parsed.has("version") {
                    Diagnostics.print("crun-swift version \(version)\ncommit: \(BuildInfo.commit)\nspec: \(specVersion)\nlibseccomp: \(BuildInfo.libseccomp)\n")
                    return 0
                }
                Diagnostics.print(Help.main)
                return parsed.has("help") ? 0 : 1
            }
            let globalsParsed = try CommandLineParser.parse(args[args.startIndex..<sub], specs: GlobalOptions.specs, command: "")
            if globalsParsed.has("help") {  // `crun-swift --help run`, as `run --help`
                Diagnostics.print(Help.command(args[sub]) ?? Help.main)
                return 0
            }
            let early = try GlobalOptions(globalsParsed)
            Diagnostics.logPath = early.log
            Diagnostics.jsonLog = early.logFormat == "json"
            let command = args[sub]
            let rest = args[(sub + 1)...]
            switch command {
            case "help":
                guard let name = rest.first(where: { !$0.hasPrefix("-") }) else { Diagnostics.print(Help.main); return 0 }
                guard let text = Help.command(name) else { throw .bad("help: unknown command \"\(name)\" (see crun-swift --help)") }
                Diagnostics.print(text)
                return 0
            case "run":
                let parsed = try CommandLineParser.parse(rest, specs: RunCommand.specs + GlobalOptions.specs, command: "run")
                if parsed.has("help") { Diagnostics.print(Help.command("run")!); return 0 }
                let globals = try GlobalOptions(globalsParsed.merging(parsed))
                Diagnostics.enableDebug(globals.debug)
                ExeSeal.ensure(spareDirectory: globals.root)  // re-executes from a sealed binary (once)
                Diagnostics.debug("run \(parsed.positionals.joined(separator: " ")) (root \(globals.root)); cgroup manager \(globals.cgroups)")
                return try RunCommand.main(parsed, globals: globals)
            case let c where LifecycleCommands.commands[c] != nil:
                let cmd = LifecycleCommands.commands[c]!
                let parsed = try CommandLineParser.parse(rest, specs: cmd.specs + GlobalOptions.specs, command: c,
                                                         stopAtFirstPositional: cmd.stopAtPositional)
                if parsed.has("help") { Diagnostics.print(Help.command(c)!); return 0 }
                let globals = try GlobalOptions(globalsParsed.merging(parsed))
                Diagnostics.logPath = globals.log
                Diagnostics.jsonLog = globals.logFormat == "json"
                Diagnostics.enableDebug(globals.debug)
                // Commands that clone into a container re-execute from a sealed binary first
                // (`start` does it itself, only when it has startContainer hooks).
                if c == "create" || c == "exec" { ExeSeal.ensure(spareDirectory: globals.root) }
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

@testable import CrunCLI
import Testing

/// The help texts come from the parser's own flag tables, so a flag cannot be accepted and
/// missing from help, or listed without a description.
@Suite struct HelpTests {
    static let commands = ["run"] + LifecycleCommands.commands.keys.sorted()

    @Test func everyCommandIsSummarisedAndHasHelp() {
        let summarised = Set(Help.summaries.map(\.name))
        for c in Self.commands {
            #expect(summarised.contains(c), "\(c) missing from crun-swift --help")
            #expect(Help.command(c) != nil, "\(c) has no help")
        }
        #expect(summarised.subtracting(Self.commands) == ["help"])
        #expect(Help.command("nosuch") == nil)
    }

    @Test(arguments: commands)
    func everyFlagHasALineWithADescription(_ command: String) throws {
        let specs = command == "run" ? RunCommand.specs : LifecycleCommands.commands[command]!.specs
        let text = try #require(Help.command(command))
        let lines = text.split(separator: "\n")
        for spec in specs {
            #expect(!spec.help.isEmpty, "\(command) --\(spec.name): no description")
            let line = lines.first { $0.hasPrefix("  --\(spec.name)") }
            #expect(line?.hasSuffix(spec.help) == true, "\(command) --\(spec.name): no line of its own")
            for alias in spec.names.dropFirst() { #expect(line?.contains(alias.count == 1 ? "-\(alias)" : "--\(alias)") == true) }
        }
    }

    @Test func mainHelpListsGlobalFlags() {
        for spec in GlobalOptions.specs {
            #expect(Help.main.contains("  --\(spec.name)"), "--\(spec.name)")
            #expect(!spec.help.isEmpty)
        }
    }

    @Test func flagColumnsAlign() {
        let text = Help.flagLines([FlagSpec(["bundle", "b"], value: true, help: "dir"), FlagSpec(["keep"], help: "k")])
        #expect(text == "  --bundle value, -b value  dir\n  --keep                    k")
    }

    @Test func globalUnknownFlagHasOnePrefix() {
        #expect(CommandLineError.unknownFlag("--nope", command: "").description == "flag provided but not defined: --nope")
        #expect(CommandLineError.unknownFlag("--nope", command: "run").description == "run: flag provided but not defined: --nope")
    }
}

import CrunCLI
import Testing

@Suite struct CommandLineParserTests {
    let specs = [FlagSpec(["bundle", "b"], value: true, help: ""), FlagSpec(["no-pivot"], help: ""),
                 FlagSpec(["pid-file"], value: true, help: ""), FlagSpec(["rootless"], value: true, help: ""),
                 FlagSpec(["detach", "d"], help: "")]

    func parse(_ args: [String], stop: Bool = false) throws -> ParsedArguments {
        try CommandLineParser.parse(args[...], specs: specs, command: "run", stopAtFirstPositional: stop)
    }

    @Test func runcForms() throws {
        for args in [["--bundle", "/b", "id"], ["--bundle=/b", "id"], ["-b", "/b", "id"], ["-bundle", "/b", "id"], ["id", "--bundle", "/b"]] {
            let p = try parse(args)
            #expect(p.value("bundle") == "/b", "\(args)")
            #expect(p.positionals == ["id"], "\(args)")
        }
    }

    @Test func booleansAndValues() throws {
        let p = try parse(["--no-pivot", "--detach=false", "--rootless=false", "--pid-file", "/p", "x"])
        #expect(p.has("no-pivot") && !p.has("detach"))
        #expect(p.value("rootless") == "false" && p.value("pid-file") == "/p")
        #expect(throws: CommandLineError.badBool("--no-pivot=maybe", "maybe")) { try parse(["--no-pivot=maybe"]) }
    }

    @Test func errors() {
        #expect(throws: CommandLineError.unknownFlag("--nope", command: "run")) { try parse(["--nope"]) }
        #expect(throws: CommandLineError.missingValue("--bundle")) { try parse(["--bundle"]) }
    }

    @Test func doubleDashAndStopAtPositional() throws {
        #expect(try parse(["--", "--bundle"]).positionals == ["--bundle"])
        #expect(try parse(["id", "sh", "-c", "x"], stop: true).positionals == ["id", "sh", "-c", "x"])
    }

    @Test func subcommandIsFoundAfterGlobalFlags() {
        let globals = [FlagSpec(["root"], value: true, help: ""), FlagSpec(["debug"], help: ""), FlagSpec(["log-format"], value: true, help: "")]
        let argv = ["--root", "/run/x", "--debug", "--log-format=json", "create", "--bundle", "b", "id"][...]
        #expect(CommandLineParser.subcommandIndex(argv, globals: globals) == 4)
        #expect(CommandLineParser.subcommandIndex(["--debug"][...], globals: globals) == nil)
    }
}

@testable import SwnetCore
import Testing

/// The command line refuses what it does not know before doing anything (issue 16.8).
@Suite struct SwnetCLIParseTests {
    func exitCode(_ args: [String]) -> Int32? {
        if case .exit(let code) = SwnetCLI.parse(args) { return code }
        return nil
    }

    @Test(arguments: [
        ["del", "net", "/run/netns/a", "--idd", "pod-a"],
        ["del", "net", "/run/netns/a", "--id"],
        ["del", "net", "/run/netns/a", "--id", "a", "--id", "b"],
        ["gc", "net", "--id", "a"],
        ["status", "net", "--ifname", "eth1"],
        ["add", "net"],
        ["add", "net", "/run/netns/a", "extra"],
        ["add", "net", "/run/netns/a", "-i", "x"],
        ["frobnicate", "net"],
        [],
    ]) func refused(args: [String]) {
        #expect(exitCode(args) == 2)
    }

    @Test func helpAndVersionExitZero() {
        for args in [["-h"], ["--help"], ["--version"], ["add", "-h"]] { #expect(exitCode(args) == 0) }
    }

    @Test func flagsInBothForms() {
        guard case .run(let verb, let positional, let flags) = SwnetCLI.parse(["del", "--id=pod-a", "net", "/run/netns/a", "--ifname", "net-1"]) else {
            Issue.record("refused")
            return
        }
        #expect(verb == "del" && positional == ["net", "/run/netns/a"])
        #expect(flags["id"] == ["pod-a"] && flags["ifname"] == ["net-1"])
        guard case .run(_, _, let gcFlags) = SwnetCLI.parse(["gc", "net", "--valid", "a/eth0", "--valid", "b/eth0"]) else {
            Issue.record("refused")
            return
        }
        #expect(gcFlags["valid"] == ["a/eth0", "b/eth0"])
    }
}

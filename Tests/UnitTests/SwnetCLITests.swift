@testable import CNI
@testable import IPAM
@testable import SwnetBridge
@testable import SwnetDNS
@testable import swnet
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

/// The DNS server's answers too big for UDP (issue 16.4).
@Suite struct DNSTruncationTests {
    @Test func aTruncatedAnswerKeepsTheQuestionAndSetsTC() throws {
        var packet: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        packet += DNSRecord.encodeName("big.pods.test") + [0, 1, 0, 1]
        let query = try #require(DNSQuery(packet))
        let records = (1...60).map { DNSRecord(type: DNSQuery.typeA, ttl: 5, data: [10, 70, 1, UInt8($0)]) }
        let full = query.response(rcode: 0, answers: records, authoritative: true)
        #expect(full.count > 512)
        let cut = DNSServer.truncated(full)
        #expect(cut.count == 12 + query.question.count)
        #expect(cut[2] & 0x02 != 0 && cut[0] == 0x12 && cut[1] == 0x34)
        #expect(cut[6...11].allSatisfy { $0 == 0 } && Array(cut[12...]) == query.question)
    }
}

import Glibc
import Netlink
import NetlinkTesting
@testable import CNI
@testable import IPAM
@testable import SwnetBridge
@testable import SwnetDNS
@testable import swnet
import Testing

/// A node's (or pod's) links in memory (RecordingNetlink); `log` is what was asked of it.
final class FakeLinks {
    let host = RecordingNetlink()
    let ns: RecordingNetlink.Namespace

    init(_ links: [LinkInfo] = [], namespace: String = "node") {
        ns = namespace == "node" ? host.nodeNamespace : host.addNamespace(namespace)
        ns.table = links
    }

    var links: [LinkInfo] { ns.table }
    var log: [String] { host.calls(in: ns.namespace) }
}

@Suite struct HostVethTests {
    // Two attachments whose first-choice node veth names clash (32-bit FNV-1a).
    let a = (id: "pod1039599", ifname: "eth0")
    let b = (id: "pod1222382", ifname: "eth0")

    @Test func theClashingPairIsReal() {
        let na = HostVeth.candidates(containerID: a.id, ifname: a.ifname)
        let nb = HostVeth.candidates(containerID: b.id, ifname: b.ifname)
        #expect(na[0] == "vethcb930e0e" && nb[0] == "vethcb930e0e")
        #expect(Set(na).count == HostVeth.alternatives && na[1] != nb[1])
    }

    @Test func aClashTakesTheNextNameAndLeavesTheOtherAlone() throws {
        let aAlias = HostVeth.alias(containerID: a.id, ifname: a.ifname)
        let node = FakeLinks([LinkInfo(index: 3, name: "vethcb930e0e", master: 2, alias: aAlias),
                              LinkInfo(index: 9, name: "swtmp00000001", master: 2)])
        let name = try HostVeth.claim(node.ns, index: 9, containerID: b.id, ifname: b.ifname)
        #expect(name == HostVeth.candidates(containerID: b.id, ifname: b.ifname)[1])
        #expect(!node.log.contains { $0.hasPrefix("delete") })
        #expect(node.links.contains { $0.index == 3 && $0.name == "vethcb930e0e" && $0.alias == aAlias })
    }

    @Test func aLinkWithoutOurAliasIsNeverTaken() throws {
        // A veth of that name with no alias (another tool's, or an older swnet's): not provably ours.
        let node = FakeLinks([LinkInfo(index: 3, name: "vethcb930e0e", master: 2),
                              LinkInfo(index: 9, name: "swtmp00000001", master: 2)])
        _ = try HostVeth.claim(node.ns, index: 9, containerID: a.id, ifname: a.ifname)
        #expect(node.links.contains { $0.index == 3 } && !node.log.contains { $0.hasPrefix("delete") })
    }

    @Test func ourLeftoverIsReplaced() throws {
        let alias = HostVeth.alias(containerID: a.id, ifname: a.ifname)
        let node = FakeLinks([LinkInfo(index: 3, name: "vethcb930e0e", master: 2, alias: alias),
                              LinkInfo(index: 9, name: "swtmp00000001", master: 2)])
        let name = try HostVeth.claim(node.ns, index: 9, containerID: a.id, ifname: a.ifname)
        #expect(name == "vethcb930e0e")
        #expect(node.log == ["delete vethcb930e0e", "setup 9 vethcb930e0e"])
    }

    @Test func everyNameTakenIsAClearError() {
        var links = HostVeth.candidates(containerID: a.id, ifname: a.ifname).enumerated().map {
            LinkInfo(index: Int32(10 + $0.offset), name: $0.element, master: 2, alias: "swnet:other/eth0")
        }
        links.append(LinkInfo(index: 9, name: "swtmp00000001", master: 2))
        let node = FakeLinks(links)
        #expect(throws: CNIError.self) { try HostVeth.claim(node.ns, index: 9, containerID: a.id, ifname: a.ifname) }
        #expect(node.links.count == HostVeth.alternatives + 1)
    }

    @Test func delRemovesOnlyItsOwnPairAndIsIdempotent() throws {
        let aAlias = HostVeth.alias(containerID: a.id, ifname: a.ifname)
        let bAlias = HostVeth.alias(containerID: b.id, ifname: b.ifname)
        let bName = HostVeth.candidates(containerID: b.id, ifname: b.ifname)[1]
        let node = FakeLinks([LinkInfo(index: 3, name: "vethcb930e0e", master: 2, alias: aAlias),
                              LinkInfo(index: 4, name: bName, master: 2, alias: bAlias)])
        let pod = FakeLinks([LinkInfo(index: 2, name: "eth0")], namespace: "/run/netns/p")
        try HostVeth.detach(node: node.ns, pod: pod.ns, containerID: b.id, ifname: b.ifname)
        #expect(node.links.map(\.name) == ["vethcb930e0e"])
        #expect(node.log == ["retire \(bName)", "reap swdel4"])
        // Both names were free at once: the pod's end was renamed too.
        #expect(pod.log == ["retire eth0"] && !pod.links.contains { $0.name == "eth0" })
        // Again, and with the namespace gone: nothing to do, no error, a's veth untouched.
        try HostVeth.detach(node: node.ns, pod: pod.ns, containerID: b.id, ifname: b.ifname)
        try HostVeth.detach(node: node.ns, pod: nil, containerID: b.id, ifname: b.ifname)
        #expect(node.links.map(\.name) == ["vethcb930e0e"])
    }

    @Test func delOfAVethWithoutAliasGoesThroughThePodEnd() throws {
        // An older swnet's veth (no alias): the pod end takes its peer.
        let node = FakeLinks([LinkInfo(index: 3, name: "vethcb930e0e", master: 2)])
        let pod = FakeLinks([LinkInfo(index: 2, name: "eth0")], namespace: "/run/netns/p")
        try HostVeth.detach(node: node.ns, pod: pod.ns, containerID: a.id, ifname: a.ifname)
        #expect(node.log.isEmpty)
        #expect(pod.log == ["retire eth0", "reap swdel2"])
    }

    @Test func gcKeepsValidAttachmentsAndRemovesTheRest() throws {
        func host(_ id: String, _ ifname: String, index: Int32, k: Int = 0) -> LinkInfo {
            LinkInfo(index: index, name: HostVeth.candidates(containerID: id, ifname: ifname)[k], master: 2,
                       alias: HostVeth.alias(containerID: id, ifname: ifname))
        }
        let node = FakeLinks([
            host("live-net", "net-1", index: 10),
            host("a.b_c", "e.t_h-0", index: 11, k: 1),
            host("dead", "eth0", index: 12),
            LinkInfo(index: 13, name: HostVeth.candidates(containerID: "old", ifname: "eth0")[0], master: 2),  // older swnet, live
            LinkInfo(index: 14, name: "vethdeadbeef", master: 2),  // older swnet, no attachment
            LinkInfo(index: 15, name: "swtmp12345678", master: 2),  // an ADD that died
            LinkInfo(index: 16, name: "swdel12345678", master: 2, alias: HostVeth.alias(containerID: "live-net", ifname: "net-1")),
            LinkInfo(index: 17, name: "vethforeign00", master: 5, alias: "swnet:dead/eth0"),  // another bridge
            LinkInfo(index: 18, name: "enp1s0", master: 2),  // not a veth of ours
        ])
        let valid = [NetworkConfig.Attachment(containerID: "live-net", ifname: "net-1"),
                     NetworkConfig.Attachment(containerID: "a.b_c", ifname: "e.t_h-0"),
                     NetworkConfig.Attachment(containerID: "old", ifname: "eth0")]
        let deleted = try HostVeth.collect(node.ns, bridge: 2, valid: valid)
        #expect(Set(deleted) == [HostVeth.candidates(containerID: "dead", ifname: "eth0")[0], "vethdeadbeef", "swtmp12345678", "swdel12345678"])
        #expect(Set(node.links.map(\.index)) == [10, 11, 13, 17, 18])
    }

    @Test func longIDsStillFitTheAlias() {
        let id = String(repeating: "a", count: 300)
        let alias = HostVeth.alias(containerID: id, ifname: "eth0")
        #expect(alias.utf8.count <= 255 && alias != HostVeth.alias(containerID: id + "b", ifname: "eth0"))
    }
}

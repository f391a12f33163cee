import Foundation
import Glibc
import JSONCore
import LinuxSys
import LinuxSysTesting
import Netlink
import NetlinkTesting
@testable import CNI
@testable import IPAM
@testable import SwnetBridge
import Testing

/// The bridge plugin's ADD, DEL and GC on the recording seams (RecordingNetlink,
/// RecordingSyscalls): no root, no kernel. The same paths run for real in scripts/cni/swnet-test.
@Suite struct BridgePluginTests {
    let dataDir: String
    let podNetns: String      // an existing file, so DEL sees the namespace as present
    let netlink = RecordingNetlink()
    let sys = RecordingSyscalls()

    init() {
        dataDir = NSTemporaryDirectory() + "swnet-bridge-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        podNetns = dataDir + "/netns-p"
        _ = FileManager.default.createFile(atPath: podNetns, contents: nil)
        netlink.addNamespace(podNetns)
    }

    var plugin: BridgePlugin { BridgePlugin(sys: sys, netlink: netlink) }
    var node: RecordingNetlink.Namespace { netlink.nodeNamespace }
    var pod: RecordingNetlink.Namespace { netlink.namespaces[podNetns]! }

    func config(_ extra: String = "", valid: [(String, String)]? = nil) throws -> NetworkConfig {
        let attachments = valid.map { list in
            #","cni.dev/valid-attachments":["# + list.map { #"{"containerID":"\#($0.0)","ifname":"\#($0.1)"}"# }.joined(separator: ",") + "]"
        } ?? ""
        let text = #"{"cniVersion":"1.1.0","name":"t","type":"swnet","bridge":"br-t","isDefaultGateway":true,"mtu":1400,"# + extra
            + #""ipam":{"type":"swnet-ipam","dataDir":"\#(dataDir)","ranges":[[{"subnet":"10.9.0.0/24"}],[{"subnet":"fd09::/64"}]]}"#
            + attachments + "}"
        return try NetworkConfig(json: try JSONParser.parse(Array(text.utf8)))
    }

    func env(_ command: String, _ id: String = "c1", ifname: String = "eth0", args: String = "") -> CNIEnvironment {
        CNIEnvironment(command: command, containerID: id, netns: podNetns, ifname: ifname, args: args, path: "/nonexistent")
    }

    func held(_ conf: NetworkConfig, _ id: String = "c1", ifname: String = "eth0") -> [IPAddress] {
        Allocator(config: conf.ipam!).held(containerID: id, ifname: ifname)
    }

    /// Node veths (not the bridge).
    var nodeVeths: [LinkInfo] { node.table.filter { $0.kind == "veth" } }

    @Test func addMakesTheBridgeThePairAddressesAndRoutes() throws {
        let conf = try config()
        let result = try plugin.add(conf, env("ADD"))
        let bridge = try #require(node.table.first { $0.name == "br-t" })
        #expect(bridge.kind == "bridge" && bridge.isUp)
        let host = try #require(nodeVeths.first)
        #expect(host.name == HostVeth.candidates(containerID: "c1", ifname: "eth0")[0])
        #expect(host.alias == HostVeth.alias(containerID: "c1", ifname: "eth0") && host.master == bridge.index && host.isUp)
        let eth0 = try #require(pod.table.first { $0.name == "eth0" })
        #expect(eth0.isUp && eth0.mtu == 1400)
        // The bridge in the result is the one ensureBridge found (no second request for it).
        #expect(result.interfaces.first?.name == "br-t" && result.interfaces.first?.mac == node.macText(bridge))
        #expect(pod.addressTable[eth0.index]?.map { $0.prefix } == [24, 64])
        #expect(pod.routes.filter { $0.prefix == 0 }.count == 2)  // a default route per family
        #expect(node.addressTable[bridge.index]?.count == 2)     // the gateways
        #expect(result.ips.map(\.address.description) == ["10.9.0.2/24", "fd09::2/64"])
        #expect(Set(held(conf)) == Set(result.ips.map(\.address.address)))
        #expect(sys.calls.contains("sysctl net/ipv4/ip_forward=1") && sys.calls.contains("sysctl net/ipv6/conf/all/forwarding=1"))
        #expect(sys.calls.filter { $0.hasPrefix("checkpoint") }
            == ["checkpoint before-ipam", "checkpoint after-ipam", "checkpoint after-veth", "checkpoint before-result"])
    }

    /// Every step of ADD after IPAM, made to fail: the error says which step, and nothing of
    /// the attachment is left (no lease, no veth in either namespace, no DNS names).
    @Test(arguments: [
        ("node: addBridge", "create bridge br-t"),
        ("node: addVeth", "create veth"),
        ("node: setup", "name the node's veth"),
        ("node: setHairpin", "hairpin mode"),
        ("pod: addAddress", "add 10.9.0.2/24 to eth0"),
        ("pod: setUp", "bring eth0 up"),
        ("pod: addRoute", "add route"),
        ("node: addAddress", "add gateway 10.9.0.1/24 to br-t"),
        ("node: addRoute", "route 10.20.0.0/24 via 192.168.1.2"),
        ("spawn", "cannot start the DNS server"),
    ])
    func aFailedStepUndoesEverything(failing: String, message: String) throws {
        let conf = try config(#""hairpinMode":true,"dns":{"enable":true},"peers":[{"subnet":"10.20.0.0/24","via":"192.168.1.2"}],"#)
        if failing == "spawn" { sys.failures["spawn"] = EAGAIN } else {
            netlink.failures[failing.replacingOccurrences(of: "pod: ", with: "\(podNetns): ")] = EPERM
        }
        #expect { try plugin.add(conf, env("ADD")) } throws: { error in
            (error as? CNIError)?.description.contains(message) == true
        }
        #expect(held(conf).isEmpty)
        #expect(nodeVeths.isEmpty && pod.table.isEmpty)
        #expect(PodDNS.registry(conf).entries().isEmpty)
    }

    @Test func aFailureBeforeIPAMLeavesNoLease() throws {
        let conf = try config()
        pod.table = [LinkInfo(index: 99, name: "eth0")]
        #expect(throws: CNIError.self) { try plugin.add(conf, env("ADD")) }
        #expect(held(conf).isEmpty && !sys.calls.contains("checkpoint before-ipam"))
    }

    @Test func aMissingNamespaceIsUnknownContainer() throws {
        let conf = try config()
        let e = CNIEnvironment(command: "ADD", containerID: "c1", netns: dataDir + "/gone", ifname: "eth0")
        #expect { try plugin.add(conf, e) } throws: { ($0 as? CNIError)?.code == .unknownContainer }
    }

    @Test func delIsIdempotent() throws {
        let conf = try config()
        _ = try plugin.add(conf, env("ADD"))
        try plugin.del(conf, env("DEL"))
        #expect(held(conf).isEmpty && nodeVeths.isEmpty && pod.table.isEmpty)
        // Already gone: success, and nothing asked of the kernel but lookups.
        let before = netlink.calls.count
        try plugin.del(conf, env("DEL"))
        #expect(netlink.calls.count == before)
        // The namespace gone too, and an attachment that never was: success.
        netlink.removeNamespace(podNetns)
        unlink(podNetns)
        try plugin.del(conf, env("DEL"))
        try plugin.del(conf, env("DEL", "never"))
    }

    @Test func delLeavesOtherAttachmentsAlone() throws {
        let conf = try config()
        _ = try plugin.add(conf, env("ADD", "c1"))
        _ = try plugin.add(conf, env("ADD", "c2", ifname: "net1"))
        try plugin.del(conf, env("DEL", "c1"))
        #expect(held(conf, "c1").isEmpty && held(conf, "c2", ifname: "net1").count == 2)
        #expect(nodeVeths.map(\.alias) == [HostVeth.alias(containerID: "c2", ifname: "net1")])
        #expect(pod.table.map(\.name) == ["net1"])
    }

    @Test func gcKeepsValidAttachmentsAndRemovesTheRest() throws {
        _ = try plugin.add(try config(), env("ADD", "keep"))
        _ = try plugin.add(try config(), env("ADD", "stale", ifname: "net1"))
        let bridge = try #require(node.table.first { $0.name == "br-t" })
        node.table.append(LinkInfo(index: 500, name: "swtmp00c0ffee", master: bridge.index, kind: "veth"))  // an ADD that died
        let conf = try config(valid: [("keep", "eth0")])
        try plugin.gc(conf, CNIEnvironment(command: "GC", path: "/nonexistent"))
        #expect(held(conf, "keep").count == 2 && held(conf, "stale", ifname: "net1").isEmpty)
        #expect(nodeVeths.map(\.alias) == [HostVeth.alias(containerID: "keep", ifname: "eth0")])
        // Nothing to collect: GC again changes nothing.
        let before = netlink.calls.count
        try plugin.gc(conf, CNIEnvironment(command: "GC", path: "/nonexistent"))
        #expect(netlink.calls.count == before)
    }

    @Test func requestedAddressesAndMACAreGiven() throws {
        let conf = try config()
        let result = try plugin.add(conf, env("ADD", args: "IgnoreUnknown=1;IP=10.9.0.77;MAC=02:42:ac:11:00:09"))
        #expect(result.ips.map(\.address.description).contains("10.9.0.77/24"))
        #expect(pod.table.first { $0.name == "eth0" }?.mac == [0x02, 0x42, 0xac, 0x11, 0x00, 0x09])
        // Taken now: a second attachment asking for it fails and keeps nothing.
        #expect { try plugin.add(conf, env("ADD", "c2", ifname: "net1", args: "IP=10.9.0.77")) } throws: {
            ($0 as? CNIError)?.code == .addressUnavailable
        }
        #expect(held(conf, "c2", ifname: "net1").isEmpty && pod.table.map(\.name) == ["eth0"])
        // Outside the ranges: refused before anything is made.
        #expect { try plugin.add(conf, env("ADD", "c3", ifname: "net2", args: "IP=10.99.0.1")) } throws: {
            ($0 as? CNIError)?.code == .invalidConfig
        }
        #expect(!netlink.calls.contains { $0.contains("net2") })
    }
}

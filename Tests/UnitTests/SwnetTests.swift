import Foundation
import JSONCore
@testable import CNI
@testable import IPAM
@testable import SwnetBridge
@testable import SwnetDNS
@testable import swnet
import Testing

@Suite struct IPAddressTests {
    @Test func parseFormatAndArithmetic() {
        #expect(IPAddress("10.0.0.255")?.advanced(by: 1)?.description == "10.0.1.0")
        #expect(IPAddress("fd00::ffff")?.advanced(by: 1)?.description == "fd00::1:0")
        #expect(IPAddress("0.0.0.0")?.advanced(by: -1) == nil)
        #expect(IPAddress("300.1.1.1") == nil && IPAddress("fd00::g") == nil)
        let c = CIDR("10.1.2.3/22")!
        #expect(c.network.description == "10.1.0.0" && c.last.description == "10.1.3.255")
        #expect(c.contains(IPAddress("10.1.3.7")!) && !c.contains(IPAddress("10.1.4.0")!))
        #expect(CIDR("fd00::1/64")!.canonical.description == "fd00::/64")
        #expect(CIDR("10.0.0.0/8")!.overlaps(CIDR("10.5.0.0/16")!) && !CIDR("10.0.0.0/16")!.overlaps(CIDR("10.1.0.0/16")!))
        #expect(CIDR("10.0.0.0/33") == nil && CIDR("10.0.0.0") == nil)
    }
}

@Suite struct NetworkConfigTests {
    func config(_ json: String) throws(CNIError) -> NetworkConfig { try NetworkConfig(json: try! JSONParser.parse(json)) }
    func code(_ json: String) -> Int? {
        do { _ = try config(json); return nil } catch { return error.code.rawValue }
    }

    @Test func defaultsFollowTheReferenceBridge() throws {
        let c = try config(#"{"cniVersion":"1.0.0","name":"n","type":"swnet","isDefaultGateway":true,"ipam":{"type":"swnet-ipam","subnet":"10.9.0.0/24"}}"#)
        #expect(c.bridge == "cni0" && c.isGateway)
        let r = try #require(c.ipam?.rangeSets.first?.first)
        #expect(r.gateway?.description == "10.9.0.1" && r.start.description == "10.9.0.1" && r.end.description == "10.9.0.254")
        #expect(c.ipam?.dataDir == "/var/lib/cni/networks")
    }

    @Test func errorsCarryTheSpecCodes() {
        #expect(code(#"{"cniVersion":"2.0.0","name":"n"}"#) == 1)
        #expect(code(#"{"cniVersion":"1.0.0","name":"n","mtu":"big"}"#) == 6)
        #expect(code(#"{"cniVersion":"1.0.0"}"#) == 7)
        #expect(code(#"{"cniVersion":"1.0.0","name":"n","hairpinMode":true,"promiscMode":true}"#) == 7)
        #expect(code(#"{"cniVersion":"1.0.0","name":"n","ipam":{"type":"swnet-ipam","ranges":[[{"subnet":"10.0.0.0/31"}]]}}"#) == 7)
        #expect(code(#"{"cniVersion":"1.0.0","name":"n","ipam":{"type":"swnet-ipam","ranges":[[{"subnet":"10.0.0.0/24"}],[{"subnet":"10.0.0.0/25"}]]}}"#) == 7)
        #expect(code(#"{"cniVersion":"1.0.0","name":"n","ipam":{"type":"swnet-ipam","ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"10.0.1.5"}]]}}"#) == 7)
        #expect(code(#"{"cniVersion":"1.0.0","name":"n","mac":"zz:00:00:00:00:00"}"#) == 7)
    }

    @Test func environmentIsChecked() {
        func code(_ env: CNIEnvironment) -> Int? {
            do { try env.validate(); return nil } catch { return error.code.rawValue }
        }
        #expect(code(CNIEnvironment(command: "ADD", containerID: "c", netns: "/n", ifname: "eth0")) == nil)
        #expect(code(CNIEnvironment(command: "ADD", containerID: "c", ifname: "eth0")) == 4)
        #expect(code(CNIEnvironment(command: "DEL", containerID: "c", ifname: "eth0")) == nil)
        #expect(code(CNIEnvironment(command: "ADD", containerID: "-c", netns: "/n", ifname: "eth0")) == 4)
        for bad in ["", ".", "..", "a/b", "a b", "sixteen-chars-xx"] {
            #expect(!CNIEnvironment.validInterfaceName(bad), "\(bad)")
        }
    }

    @Test func resultVersions() throws {
        var r = CNIResult()
        r.interfaces = [.init(name: "eth0", mac: "aa:bb:cc:dd:ee:ff", mtu: 1400, sandbox: "/run/netns/x")]
        r.ips = [.init(address: CIDR("10.0.0.2/24")!, gateway: IPAddress("10.0.0.1"), interface: 0)]
        r.routes = [.init(dst: CIDR("0.0.0.0/0")!, gw: IPAddress("10.0.0.1"))]
        #expect(r.json(version: "0.4.0").serialized() == #"{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","sandbox":"/run/netns/x"}],"ips":[{"version":"4","address":"10.0.0.2/24","gateway":"10.0.0.1","interface":0}],"routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}],"dns":{}}"#)
        #expect(r.json(version: "1.1.0").serialized() == #"{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","mtu":1400,"sandbox":"/run/netns/x"}],"ips":[{"address":"10.0.0.2/24","gateway":"10.0.0.1","interface":0}],"routes":[{"dst":"0.0.0.0/0","gw":"10.0.0.1"}],"dns":{}}"#)
        let back = try CNIResult(json: r.json(version: "0.3.1"))
        #expect(back.ips.first?.address.description == "10.0.0.2/24")
    }
}

/// The allocator against a temp directory: no root, no netlink.
@Suite struct AllocatorTests {
    let dir = NSTemporaryDirectory() + "swnet-ipam-\(UUID().uuidString.prefix(8))"

    func allocator(_ ranges: String, reserved: String = "[]") throws -> Allocator {
        let json = try JSONParser.parse(#"{"type":"swnet-ipam","dataDir":"\#(dir)","ranges":\#(ranges),"reserved":\#(reserved)}"#)
        return Allocator(config: try IPAMConfig(json: json, network: "t"))
    }

    @Test func allocatesRoundRobinSkipsGatewayAndReserved() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try allocator(#"[[{"subnet":"10.0.0.0/29"}]]"#, reserved: #"["10.0.0.3"]"#)
        var got: [String] = []
        for i in 0..<4 { got.append(try a.allocate(containerID: "c\(i)", ifname: "eth0", netns: "").ips[0].address.description) }
        #expect(got == ["10.0.0.2/29", "10.0.0.4/29", "10.0.0.5/29", "10.0.0.6/29"])
        #expect(throws: CNIError.self) { try a.allocate(containerID: "c9", ifname: "eth0", netns: "") }
        try a.release(containerID: "c1", ifname: "eth0")
        // Round-robin continues after the last one handed out, then wraps to the freed one.
        #expect(try a.allocate(containerID: "c5", ifname: "eth0", netns: "").ips[0].address.description == "10.0.0.4/29")
    }

    @Test func duplicateAttachmentIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try allocator(#"[[{"subnet":"10.0.0.0/24"}]]"#)
        _ = try a.allocate(containerID: "c", ifname: "eth0", netns: "")
        #expect(throws: CNIError.self) { try a.allocate(containerID: "c", ifname: "eth0", netns: "") }
        #expect(try a.allocate(containerID: "c", ifname: "eth1", netns: "").ips.count == 1)
    }

    @Test func dualStackAndLeaseFormat() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try allocator(#"[[{"subnet":"10.0.0.0/24"}],[{"subnet":"fd00::/64","rangeStart":"fd00::100"}]]"#)
        let r = try a.allocate(containerID: "c", ifname: "eth0", netns: "/run/netns/p")
        #expect(r.ips.map(\.address.description) == ["10.0.0.2/24", "fd00::100/64"])
        // host-local's file format: "<id>\r\n<ifname>", plus the netns on a third line.
        #expect(try String(contentsOfFile: dir + "/t/10.0.0.2", encoding: .utf8) == "c\r\neth0\r\n/run/netns/p")
    }

    @Test func gcKeepsOnlyValidAttachments() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try allocator(#"[[{"subnet":"10.0.0.0/24"}]]"#)
        for id in ["a", "b", "c"] { _ = try a.allocate(containerID: id, ifname: "eth0", netns: "") }
        let freed = try a.collect(valid: [.init(containerID: "b", ifname: "eth0")])
        #expect(Set(freed.map(\.description)) == ["10.0.0.2", "10.0.0.4"])
        #expect(a.held(containerID: "b", ifname: "eth0").map(\.description) == ["10.0.0.3"])
    }

    @Test func deadNamespacesAreReclaimedWhenTheRangeRunsOut() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try allocator(#"[[{"subnet":"10.0.0.0/30"}]]"#)  // only .2 (.1 is the gateway)
        _ = try a.allocate(containerID: "gone", ifname: "eth0", netns: dir + "/no-such-netns")
        #expect(try a.allocate(containerID: "new", ifname: "eth0", netns: "").ips[0].address.description == "10.0.0.2/30")
    }
}

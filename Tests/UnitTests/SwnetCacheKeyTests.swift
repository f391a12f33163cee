import Foundation
import JSONCore
@testable import CNI
@testable import IPAM
@testable import SwnetBridge
@testable import SwnetDNS
@testable import swnet
import Testing

/// Keys built from ids, ifnames and network names that hold `-`, `_` and `.` are never misread.
@Suite struct CacheKeyTests {
    let dir = NSTemporaryDirectory() + "swnet-keys-\(UUID().uuidString.prefix(8))"
    static let names = ["live-net", "live_net", "live.net", "a-b_c.d"]
    static let ifnames = ["net-1", "net_1", "net.1", "eth0"]

    @Test(arguments: names) func resultCacheGivesBackEveryAttachment(network: String) throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = ResultCache(dir: dir, network: network)
        let other = ResultCache(dir: dir, network: network + "-x")  // a name that extends ours
        var stored: Set<NetworkConfig.Attachment> = []
        for id in CacheKeyTests.names {
            for ifname in CacheKeyTests.ifnames {
                cache.store(id: id, ifname: ifname, result: .object([("cniVersion", .string("1.0.0")), ("note", .string("\(id)/\(ifname)"))]))
                stored.insert(.init(containerID: id, ifname: ifname))
            }
        }
        other.store(id: "x", ifname: "eth0", result: .object([]))
        #expect(Set(cache.attachments()) == stored)
        #expect(cache.attachments().count == stored.count)
        #expect(cache.result(id: "live-net", ifname: "net-1")?["note"]?.stringValue == "live-net/net-1")
        #expect(cache.result(id: "live", ifname: "net-net-1") == nil)
        cache.remove(id: "live-net", ifname: "net-1")
        #expect(!cache.attachments().contains(.init(containerID: "live-net", ifname: "net-1")))
        #expect(other.attachments() == [.init(containerID: "x", ifname: "eth0")])
    }

    @Test func anOlderFileCountsAsEveryWayItsNameSplits() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/results", withIntermediateDirectories: true)
        try #"{"cniVersion":"1.0.0"}"#.write(toFile: dir + "/results/rnet-live-net-1", atomically: true, encoding: .utf8)
        let found = Set(ResultCache(dir: dir, network: "rnet").attachments())
        #expect(found.contains(.init(containerID: "live-net", ifname: "1")) && found.contains(.init(containerID: "live", ifname: "net-1")))
        #expect(ResultCache(dir: dir, network: "rnet").result(id: "live", ifname: "net-1") != nil)
    }

    @Test func leaseIndexesOfLookAlikeAttachmentsStaySeparate() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let json = try JSONParser.parse(#"{"type":"swnet-ipam","dataDir":"\#(dir)","ranges":[[{"subnet":"10.0.0.0/24"}]]}"#)
        let a = Allocator(config: try IPAMConfig(json: json, network: "n_1.x-y"))
        let first = try a.allocate(containerID: "a_b", ifname: "c", netns: "").ips[0].address.address
        let second = try a.allocate(containerID: "a", ifname: "b_c", netns: "").ips[0].address.address
        try a.release(containerID: "a_b", ifname: "c")
        #expect(a.held(containerID: "a_b", ifname: "c").isEmpty)
        #expect(a.held(containerID: "a", ifname: "b_c") == [second])
        #expect(a.store.leases().map(\.ip) == [second] && first != second)
    }
}

/// Names and paths that reach the file system, and delegation (issue 16.3).
@Suite struct NamesAndPathsTests {
    func code(_ json: String) -> Int? {
        do { _ = try NetworkConfig(json: try JSONParser.parse(json)); return nil } catch let e as CNIError { return e.code.rawValue } catch { return -1 }
    }
    func net(name: String = "n", type: String = "swnet", ipam: String) -> String {
        #"{"cniVersion":"1.0.0","name":"\#(name)","type":"\#(type)","ipam":\#(ipam)}"#
    }
    let ipam = #"{"type":"swnet-ipam","dataDir":"/run/x","ranges":[[{"subnet":"10.0.0.0/24"}]]}"#

    @Test(arguments: ["..", ".", "-n", "_n", ".hidden", "a/b", "a b", ""]) func badNetworkNames(name: String) {
        #expect(code(net(name: name, ipam: ipam)) == 7)
    }

    @Test(arguments: ["n", "n-1", "n_1.x", "9.net"]) func goodNetworkNames(name: String) {
        #expect(code(net(name: name, ipam: ipam)) == nil)
    }

    @Test(arguments: ["relative/dir", "", "/var/lib/../../etc", "/x/.."]) func dataDirMustBeAbsolute(dir: String) {
        #expect(code(net(ipam: #"{"type":"swnet-ipam","dataDir":"\#(dir)","ranges":[[{"subnet":"10.0.0.0/24"}]]}"#)) == 7)
    }

    @Test func theBridgePluginIsNotItsOwnIPAM() {
        #expect(code(net(ipam: #"{"type":"swnet","dataDir":"/run/x","ranges":[[{"subnet":"10.0.0.0/24"}]]}"#)) == 7)
        #expect(code(net(type: "mynet", ipam: #"{"type":"mynet","dataDir":"/run/x","ranges":[[{"subnet":"10.0.0.0/24"}]]}"#)) == 7)
        #expect(code(net(ipam: #"{"type":"../bin/swnet","dataDir":"/run/x"}"#)) == 7)
        #expect(code(net(ipam: #"{"type":"host-local","dataDir":"/run/x","ranges":[[{"subnet":"10.0.0.0/24"}]]}"#)) == nil)
    }

    @Test func delegatesAreMarked() {
        #expect(CNIEnvironment(command: "ADD").variables(command: "ADD").contains("SWNET_DELEGATED=1"))
    }
}

/// Addresses and MACs the runtime asks for (issue 16.5).
@Suite struct RequestedAddressTests {
    let dir = NSTemporaryDirectory() + "swnet-req-\(UUID().uuidString.prefix(8))"

    func allocator() throws -> Allocator {
        let json = try JSONParser.parse(#"{"type":"swnet-ipam","dataDir":"\#(dir)","ranges":[[{"subnet":"10.0.0.0/24","rangeEnd":"10.0.0.100"}],[{"subnet":"fd00::/64"}]],"reserved":["10.0.0.9"]}"#)
        return Allocator(config: try IPAMConfig(json: json, network: "req"))
    }
    func code(_ body: () throws -> Void) -> Int? {
        do { try body(); return nil } catch let e as CNIError { return e.code.rawValue } catch { return -1 }
    }

    @Test func theRequestedAddressIsGivenAndTheOtherSetAllocates() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try allocator()
        let r = try a.allocate(containerID: "c", ifname: "eth0", netns: "", requested: [IPAddress("10.0.0.77")!])
        #expect(r.ips.map(\.address.description) == ["10.0.0.77/24", "fd00::2/64"])
        #expect(r.ips.first?.gateway?.description == "10.0.0.1")
    }

    @Test func takenOutsideGatewayReservedAreRefusedAndNothingIsKept() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try allocator()
        _ = try a.allocate(containerID: "c1", ifname: "eth0", netns: "", requested: [IPAddress("10.0.0.77")!])
        #expect(code { _ = try a.allocate(containerID: "c2", ifname: "eth0", netns: "", requested: [IPAddress("fd00::5")!, IPAddress("10.0.0.77")!]) } == 104)
        #expect(a.held(containerID: "c2", ifname: "eth0").isEmpty)
        #expect(code { _ = try a.allocate(containerID: "c3", ifname: "eth0", netns: "", requested: [IPAddress("10.0.0.200")!]) } == 7)  // past rangeEnd
        #expect(code { _ = try a.allocate(containerID: "c3", ifname: "eth0", netns: "", requested: [IPAddress("10.9.0.5")!]) } == 7)
        #expect(code { _ = try a.allocate(containerID: "c3", ifname: "eth0", netns: "", requested: [IPAddress("10.0.0.1")!]) } == 7)
        #expect(code { _ = try a.allocate(containerID: "c3", ifname: "eth0", netns: "", requested: [IPAddress("10.0.0.9")!]) } == 104)
        #expect(code { _ = try a.allocate(containerID: "c3", ifname: "eth0", netns: "", requested: [IPAddress("10.0.0.5")!, IPAddress("10.0.0.6")!]) } == 7)
        #expect(a.store.leases().count == 2)  // c1's two
    }

    @Test func everySourceOfRequestsIsRead() throws {
        let raw = try JSONParser.parse(#"{"args":{"cni":{"ips":["10.0.0.5"]}},"runtimeConfig":{"ips":["10.0.0.6/24","fd00::6"]}}"#)
        let ips = try Requested.addresses(raw, args: try CNIArgs("IgnoreUnknown=1;IP=10.0.0.4,fd00::4;K8S_POD_NAME=p"))
        #expect(ips.map(\.description) == ["10.0.0.4", "fd00::4", "10.0.0.5", "10.0.0.6", "fd00::6"])
        #expect(code { _ = try Requested.addresses(raw, args: try CNIArgs("IP=10.0.0.300")) } == 7)
    }

    @Test func cniArgsAreCheckedAsTheReferencePluginsCheckThem() {
        #expect(code { _ = try CNIArgs("IP=10.0.0.4;FOO=bar") } == 4)
        #expect(code { _ = try CNIArgs("IgnoreUnknown=1;IP=10.0.0.4;FOO=bar") } == nil)
        #expect(code { _ = try CNIArgs("K8S_POD_NAME=p;K8S_POD_NAMESPACE=ns") } == nil)
        #expect(code { _ = try CNIArgs("garbage") } == 4)
    }

    @Test func laterMACSourcesWin() throws {
        func conf(_ extra: String) throws -> NetworkConfig {
            try NetworkConfig(json: try JSONParser.parse(#"{"cniVersion":"1.0.0","name":"n","type":"swnet"\#(extra)}"#))
        }
        #expect(try Requested.mac(try conf(#","mac":"02:00:00:00:00:01""#), args: try CNIArgs("MAC=02:00:00:00:00:02")) == "02:00:00:00:00:02")
        #expect(try Requested.mac(try conf(#","runtimeConfig":{"mac":"02:00:00:00:00:03"}"#), args: try CNIArgs("MAC=02:00:00:00:00:02")) == "02:00:00:00:00:03")
        #expect(code { _ = try Requested.mac(try conf(""), args: try CNIArgs("MAC=nope")) } == 7)
    }
}

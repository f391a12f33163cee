import Foundation
import JSONCore
@testable import CrunRuntime
@testable import CNI
@testable import IPAM
@testable import SwnetBridge
@testable import SwnetDNS
@testable import swnet
import Testing

/// The logic of swnet's DNS (packets, zone answers, the registry, names, result dns) and of
/// `--network`'s resolv.conf and hosts. The server itself is tested for real by network-test.
@Suite struct PodDNSTests {
    static func query(_ name: String, type: UInt16 = DNSQuery.typeA, id: UInt16 = 0x1234) -> [UInt8] {
        [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
            + DNSRecord.encodeName(name) + [UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
    }

    func tempDir() -> String {
        let dir = NSTemporaryDirectory() + "swnet-dns-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func parsesAQuestionAndRejectsMalformedPackets() throws {
        let q = try #require(DNSQuery(Self.query("Alpha.Pods.Local")))
        #expect(q.id == 0x1234 && q.name == "alpha.pods.local" && q.type == DNSQuery.typeA && q.qclass == 1)
        let good = Self.query("a.b")
        #expect(DNSQuery(Array(good.prefix(11))) == nil)                  // short header
        #expect(DNSQuery(Array(good.dropLast(2))) == nil)                 // question cut short
        var response = good; response[2] |= 0x80
        #expect(DNSQuery(response) == nil)                                 // an answer, not a query
        var two = good; two[5] = 2
        #expect(DNSQuery(two) == nil)                                      // two questions
        let pointer: [UInt8] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1]
        #expect(DNSQuery(pointer) == nil)                                  // compression in a question
        let long: [UInt8] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f] + Array(repeating: 0x61, count: 5)
        #expect(DNSQuery(long) == nil)                                     // label past the end
        #expect(DNSQuery.formatError(Array(good.prefix(12)))?[3] == 0x81)  // FORMERR echoes the id
        #expect(DNSQuery.formatError(response) == nil)                     // never answer an answer
    }

    @Test func responseCarriesIdQuestionAndAnswers() throws {
        let q = try #require(DNSQuery(Self.query("x.pods", id: 0xbeef)))
        let r = q.response(rcode: 0, answers: [DNSRecord(type: 1, ttl: 5, data: [10, 0, 0, 2])], authoritative: true)
        #expect(r[0] == 0xbe && r[1] == 0xef)
        #expect(r[2] & 0x80 != 0 && r[2] & 0x04 != 0 && r[2] & 0x01 != 0)  // QR, AA, RD copied
        #expect(r[3] & 0x0f == 0 && r[7] == 1)                              // NOERROR, one answer
        #expect(Array(r.suffix(4)) == [10, 0, 0, 2])
        #expect(q.response(rcode: 3, answers: [], authoritative: true)[3] & 0x0f == 3)
    }

    func zone(_ dir: String, forward: [(String, String)] = [], upstream: [String] = ["127.0.0.53"]) -> Zone {
        let reg = DNSRegistry(directory: dir)
        reg.set(attachment: "c1/eth0", names: ["alpha", "web"], addresses: [IPAddress("10.40.0.2")!, IPAddress("fd40::2")!])
        reg.set(attachment: "c2/eth0", names: ["beta"], addresses: [IPAddress("10.40.0.3")!])
        let config = DNSServer.Config(
            listen: [IPAddress("10.40.0.1")!], domain: "pods.local", ttl: 7,
            upstream: upstream.map { (IPAddress($0)!, 53) },
            forward: forward.map { (domain: $0.0, server: IPAddress($0.1)!, port: 53) },
            subnets: [CIDR("10.40.0.0/24")!])
        return Zone(registry: reg, config: config)
    }

    func reply(_ z: Zone, _ name: String, _ type: UInt16 = DNSQuery.typeA) -> (rcode: UInt8, answers: Int, data: [UInt8])? {
        guard case .reply(let r) = z.answer(DNSQuery(Self.query(name, type: type))!) else { return nil }
        return (r[3] & 0x0f, Int(r[6]) << 8 | Int(r[7]), Array(r.suffix(r[7] == 0 ? 0 : (type == DNSQuery.typeAAAA ? 16 : 4))))
    }

    @Test func zoneAnswersNamesAliasesAndAddressFamilies() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let z = zone(dir)
        #expect(reply(z, "alpha.pods.local")?.data == [10, 40, 0, 2])
        #expect(reply(z, "web.pods.local")?.data == [10, 40, 0, 2])
        #expect(reply(z, "beta")?.data == [10, 40, 0, 3])                  // a bare name
        #expect(reply(z, "alpha.pods.local", DNSQuery.typeAAAA)?.answers == 1)
        #expect(reply(z, "beta.pods.local", DNSQuery.typeAAAA).map { [$0.rcode, UInt8($0.answers)] } == [0, 0])
        #expect(reply(z, "nope.pods.local")?.rcode == 3)                   // NXDOMAIN in our domain
        #expect(reply(z, "pods.local")?.rcode == 0)
        // PTR, IPv4 and IPv6; an unknown address in our subnet is NXDOMAIN.
        let ptr = try #require(DNSQuery(Self.query("3.0.40.10.in-addr.arpa", type: DNSQuery.typePTR)))
        guard case .reply(let r) = z.answer(ptr) else { Issue.record("PTR forwarded"); return }
        #expect(Array(r.suffix(17)) == DNSRecord.encodeName("beta.pods.local"))
        let v6 = IPAddress("fd40::2")!.reverseName
        #expect(v6 == "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.d.f.ip6.arpa")
        #expect(reply(z, v6, DNSQuery.typePTR)?.answers == 1)
        #expect(reply(z, "99.0.40.10.in-addr.arpa", DNSQuery.typePTR)?.rcode == 3)
    }

    @Test func zoneForwardsEverythingElse() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let z = zone(dir, forward: [("n2.pods", "10.202.0.1")])
        guard case .forward(let up, 53) = z.answer(DNSQuery(Self.query("example.org"))!) else { Issue.record("not forwarded"); return }
        #expect(up.description == "127.0.0.53")
        guard case .forward(let peer, 53) = z.answer(DNSQuery(Self.query("pod-two.n2.pods"))!) else { Issue.record("peer domain not forwarded"); return }
        #expect(peer.description == "10.202.0.1")
        guard case .forward = z.answer(DNSQuery(Self.query("localhost"))!) else { Issue.record("unknown bare name not forwarded"); return }
        guard case .forward = z.answer(DNSQuery(Self.query("1.1.168.192.in-addr.arpa", type: DNSQuery.typePTR))!) else {
            Issue.record("foreign PTR not forwarded"); return
        }
        // No upstream at all: SERVFAIL, not silence.
        let lone = zone(tempDir(), upstream: [])
        #expect(reply(lone, "example.org")?.rcode == 2)
    }

    @Test func registryReplacesAndRemovesOneAttachment() {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reg = DNSRegistry(directory: dir)
        reg.set(attachment: "a/eth0", names: ["one"], addresses: [IPAddress("10.0.0.2")!])
        reg.set(attachment: "b/eth0", names: ["two"], addresses: [IPAddress("10.0.0.3")!])
        reg.set(attachment: "a/eth0", names: ["uno"], addresses: [IPAddress("10.0.0.2")!])
        #expect(reg.entries().map(\.name).sorted() == ["two", "uno"])
        reg.set(attachment: "b/eth0", names: [], addresses: nil)
        #expect(reg.entries().map { "\($0.attachment) \($0.name) \($0.address)" } == ["a/eth0 uno 10.0.0.2"])
        #expect(DNSRegistry.label("My_Pod.1") == "my-pod-1")
        #expect(DNSRegistry.label(String(repeating: "x", count: 80)).count == 63)
    }

    @Test func podNamesComeFromArgsAliasesOrTheId() throws {
        let conf = try NetworkConfig(json: try JSONParser.parse(
            #"{"cniVersion":"1.1.0","name":"pods","type":"swnet","isGateway":true,"runtimeConfig":{"aliases":{"pods":["Web","web"],"other":["no"]}},"dns":{"enable":true}}"#))
        let env = CNIEnvironment(command: "ADD", containerID: "abc", ifname: "eth0", args: "IgnoreUnknown=1;K8S_POD_NAME=alpha")
        #expect(PodDNS.names(conf, env) == ["alpha", "web"])
        #expect(PodDNS.names(try NetworkConfig(json: try JSONParser.parse(#"{"cniVersion":"1.1.0","name":"p"}"#)),
                             CNIEnvironment(command: "ADD", containerID: "abc")) == ["abc"])
        #expect(conf.dnsDomain == "pods.swnet")  // the default domain
        let dns = try #require(PodDNS.resultDNS(conf, gateways: [IPAddress("fd00::1")!, IPAddress("10.1.0.1")!]))
        #expect(dns["nameservers"]?.arrayValue?.first?.stringValue == "10.1.0.1")
        #expect(dns["search"]?.arrayValue?.first?.stringValue == "pods.swnet")
    }

    @Test func badDNSAndPeerConfigNamesTheField() {
        func details(_ json: String) -> String? {
            do { _ = try NetworkConfig(json: try JSONParser.parse(json)); return nil } catch { return "\(error)" }
        }
        let base = #"{"cniVersion":"1.1.0","name":"n","type":"swnet","#
        #expect(details(base + #""peers":[{"subnet":"10.2.0.0/24","via":"nope"}]}"#)?.contains("peers[0]") == true)
        #expect(details(base + #""peers":[{"via":"10.0.0.1"}]}"#)?.contains("peers[0].subnet") == true)
        #expect(details(base + #""clusterCIDR":["10.0.0.0"]}"#)?.contains("clusterCIDR[0]") == true)
        #expect(details(base + #""dns":{"enable":"yes"}}"#)?.contains("dns.enable") == true)
        #expect(details(base + #""isGateway":false,"dns":{"enable":true}}"#)?.contains("dns.enable needs isGateway") == true)
        #expect(details(base + #""dns":{"enable":true,"forward":[{"domain":"x"}]}}"#)?.contains("forward[0].server") == true)
    }

    @Test func networkedRunWritesResolvConfAndHosts() throws {
        let dns = try JSONParser.parse(#"{"nameservers":["10.40.0.1"],"search":["pods.local"],"options":["ndots:2"]}"#)
        #expect(PodNetwork.resolvConf(dns) == "nameserver 10.40.0.1\nsearch pods.local\noptions ndots:2\n")
        let result = try JSONParser.parse(#"{"ips":[{"address":"10.40.0.2/24"},{"address":"fd40::2/64"}]}"#)
        let hosts = PodNetwork.hosts(result, hostname: "alpha")
        #expect(hosts.contains("10.40.0.2\talpha\n") && hosts.contains("fd40::2\talpha\n") && hosts.hasPrefix("127.0.0.1\tlocalhost\n"))
        #expect(!PodNetwork.hosts(result, hostname: nil).contains("10.40.0.2"))
    }
}

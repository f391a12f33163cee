import CNI
import Glibc
import IPAM
import JSONCore
import LinuxSys
import Netlink
import SwnetDNS

/// Other nodes' pod subnets from `swnet route add` (the `peers` file), beside the config's.
package struct Routes {
    let sys: Syscalls
    package init(sys: Syscalls) { self.sys = sys }

    static func file(_ conf: NetworkConfig) -> String {
        (conf.ipam?.dataDir ?? IPAMConfig.defaultDataDir) + "/" + conf.name + "/peers"
    }

    package func load(_ conf: NetworkConfig) -> [NetworkConfig.Peer] {
        guard let bytes = try? sys.readFile(Routes.file(conf)) else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            let p = line.split(separator: " ").map(String.init)
            guard p.count >= 2, let s = CIDR(p[0]), let v = IPAddress(p[1]) else { return nil }
            return NetworkConfig.Peer(subnet: s, via: v, domain: p.count > 2 ? p[2] : nil, dns: p.count > 3 ? p[3] : nil)
        }
    }

    package func save(_ conf: NetworkConfig, _ peers: [NetworkConfig.Peer]) throws(CNIError) {
        let text = peers.map { p in ([p.subnet.description, p.via.description] + [p.domain, p.dns].compactMap { $0 }).joined(separator: " ") + "\n" }.joined()
        do {
            try sys.makeDirectories((conf.ipam?.dataDir ?? IPAMConfig.defaultDataDir) + "/" + conf.name, mode: 0o755)
            try sys.writeFile(Routes.file(conf), text)
        } catch {
            throw CNIError(.ioFailure, "cannot write the routes file", error.description)
        }
    }

    /// Host routes to every peer's pod subnet via its node address (present ones are fine).
    package func install(_ peers: [NetworkConfig.Peer], _ node: NetlinkSocket) throws(CNIError) {
        for p in peers {
            let r = node.addRoute(p.subnet.network.bytes, prefix: UInt8(p.subnet.prefix), gateway: p.via.bytes, oif: 0)
            if r != -EEXIST { try node.check(r, "route \(p.subnet) via \(p.via)") }
        }
    }
}

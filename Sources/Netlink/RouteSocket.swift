import CNetlink
import Glibc

/// The real NETLINK_ROUTE socket (CNetlink), bound to the namespace it was opened in.
public final class RouteSocket: NetlinkSocket {
    let sock: OpaquePointer
    public let namespace: String

    public init() throws(NetlinkError) {
        guard let s = nl_open() else { throw NetlinkError("open a netlink socket", errno: errno) }
        sock = s
        namespace = "node"
    }

    public init(netnsPath: String) throws(NetlinkError) {
        guard let s = nl_open_in(netnsPath) else { throw NetlinkError("enter the network namespace \(netnsPath)", errno: errno) }
        sock = s
        namespace = netnsPath
    }

    deinit { nl_close(sock) }

    public func link(_ name: String) throws(NetlinkError) -> LinkInfo? {
        var info = nl_link_info()
        let r = nl_link_get(sock, name, &info)
        if r == -ENODEV { return nil }
        if r < 0 { throw NetlinkError("look up link \(name) in \(namespace)", errno: -r) }
        return LinkInfo(index: info.index, name: name, master: info.master, mtu: info.mtu, isUp: info.flags & UInt32(IFF_UP) != 0,
                        mac: info.has_mac != 0 ? withUnsafeBytes(of: info.mac) { Array($0) } : nil,
                        kind: withUnsafeBytes(of: info.kind) { cText($0) }, alias: withUnsafeBytes(of: info.alias) { cText($0) })
    }

    public func links() throws(NetlinkError) -> [LinkInfo] {
        let max = 8192
        var entries = [nl_link_entry](repeating: nl_link_entry(), count: max)
        let n = nl_link_dump(sock, &entries, Int32(max))
        if n < 0 { throw NetlinkError("list the links in \(namespace)", errno: -n) }
        return entries[0..<Int(n)].map { e in
            LinkInfo(index: e.index, name: withUnsafeBytes(of: e.name) { cText($0) }, master: e.master,
                     alias: withUnsafeBytes(of: e.alias) { cText($0) })
        }
    }

    public func addBridge(_ name: String, mtu: UInt32, mac: [UInt8]) -> Int32 {
        mac.withUnsafeBufferPointer { nl_bridge_add(sock, name, mtu, $0.baseAddress) }
    }

    public func addVeth(_ name: String, peer: String, peerNamespace: String, mtu: UInt32, peerMAC: [UInt8]?, master: Int32) -> Int32 {
        let nsfd = nl_netns_open(peerNamespace)
        if nsfd < 0 { return nsfd }
        defer { close(nsfd) }
        guard let peerMAC else { return nl_veth_add(sock, name, peer, nsfd, mtu, nil, master) }
        return peerMAC.withUnsafeBufferPointer { nl_veth_add(sock, name, peer, nsfd, mtu, $0.baseAddress, master) }
    }

    public func setUp(index: Int32) -> Int32 { nl_link_set(sock, index, 1, 0, 0, nil) }
    public func setPromiscuous(index: Int32) -> Int32 { nl_link_promisc(sock, index, 1) }
    public func setHairpin(index: Int32) -> Int32 { nl_brport_hairpin(sock, index, 1) }
    public func setup(index: Int32, name: String, alias: String) -> Int32 { nl_link_setup(sock, index, name, alias, 1) }
    public func delete(index: Int32) -> Int32 { nl_link_del_index(sock, index) }
    public func delete(name: String) -> Int32 { nl_link_del(sock, name) }

    public func retire(index: Int32) -> String? {
        var out = [CChar](repeating: 0, count: 16)
        return nl_link_retire(sock, index, &out) == 0 ? String(cString: out) : nil
    }

    public func reap(_ name: String) {
        let r = namespace == "node" ? nl_reap(nil, name) : nl_reap(namespace, name)
        if r < 0 { _ = nl_link_del(sock, name) }
    }

    public func addAddress(index: Int32, _ address: [UInt8], prefix: UInt8) -> Int32 {
        address.withUnsafeBufferPointer { nl_addr_add(sock, index, family(address), $0.baseAddress, prefix) }
    }

    public func addresses(index: Int32) throws(NetlinkError) -> [(address: [UInt8], prefix: UInt8)] {
        var raw = [UInt8](repeating: 0, count: 17 * 32)
        var prefixes = [UInt8](repeating: 0, count: 32)
        let n = nl_addr_list(sock, index, &raw, &prefixes, 32)
        if n < 0 { throw NetlinkError("list the addresses of link \(index) in \(namespace)", errno: -n) }
        return (0..<Int(n)).map { i in
            let len = Int32(raw[17 * i]) == AF_INET ? 4 : 16
            return (Array(raw[(17 * i + 1)...(17 * i + len)]), prefixes[i])
        }
    }

    public func addRoute(_ destination: [UInt8], prefix: UInt8, gateway: [UInt8]?, oif: Int32) -> Int32 {
        destination.withUnsafeBufferPointer { d in
            guard let gateway else { return nl_route_add(sock, family(destination), d.baseAddress, prefix, nil, oif, 0) }
            return gateway.withUnsafeBufferPointer { nl_route_add(sock, family(destination), d.baseAddress, prefix, $0.baseAddress, oif, 0) }
        }
    }

    public func deleteRoute(_ destination: [UInt8], prefix: UInt8) -> Int32 {
        destination.withUnsafeBufferPointer { nl_route_del(sock, family(destination), $0.baseAddress, prefix) }
    }

    private func family(_ address: [UInt8]) -> Int32 { address.count == 4 ? AF_INET : AF_INET6 }
}

/// Opens real sockets.
public final class RouteSockets: NetlinkOpener {
    public init() {}
    public func node() throws(NetlinkError) -> NetlinkSocket { try RouteSocket() }
    public func namespace(_ path: String) throws(NetlinkError) -> NetlinkSocket { try RouteSocket(netnsPath: path) }
}

func randomHex8() -> String {
    var hex = [CChar](repeating: 0, count: 9)
    nl_random_hex8(&hex)
    return String(cString: hex)
}

func cText(_ raw: UnsafeRawBufferPointer) -> String { String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }

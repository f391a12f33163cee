import Glibc
import Netlink

/// Network namespaces in memory for unit tests: links, addresses and routes per namespace,
/// every change recorded in `calls` ("node: addVeth swtmp… eth0"), and any operation made to
/// fail: a change whose record (with or without its "namespace: " prefix) starts with a key of
/// `failures` returns that -errno.
public final class RecordingNetlink: NetlinkOpener {
    public final class Namespace: NetlinkSocket {
        public let namespace: String
        unowned let host: RecordingNetlink
        public var table: [LinkInfo] = []
        public var addressTable: [Int32: [(address: [UInt8], prefix: UInt8)]] = [:]
        public var routes: [(destination: [UInt8], prefix: UInt8, gateway: [UInt8]?)] = []

        init(_ namespace: String, host: RecordingNetlink) {
            self.namespace = namespace
            self.host = host
        }

        func change(_ call: String) -> Int32 {
            host.calls.append("\(namespace): \(call)")
            for (prefix, e) in host.failures where call.hasPrefix(prefix) || "\(namespace): \(call)".hasPrefix(prefix) { return -e }
            return 0
        }

        public func link(_ name: String) throws(NetlinkError) -> LinkInfo? { table.first { $0.name == name } }
        public func links() throws(NetlinkError) -> [LinkInfo] { table }

        func insert(_ link: LinkInfo) -> LinkInfo {
            var link = link
            host.lastIndex += 1
            link.index = host.lastIndex
            table.append(link)
            return link
        }

        public func addBridge(_ name: String, mtu: UInt32, mac: [UInt8]) -> Int32 {
            let r = change("addBridge \(name)")
            if r < 0 { return r }
            if table.contains(where: { $0.name == name }) { return -EEXIST }
            _ = insert(LinkInfo(index: 0, name: name, mtu: mtu, mac: mac, kind: "bridge"))
            return 0
        }

        public func addVeth(_ name: String, peer: String, peerNamespace: String, mtu: UInt32, peerMAC: [UInt8]?, master: Int32) -> Int32 {
            let r = change("addVeth \(name) \(peer)")
            if r < 0 { return r }
            guard let other = host.namespaces[peerNamespace] else { return -ENOENT }
            if table.contains(where: { $0.name == name }) || other.table.contains(where: { $0.name == peer }) { return -EEXIST }
            let a = insert(LinkInfo(index: 0, name: name, master: master, mtu: mtu, mac: [2, 0, 0, 0, 0, 1], kind: "veth"))
            let b = other.insert(LinkInfo(index: 0, name: peer, mtu: mtu, mac: peerMAC ?? [2, 0, 0, 0, 0, 2], kind: "veth"))
            host.peers[a.index] = b.index
            host.peers[b.index] = a.index
            return 0
        }

        func update(_ index: Int32, _ call: String, _ body: (inout LinkInfo) -> Void) -> Int32 {
            let r = change(call)
            if r < 0 { return r }
            guard let i = table.firstIndex(where: { $0.index == index }) else { return -ENODEV }
            body(&table[i])
            return 0
        }

        public func setUp(index: Int32) -> Int32 { update(index, "setUp \(index)") { $0.isUp = true } }
        public func setPromiscuous(index: Int32) -> Int32 { update(index, "setPromiscuous \(index)") { _ in } }
        public func setHairpin(index: Int32) -> Int32 { update(index, "setHairpin \(index)") { _ in } }

        public func setup(index: Int32, name: String, alias: String) -> Int32 {
            if table.contains(where: { $0.name == name && $0.index != index }) { return -EEXIST }
            return update(index, "setup \(index) \(name)") {
                $0.name = name
                $0.alias = alias
                $0.isUp = true
            }
        }

        public func delete(index: Int32) -> Int32 {
            let r = change("delete \(table.first { $0.index == index }?.name ?? "\(index)")")
            if r < 0 { return r }
            guard table.contains(where: { $0.index == index }) else { return -ENODEV }
            host.remove(index)
            return 0
        }

        public func delete(name: String) -> Int32 {
            guard let link = table.first(where: { $0.name == name }) else {
                let r = change("delete \(name)")
                return r < 0 ? r : -ENODEV
            }
            return delete(index: link.index)
        }

        public func retire(index: Int32) -> String? {
            update(index, "retire \(table.first { $0.index == index }?.name ?? "\(index)")") {
                $0.name = "swdel\(index)"
                $0.isUp = false
            } == 0 ? "swdel\(index)" : nil
        }

        public func reap(_ name: String) {
            guard change("reap \(name)") == 0, let link = table.first(where: { $0.name == name }) else { return }
            host.remove(link.index)
        }

        public func addAddress(index: Int32, _ address: [UInt8], prefix: UInt8) -> Int32 {
            let r = change("addAddress \(index) \(address) /\(prefix)")
            if r < 0 { return r }
            if addressTable[index, default: []].contains(where: { $0.address == address }) { return -EEXIST }
            addressTable[index, default: []].append((address, prefix))
            return 0
        }

        public func addresses(index: Int32) throws(NetlinkError) -> [(address: [UInt8], prefix: UInt8)] { addressTable[index] ?? [] }

        public func addRoute(_ destination: [UInt8], prefix: UInt8, gateway: [UInt8]?, oif: Int32) -> Int32 {
            let r = change("addRoute \(destination) /\(prefix)")
            if r < 0 { return r }
            if routes.contains(where: { $0.destination == destination && $0.prefix == prefix }) { return -EEXIST }
            routes.append((destination, prefix, gateway))
            return 0
        }

        public func deleteRoute(_ destination: [UInt8], prefix: UInt8) -> Int32 {
            let r = change("deleteRoute \(destination) /\(prefix)")
            if r < 0 { return r }
            guard let i = routes.firstIndex(where: { $0.destination == destination && $0.prefix == prefix }) else { return -ESRCH }
            routes.remove(at: i)
            return 0
        }
    }

    public var calls: [String] = []
    /// The calls made in one namespace, without its prefix.
    public func calls(in namespace: String) -> [String] {
        calls.filter { $0.hasPrefix(namespace + ": ") }.map { String($0.dropFirst(namespace.count + 2)) }
    }
    public var failures: [String: Int32] = [:]
    public private(set) var namespaces: [String: Namespace] = [:]
    var lastIndex: Int32 = 1
    var peers: [Int32: Int32] = [:]

    /// With the node's namespace; `addNamespace` makes pods.
    public init() { namespaces["node"] = Namespace("node", host: self) }

    public var nodeNamespace: Namespace { namespaces["node"]! }

    @discardableResult
    public func addNamespace(_ path: String) -> Namespace {
        let ns = Namespace(path, host: self)
        namespaces[path] = ns
        return ns
    }

    public func removeNamespace(_ path: String) {
        for link in namespaces[path]?.table ?? [] { remove(link.index) }
        namespaces[path] = nil
    }

    /// A link and its veth peer, wherever they are.
    func remove(_ index: Int32) {
        let both = [index] + (peers[index].map { [$0] } ?? [])
        for ns in namespaces.values {
            ns.table.removeAll { both.contains($0.index) }
            for i in both { ns.addressTable[i] = nil }
        }
        for i in both { peers[i] = nil }
    }

    public func node() throws(NetlinkError) -> NetlinkSocket { nodeNamespace }

    public func namespace(_ path: String) throws(NetlinkError) -> NetlinkSocket {
        guard let ns = namespaces[path] else { throw NetlinkError("enter the network namespace \(path)", errno: ENOENT) }
        return ns
    }
}

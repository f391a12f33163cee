/// A link as ADD, DEL, CHECK and GC see it.
public struct LinkInfo: Equatable, Sendable {
    public var index: Int32
    public var name: String
    public var master: Int32
    public var mtu: UInt32
    public var isUp: Bool
    public var mac: [UInt8]?
    public var kind: String    // "bridge", "veth", ...
    public var alias: String   // IFLA_IFALIAS: swnet records the attachment that owns a host veth here

    public init(index: Int32, name: String, master: Int32 = 0, mtu: UInt32 = 1500, isUp: Bool = false,
                mac: [UInt8]? = nil, kind: String = "", alias: String = "") {
        self.index = index
        self.name = name
        self.master = master
        self.mtu = mtu
        self.isUp = isUp
        self.mac = mac
        self.kind = kind
        self.alias = alias
    }
}

/// A failed netlink query: what was asked, and errno.
public struct NetlinkError: Error, Equatable, Sendable {
    public let operation: String
    public let errno: Int32
    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }
}

/// rtnetlink in one network namespace: the seam the plugins use (`RouteSocket` is the real
/// one, `RecordingNetlink` the fake for unit tests). Changes return 0 or -errno, so the caller
/// decides what "already there" (-EEXIST) and "already gone" (-ENODEV) mean; addresses are
/// 4 or 16 bytes in network order.
public protocol NetlinkSocket: AnyObject {
    /// "node", or the path of the namespace file.
    var namespace: String { get }

    /// nil when there is no such link.
    func link(_ name: String) throws(NetlinkError) -> LinkInfo?
    func links() throws(NetlinkError) -> [LinkInfo]
    /// `mac`: the bridge's own address, set so that it never changes when ports come and go.
    func addBridge(_ name: String, mtu: UInt32, mac: [UInt8]) -> Int32
    /// A veth pair: `name` here, `peer` made directly in the namespace at `peerNamespace`,
    /// already enslaved to `master` when > 0.
    func addVeth(_ name: String, peer: String, peerNamespace: String, mtu: UInt32, peerMAC: [UInt8]?, master: Int32) -> Int32
    func setUp(index: Int32) -> Int32
    func setPromiscuous(index: Int32) -> Int32
    func setHairpin(index: Int32) -> Int32
    /// Names link `index`, records `alias` on it and brings it up, in one request.
    /// -EEXIST when another link has that name.
    func setup(index: Int32, name: String, alias: String) -> Int32
    func delete(index: Int32) -> Int32
    func delete(name: String) -> Int32
    /// Takes the link down under a fresh name (its old one is free at once); the new name.
    func retire(index: Int32) -> String?
    /// Deletes a retired link in the background (a helper with its own socket).
    func reap(_ name: String)
    func addAddress(index: Int32, _ address: [UInt8], prefix: UInt8) -> Int32
    func addresses(index: Int32) throws(NetlinkError) -> [(address: [UInt8], prefix: UInt8)]
    /// `prefix` 0: the default route; `gateway` nil: on-link; `oif` 0: none.
    func addRoute(_ destination: [UInt8], prefix: UInt8, gateway: [UInt8]?, oif: Int32) -> Int32
    func deleteRoute(_ destination: [UInt8], prefix: UInt8) -> Int32
}

/// Opens sockets: one in the node's namespace, one in a pod's. A plugin holds one of each and
/// never switches namespaces while it works.
public protocol NetlinkOpener: AnyObject {
    func node() throws(NetlinkError) -> NetlinkSocket
    /// Fails with ENOENT or EINVAL when `path` is not a network namespace.
    func namespace(_ path: String) throws(NetlinkError) -> NetlinkSocket
}

/// A name for a veth being made: 8 random hex digits after `prefix`.
public func randomLinkName(_ prefix: String) -> String { prefix + randomHex8() }

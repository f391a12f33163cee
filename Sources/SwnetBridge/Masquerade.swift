import CNI
import CNetlink
import Glibc
import LinuxSys

/// ipMasq through nftables: one table `inet swnet`, and per network a set of pod addresses
/// with one masquerade rule for traffic from the set leaving the pod subnet. The table, set and
/// rule are made once per network and family (one netlink batch, under the network's lock);
/// after that an ADD or DEL only adds or removes its element, in one netlink transaction: no
/// process, no lock. Everything goes through nf_tables netlink, so no `nft` is needed.
enum Masquerade {
    static func setName(_ network: String, v4: Bool) -> String {
        let safe = String(network.map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(20))
        return "pods_\(safe)_\(String(fnv1a(network), radix: 16))_\(v4 ? 4 : 6)"
    }

    static let inet: Int32 = 1  // NFPROTO_INET

    static func element(add: Bool, _ set: String, _ ip: IPAddress) -> Int32 {
        ip.bytes.withUnsafeBufferPointer { nl_nft_set_element(add ? 1 : 0, inet, "swnet", set, $0.baseAddress, UInt32($0.count)) }
    }

    /// All of a pod's elements (one per address, in its family's set) in one transaction, so one
    /// netfilter socket is released (each release can wait for a grace period, nftables.c).
    /// 0 or the first error; all or nothing.
    static func elements(add: Bool, network: String, _ ips: [IPAddress]) -> Int32 {
        if ips.isEmpty { return 0 }
        let names = ips.map { strdup(setName(network, v4: $0.isV4)) }
        defer { for n in names { free(n) } }
        var keys: [UInt8] = []
        for ip in ips { keys += ip.bytes + [UInt8](repeating: 0, count: 16 - ip.bytes.count) }
        let lengths = ips.map { UInt8($0.bytes.count) }
        let sets: [UnsafePointer<CChar>?] = names.map { $0.map { UnsafePointer($0) } }
        return sets.withUnsafeBufferPointer { s in
            keys.withUnsafeBufferPointer { k in
                lengths.withUnsafeBufferPointer { l in
                    nl_nft_set_elements(add ? 1 : 0, inet, "swnet", UInt32(ips.count), s.baseAddress, k.baseAddress, l.baseAddress)
                }
            }
        }
    }

    /// `exempt`: destinations never masqueraded (the pod subnet, or the cluster's pod CIDRs).
    static func add(network: String, ips: [CIDR], exempt: [CIDR], lockDir: String) throws(CNIError) {
        // Every set there (all but a network's first pods): one transaction. Otherwise nothing
        // was added and each address goes on its own, making what is missing.
        if elements(add: true, network: network, ips.map(\.address)) == 0 { return }
        for ip in ips {
            let v4 = ip.address.isV4
            let set = setName(network, v4: v4)
            var r = element(add: true, set, ip.address)
            if r == -ENOENT {
                // First pod of this network and family: the table, the set and its rule, made
                // under the lock by whichever ADD gets it first; the ADDs that waited for it
                // find the set and only add their element.
                let lock = try FileLock(lockDir + "/masq.lock")
                defer { lock.release() }
                r = element(add: true, set, ip.address)
                if r == -ENOENT {
                    try setUp(network: network, v4: v4, exempt: exempt)
                    r = element(add: true, set, ip.address)
                }
            }
            if r < 0 {
                throw CNIError(.internalError, "cannot set up ipMasq", "add \(ip.address) to nftables set inet swnet \(set): \(errnoText(-r))")
            }
        }
    }

    /// The table, chain, set and rule of one network and family (called under the lock, when
    /// the set is missing). Multicast is never masqueraded.
    static func setUp(network: String, v4: Bool, exempt: [CIDR]) throws(CNIError) {
        let set = setName(network, v4: v4)
        let multicast = v4 ? CIDR(address: IPAddress(bytes: [224, 0, 0, 0]), prefix: 4)
                           : CIDR(address: IPAddress(bytes: [0xff] + [UInt8](repeating: 0, count: 15)), prefix: 8)
        let local = exempt.filter { $0.address.isV4 == v4 }.map(\.canonical) + [multicast]
        guard local.count <= 24 else {
            throw CNIError(.invalidConfig, "cannot set up ipMasq", "clusterCIDR: at most 23 networks per family (\(local.count - 1) given)")
        }
        var nets: [UInt8] = []
        for cidr in local { nets += cidr.address.bytes + [UInt8](repeating: 0, count: 16 - cidr.address.bytes.count) }
        let prefixes = local.map { UInt8($0.prefix) }
        let r = nets.withUnsafeBufferPointer { n in
            prefixes.withUnsafeBufferPointer { p in
                nl_nft_masq_setup("swnet", "postrouting", set, 1, v4 ? 1 : 0, n.baseAddress, p.baseAddress, UInt32(local.count), "swnet \(network)")
            }
        }
        if r < 0 {
            let hint = r == -EPROTONOSUPPORT || r == -ENOENT || r == -EOPNOTSUPP ? " (does the kernel have nf_tables with inet NAT, nft_masq?)" : ""
            throw CNIError(.internalError, "cannot set up ipMasq", "nftables table inet swnet, set \(set), network \(network): \(errnoText(-r))\(hint)")
        }
    }

    /// Removes the pods' addresses from the network's sets; missing ones are fine.
    static func remove(network: String, ips: [IPAddress]) {
        if elements(add: false, network: network, ips) == 0 { return }
        // (A missing set or element fails the whole batch: then one by one.)
        for ip in ips { _ = element(add: false, setName(network, v4: ip.isV4), ip) }
    }
}

/// An flock on a file, released with `release` or deinit.
final class FileLock {
    private var fd: Int32

    init(_ path: String) throws(CNIError) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw CNIError(.ioFailure, "cannot open lock", "\(path): \(errnoText(errno))") }
        while flock(fd, LOCK_EX) < 0 && errno == EINTR {}
    }

    func release() {
        if fd >= 0 { close(fd); fd = -1 }
    }

    deinit { release() }
}

/// FNV-1a, 32 bits: short stable names from ids.
package func fnv1a(_ s: String) -> UInt32 {
    var h: UInt32 = 2_166_136_261
    for b in s.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
    return h
}

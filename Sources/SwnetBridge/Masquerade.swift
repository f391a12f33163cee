import CNI
import CNetlink
import Glibc
import LinuxSys

/// ipMasq through nftables: one table `inet swnet`, and per network subnet its own NAT base
/// chain with one rule, "source in the subnet, destination outside it (or outside clusterCIDR)
/// and not multicast: masquerade". The first ADD of a subnet makes it (one netlink batch, under
/// the network's lock); later ADDs only see that it is there (one read, no transaction) and DEL
/// changes nothing, so pods never queue on nftables' commit. A network's chains go when its
/// last pod is DELeted or GC leaves it no pod (builtin IPAM), and by GC with no valid
/// attachment (any IPAM). Everything goes through nf_tables netlink, so no `nft` is needed.
enum Masquerade {
    static let inet: Int32 = 1  // NFPROTO_INET
    static let table = "swnet"

    /// All chains of a network start with this.
    static func prefix(_ network: String) -> String {
        let safe = String(network.map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(20))
        return "masq_\(safe)_\(String(fnv1a(network), radix: 16))_"
    }

    static func chain(_ network: String, _ subnet: CIDR) -> String {
        prefix(network) + String(fnv1a(subnet.canonical.description), radix: 16)
    }

    /// Which of the chains are there: a mask, or -errno.
    static func present(_ chains: [String]) -> Int32 {
        let names = chains.map { strdup($0) }
        defer { for n in names { free(n) } }
        let ptrs: [UnsafePointer<CChar>?] = names.map { $0.map { UnsafePointer($0) } }
        return ptrs.withUnsafeBufferPointer { nl_nft_chains_present(inet, table, UInt32(chains.count), $0.baseAddress) }
    }

    /// Makes sure each of the pod's subnets has its rule. `exempt`: destinations never
    /// masqueraded besides multicast (clusterCIDR; empty: the pod's subnets).
    static func add(network: String, ips: [CIDR], exempt: [CIDR], lockDir: String) throws(CNIError) {
        var subnets: [CIDR] = []
        for ip in ips where !subnets.contains(ip.canonical) { subnets.append(ip.canonical) }
        if subnets.isEmpty { return }
        let chains = subnets.map { chain(network, $0) }
        var r = present(chains)
        let all = Int32((1 << chains.count) - 1)
        if r == all { return }
        // A subnet's first pod: its chain and rule, made under the lock by whichever ADD gets it
        // first; the ADDs that waited for it find it there.
        let lock = try FileLock(lockDir + "/masq.lock")
        defer { lock.release() }
        r = present(chains)
        if r < 0 { throw CNIError(.internalError, "cannot set up ipMasq", "nftables table inet swnet: \(errnoText(-r))") }
        for (i, subnet) in subnets.enumerated() where r & (1 << i) == 0 {
            let v4 = subnet.address.isV4
            let others = (exempt.isEmpty ? subnets : exempt).filter { $0.address.isV4 == v4 }
            try setUp(network: network, chain: chains[i], subnet: subnet, exempt: others)
        }
    }

    /// One subnet's chain and rule (called under the lock, when the chain is missing).
    static func setUp(network: String, chain: String, subnet: CIDR, exempt: [CIDR]) throws(CNIError) {
        let v4 = subnet.address.isV4
        let multicast = v4 ? CIDR(address: IPAddress(bytes: [224, 0, 0, 0]), prefix: 4)
                           : CIDR(address: IPAddress(bytes: [0xff] + [UInt8](repeating: 0, count: 15)), prefix: 8)
        let local = exempt.map(\.canonical) + [multicast]
        guard local.count <= 24 else {
            throw CNIError(.invalidConfig, "cannot set up ipMasq", "clusterCIDR: at most 23 networks per family (\(local.count - 1) given)")
        }
        func padded(_ a: IPAddress) -> [UInt8] { a.bytes + [UInt8](repeating: 0, count: 16 - a.bytes.count) }
        var nets: [UInt8] = []
        for cidr in local { nets += padded(cidr.address) }
        let prefixes = local.map { UInt8($0.prefix) }
        let sub = padded(subnet.address)
        let r = nets.withUnsafeBufferPointer { n in
            prefixes.withUnsafeBufferPointer { p in
                sub.withUnsafeBufferPointer { s in
                    nl_nft_masq_setup(table, chain, v4 ? 1 : 0, s.baseAddress, UInt8(subnet.prefix), n.baseAddress, p.baseAddress,
                                      UInt32(local.count), "swnet \(network)")
                }
            }
        }
        if r < 0 && r != -EEXIST {
            let hint = r == -EPROTONOSUPPORT || r == -ENOENT || r == -EOPNOTSUPP ? " (does the kernel have nf_tables with inet NAT, nft_masq?)" : ""
            throw CNIError(.internalError, "cannot set up ipMasq", "nftables table inet swnet, chain \(chain), network \(network): \(errnoText(-r))\(hint)")
        }
    }

    /// Removes the network's chains when `empty` says (under the lock, so no ADD is making
    /// them meanwhile) that it has no pod left. Best effort.
    static func removeIfEmpty(network: String, lockDir: String, empty: () -> Bool) {
        guard let lock = try? FileLock(lockDir + "/masq.lock") else { return }
        defer { lock.release() }
        if empty() { _ = nl_nft_chains_delete(inet, table, prefix(network)) }
    }
}

/// An flock on a file, released with `release` or deinit.
final class FileLock {
    private var fd: Int32

    init(_ path: String) throws(CNIError) {
        do { fd = try Files.openLocked(path) } catch { throw CNIError(.ioFailure, "cannot take lock", error.description) }
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

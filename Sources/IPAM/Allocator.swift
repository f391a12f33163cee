import CNI
import Glibc
import LinuxSys

/// Hands out one address from each range set of an IPAM config, releases them, and collects
/// the garbage: leases whose attachment is gone.
public struct Allocator {
    public let config: IPAMConfig
    public let store: LeaseStore

    public init(config: IPAMConfig) {
        self.config = config
        store = LeaseStore(dataDir: config.dataDir, network: config.network)
    }

    /// Allocates (under the lock) and returns the IPAM part of a result.
    /// `requested`: addresses the runtime asked for (at most one per range set); each is
    /// given exactly or the ADD fails: outside every range, the gateway, reserved or taken.
    public func allocate(containerID: String, ifname: String, netns: String, requested: [IPAddress] = []) throws(CNIError) -> CNIResult {
        // Which set each requested address belongs to, checked before anything is written.
        var wanted: [Int: IPAddress] = [:]
        for ip in requested {
            guard let setIndex = config.rangeSets.firstIndex(where: { set in set.contains { $0.holds(ip) } }) else {
                let all = config.rangeSets.flatMap { $0 }.map { "\($0.start)-\($0.end)" }.joined(separator: ", ")
                throw CNIError(.invalidConfig, "requested address is outside the network's ranges", "\(ip) is not in \(all)")
            }
            if let other = wanted[setIndex] {
                throw CNIError(.invalidConfig, "two requested addresses in one range set", "\(other) and \(ip)")
            }
            if config.rangeSets[setIndex].contains(where: { $0.gateway == ip }) {
                throw CNIError(.invalidConfig, "requested address is the gateway", "\(ip)")
            }
            if config.reserved.contains(ip) {
                throw CNIError(.addressUnavailable, "requested address is reserved", "\(ip) is in ipam.reserved")
            }
            wanted[setIndex] = ip
        }
        try store.lock()
        defer { store.unlock() }
        if let held = store.indexed(containerID, ifname), held.contains(where: { store.read($0)?.containerID == containerID }) {
            throw CNIError(.invalidConfig, "duplicate allocation is not allowed",
                           "\(containerID)/\(ifname) already holds an address in network \(config.network)")
        }
        var result = CNIResult()
        var reserved: [IPAddress] = []
        for (setIndex, set) in config.rangeSets.enumerated() {
            if let ip = wanted[setIndex] {
                guard try store.reserve(ip, containerID: containerID, ifname: ifname, netns: netns) else {
                    for ip in reserved { store.remove(ip) }
                    let holder = store.read(ip).map { " (held by \($0.containerID)/\($0.ifname))" } ?? ""
                    throw CNIError(.addressUnavailable, "requested address is taken", "\(ip)\(holder)")
                }
                reserved.append(ip)
                store.setIndex(containerID, ifname, reserved)
                let range = set.first { $0.holds(ip) }!
                result.ips.append(.init(address: CIDR(address: ip, prefix: range.subnet.prefix), gateway: range.gateway, interface: nil))
                continue
            }
            // Taken addresses show up as O_EXCL failures: no need to list the leases.
            var got = try pick(set, setIndex: setIndex, taken: [], containerID: containerID, ifname: ifname, netns: netns)
            if got == nil && reconcile() > 0 {
                // Attachments whose namespace is gone gave their addresses back: try again.
                got = try pick(set, setIndex: setIndex, taken: [], containerID: containerID, ifname: ifname, netns: netns)
            }
            guard let (ip, range) = got else {
                for ip in reserved { store.remove(ip) }
                throw CNIError(.rangeExhausted, "no IP addresses available in range set",
                               set.map { "\($0.start)-\($0.end)" }.joined(separator: ", "))
            }
            reserved.append(ip)
            store.setIndex(containerID, ifname, reserved)
            result.ips.append(.init(address: CIDR(address: ip, prefix: range.subnet.prefix), gateway: range.gateway, interface: nil))
        }
        result.routes = config.routes
        return result
    }

    private func pick(_ set: [IPAMConfig.Range], setIndex: Int, taken: Set<IPAddress>, containerID: String,
                      ifname: String, netns: String) throws(CNIError) -> (IPAddress, IPAMConfig.Range)? {
        // Round-robin: walk from just after the last address handed out from this set, to the
        // end of the ranges, then around to it.
        var segments: [(IPAMConfig.Range, IPAddress, IPAddress)] = set.map { ($0, $0.start, $0.end) }
        if let last = store.lastReserved(setIndex),
           let i = set.firstIndex(where: { !(last < $0.start) && !($0.end < last) }) {
            segments = []
            if last != set[i].end, let next = last.advanced(by: 1) { segments.append((set[i], next, set[i].end)) }
            for j in set.indices where j > i { segments.append((set[j], set[j].start, set[j].end)) }
            for j in set.indices where j < i { segments.append((set[j], set[j].start, set[j].end)) }
            segments.append((set[i], set[i].start, last))
        }
        for (range, from, to) in segments {
            var ip = from
            while true {
                if !taken.contains(ip) && ip != range.gateway && !config.reserved.contains(ip) {
                    if try store.reserve(ip, containerID: containerID, ifname: ifname, netns: netns) {
                        store.setLastReserved(ip, setIndex)
                        return (ip, range)
                    }
                }
                guard ip != to, let next = ip.advanced(by: 1) else { break }
                ip = next
            }
        }
        return nil
    }

    /// Releases what (containerID, ifname) holds. Idempotent.
    public func release(containerID: String, ifname: String) throws(CNIError) {
        try store.lock()
        defer { store.unlock() }
        if let ips = store.indexed(containerID, ifname) {
            for ip in ips where store.read(ip).map({ $0.containerID == containerID && $0.ifname == ifname }) ?? false {
                store.remove(ip)
            }
            store.removeIndex(containerID, ifname)
            return
        }
        // No index (a lease written by host-local, or an ADD killed mid-way): scan.
        for lease in store.leases() where lease.containerID == containerID && (lease.ifname == ifname || lease.ifname.isEmpty) {
            store.remove(lease.ip)
        }
    }

    /// CNI 1.1 GC: releases every lease not in `valid`. Returns what was released.
    @discardableResult
    public func collect(valid: Set<NetworkConfig.Attachment>) throws(CNIError) -> [IPAddress] {
        try store.lock()
        defer { store.unlock() }
        var freed: [IPAddress] = []
        for lease in store.leases() where !valid.contains(.init(containerID: lease.containerID, ifname: lease.ifname)) {
            store.remove(lease.ip)
            store.removeIndex(lease.containerID, lease.ifname)
            freed.append(lease.ip)
        }
        return freed
    }

    /// Without a daemon or a GC call: leases whose recorded network namespace no longer
    /// exists are released. Called with the lock held when a range runs out. Returns the count.
    func reconcile() -> Int {
        var freed = 0
        for lease in store.leases() {
            guard let netns = lease.netns, !netns.isEmpty, netns != "/dev/null" else { continue }
            if access(netns, F_OK) != 0 {
                store.remove(lease.ip)
                store.removeIndex(lease.containerID, lease.ifname)
                freed += 1
            }
        }
        return freed
    }

    /// The addresses (containerID, ifname) holds now (CHECK).
    public func held(containerID: String, ifname: String) -> [IPAddress] {
        if let ips = store.indexed(containerID, ifname) {
            return ips.filter { store.read($0).map { $0.containerID == containerID && $0.ifname == ifname } ?? false }
        }
        return store.leases().filter { $0.containerID == containerID && $0.ifname == ifname }.map(\.ip)
    }
}

extension IPAMConfig.Range {
    /// Inside rangeStart...rangeEnd.
    func holds(_ ip: IPAddress) -> Bool { ip.isV4 == start.isV4 && !(ip < start) && !(end < ip) }
}

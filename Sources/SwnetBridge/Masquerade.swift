import CNI
import CNetlink
import Glibc
import LinuxSys

/// ipMasq through nftables: one table `inet swnet`, and per network a set of pod addresses
/// with one masquerade rule for traffic from the set leaving the pod subnet. The table, set and
/// rule are made once per network and family (with `nft`, under a lock); after that an ADD or
/// DEL only adds or removes its element, in one netlink transaction: no process, no lock.
enum Masquerade {
    static func setName(_ network: String, v4: Bool) -> String {
        let safe = String(network.map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(20))
        return "pods_\(safe)_\(String(fnv1a(network), radix: 16))_\(v4 ? 4 : 6)"
    }

    static let inet: Int32 = 1  // NFPROTO_INET

    static func element(add: Bool, _ set: String, _ ip: IPAddress) -> Int32 {
        ip.bytes.withUnsafeBufferPointer { nl_nft_set_element(add ? 1 : 0, inet, "swnet", set, $0.baseAddress, UInt32($0.count)) }
    }

    /// `exempt`: destinations never masqueraded (the pod subnet, or the cluster's pod CIDRs).
    static func add(network: String, ips: [CIDR], exempt: [CIDR], lockDir: String) throws(CNIError) {
        for ip in ips {
            let v4 = ip.address.isV4
            let set = setName(network, v4: v4)
            var r = element(add: true, set, ip.address)
            if r == -ENOENT {
                // First pod of this network and family: the table, the set and its rule.
                try setUp(network: network, v4: v4, exempt: exempt, lockDir: lockDir)
                r = element(add: true, set, ip.address)
            }
            if r < 0 {
                // No nf_tables netlink (an old kernel?): nft does it.
                if try nft(["add", "element", "inet", "swnet", set, "{", ip.address.description, "}"]) != 0 {
                    throw CNIError(.internalError, "cannot set up ipMasq", "add \(ip.address) to set \(set): \(errnoText(-r))")
                }
            }
        }
    }

    static func setUp(network: String, v4: Bool, exempt: [CIDR], lockDir: String) throws(CNIError) {
        let lock = try FileLock(lockDir + "/masq.lock")
        defer { lock.release() }
        let set = setName(network, v4: v4)
        if try nft(["list", "set", "inet", "swnet", set], quiet: true) == 0 { return }  // a concurrent ADD made it
        let family = v4 ? "ip" : "ip6"
        let multicast = v4 ? "224.0.0.0/4" : "ff00::/8"
        let local = exempt.filter { $0.address.isV4 == v4 }.map(\.description) + [multicast]
        var script = "add table inet swnet\n"
        script += "add chain inet swnet postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
        script += "add set inet swnet \(set) { type \(v4 ? "ipv4_addr" : "ipv6_addr"); }\n"
        script += "add rule inet swnet postrouting \(family) saddr @\(set) \(family) daddr != { \(local.joined(separator: ", ")) } masquerade comment \"swnet \(network)\"\n"
        if try nft(["-f", "-"], input: script) != 0 {
            throw CNIError(.internalError, "cannot set up ipMasq", "nft -f failed for network \(network)")
        }
    }

    /// Removes the pods' addresses from the network's sets; missing ones are fine.
    static func remove(network: String, ips: [IPAddress]) {
        for ip in ips {
            let r = element(add: false, setName(network, v4: ip.isV4), ip)
            if r < 0 && r != -ENOENT {
                _ = try? nft(["delete", "element", "inet", "swnet", setName(network, v4: ip.isV4), "{", ip.description, "}"], quiet: true)
            }
        }
    }

    /// Runs nft; returns its exit status.
    static func nft(_ args: [String], input: String? = nil, quiet: Bool = false) throws(CNIError) -> Int32 {
        var fds: [Int32] = [-1, -1]
        if input != nil && pipe(&fds) < 0 { throw CNIError(.internalError, "pipe", errnoText(errno)) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if input != nil {
            posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
            posix_spawn_file_actions_addclose(&actions, fds[1])
        }
        // nft's own output must not reach our stdout (the CNI result goes there).
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        if quiet { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        var argv: [UnsafeMutablePointer<CChar>?] = (["nft"] + args).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let r = posix_spawnp(&pid, "nft", &actions, nil, &argv, environ)
        if input != nil { close(fds[0]) }
        if r != 0 {
            if input != nil { close(fds[1]) }
            throw CNIError(.internalError, "ipMasq needs nft (Debian's nftables)", errnoText(r))
        }
        if let input {
            _ = input.withCString { write(fds[1], $0, strlen($0)) }
            close(fds[1])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128
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

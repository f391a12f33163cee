import CNI
import Glibc
import IPAM
import JSONCore
import LinuxSys
import Netlink
import SwnetDNS

/// The node end of an attachment's veth pair. Its name is a hash of the attachment, so it can
/// clash with another attachment's; the attachment is therefore recorded on the link itself
/// (IFLA_IFALIAS) and nothing is ever deleted or claimed unless the alias proves it ours.
package enum HostVeth {
    static let alternatives = 8

    /// What the link records: "swnet:<id>/<ifname>" (a hash of the id when that is too long for
    /// the kernel's 255 bytes).
    static func alias(containerID: String, ifname: String) -> String {
        let plain = "swnet:\(containerID)/\(ifname)"
        if plain.utf8.count <= 255 { return plain }
        return "swnet:#\(String(fnv1a64(containerID), radix: 16))/\(ifname)"
    }

    /// The names tried in order: the first is the one swnet always used (so veths made by
    /// earlier versions are still found by GC), the others are for clashes: from another hash
    /// (a suffix would not do: two FNV-1a states that collide stay equal whatever follows).
    static func candidates(containerID: String, ifname: String) -> [String] {
        (0..<alternatives).map { k in
            let key = containerID + "/" + ifname
            let h = String(k == 0 ? fnv1a(key) : UInt32(truncatingIfNeeded: fnv1a64("\(k)/" + key)), radix: 16)
            return "veth" + String(repeating: "0", count: 8 - h.count) + h
        }
    }

    /// Gives the freshly made veth `index` (still under its temporary name) the attachment's
    /// name and alias and brings it up. A link of that name with our alias is a leftover of
    /// this attachment (an ADD that died): it goes. Anyone else's is left alone: next name.
    static func claim(_ node: NetlinkSocket, index: Int32, containerID: String, ifname: String) throws(CNIError) -> String {
        let alias = alias(containerID: containerID, ifname: ifname)
        for name in candidates(containerID: containerID, ifname: ifname) {
            for _ in 0..<3 {
                let r = node.setup(index: index, name: name, alias: alias)
                if r == 0 { return name }
                guard r == -EEXIST else { throw CNIError(.netlink, "name the node's veth \(name)", errnoText(-r)) }
                guard let other = try node.find(name) else { continue }  // gone meanwhile
                guard other.alias == alias else { break }  // another attachment's
                let d = node.delete(index: other.index)
                if d < 0 && d != -ENODEV { throw CNIError(.netlink, "remove the leftover veth \(name) of \(containerID)/\(ifname)", errnoText(-d)) }
            }
        }
        throw CNIError(.interfaceExists, "no free name for the node's veth",
                       "\(candidates(containerID: containerID, ifname: ifname).joined(separator: ", ")) all belong to other attachments")
    }

    /// The attachment's node veth, if it still exists.
    static func find(_ node: NetlinkSocket, containerID: String, ifname: String) throws(CNIError) -> LinkInfo? {
        let alias = alias(containerID: containerID, ifname: ifname)
        for name in candidates(containerID: containerID, ifname: ifname) {
            if let link = try node.find(name), link.alias == alias { return link }
        }
        return nil
    }

    /// DEL's link part: both ends are renamed at once (a later ADD of this attachment finds
    /// neither name taken) and a helper deletes the pair. Without a node end we can prove ours
    /// (a veth from an older swnet), the pod end goes and takes its peer with it.
    static func detach(node: NetlinkSocket, pod: NetlinkSocket?, containerID: String, ifname: String,
                       checkpoint: (String) -> Void = { _ in }) throws(CNIError) {
        var podRetired: String?
        if let pod, let podLink = try pod.find(ifname) {
            guard let retired = pod.retire(index: podLink.index) else {
                let r = pod.delete(index: podLink.index)
                if r < 0 && r != -ENODEV { throw CNIError(.netlink, "delete \(ifname) in the pod", errnoText(-r)) }
                try detachNode(node, containerID: containerID, ifname: ifname, checkpoint: checkpoint)
                return
            }
            podRetired = retired
        }
        if try detachNode(node, containerID: containerID, ifname: ifname, checkpoint: checkpoint) { return }
        if let podRetired { pod?.reap(podRetired) }
    }

    @discardableResult
    static func detachNode(_ node: NetlinkSocket, containerID: String, ifname: String,
                           checkpoint: (String) -> Void = { _ in }) throws(CNIError) -> Bool {
        guard let host = try find(node, containerID: containerID, ifname: ifname) else { return false }
        if let retired = node.retire(index: host.index) {
            checkpoint("del-before-reap")
            node.reap(retired)
        } else {
            let r = node.delete(index: host.index)
            if r < 0 && r != -ENODEV { throw CNIError(.netlink, "delete the node's veth \(host.name)", errnoText(-r)) }
        }
        return true
    }

    /// GC: the veths on `bridge` that no valid attachment owns, half-made ones (swtmp*) and
    /// retired ones (swdel*) whose helper did not finish. Returns the names deleted.
    @discardableResult
    static func collect(_ node: NetlinkSocket, bridge: Int32, valid: [NetworkConfig.Attachment]) throws(CNIError) -> [String] {
        let aliases = Set(valid.map { alias(containerID: $0.containerID, ifname: $0.ifname) })
        // A veth from before aliases were recorded keeps its first-choice name.
        let legacy = Set(valid.map { candidates(containerID: $0.containerID, ifname: $0.ifname)[0] })
        var deleted: [String] = []
        for link in try node.allLinks() where link.master == bridge {
            let ours = link.name.hasPrefix("veth") || link.name.hasPrefix(tempPrefix) || link.name.hasPrefix("swdel")
            guard ours else { continue }
            let keep = link.name.hasPrefix("veth") && (aliases.contains(link.alias) || link.alias.isEmpty && legacy.contains(link.name))
            if keep { continue }
            let r = node.delete(index: link.index)
            if r == 0 { deleted.append(link.name) }
        }
        return deleted
    }

    static let tempPrefix = "swtmp"

    /// A name for a veth being made: unique, and recognisable by GC if the ADD dies.
    static func temporaryName() -> String {
        randomLinkName(tempPrefix)
    }
}

package func fnv1a64(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
}

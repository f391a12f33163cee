import CNetlink
import Glibc
import LinuxSys

/// A link as ADD, DEL and GC see it.
struct LinkRecord: Equatable, Sendable {
    var index: Int32
    var name: String
    var master: Int32 = 0
    var alias: String = ""
}

/// The link operations whose outcome decides whose interface is whose: the seam unit tests
/// fake (`Netlink` is the real one). Results are 0 or -errno.
protocol LinkTable: AnyObject {
    func record(_ name: String) throws(CNIError) -> LinkRecord?
    func records() throws(CNIError) -> [LinkRecord]
    /// Names link `index`, records `alias` on it and brings it up, in one request.
    func setup(index: Int32, name: String, alias: String) -> Int32
    func delete(index: Int32) -> Int32
    /// Takes the link down under a fresh name (its old one is free at once); the new name.
    func retire(index: Int32) -> String?
    /// Deletes a retired link in the background (a helper with its own socket).
    func reap(_ name: String)
}

/// The node end of an attachment's veth pair. Its name is a hash of the attachment, so it can
/// clash with another attachment's; the attachment is therefore recorded on the link itself
/// (IFLA_IFALIAS) and nothing is ever deleted or claimed unless the alias proves it ours.
enum HostVeth {
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
    static func claim(_ node: LinkTable, index: Int32, containerID: String, ifname: String) throws(CNIError) -> String {
        let alias = alias(containerID: containerID, ifname: ifname)
        for name in candidates(containerID: containerID, ifname: ifname) {
            for _ in 0..<3 {
                let r = node.setup(index: index, name: name, alias: alias)
                if r == 0 { return name }
                guard r == -EEXIST else { throw CNIError(.netlink, "name the node's veth \(name)", errnoText(-r)) }
                guard let other = try node.record(name) else { continue }  // gone meanwhile
                guard other.alias == alias else { break }  // another attachment's
                let d = node.delete(index: other.index)
                if d < 0 && d != -ENODEV { throw CNIError(.netlink, "remove the leftover veth \(name) of \(containerID)/\(ifname)", errnoText(-d)) }
            }
        }
        throw CNIError(.interfaceExists, "no free name for the node's veth",
                       "\(candidates(containerID: containerID, ifname: ifname).joined(separator: ", ")) all belong to other attachments")
    }

    /// The attachment's node veth, if it still exists.
    static func find(_ node: LinkTable, containerID: String, ifname: String) throws(CNIError) -> LinkRecord? {
        let alias = alias(containerID: containerID, ifname: ifname)
        for name in candidates(containerID: containerID, ifname: ifname) {
            if let link = try node.record(name), link.alias == alias { return link }
        }
        return nil
    }

    /// DEL's link part: both ends are renamed at once (a later ADD of this attachment finds
    /// neither name taken) and a helper deletes the pair. Without a node end we can prove ours
    /// (a veth from an older swnet), the pod end goes and takes its peer with it.
    static func detach(node: LinkTable, pod: LinkTable?, containerID: String, ifname: String) throws(CNIError) {
        var podRetired: String?
        if let pod, let podLink = try pod.record(ifname) {
            guard let retired = pod.retire(index: podLink.index) else {
                let r = pod.delete(index: podLink.index)
                if r < 0 && r != -ENODEV { throw CNIError(.netlink, "delete \(ifname) in the pod", errnoText(-r)) }
                try detachNode(node, containerID: containerID, ifname: ifname)
                return
            }
            podRetired = retired
        }
        if try detachNode(node, containerID: containerID, ifname: ifname) { return }
        if let podRetired { pod?.reap(podRetired) }
    }

    @discardableResult
    static func detachNode(_ node: LinkTable, containerID: String, ifname: String) throws(CNIError) -> Bool {
        guard let host = try find(node, containerID: containerID, ifname: ifname) else { return false }
        if let retired = node.retire(index: host.index) {
            TestHooks.crashPoint("del-before-reap")
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
    static func collect(_ node: LinkTable, bridge: Int32, valid: [NetworkConfig.Attachment]) throws(CNIError) -> [String] {
        let aliases = Set(valid.map { alias(containerID: $0.containerID, ifname: $0.ifname) })
        // A veth from before aliases were recorded keeps its first-choice name.
        let legacy = Set(valid.map { candidates(containerID: $0.containerID, ifname: $0.ifname)[0] })
        var deleted: [String] = []
        for link in try node.records() where link.master == bridge {
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
        var hex = [CChar](repeating: 0, count: 9)
        nl_random_hex8(&hex)
        return tempPrefix + String(cString: hex)
    }
}

func fnv1a64(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
}

extension Netlink: LinkTable {
    func record(_ name: String) throws(CNIError) -> LinkRecord? {
        guard let info = try link(name) else { return nil }
        return LinkRecord(index: info.index, name: name, master: info.master, alias: withUnsafeBytes(of: info.alias) { cText($0) })
    }

    func records() throws(CNIError) -> [LinkRecord] {
        let max = 8192
        var entries = [nl_link_entry](repeating: nl_link_entry(), count: max)
        let n = nl_link_dump(sock, &entries, Int32(max))
        try check(n, "list the links in \(namespace)")
        return entries[0..<Int(n)].map { e in
            LinkRecord(index: e.index, name: withUnsafeBytes(of: e.name) { cText($0) }, master: e.master,
                       alias: withUnsafeBytes(of: e.alias) { cText($0) })
        }
    }

    func setup(index: Int32, name: String, alias: String) -> Int32 { nl_link_setup(sock, index, name, alias, 1) }
    func delete(index: Int32) -> Int32 { nl_link_del_index(sock, index) }

    func retire(index: Int32) -> String? {
        var out = [CChar](repeating: 0, count: 16)
        return nl_link_retire(sock, index, &out) == 0 ? String(cString: out) : nil
    }

    func reap(_ name: String) {
        let r = namespace == "node" ? nl_reap(nil, name) : nl_reap(namespace, name)
        if r < 0 { _ = nl_link_del(sock, name) }
    }
}

func cText(_ raw: UnsafeRawBufferPointer) -> String { String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }

import CNI
import Glibc
import IPAM
import JSONCore
import LinuxSys
import Netlink
import SwnetDNS

/// The bridge plugin: a bridge on the node, a veth pair per attachment with one end in the
/// pod's namespace, addresses and routes from IPAM. ADD undoes what it did if a later step
/// fails (BridgePlugin+Add.swift); DEL treats "already gone" as success. Every kernel call goes
/// through `sys` and `netlink`, so unit tests run it on recording fakes.
package struct BridgePlugin {
    let sys: Syscalls
    let netlink: NetlinkOpener

    package init(sys: Syscalls = LinuxSyscalls(), netlink: NetlinkOpener = RouteSockets()) {
        self.sys = sys
        self.netlink = netlink
    }

    package func openNode() throws(CNIError) -> NetlinkSocket {
        do { return try netlink.node() } catch { throw CNIError(.netlink, "cannot open a netlink socket", errnoText(error.errno)) }
    }

    func openPod(_ path: String) throws(CNIError) -> NetlinkSocket {
        do { return try netlink.namespace(path) } catch {
            if error.errno == ENOENT || error.errno == EINVAL {
                throw CNIError(.unknownContainer, "the container's network namespace does not exist", "CNI_NETNS=\(path): \(errnoText(error.errno))")
            }
            throw CNIError(.netlink, "cannot enter the container's network namespace", "\(path): \(errnoText(error.errno))")
        }
    }

    /// DEL: best effort and idempotent. The netns or the link may already be gone.
    package func del(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) {
        var addresses: [IPAddress] = []
        if let prev = conf.prevResult, let r = try? CNIResult(json: prev) { addresses = r.ips.map(\.address.address) }
        if addresses.isEmpty, let ipam = conf.ipam, ipam.type == IPAMConfig.builtinType {
            addresses = Allocator(config: ipam).held(containerID: env.containerID, ifname: env.ifname)
        }
        let node = try openNode()
        var pod: NetlinkSocket?
        if !env.netns.isEmpty, sys.exists(env.netns) { pod = try? openPod(env.netns) }
        try HostVeth.detach(node: node, pod: pod, containerID: env.containerID, ifname: env.ifname, checkpoint: sys.checkpoint)
        if conf.dnsEnable { PodDNS(sys: sys).unregister(conf, env) }
        try IPAMPlugin.del(conf, env, sys: sys)
        if conf.ipMasq { removeMasquerade(conf, unlessValid: nil) }
    }

    /// CHECK: what ADD made is still there.
    package func check(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) {
        guard let prevJSON = conf.prevResult else { throw CNIError(.invalidConfig, "CHECK needs prevResult") }
        let prev = try CNIResult(json: prevJSON)
        let pod = try openPod(env.netns)
        guard let podLink = try pod.find(env.ifname) else {
            throw CNIError(.invalidConfig, "interface \(env.ifname) is missing in \(env.netns)")
        }
        let present: Set<String>
        do {
            present = Set(try pod.addresses(index: podLink.index).map { CIDR(address: IPAddress(bytes: $0.address), prefix: Int($0.prefix)).description })
        } catch { throw CNIError(error) }
        for ip in prev.ips where !present.contains(ip.address.description) {
            throw CNIError(.invalidConfig, "address \(ip.address) is missing on \(env.ifname)")
        }
        let node = try openNode()
        guard let host = try HostVeth.find(node, containerID: env.containerID, ifname: env.ifname),
              let bridge = try node.find(conf.bridge), host.master == bridge.index else {
            throw CNIError(.invalidConfig, "the node side of \(env.ifname) is not on bridge \(conf.bridge)")
        }
        try IPAMPlugin.check(conf, env, expected: prev.ips.map(\.address.address), sys: sys)
    }

    /// GC (CNI 1.1): everything of this network not in the valid attachments goes.
    package func gc(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) {
        _ = try IPAMPlugin.gc(conf, env, sys: sys)
        if conf.ipMasq { removeMasquerade(conf, unlessValid: conf.validAttachments ?? []) }
        if conf.dnsEnable {
            let valid = Set((conf.validAttachments ?? []).map { "\($0.containerID)/\($0.ifname)" })
            let reg = PodDNS.registry(conf)
            for attachment in Set(reg.entries().map(\.attachment)) where !valid.contains(attachment) {
                reg.set(attachment: attachment, names: [], addresses: nil)
            }
            if reg.entries().isEmpty { PodDNS(sys: sys).stopServer(reg) }
        }
        // veths on our bridge that no valid attachment owns, half-made and retired ones.
        guard let node = try? openNode(), let bridge = try node.find(conf.bridge) else { return }
        try HostVeth.collect(node, bridge: bridge.index, valid: conf.validAttachments ?? [])
    }

    /// The network's masquerade chains go once it has no pod: no lease left (builtin IPAM), or
    /// (GC, `valid` given) no valid attachment. With a delegated IPAM only GC can tell.
    func removeMasquerade(_ conf: NetworkConfig, unlessValid valid: [NetworkConfig.Attachment]?) {
        let builtin = conf.ipam.flatMap { $0.type == IPAMConfig.builtinType ? $0 : nil }
        if builtin == nil && valid == nil { return }
        // (No directory: no ADD made chains here; DEL leaves nothing behind.)
        let dir = (conf.ipam?.dataDir ?? IPAMConfig.defaultDataDir) + "/" + conf.name
        guard sys.exists(dir) else { return }
        Masquerade.removeIfEmpty(network: conf.name, lockDir: dir) {
            if let valid, valid.isEmpty { return true }
            guard let ipam = builtin else { return false }
            return !LeaseStore(dataDir: ipam.dataDir, network: ipam.network).holdsAny
        }
    }

    /// STATUS: ready when the IPAM can hand out addresses.
    package func status(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) {
        guard let ipam = conf.ipam else { return }
        if ipam.type == IPAMConfig.builtinType {
            let store = LeaseStore(dataDir: ipam.dataDir, network: ipam.network)
            do { try store.lock() } catch { throw CNIError(.notAvailable, "IPAM data directory is not usable", error.description) }
            store.unlock()
        } else {
            _ = try Delegate.result(try Delegate.run(ipam.type, command: "STATUS", config: conf.raw, env: env, sys: sys), type: ipam.type)
        }
    }
}

extension CNIError {
    init(_ error: NetlinkError) { self.init(.netlink, error.operation, errnoText(error.errno)) }
}

extension NetlinkSocket {
    /// A change's result (0 or -errno) as a CNI error that says what failed.
    func check(_ r: Int32, _ what: @autoclosure () -> String) throws(CNIError) {
        if r < 0 { throw CNIError(.netlink, what(), errnoText(-r)) }
    }

    /// The link called `name`, nil when there is none.
    func find(_ name: String) throws(CNIError) -> LinkInfo? {
        do { return try link(name) } catch { throw CNIError(error) }
    }

    func allLinks() throws(CNIError) -> [LinkInfo] {
        do { return try links() } catch { throw CNIError(error) }
    }

    func macText(_ link: LinkInfo) -> String? { link.mac.map { MACAddress(bytes: $0).description } }
}

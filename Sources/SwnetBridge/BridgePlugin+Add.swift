import CNI
import Glibc
import IPAM
import JSONCore
import LinuxSys
import Netlink
import SwnetDNS

/// ADD, as named steps. Each step that makes something the attachment alone owns registers
/// its undo right after it succeeds; a later failure runs them in reverse. Shared things (the
/// bridge, its gateway address, forwarding, routes to peers) stay, as the reference plugin's do.
extension BridgePlugin {
    package func add(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) -> CNIResult {
        guard conf.ipam != nil else { throw CNIError(.invalidConfig, "invalid network configuration", "ipam: is required") }
        let pod = try openPod(env.netns)
        let node = try openNode()
        if try pod.find(env.ifname) != nil {
            throw CNIError(.interfaceExists, "container interface already exists", "\(env.ifname) in \(env.netns)")
        }
        // What the runtime asks for is checked before anything is made.
        let requestedMAC = try Requested.mac(conf, args: try CNIArgs(env.args)).flatMap(MACAddress.init)?.bytes
        var undo = Rollback()
        do throws(CNIError) {
            sys.checkpoint("before-ipam")
            var ipam = try allocateAddresses(conf, env, &undo)
            sys.checkpoint("after-ipam")
            let bridge = try ensureBridge(conf, node)
            let (host, hostName, podLink) = try attachVeth(conf, env, node: node, pod: pod, bridge: bridge, mac: requestedMAC, &undo)
            sys.checkpoint("after-veth")
            let gateways = try configurePod(&ipam, conf, env, pod: pod, link: podLink)
            try configureGateway(ipam, conf, node: node, bridge: bridge)
            // Other nodes' pod subnets: routed, never masqueraded.
            try Routes(sys: sys).install(conf.peers + Routes(sys: sys).load(conf), node)
            try masquerade(ipam, conf)
            try registerNames(ipam, conf, env, gateways: gateways, &undo)
            sys.checkpoint("before-result")
            var result = CNIResult()
            // (The bridge's MAC is fixed and its MTU set when made: no need to ask again.)
            result.interfaces = [
                .init(name: conf.bridge, mac: node.macText(bridge), mtu: bridge.mtu, sandbox: nil),
                .init(name: hostName, mac: node.macText(host), mtu: host.mtu, sandbox: nil),
                .init(name: env.ifname, mac: pod.macText(podLink), mtu: podLink.mtu, sandbox: env.netns),
            ]
            result.ips = ipam.ips
            result.routes = ipam.routes
            result.dns = PodDNS.resultDNS(conf, gateways: gateways) ?? ipam.dns
            return result
        } catch {
            undo.run()
            throw error
        }
    }

    /// Addresses from IPAM (in process, or the delegate); undo: release them.
    func allocateAddresses(_ conf: NetworkConfig, _ env: CNIEnvironment, _ undo: inout Rollback) throws(CNIError) -> CNIResult {
        let result = try IPAMPlugin.add(conf, env, sys: sys)
        undo.add { [sys] in try? IPAMPlugin.del(conf, env, sys: sys) }
        return result
    }

    /// The bridge, made (with a stable MAC) and brought up when missing. Shared: never undone.
    func ensureBridge(_ conf: NetworkConfig, _ node: NetlinkSocket) throws(CNIError) -> LinkInfo {
        if let existing = try node.find(conf.bridge) {
            guard existing.kind == "bridge" else { throw CNIError(.invalidConfig, "\(conf.bridge) exists and is not a bridge") }
            if !existing.isUp { try node.check(node.setUp(index: existing.index), "bring \(conf.bridge) up") }
            return existing
        }
        // A stable, locally administered MAC from the bridge's name.
        let h = fnv1a("swnet/" + conf.bridge)
        let mac: [UInt8] = [0x02, 0x5e, UInt8(h >> 24), UInt8((h >> 16) & 0xff), UInt8((h >> 8) & 0xff), UInt8(h & 0xff)]
        let r = node.addBridge(conf.bridge, mtu: conf.mtu, mac: mac)
        if r != -EEXIST { try node.check(r, "create bridge \(conf.bridge)") }  // a concurrent ADD made it
        guard let created = try node.find(conf.bridge) else { throw CNIError(.netlink, "bridge \(conf.bridge) vanished") }
        try node.check(node.setUp(index: created.index), "bring \(conf.bridge) up")
        if conf.promiscMode { try node.check(node.setPromiscuous(index: created.index), "promiscuous mode on \(conf.bridge)") }
        return created
    }

    /// The veth pair, made under a temporary name already on the bridge, then named and marked
    /// as this attachment's in one request (a crash in between leaves a swtmp* link that GC
    /// removes). Undo: delete the pod end (its peer goes with it).
    func attachVeth(_ conf: NetworkConfig, _ env: CNIEnvironment, node: NetlinkSocket, pod: NetlinkSocket, bridge: LinkInfo,
                    mac: [UInt8]?, _ undo: inout Rollback) throws(CNIError) -> (host: LinkInfo, hostName: String, pod: LinkInfo) {
        let tmpName = HostVeth.temporaryName()
        try node.check(node.addVeth(tmpName, peer: env.ifname, peerNamespace: env.netns, mtu: conf.mtu, peerMAC: mac, master: bridge.index),
                       "create veth \(tmpName) <-> \(env.ifname)")
        undo.add { _ = pod.delete(name: env.ifname) }
        guard let host = try node.find(tmpName), let podLink = try pod.find(env.ifname) else {
            throw CNIError(.netlink, "veth \(tmpName) vanished after creation")
        }
        let hostName = try HostVeth.claim(node, index: host.index, containerID: env.containerID, ifname: env.ifname)
        if conf.hairpinMode { try node.check(node.setHairpin(index: host.index), "hairpin mode on \(hostName)") }
        return (host, hostName, podLink)
    }

    /// The pod side: addresses, link up, routes (a default route via each family's gateway
    /// when isDefaultGateway). Goes with the veth. Returns the gateways.
    func configurePod(_ ipam: inout CNIResult, _ conf: NetworkConfig, _ env: CNIEnvironment, pod: NetlinkSocket,
                      link: LinkInfo) throws(CNIError) -> [IPAddress] {
        var gateways: [IPAddress] = []
        for i in ipam.ips.indices {
            ipam.ips[i].interface = 2
            let ip = ipam.ips[i]
            try pod.check(pod.addAddress(index: link.index, ip.address.address.bytes, prefix: UInt8(ip.address.prefix)),
                          "add \(ip.address) to \(env.ifname)")
            if let gw = ip.gateway { gateways.append(gw) }
        }
        try pod.check(pod.setUp(index: link.index), "bring \(env.ifname) up")
        var routes = ipam.routes
        if conf.isDefaultGateway {
            for gw in gateways where !routes.contains(where: { $0.dst.prefix == 0 && $0.dst.address.isV4 == gw.isV4 }) {
                routes.append(.init(dst: CIDR(address: IPAddress(bytes: [UInt8](repeating: 0, count: gw.bytes.count)), prefix: 0), gw: gw))
            }
        }
        for route in routes {
            let gw = route.gw ?? gateways.first { $0.isV4 == route.dst.address.isV4 }
            let r = pod.addRoute(route.dst.network.bytes, prefix: UInt8(route.dst.prefix), gateway: gw?.bytes, oif: link.index)
            if r != -EEXIST { try pod.check(r, "add route \(route.dst) in \(env.netns)") }
        }
        ipam.routes = routes
        return gateways
    }

    /// The node side (isGateway): each gateway on the bridge, forwarding on. Shared: kept.
    func configureGateway(_ ipam: CNIResult, _ conf: NetworkConfig, node: NetlinkSocket, bridge: LinkInfo) throws(CNIError) {
        guard conf.isGateway else { return }
        for ip in ipam.ips {
            guard let gw = ip.gateway else { continue }
            let r = node.addAddress(index: bridge.index, gw.bytes, prefix: UInt8(ip.address.prefix))
            if r != -EEXIST { try node.check(r, "add gateway \(gw)/\(ip.address.prefix) to \(conf.bridge)") }
            try? sys.sysctl(gw.isV4 ? "net/ipv4/ip_forward" : "net/ipv6/conf/all/forwarding", "1")
        }
    }

    /// ipMasq: the masquerade rule of each of the pod's subnets, made by its first pod. No
    /// undo: the rule is the network's, removed with its last pod (BridgePlugin.del, gc).
    func masquerade(_ ipam: CNIResult, _ conf: NetworkConfig) throws(CNIError) {
        guard conf.ipMasq else { return }
        try Masquerade.add(network: conf.name, ips: ipam.ips.map(\.address), exempt: conf.clusterCIDR, lockDir: lockDirectory(conf))
    }

    /// dnsEnable: the pod's names in the network's registry, the server running; undo: out.
    func registerNames(_ ipam: CNIResult, _ conf: NetworkConfig, _ env: CNIEnvironment, gateways: [IPAddress],
                       _ undo: inout Rollback) throws(CNIError) {
        guard conf.dnsEnable else { return }
        let dns = PodDNS(sys: sys)
        try dns.register(conf, env, addresses: ipam.ips.map(\.address.address), gateways: gateways)
        undo.add { dns.unregister(conf, env) }
    }

    func lockDirectory(_ conf: NetworkConfig) -> String {
        let dir = (conf.ipam?.dataDir ?? IPAMConfig.defaultDataDir) + "/" + conf.name
        try? sys.makeDirectories(dir, mode: 0o755)
        return dir
    }
}

/// What a failed multi-step operation undoes, last first.
package struct Rollback {
    private var steps: [() -> Void] = []
    mutating func add(_ step: @escaping () -> Void) { steps.append(step) }
    func run() { for step in steps.reversed() { step() } }
}

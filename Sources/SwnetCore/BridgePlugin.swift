import CNetlink
import Glibc
import JSONCore
import LinuxSys

/// The bridge plugin: a bridge on the node, a veth pair per attachment with one end in the
/// pod's namespace, addresses and routes from IPAM. ADD undoes what it did if a later step
/// fails; DEL treats "already gone" as success.
enum BridgePlugin {
    static func add(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) -> CNIResult {
        guard conf.ipam != nil else { throw CNIError(.invalidConfig, "invalid network configuration", "ipam: is required") }
        let nsfd = nl_netns_open(env.netns)
        if nsfd < 0 {
            throw CNIError(.unknownContainer, "the container's network namespace does not exist", "CNI_NETNS=\(env.netns): \(errnoText(-nsfd))")
        }
        defer { close(nsfd) }
        let node = try Netlink()
        let pod = try Netlink(netnsPath: env.netns)
        if try pod.link(env.ifname) != nil {
            throw CNIError(.interfaceExists, "container interface already exists", "\(env.ifname) in \(env.netns)")
        }
        // What the runtime asks for is checked before anything is made.
        let requestedMAC = try Requested.mac(conf, args: try CNIArgs(env.args))
        TestHooks.crashPoint("before-ipam")
        var ipamResult = try IPAM.add(conf, env)
        var undo: [() -> Void] = [{ try? IPAM.del(conf, env) }]
        func rollback() { for u in undo.reversed() { u() } }
        do {
            TestHooks.crashPoint("after-ipam")
            let bridge = try ensureBridge(conf, node)
            // Made under a temporary name, then named and marked as this attachment's in one
            // request: a crash in between leaves a swtmp* link that GC removes.
            let tmpName = HostVeth.temporaryName()
            let mac = requestedMAC.flatMap(MACAddress.init)?.bytes
            let r = mac.map { m in m.withUnsafeBufferPointer { nl_veth_add(node.sock, tmpName, env.ifname, nsfd, conf.mtu, $0.baseAddress, bridge.index) } }
                ?? nl_veth_add(node.sock, tmpName, env.ifname, nsfd, conf.mtu, nil, bridge.index)
            try node.check(r, "create veth \(tmpName) <-> \(env.ifname)")
            undo.append { _ = nl_link_del(pod.sock, env.ifname) }
            TestHooks.crashPoint("after-veth")
            guard let host = try node.link(tmpName), let podLink = try pod.link(env.ifname) else {
                throw CNIError(.netlink, "veth \(tmpName) vanished after creation")
            }
            let hostName = try HostVeth.claim(node, index: host.index, containerID: env.containerID, ifname: env.ifname)
            if conf.hairpinMode { try node.check(nl_brport_hairpin(node.sock, host.index, 1), "hairpin mode on \(hostName)") }

            // The pod side: addresses, up, routes.
            var gateways: [IPAddress] = []
            for i in ipamResult.ips.indices {
                ipamResult.ips[i].interface = 2
                let ip = ipamResult.ips[i]
                let a = ip.address.address
                try pod.check(a.bytes.withUnsafeBufferPointer { nl_addr_add(pod.sock, podLink.index, a.family, $0.baseAddress, UInt8(ip.address.prefix)) },
                              "add \(ip.address) to \(env.ifname)")
                if let gw = ip.gateway { gateways.append(gw) }
            }
            try pod.check(nl_link_set(pod.sock, podLink.index, 1, 0, 0, nil), "bring \(env.ifname) up")
            var routes = ipamResult.routes
            if conf.isDefaultGateway {
                for gw in gateways where !routes.contains(where: { $0.dst.prefix == 0 && $0.dst.address.isV4 == gw.isV4 }) {
                    routes.append(.init(dst: CIDR(address: IPAddress(bytes: [UInt8](repeating: 0, count: gw.bytes.count)), prefix: 0), gw: gw))
                }
            }
            for route in routes {
                let gw = route.gw ?? gateways.first { $0.isV4 == route.dst.address.isV4 }
                let dst = route.dst.network
                let rr = dst.bytes.withUnsafeBufferPointer { d in
                    gw.map { g in g.bytes.withUnsafeBufferPointer { nl_route_add(pod.sock, dst.family, d.baseAddress, UInt8(route.dst.prefix), $0.baseAddress, podLink.index, 0) } }
                        ?? nl_route_add(pod.sock, dst.family, d.baseAddress, UInt8(route.dst.prefix), nil, podLink.index, 0)
                }
                if rr != -EEXIST { try pod.check(rr, "add route \(route.dst) in \(env.netns)") }
            }
            ipamResult.routes = routes

            // The node side: the gateway on the bridge, forwarding, masquerade.
            if conf.isGateway {
                for ip in ipamResult.ips {
                    guard let gw = ip.gateway else { continue }
                    let rr = gw.bytes.withUnsafeBufferPointer { nl_addr_add(node.sock, bridge.index, gw.family, $0.baseAddress, UInt8(ip.address.prefix)) }
                    if rr != -EEXIST { try node.check(rr, "add gateway \(gw)/\(ip.address.prefix) to \(conf.bridge)") }
                    try? Kernel.sysctl(gw.isV4 ? "net/ipv4/ip_forward" : "net/ipv6/conf/all/forwarding", "1")
                }
            }
            // Other nodes' pod subnets: routed, never masqueraded.
            try Routes.install(conf.peers + Routes.load(conf), node)
            if conf.ipMasq {
                let exempt = conf.clusterCIDR.isEmpty ? ipamResult.ips.map(\.address.canonical) : conf.clusterCIDR
                try Masquerade.add(network: conf.name, ips: ipamResult.ips.map(\.address), exempt: exempt, lockDir: lockDirectory(conf))
                undo.append { Masquerade.remove(network: conf.name, ips: ipamResult.ips.map(\.address.address)) }
            }
            if conf.dnsEnable {
                try PodDNS.register(conf, env, addresses: ipamResult.ips.map(\.address.address), gateways: gateways)
                undo.append { PodDNS.unregister(conf, env) }
            }
            TestHooks.crashPoint("before-result")
            var result = CNIResult()
            let bridgeNow = try node.link(conf.bridge) ?? bridge
            result.interfaces = [
                .init(name: conf.bridge, mac: node.mac(bridgeNow), mtu: bridgeNow.mtu, sandbox: nil),
                .init(name: hostName, mac: node.mac(host), mtu: host.mtu, sandbox: nil),
                .init(name: env.ifname, mac: pod.mac(podLink), mtu: podLink.mtu, sandbox: env.netns),
            ]
            result.ips = ipamResult.ips
            result.routes = ipamResult.routes
            result.dns = PodDNS.resultDNS(conf, gateways: gateways) ?? ipamResult.dns
            return result
        } catch let error as CNIError {
            rollback()
            throw error
        } catch {
            rollback()
            throw CNIError(.internalError, "\(error)")
        }
    }

    static func lockDirectory(_ conf: NetworkConfig) -> String {
        let dir = (conf.ipam?.dataDir ?? IPAMConfig.defaultDataDir) + "/" + conf.name
        try? Files.makeDirectories(dir)
        return dir
    }

    static func ensureBridge(_ conf: NetworkConfig, _ node: Netlink) throws(CNIError) -> nl_link_info {
        if let existing = try node.link(conf.bridge) {
            guard String(cString: withUnsafeBytes(of: existing.kind) { Array($0.bindMemory(to: CChar.self)) + [0] }) == "bridge" else {
                throw CNIError(.invalidConfig, "\(conf.bridge) exists and is not a bridge")
            }
            if existing.flags & UInt32(IFF_UP) == 0 {
                try node.check(nl_link_set(node.sock, existing.index, 1, 0, 0, nil), "bring \(conf.bridge) up")
            }
            return existing
        }
        // A stable, locally administered MAC from the bridge's name.
        let h = fnv1a("swnet/" + conf.bridge)
        let mac: [UInt8] = [0x02, 0x5e, UInt8(h >> 24), UInt8((h >> 16) & 0xff), UInt8((h >> 8) & 0xff), UInt8(h & 0xff)]
        let r = mac.withUnsafeBufferPointer { nl_bridge_add(node.sock, conf.bridge, conf.mtu, $0.baseAddress) }
        if r != -EEXIST { try node.check(r, "create bridge \(conf.bridge)") }  // a concurrent ADD made it
        guard let created = try node.link(conf.bridge) else { throw CNIError(.netlink, "bridge \(conf.bridge) vanished") }
        try node.check(nl_link_set(node.sock, created.index, 1, 0, 0, nil), "bring \(conf.bridge) up")
        if conf.promiscMode { try node.check(nl_link_promisc(node.sock, created.index, 1), "promiscuous mode on \(conf.bridge)") }
        return created
    }

    /// DEL: best effort and idempotent. The netns or the link may already be gone.
    static func del(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) {
        var addresses: [IPAddress] = []
        if let prev = conf.prevResult, let r = try? CNIResult(json: prev) { addresses = r.ips.map(\.address.address) }
        if addresses.isEmpty, let ipam = conf.ipam, ipam.type == IPAM.builtin {
            addresses = Allocator(config: ipam).held(containerID: env.containerID, ifname: env.ifname)
        }
        let node = try Netlink()
        var pod: Netlink?
        if !env.netns.isEmpty, access(env.netns, F_OK) == 0 { pod = try? Netlink(netnsPath: env.netns) }
        try HostVeth.detach(node: node, pod: pod, containerID: env.containerID, ifname: env.ifname)
        if conf.ipMasq { Masquerade.remove(network: conf.name, ips: addresses) }
        if conf.dnsEnable { PodDNS.unregister(conf, env) }
        try IPAM.del(conf, env)
    }

    /// CHECK: what ADD made is still there.
    static func check(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) {
        guard let prevJSON = conf.prevResult else { throw CNIError(.invalidConfig, "CHECK needs prevResult") }
        let prev = try CNIResult(json: prevJSON)
        let pod = try Netlink(netnsPath: env.netns)
        guard let podLink = try pod.link(env.ifname) else {
            throw CNIError(.invalidConfig, "interface \(env.ifname) is missing in \(env.netns)")
        }
        var raw = [UInt8](repeating: 0, count: 17 * 32)
        var prefixes = [UInt8](repeating: 0, count: 32)
        let n = nl_addr_list(pod.sock, podLink.index, &raw, &prefixes, 32)
        try pod.check(n, "list addresses of \(env.ifname)")
        var present = Set<String>()
        for i in 0..<Int(n) {
            let family = Int32(raw[17 * i])
            let len = family == AF_INET ? 4 : 16
            present.insert(CIDR(address: IPAddress(bytes: Array(raw[(17 * i + 1)...(17 * i + len)])), prefix: Int(prefixes[i])).description)
        }
        for ip in prev.ips where !present.contains(ip.address.description) {
            throw CNIError(.invalidConfig, "address \(ip.address) is missing on \(env.ifname)")
        }
        let node = try Netlink()
        guard let host = try HostVeth.find(node, containerID: env.containerID, ifname: env.ifname),
              let bridge = try node.link(conf.bridge), host.master == bridge.index else {
            throw CNIError(.invalidConfig, "the node side of \(env.ifname) is not on bridge \(conf.bridge)")
        }
        try IPAM.check(conf, env, expected: prev.ips.map(\.address.address))
    }

    /// GC (CNI 1.1): everything of this network not in the valid attachments goes.
    static func gc(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) {
        let freed = try IPAM.gc(conf, env)
        if conf.ipMasq { Masquerade.remove(network: conf.name, ips: freed) }
        if conf.dnsEnable {
            let valid = Set((conf.validAttachments ?? []).map { "\($0.containerID)/\($0.ifname)" })
            let reg = PodDNS.registry(conf)
            for attachment in Set(reg.entries().map(\.attachment)) where !valid.contains(attachment) {
                reg.set(attachment: attachment, names: [], addresses: nil)
            }
            if reg.entries().isEmpty { PodDNS.stopServer(reg) }
        }
        // veths on our bridge that no valid attachment owns, half-made and retired ones.
        guard let node = try? Netlink(), let bridge = try node.link(conf.bridge) else { return }
        try HostVeth.collect(node, bridge: bridge.index, valid: conf.validAttachments ?? [])
    }

    /// STATUS: ready when the IPAM can hand out addresses.
    static func status(_ conf: NetworkConfig, _ env: CNIEnvironment) throws(CNIError) {
        guard let ipam = conf.ipam else { return }
        if ipam.type == IPAM.builtin {
            let store = LeaseStore(dataDir: ipam.dataDir, network: ipam.network)
            do { try store.lock() } catch { throw CNIError(.notAvailable, "IPAM data directory is not usable", error.description) }
            store.unlock()
        } else {
            _ = try Delegate.result(try Delegate.run(ipam.type, command: "STATUS", config: conf.raw, env: env), type: ipam.type)
        }
    }
}

/// Test hook: SWNET_TEST_CRASH_AT=<point> kills the plugin with SIGKILL at that point, so tests
/// can prove that a crash at any step leaves nothing that DEL or GC cannot clean.
enum TestHooks {
    static let point: String? = getenv("SWNET_TEST_CRASH_AT").map { String(cString: $0) }
    static func crashPoint(_ name: String) {
        if point == name { kill(getpid(), SIGKILL) }
    }
}

import JSONCore

/// One plugin's network configuration as the runtime passes it on stdin (CNI 0.3.1 - 1.1).
public struct NetworkConfig: Sendable {
    public static let supportedVersions = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]

    public var cniVersion: String
    public var name: String
    public var type: String
    // bridge plugin keys (the reference bridge's names)
    public var bridge: String
    public var isGateway: Bool
    public var isDefaultGateway: Bool
    public var forceAddress: Bool
    public var ipMasq: Bool
    public var mtu: UInt32
    public var hairpinMode: Bool
    public var promiscMode: Bool
    public var mac: String?
    public var ipam: IPAMConfig?
    public var ipamRaw: JSONValue?
    public var dns: JSONValue?
    public var prevResult: JSONValue?
    public var runtimeConfig: JSONValue?
    /// The network's own DNS server (`"dns": {"enable": true, "domain": ..., "ttl": ...,
    /// "upstream": [...], "forward": [{"domain", "server"}]}`).
    public var dnsEnable = false
    public var dnsDomain: String
    public var dnsTTL: UInt32 = 5
    public var dnsUpstream: [String]?
    public var dnsForward: [(domain: String, server: String)] = []
    /// Other nodes' pod subnets: routed via their node address, their domain resolved by
    /// forwarding to their DNS server.
    public var peers: [Peer] = []
    /// The cluster's pod CIDRs: traffic to them is never masqueraded.
    public var clusterCIDR: [CIDR] = []

    public struct Peer: Sendable, Equatable {
        public var subnet: CIDR
        public var via: IPAddress
        public var domain: String?
        public var dns: String?
        public init(subnet: CIDR, via: IPAddress, domain: String?, dns: String?) {
            self.subnet = subnet
            self.via = via
            self.domain = domain
            self.dns = dns
        }
    }

    /// GC: the attachments that must survive.
    public var validAttachments: [Attachment]?
    /// The whole config as received, for delegating to an IPAM plugin.
    public var raw: JSONValue

    public struct Attachment: Hashable, Sendable {
        public var containerID: String
        public var ifname: String
        public init(containerID: String, ifname: String) {
            self.containerID = containerID
            self.ifname = ifname
        }
    }

    public init(json: JSONValue) throws(CNIError) {
        raw = json
        do {
            let o = try JSONObject(json, path: "")
            cniVersion = try o.optional("cniVersion") ?? "0.1.0"
            name = try o.optional("name") ?? ""
            type = try o.optional("type") ?? ""
            bridge = try o.optional("bridge") ?? "cni0"
            isDefaultGateway = try o.optional("isDefaultGateway") ?? false
            isGateway = (try o.optional("isGateway") ?? false) || isDefaultGateway
            forceAddress = try o.optional("forceAddress") ?? false
            ipMasq = try o.optional("ipMasq") ?? false
            mtu = try o.optional("mtu") ?? 0
            hairpinMode = try o.optional("hairpinMode") ?? false
            promiscMode = try o.optional("promiscMode") ?? false
            dns = try o.optional("dns")
            prevResult = try o.optional("prevResult")
            runtimeConfig = try o.optional("runtimeConfig")
            ipamRaw = try o.optional("ipam")
            dnsDomain = (try o.optional("name") ?? "net") + ".swnet"
            if let d = dns {
                let dobj = try JSONObject(d, path: "dns")
                dnsEnable = try dobj.optional("enable") ?? false
                dnsDomain = (try dobj.optional("domain") ?? dnsDomain).lowercased()
                dnsTTL = try dobj.optional("ttl") ?? 5
                dnsUpstream = try dobj.optional("upstream")
                for (i, f) in (try dobj.optional("forward") ?? [JSONValue]()).enumerated() {
                    let fo = try JSONObject(f, path: "dns.forward[\(i)]")
                    dnsForward.append((try fo.required("domain"), try fo.required("server")))
                }
            }
            for (i, p) in (try o.optional("peers") ?? [JSONValue]()).enumerated() {
                let po = try JSONObject(p, path: "peers[\(i)]")
                let subnet: String = try po.required("subnet"), via: String = try po.required("via")
                guard let s = CIDR(subnet), let v = IPAddress(via) else {
                    throw CNIError(.invalidConfig, "invalid network configuration", "peers[\(i)]: subnet and via must be a CIDR and an address")
                }
                peers.append(Peer(subnet: s.canonical, via: v, domain: try po.optional("domain"), dns: try po.optional("dns")))
            }
            for (i, c) in (try o.optional("clusterCIDR") ?? [String]()).enumerated() {
                guard let cidr = CIDR(c) else { throw CNIError(.invalidConfig, "invalid network configuration", "clusterCIDR[\(i)]: \"\(c)\" is not a CIDR") }
                clusterCIDR.append(cidr.canonical)
            }
            var attachments: [Attachment]?
            if let list: [JSONValue] = try o.optional("cni.dev/valid-attachments") ?? o.optional("cni.dev/attachments") {
                attachments = []
                for (i, item) in list.enumerated() {
                    let a = try JSONObject(item, path: "cni.dev/valid-attachments[\(i)]")
                    attachments!.append(Attachment(containerID: try a.required("containerID"), ifname: try a.required("ifname")))
                }
            }
            validAttachments = attachments
            // MAC: args.cni.mac, then runtimeConfig.mac (the capability), as the reference bridge.
            if case .string(let m)? = json["args"]?["cni"]?["mac"] { mac = m }
            if case .string(let m)? = runtimeConfig?["mac"] { mac = m }
            if let m = try o.optional("mac") as String? { mac = m }
        } catch let e as CNIError {
            throw e
        } catch {
            throw CNIError(.decodingFailure, "failed to decode the network configuration", "\(error)")
        }
        guard NetworkConfig.supportedVersions.contains(cniVersion) else {
            throw CNIError(.incompatibleVersion, "incompatible CNI version",
                           "config is \"\(cniVersion)\", swnet supports \(NetworkConfig.supportedVersions.joined(separator: ", "))")
        }
        guard !name.isEmpty else { throw CNIError(.invalidConfig, "invalid network configuration", "name: is required") }
        // The spec's ^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$: the name is a directory under dataDir, so
        // "." and ".." must never pass.
        guard let first = name.utf8.first, isAlnum(first), name.utf8.allSatisfy({ isNameByte($0) }) else {
            throw CNIError(.invalidConfig, "invalid network configuration",
                           "name: \"\(name)\" must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
        }
        if hairpinMode && promiscMode {
            throw CNIError(.invalidConfig, "invalid network configuration", "hairpinMode and promiscMode cannot both be set")
        }
        if bridge.isEmpty || bridge.utf8.count > 15 {
            throw CNIError(.invalidConfig, "invalid network configuration", "bridge: \"\(bridge)\" is not a valid interface name")
        }
        if let mac, MACAddress(mac) == nil {
            throw CNIError(.invalidConfig, "invalid network configuration", "mac: \"\(mac)\" is not a MAC address")
        }
        if let ipamRaw { ipam = try IPAMConfig(json: ipamRaw, network: name) }
        if let ipam, ipam.type == type || ipam.type == "swnet" {
            throw CNIError(.invalidConfig, "invalid network configuration",
                           "ipam.type: \"\(ipam.type)\" is the bridge plugin itself (use \"\(IPAMConfig.builtinType)\" or host-local)")
        }
        if dnsEnable && !isGateway {
            throw CNIError(.invalidConfig, "invalid network configuration", "dns.enable needs isGateway: the server listens on the gateway address")
        }
    }
}

package func isNameByte(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E || c == 0x2D
}

/// "aa:bb:cc:dd:ee:ff".
public struct MACAddress: Sendable {
    public let bytes: [UInt8]
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 6 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard p.count == 2, let b = UInt8(p, radix: 16) else { return nil }
            out.append(b)
        }
        bytes = out
    }
    public init(bytes: [UInt8]) { self.bytes = bytes }
    public var description: String {
        bytes.map { b in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined(separator: ":")
    }
}

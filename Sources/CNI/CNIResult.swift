import JSONCore

/// An ADD result, printed in the version the config asked for.
public struct CNIResult: Sendable {
    public struct Interface: Sendable {
        public var name: String
        public var mac: String?
        public var mtu: UInt32?
        public var sandbox: String?
        public init(name: String, mac: String?, mtu: UInt32?, sandbox: String?) {
            self.name = name
            self.mac = mac
            self.mtu = mtu
            self.sandbox = sandbox
        }
    }

    public struct IP: Sendable {
        public var address: CIDR
        public var gateway: IPAddress?
        public var interface: Int?
        public init(address: CIDR, gateway: IPAddress?, interface: Int?) {
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }
    }

    public var interfaces: [Interface] = []
    public var ips: [IP] = []
    public var routes: [IPAMConfig.Route] = []
    public var dns: JSONValue?

    public init() {}

    public func json(version: String) -> JSONValue {
        let old = version.hasPrefix("0.")
        var pairs: [(String, JSONValue)] = [("cniVersion", .string(version))]
        if !interfaces.isEmpty {
            pairs.append(("interfaces", .array(interfaces.map { i in
                var p: [(String, JSONValue)] = [("name", .string(i.name))]
                if let mac = i.mac { p.append(("mac", .string(mac))) }
                if let mtu = i.mtu, !old, version != "1.0.0" { p.append(("mtu", .number("\(mtu)"))) }
                if let s = i.sandbox { p.append(("sandbox", .string(s))) }
                return .object(p)
            })))
        }
        pairs.append(("ips", .array(ips.map { ip in
            var p: [(String, JSONValue)] = []
            if old { p.append(("version", .string(ip.address.address.isV4 ? "4" : "6"))) }
            p.append(("address", .string(ip.address.description)))
            if let gw = ip.gateway { p.append(("gateway", .string(gw.description))) }
            if let i = ip.interface { p.append(("interface", .number("\(i)"))) }
            return .object(p)
        })))
        if !routes.isEmpty {
            pairs.append(("routes", .array(routes.map { r in
                var p: [(String, JSONValue)] = [("dst", .string(r.dst.description))]
                if let gw = r.gw { p.append(("gw", .string(gw.description))) }
                return .object(p)
            })))
        }
        pairs.append(("dns", dns ?? .object([])))
        return .object(pairs)
    }

    /// Reads a result (an IPAM plugin's, or a prevResult) of any supported version.
    public init(json: JSONValue) throws(CNIError) {
        do {
            let o = try JSONObject(json, path: "result")
            for (i, item) in (try o.optional("interfaces") ?? [JSONValue]()).enumerated() {
                let io = try JSONObject(item, path: "result.interfaces[\(i)]")
                interfaces.append(Interface(name: try io.required("name"), mac: try io.optional("mac"),
                                            mtu: try io.optional("mtu"), sandbox: try io.optional("sandbox")))
            }
            for (i, item) in (try o.optional("ips") ?? [JSONValue]()).enumerated() {
                let io = try JSONObject(item, path: "result.ips[\(i)]")
                let text: String = try io.required("address")
                guard let cidr = CIDR(text) else { throw CNIError(.decodingFailure, "bad result", "ips[\(i)].address: \(text)") }
                let gw: String? = try io.optional("gateway")
                ips.append(IP(address: cidr, gateway: gw.flatMap(IPAddress.init), interface: try io.optional("interface")))
            }
            for (i, item) in (try o.optional("routes") ?? [JSONValue]()).enumerated() {
                let ro = try JSONObject(item, path: "result.routes[\(i)]")
                let dst: String = try ro.required("dst")
                guard let d = CIDR(dst) else { throw CNIError(.decodingFailure, "bad result", "routes[\(i)].dst: \(dst)") }
                let gw: String? = try ro.optional("gw")
                routes.append(IPAMConfig.Route(dst: d, gw: gw.flatMap(IPAddress.init)))
            }
            dns = try o.optional("dns")
        } catch let e as CNIError {
            throw e
        } catch {
            throw CNIError(.decodingFailure, "failed to decode a result", "\(error)")
        }
    }
}

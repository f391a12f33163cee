import JSONCore

/// The ipam section (host-local's keys): ranges of subnets, routes, where leases live.
public struct IPAMConfig: Sendable {
    public struct Range: Sendable {
        public var subnet: CIDR
        public var start: IPAddress
        public var end: IPAddress
        public var gateway: IPAddress?
    }

    public struct Route: Sendable {
        public var dst: CIDR
        public var gw: IPAddress?
        public init(dst: CIDR, gw: IPAddress?) {
            self.dst = dst
            self.gw = gw
        }
    }

    public var type: String
    /// One address is allocated from each set; a set is a pool of ranges tried in order.
    public var rangeSets: [[Range]]
    public var routes: [Route]
    public var dataDir: String
    /// Addresses never handed out.
    public var reserved: Set<IPAddress>
    public var network: String

    public static let defaultDataDir = "/var/lib/cni/networks"
    /// The IPAM type swnet serves in process.
    public static let builtinType = "swnet-ipam"

    public init(json: JSONValue, network: String) throws(CNIError) {
        self.network = network
        func bad(_ message: String) -> CNIError { CNIError(.invalidConfig, "invalid IPAM configuration", message) }
        do {
            let o = try JSONObject(json, path: "ipam")
            type = try o.optional("type") ?? ""
            dataDir = try o.optional("dataDir") ?? IPAMConfig.defaultDataDir
            var sets: [[JSONValue]] = try o.optional("ranges") ?? []
            if sets.isEmpty, let subnet: String = try o.optional("subnet") {
                // The legacy single range.
                var r: [(String, JSONValue)] = [("subnet", .string(subnet))]
                for key in ["rangeStart", "rangeEnd", "gateway"] { if let v: String = try o.optional(key) { r.append((key, .string(v))) } }
                sets = [[.object(r)]]
            }
            var parsed: [[Range]] = []
            for (i, set) in sets.enumerated() {
                guard !set.isEmpty else { throw bad("ipam.ranges[\(i)]: must not be empty") }
                var ranges: [Range] = []
                for (j, r) in set.enumerated() { ranges.append(try IPAMConfig.range(r, path: "ipam.ranges[\(i)][\(j)]")) }
                parsed.append(ranges)
            }
            rangeSets = parsed
            var rts: [Route] = []
            for (i, r) in (try o.optional("routes") ?? [JSONValue]()).enumerated() {
                let ro = try JSONObject(r, path: "ipam.routes[\(i)]")
                let dst: String = try ro.required("dst")
                guard let d = CIDR(dst) else { throw bad("ipam.routes[\(i)].dst: \"\(dst)\" is not a CIDR") }
                var gw: IPAddress?
                if let g: String = try ro.optional("gw") {
                    guard let a = IPAddress(g) else { throw bad("ipam.routes[\(i)].gw: \"\(g)\" is not an address") }
                    gw = a
                }
                rts.append(Route(dst: d.canonical, gw: gw))
            }
            routes = rts
            var res = Set<IPAddress>()
            for (i, r) in (try o.optional("reserved") ?? [String]()).enumerated() {
                guard let a = IPAddress(r) else { throw bad("ipam.reserved[\(i)]: \"\(r)\" is not an address") }
                res.insert(a)
            }
            reserved = res
        } catch let e as CNIError {
            throw e
        } catch let e as JSONDecodeError {
            throw CNIError(.decodingFailure, "failed to decode the IPAM configuration", e.description)
        } catch {
            throw CNIError(.decodingFailure, "failed to decode the IPAM configuration", "\(error)")
        }
        // Leases live in <dataDir>/<network>: a relative dataDir would depend on the runtime's
        // working directory, ".." could climb out of it.
        guard dataDir.hasPrefix("/"), !dataDir.split(separator: "/").contains("..") else {
            throw bad("ipam.dataDir: \"\(dataDir)\" must be an absolute path without \"..\"")
        }
        guard !type.isEmpty, !type.contains("/"), type != "." && type != ".." else {
            throw bad("ipam.type: \"\(type)\" is not a plugin name")
        }
        guard !rangeSets.isEmpty || type != "swnet-ipam" && type != "host-local" else {
            throw bad("ipam.ranges: at least one range is required")
        }
        // Ranges may not overlap anywhere in the config.
        let all = rangeSets.flatMap { $0 }
        for i in 0..<all.count {
            for j in (i + 1)..<max(i + 1, all.count) where all[i].subnet.overlaps(all[j].subnet) {
                throw bad("ipam.ranges: \(all[i].subnet) overlaps \(all[j].subnet)")
            }
        }
    }

    static func range(_ json: JSONValue, path: String) throws -> Range {
        func bad(_ message: String) -> CNIError { CNIError(.invalidConfig, "invalid IPAM configuration", "\(path).\(message)") }
        let o = try JSONObject(json, path: path)
        let subnetText: String = try o.required("subnet")
        guard let parsed = CIDR(subnetText) else { throw bad("subnet: \"\(subnetText)\" is not a CIDR") }
        let subnet = parsed.canonical
        // /31 and /32 (/127, /128) leave nothing to allocate, as host-local says.
        guard subnet.prefix <= subnet.address.bits - 2 else { throw bad("subnet: \(subnet) is too small to allocate from") }
        func address(_ key: String) throws -> IPAddress? {
            guard let text: String = try o.optional(key) else { return nil }
            guard let a = IPAddress(text), subnet.contains(a) else { throw bad("\(key): \"\(text)\" is not an address in \(subnet)") }
            return a
        }
        let gateway = try address("gateway") ?? subnet.network.advanced(by: 1)
        let start = try address("rangeStart") ?? subnet.network.advanced(by: 1)!
        // The last usable address: for IPv4 the broadcast address is not one.
        let defaultEnd = subnet.address.isV4 ? subnet.last.advanced(by: -1)! : subnet.last
        let end = try address("rangeEnd") ?? defaultEnd
        guard !(end < start) else { throw bad("rangeEnd: \(end) is before rangeStart \(start)") }
        return Range(subnet: subnet, start: start, end: end, gateway: gateway)
    }
}

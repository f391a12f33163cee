import CNetlink
import Glibc
import JSONCore

/// `swnet add|del|check|gc|status CONFIG NETNS`, cnitool's way: CONFIG is a file or a network
/// name under the config dir; ADD results are cached (as libcni does) for CHECK, DEL and GC.
enum SwnetCLI {
    static let usage = """
        Usage: swnet add|check|del NETWORK NETNS [--id ID] [--ifname IF]
               swnet route add NETWORK SUBNET VIA [--domain D --dns IP] | route del NETWORK SUBNET
               swnet route list NETWORK
               swnet gc NETWORK [--valid ID/IF ...]
               swnet status NETWORK
        NETWORK is a config file or a network name in --conf-dir (default /etc/cni/net.d).
        Flags: --conf-dir DIR, --cni-path PATH (delegated IPAM plugins), --cache-dir DIR
               (default /var/lib/cni), --args K=V;K=V.
        As a CNI plugin (CNI_COMMAND set), swnet is the bridge plugin (type "swnet") and,
        invoked as swnet-ipam, the IPAM plugin (type "swnet-ipam").
        """

    static func main(_ args: [String], environment: [String: String]) -> Int32 {
        var positional: [String] = []
        var flags: [String: [String]] = [:]
        var i = 0
        while i < args.count {
            let a = args[i]
            if a.hasPrefix("--") {
                let key = String(a.dropFirst(2))
                if key == "help" { SwnetMain.out(usage); return 0 }
                guard i + 1 < args.count else { SwnetMain.err("swnet: \(a) needs a value"); return 2 }
                flags[key, default: []].append(args[i + 1])
                i += 2
            } else {
                positional.append(a)
                i += 1
            }
        }
        guard let verb = positional.first, let network = positional.dropFirst().first else {
            SwnetMain.err(usage)
            return 2
        }
        if verb == "route" {
            return route(Array(positional.dropFirst()), flags: flags, environment: environment)
        }
        let commands = ["add": "ADD", "del": "DEL", "check": "CHECK", "gc": "GC", "status": "STATUS"]
        guard let command = commands[verb] else { SwnetMain.err("swnet: unknown command \"\(verb)\"\n" + usage); return 2 }
        let netns = positional.count > 2 ? FileSystemPath.absolute(positional[2]) : ""
        if ["ADD", "DEL", "CHECK"].contains(command) && netns.isEmpty {
            SwnetMain.err("swnet: \(verb) needs NETNS (a path such as /run/netns/NAME)")
            return 2
        }
        do {
            var json = try loadConfig(network, confDir: flags["conf-dir"]?.last ?? environment["NETCONFPATH"] ?? "/etc/cni/net.d")
            let conf0 = try NetworkConfig(json: json)
            let id = flags["id"]?.last ?? "swnet-" + String(fnv1a(netns), radix: 16)
            let ifname = flags["ifname"]?.last ?? environment["CNI_IFNAME"] ?? "eth0"
            let cache = ResultCache(dir: flags["cache-dir"]?.last ?? "/var/lib/cni", network: conf0.name)
            var env = CNIEnvironment(command: command, containerID: id, netns: netns, ifname: ifname,
                                     args: flags["args"]?.last ?? environment["CNI_ARGS"] ?? "",
                                     path: flags["cni-path"]?.last ?? environment["CNI_PATH"] ?? "/usr/lib/cni:/opt/cni/bin")
            if command != "GC" { try env.validate() }  // (the id and ifname name a cache file)
            if command == "CHECK" || command == "DEL", let prev = cache.result(id: id, ifname: ifname) {
                json = json.setting("prevResult", prev)
            }
            if command == "GC" {
                let valid = flags["valid"].map { list in
                    list.map { v in
                        let p = v.split(separator: "/", maxSplits: 1).map(String.init)
                        return NetworkConfig.Attachment(containerID: p[0], ifname: p.count > 1 ? p[1] : "eth0")
                    }
                } ?? cache.attachments()
                json = json.setting("cni.dev/valid-attachments", .array(valid.map { a in
                    .object([("containerID", .string(a.containerID)), ("ifname", .string(a.ifname))])
                }))
                env.containerID = ""
            }
            let conf = try NetworkConfig(json: json)
            try env.validate()
            let text = try SwnetMain.run(conf, env)
            if command == "ADD", let text {
                if let result = try? JSONParser.parse(Array(text.utf8)) { cache.store(id: id, ifname: ifname, result: result) }
                SwnetMain.out(text)
            }
            if command == "DEL" { cache.remove(id: id, ifname: ifname) }
            return 0
        } catch let error as CNIError {
            SwnetMain.err("swnet: \(verb): \(error.description) (CNI error \(error.code.rawValue))")
            return 1
        } catch {
            SwnetMain.err("swnet: \(verb): \(error)")
            return 1
        }
    }

    /// `swnet route add|del|list NETWORK ...`: other nodes' pod subnets, kept in the network's
    /// `peers` file (read by every ADD) and routed at once.
    static func route(_ args: [String], flags: [String: [String]], environment: [String: String]) -> Int32 {
        guard args.count >= 2 else { SwnetMain.err(usage); return 2 }
        do {
            let conf = try NetworkConfig(json: try loadConfig(args[1], confDir: flags["conf-dir"]?.last ?? environment["NETCONFPATH"] ?? "/etc/cni/net.d"))
            var peers = Routes.load(conf)
            switch args[0] {
            case "list":
                for p in conf.peers + peers {
                    SwnetMain.out(([p.subnet.description, "via", p.via.description] + (p.domain.map { ["domain", $0] } ?? []) + (p.dns.map { ["dns", $0] } ?? [])).joined(separator: " "))
                }
            case "add":
                guard args.count == 4, let subnet = CIDR(args[2]), let via = IPAddress(args[3]) else {
                    SwnetMain.err("swnet: route add NETWORK SUBNET VIA [--domain D --dns IP]"); return 2
                }
                let peer = NetworkConfig.Peer(subnet: subnet.canonical, via: via, domain: flags["domain"]?.last, dns: flags["dns"]?.last)
                peers.removeAll { $0.subnet == peer.subnet }
                peers.append(peer)
                try Routes.save(conf, peers)
                try Routes.install([peer], try Netlink())
            case "del":
                guard args.count == 3, let subnet = CIDR(args[2]) else { SwnetMain.err("swnet: route del NETWORK SUBNET"); return 2 }
                peers.removeAll { $0.subnet == subnet.canonical }
                try Routes.save(conf, peers)
                let node = try Netlink()
                let dst = subnet.network
                _ = dst.bytes.withUnsafeBufferPointer { nl_route_del(node.sock, dst.family, $0.baseAddress, UInt8(subnet.prefix)) }
            default:
                SwnetMain.err(usage); return 2
            }
            return 0
        } catch let error as CNIError {
            SwnetMain.err("swnet: route: \(error.description)")
            return 1
        } catch {
            SwnetMain.err("swnet: route: \(error)")
            return 1
        }
    }

    /// A config file, or the network of that name in `confDir`; for a .conflist, its swnet
    /// plugin with the list's name and cniVersion.
    static func loadConfig(_ ref: String, confDir: String) throws(CNIError) -> JSONValue {
        var candidates: [String] = []
        if access(ref, F_OK) == 0 { candidates = [ref] } else if let dir = opendir(confDir) {
            while let e = readdir(dir) {
                let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if n.hasSuffix(".conf") || n.hasSuffix(".conflist") || n.hasSuffix(".json") { candidates.append(confDir + "/" + n) }
            }
            closedir(dir)
            candidates.sort()
        }
        for path in candidates {
            guard let bytes = try? readSmallFile(path), let json = try? JSONParser.parse(bytes) else {
                if candidates.count == 1 { throw CNIError(.decodingFailure, "cannot read network config", path) }
                continue
            }
            if candidates.count > 1 && json["name"]?.stringValue != ref { continue }
            if let plugins = json["plugins"]?.arrayValue {
                guard let plugin = plugins.first(where: { $0["type"]?.stringValue == "swnet" }) else {
                    throw CNIError(.invalidConfig, "\(path) has no plugin of type swnet")
                }
                return plugin.setting("name", json["name"] ?? .string(ref)).setting("cniVersion", json["cniVersion"] ?? .string("1.1.0"))
            }
            return json
        }
        throw CNIError(.invalidConfig, "no network config \"\(ref)\"", "not a file, and no config with that name in \(confDir)")
    }
}

enum FileSystemPath {
    static func absolute(_ p: String) -> String {
        if p.hasPrefix("/") { return p }
        guard let cwd = getcwd(nil, 0) else { return p }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + p
    }
}

extension JSONValue {
    /// This object with `key` set.
    func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[key] = value
        return .object(members)
    }
}

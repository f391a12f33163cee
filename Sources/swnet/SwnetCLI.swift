import CNI
import Glibc
import IPAM
import JSONCore
import LinuxSys
import SwnetBridge
import SwnetDNS

/// `swnet add|del|check|gc|status CONFIG NETNS`, cnitool's way: CONFIG is a file or a network
/// name under the config dir; ADD results are cached (as libcni does) for CHECK, DEL and GC.
enum SwnetCLI {
    static let version = "0.1.0"
    static let usage = """
        Usage: swnet add|check|del NETWORK NETNS [--id ID] [--ifname IF]
               swnet route add NETWORK SUBNET VIA [--domain D --dns IP] | route del NETWORK SUBNET
               swnet route list NETWORK
               swnet gc NETWORK [--valid ID/IF ...]
               swnet status NETWORK
               swnet --help | --version
        NETWORK is a config file or a network name in --conf-dir (default /etc/cni/net.d); a
        .conflist runs its whole plugin chain, as cnitool does.
        Flags: --conf-dir DIR, --cni-path PATH (plugins other than swnet), --cache-dir DIR
               (default /var/lib/cni), --args K=V;K=V.
        As a CNI plugin (CNI_COMMAND set), swnet is the bridge plugin (type "swnet") and,
        invoked as swnet-ipam, the IPAM plugin (type "swnet-ipam").
        """

    /// The flags each verb takes (all take a value; --valid may repeat).
    static let common: Set<String> = ["conf-dir", "cni-path", "cache-dir", "args"]
    static let verbFlags: [String: Set<String>] = [
        "add": common.union(["id", "ifname"]), "check": common.union(["id", "ifname"]), "del": common.union(["id", "ifname"]),
        "gc": common.union(["valid"]), "status": common, "route": ["conf-dir", "domain", "dns"],
    ]
    static let positionalCounts: [String: ClosedRange<Int>] = ["add": 2...2, "check": 2...2, "del": 2...2, "gc": 1...1, "status": 1...1]

    enum Parsed {
        case run(verb: String, positional: [String], flags: [String: [String]])
        case exit(Int32)
    }

    /// Strict: an unknown flag, a flag the verb does not take, a missing value or a stray
    /// argument is refused (exit 2) before anything is done.
    static func parse(_ args: [String]) -> Parsed {
        var positional: [String] = []
        var flags: [String: [String]] = [:]
        var i = 0
        var onlyPositional = false
        while i < args.count {
            let a = args[i]
            i += 1
            if onlyPositional || !a.hasPrefix("-") || a == "-" { positional.append(a); continue }
            if a == "--" { onlyPositional = true; continue }
            if a == "-h" || a == "--help" { SwnetMain.out(usage); return .exit(0) }
            if a == "--version" || a == "-v" {
                SwnetMain.out("swnet version \(version)\nCNI versions: \(NetworkConfig.supportedVersions.joined(separator: ", "))")
                return .exit(0)
            }
            guard a.hasPrefix("--") else { return usageError("unknown flag \(a)") }
            var key = String(a.dropFirst(2))
            var value: String?
            if let eq = key.firstIndex(of: "=") {
                value = String(key[key.index(after: eq)...])
                key = String(key[..<eq])
            }
            guard verbFlags.values.contains(where: { $0.contains(key) }) else { return usageError("unknown flag --\(key)") }
            if value == nil {
                guard i < args.count else { return usageError("--\(key) needs a value") }
                value = args[i]
                i += 1
            }
            if key != "valid" && flags[key] != nil { return usageError("--\(key) given twice") }
            flags[key, default: []].append(value!)
        }
        guard let verb = positional.first else { return usageError(nil) }
        guard let allowed = verbFlags[verb] else { return usageError("unknown command \"\(verb)\"") }
        for key in flags.keys.sorted() where !allowed.contains(key) { return usageError("\(verb) does not take --\(key)") }
        if let range = positionalCounts[verb], !range.contains(positional.count - 1) {
            let want = verb == "gc" || verb == "status" ? "NETWORK" : "NETWORK NETNS (a path such as /run/netns/NAME)"
            return usageError("\(verb) takes \(want)" + (positional.count - 1 > range.upperBound ? ", not \"\(positional.last!)\"" : ""))
        }
        return .run(verb: verb, positional: Array(positional.dropFirst()), flags: flags)
    }

    static func usageError(_ message: String?) -> Parsed {
        SwnetMain.err((message.map { "swnet: \($0)\n" } ?? "") + usage)
        return .exit(2)
    }

    static func main(_ args: [String], environment: [String: String], sys: Syscalls) -> Int32 {
        let parsed = parse(args)
        guard case .run(let verb, let positional, let flags) = parsed else {
            if case .exit(let code) = parsed { return code }
            return 2
        }
        if verb == "route" { return route(positional, flags: flags, environment: environment, sys: sys) }
        let commands = ["add": "ADD", "del": "DEL", "check": "CHECK", "gc": "GC", "status": "STATUS"]
        let command = commands[verb]!
        let network = positional[0]
        let netns = positional.count > 1 ? FileSystemPath.absolute(positional[1]) : ""
        do {
            let list = try loadNetwork(network, confDir: flags["conf-dir"]?.last ?? environment["NETCONFPATH"] ?? "/etc/cni/net.d")
            let id = flags["id"]?.last ?? "swnet-" + String(fnv1a(netns), radix: 16)
            let ifname = flags["ifname"]?.last ?? environment["CNI_IFNAME"] ?? "eth0"
            let cache = ResultCache(dir: flags["cache-dir"]?.last ?? "/var/lib/cni", network: list.name)
            var env = CNIEnvironment(command: command, containerID: id, netns: netns, ifname: ifname,
                                     args: flags["args"]?.last ?? environment["CNI_ARGS"] ?? "",
                                     path: flags["cni-path"]?.last ?? environment["CNI_PATH"] ?? "/usr/lib/cni:/opt/cni/bin")
            if command != "GC" { try env.validate() }  // (the id and ifname name a cache file)
            var extra: [(String, JSONValue)] = []
            if command == "GC" {
                let valid = flags["valid"].map { list in
                    list.map { v in
                        let p = v.split(separator: "/", maxSplits: 1).map(String.init)
                        return NetworkConfig.Attachment(containerID: p[0], ifname: p.count > 1 ? p[1] : "eth0")
                    }
                } ?? cache.attachments()
                extra.append(("cni.dev/valid-attachments", .array(valid.map { a in
                    .object([("containerID", .string(a.containerID)), ("ifname", .string(a.ifname))])
                })))
                env.containerID = ""
            }
            let cached = command == "CHECK" || command == "DEL" ? cache.result(id: id, ifname: ifname) : nil
            let result = try list.run(command, env: env, cached: cached, extra: extra, sys: sys)
            if command == "ADD", let result {
                cache.store(id: id, ifname: ifname, result: result)
                SwnetMain.out(result.serialized())
            }
            if command == "DEL" { cache.remove(id: id, ifname: ifname) }
            return 0
        } catch {
            SwnetMain.err("swnet: \(verb): \(error.description) (CNI error \(error.code.rawValue))")
            return 1
        }
    }

    /// `swnet route add|del|list NETWORK ...`: other nodes' pod subnets, kept in the network's
    /// `peers` file (read by every ADD) and routed at once.
    static func route(_ args: [String], flags: [String: [String]], environment: [String: String], sys: Syscalls) -> Int32 {
        guard args.count >= 2 else { SwnetMain.err(usage); return 2 }
        do {
            let conf = try NetworkConfig(json: try loadConfig(args[1], confDir: flags["conf-dir"]?.last ?? environment["NETCONFPATH"] ?? "/etc/cni/net.d"))
            let routes = Routes(sys: sys)
            var peers = routes.load(conf)
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
                try routes.save(conf, peers)
                try routes.install([peer], try BridgePlugin(sys: sys).openNode())
            case "del":
                guard args.count == 3, let subnet = CIDR(args[2]) else { SwnetMain.err("swnet: route del NETWORK SUBNET"); return 2 }
                peers.removeAll { $0.subnet == subnet.canonical }
                try routes.save(conf, peers)
                _ = try BridgePlugin(sys: sys).openNode().deleteRoute(subnet.network.bytes, prefix: UInt8(subnet.prefix))
            default:
                SwnetMain.err(usage); return 2
            }
            return 0
        } catch {
            SwnetMain.err("swnet: route: \(error.description)")
            return 1
        }
    }

    /// A network as a runtime loads it: a .conf is a list of one plugin.
    struct NetworkList {
        var name: String
        var cniVersion: String
        var plugins: [JSONValue]

        /// Each plugin in turn (DEL in reverse), each given the previous one's result, as
        /// libcni's AddNetworkList and cnitool do. swnet's own plugin runs in this process.
        /// A failed ADD removes what the earlier plugins made. Returns ADD's final result.
        func run(_ command: String, env: CNIEnvironment, cached: JSONValue?, extra: [(String, JSONValue)], sys: Syscalls) throws(CNIError) -> JSONValue? {
            var prev = cached
            let order = command == "DEL" ? Array(plugins.reversed()) : plugins
            for (i, plugin) in order.enumerated() {
                var conf = plugin.setting("name", .string(name)).setting("cniVersion", .string(cniVersion))
                if command != "ADD" && command != "GC" && command != "STATUS", let prev { conf = conf.setting("prevResult", prev) }
                if command == "ADD", let prev { conf = conf.setting("prevResult", prev) }
                for (k, v) in extra { conf = conf.setting(k, v) }
                do throws(CNIError) {
                    let out = try runPlugin(conf, command: command, env: env, sys: sys)
                    if command == "ADD" {
                        guard let out else { throw CNIError(.internalError, "plugin \(i) (\(plugin["type"]?.stringValue ?? "?")) of \(name) returned no result") }
                        prev = out
                    }
                } catch {
                    if command == "ADD" && i > 0 {
                        // Undo the plugins that succeeded (their DEL with what they returned).
                        _ = try? NetworkList(name: name, cniVersion: cniVersion, plugins: Array(plugins[..<i]))
                            .run("DEL", env: CNIEnvironment(command: "DEL", containerID: env.containerID, netns: env.netns,
                                                            ifname: env.ifname, args: env.args, path: env.path),
                                 cached: prev, extra: [], sys: sys)
                    }
                    throw error
                }
            }
            return command == "ADD" ? prev : nil
        }

        func runPlugin(_ conf: JSONValue, command: String, env: CNIEnvironment, sys: Syscalls) throws(CNIError) -> JSONValue? {
            let type = conf["type"]?.stringValue ?? ""
            if type == "swnet" {
                let text = try SwnetMain.run(try NetworkConfig(json: conf), env, sys: sys)
                return try text.map { t throws(CNIError) in
                    do { return try JSONParser.parse(Array(t.utf8)) } catch { throw CNIError(.internalError, "swnet's own result does not parse") }
                }
            }
            let output = try Delegate.run(type, command: command, config: conf, env: env, delegated: false, sys: sys)
            _ = try Delegate.result(output, type: type)  // its error, as a CNIError
            guard command == "ADD" else { return nil }
            do { return try JSONParser.parse(output.stdout) } catch { throw CNIError(.decodingFailure, "\(type) returned a result that does not parse") }
        }
    }

    /// A config file, or the network of that name in `confDir` (.conf, .conflist, .json).
    static func loadNetwork(_ ref: String, confDir: String) throws(CNIError) -> NetworkList {
        var candidates: [String] = []
        if access(ref, F_OK) == 0 { candidates = [ref] } else if let names = Files.entries(confDir) {
            candidates = names.filter { $0.hasSuffix(".conf") || $0.hasSuffix(".conflist") || $0.hasSuffix(".json") }
                .map { confDir + "/" + $0 }.sorted()
        }
        for path in candidates {
            let bytes: [UInt8]
            do { bytes = try readFile(path) } catch {
                if candidates.count == 1 { throw error }
                continue
            }
            guard let json = try? JSONParser.parse(bytes) else {
                if candidates.count == 1 { throw CNIError(.decodingFailure, "cannot parse network config", path) }
                continue
            }
            if candidates.count > 1 && json["name"]?.stringValue != ref { continue }
            let name = json["name"]?.stringValue ?? ref
            let version = json["cniVersion"]?.stringValue ?? "1.0.0"
            if let plugins = json["plugins"]?.arrayValue {
                guard !plugins.isEmpty else { throw CNIError(.invalidConfig, "\(path): plugins: the list is empty") }
                for (i, p) in plugins.enumerated() where p["type"]?.stringValue?.isEmpty ?? true {
                    throw CNIError(.invalidConfig, "\(path): plugins[\(i)].type: is required")
                }
                return NetworkList(name: name, cniVersion: version, plugins: plugins)
            }
            return NetworkList(name: name, cniVersion: version, plugins: [json])
        }
        throw CNIError(.invalidConfig, "no network config \"\(ref)\"", "not a file, and no config with that name in \(confDir)")
    }

    /// The swnet plugin of a network (for `swnet route`).
    static func loadConfig(_ ref: String, confDir: String) throws(CNIError) -> JSONValue {
        let list = try loadNetwork(ref, confDir: confDir)
        guard let plugin = list.plugins.first(where: { $0["type"]?.stringValue == "swnet" }) else {
            throw CNIError(.invalidConfig, "network \(list.name) has no plugin of type swnet")
        }
        return plugin.setting("name", .string(list.name)).setting("cniVersion", .string(list.cniVersion))
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

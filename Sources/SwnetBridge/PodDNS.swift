import CNI
import Glibc
import IPAM
import JSONCore
import LinuxSys
import SwnetDNS

/// The plugin's side of DNS: names in the registry at ADD and out at DEL, the server started
/// when needed (and restarted when found dead), stopped after the last attachment left.
package struct PodDNS {
    let sys: Syscalls

    static func registry(_ conf: NetworkConfig) -> DNSRegistry {
        DNSRegistry(dataDir: conf.ipam?.dataDir ?? IPAMConfig.defaultDataDir, network: conf.name)
    }

    /// The pod's names: K8S_POD_NAME, the runtime's aliases for this network, else the id.
    static func names(_ conf: NetworkConfig, _ env: CNIEnvironment) -> [String] {
        var names: [String] = []
        for pair in env.args.split(separator: ";") where pair.hasPrefix("K8S_POD_NAME=") {
            names.append(String(pair.dropFirst(13)))
        }
        for alias in conf.runtimeConfig?["aliases"]?[conf.name]?.arrayValue ?? [] {
            if let a = alias.stringValue { names.append(a) }
        }
        if names.isEmpty { names.append(env.containerID) }
        var seen = Set<String>()
        return names.map(DNSRegistry.label).filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// The `dns` of an ADD result: the config's, with this network's server and domain as
    /// defaults when DNS is enabled.
    static func resultDNS(_ conf: NetworkConfig, gateways: [IPAddress]) -> JSONValue? {
        var members: [(String, JSONValue)] = []
        for key in ["nameservers", "domain", "search", "options"] {
            if let v = conf.dns?[key] { members.append((key, v)) }
        }
        if conf.dnsEnable {
            if conf.dns?["nameservers"] == nil, let gw = gateways.first(where: \.isV4) ?? gateways.first {
                members.append(("nameservers", .array([.string(gw.description)])))
            }
            if conf.dns?["search"] == nil { members.append(("search", .array([.string(conf.dnsDomain)]))) }
        }
        return members.isEmpty ? nil : .object(members)
    }

    func register(_ conf: NetworkConfig, _ env: CNIEnvironment, addresses: [IPAddress], gateways: [IPAddress]) throws(CNIError) {
        let reg = PodDNS.registry(conf)
        let store = LeaseStore(dataDir: conf.ipam?.dataDir ?? IPAMConfig.defaultDataDir, network: conf.name)
        try store.lock()
        reg.set(attachment: "\(env.containerID)/\(env.ifname)", names: PodDNS.names(conf, env), addresses: addresses)
        try writeServerConfig(conf, reg, gateways: gateways)
        store.unlock()
        do throws(CNIError) {
            try ensureServer(reg)
        } catch {
            unregister(conf, env)
            throw error
        }
    }

    func unregister(_ conf: NetworkConfig, _ env: CNIEnvironment) {
        let reg = PodDNS.registry(conf)
        let store = LeaseStore(dataDir: conf.ipam?.dataDir ?? IPAMConfig.defaultDataDir, network: conf.name)
        guard (try? store.lock()) != nil else { return }
        reg.set(attachment: "\(env.containerID)/\(env.ifname)", names: [], addresses: nil)
        let idle = reg.entries().isEmpty
        store.unlock()
        if idle { stopServer(reg) } else { try? ensureServer(reg) }
    }

    func writeServerConfig(_ conf: NetworkConfig, _ reg: DNSRegistry, gateways: [IPAddress]) throws(CNIError) {
        var upstream = conf.dnsUpstream ?? PodDNS.hostNameservers()
        upstream.removeAll { u in gateways.contains { $0.description == u } }
        var forward: [JSONValue] = conf.dnsForward.map { .object([("domain", .string($0.domain)), ("server", .string($0.server))]) }
        for peer in conf.peers + Routes(sys: sys).load(conf) {
            if let d = peer.domain, let s = peer.dns { forward.append(.object([("domain", .string(d)), ("server", .string(s))])) }
        }
        let subnets = (conf.ipam?.rangeSets.flatMap { $0 }.map(\.subnet) ?? []).map { JSONValue.string($0.description) }
        let json = JSONValue.object([
            ("listen", .array(gateways.map { .string($0.description) })),
            ("domain", .string(conf.dnsDomain)), ("ttl", .number("\(conf.dnsTTL)")),
            ("upstream", .array(upstream.map { .string($0) })), ("forward", .array(forward)), ("subnets", .array(subnets)),
        ])
        do {
            try sys.makeDirectories(reg.directory, mode: 0o755)
            try sys.writeFile(reg.config, json.serialized())
        } catch {
            throw CNIError(.ioFailure, "cannot write the DNS config", error.description)
        }
    }

    static func hostNameservers() -> [String] {
        guard let bytes = try? Files.read("/etc/resolv.conf") else { return [] }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            return parts.count >= 2 && parts[0] == "nameserver" ? String(parts[1]) : nil
        }
    }

    /// The server holds `server.lock` while it lives: if we can take the lock, it is not
    /// running (never started, or died), so start it and wait until it serves.
    func ensureServer(_ reg: DNSRegistry) throws(CNIError) {
        let fd = open(reg.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CNIError(.ioFailure, "cannot open the DNS server lock", reg.lock) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return }  // alive
        unlink(reg.pidFile)
        flock(fd, LOCK_UN)
        var options = Spawn.Options()
        options.stdin = .null
        options.stdout = .null
        options.stderr = .null
        options.newSession = true
        let pid: pid_t
        do { pid = try sys.spawn("/proc/self/exe", ["swnet", "dns-server", reg.directory], options).pid } catch {
            throw CNIError(.internalError, "cannot start the DNS server", errnoText(error.errno))
        }
        // Serving once its pid file is there (written after binding), or failed once it exited.
        for _ in 0..<500 {
            if sys.exists(reg.pidFile) { return }
            if let status = sys.poll(pid) {
                throw CNIError(.internalError, "the DNS server did not start", "is port 53 on the gateway address free? (exit status \(status))")
            }
            sys.sleep(microseconds: 1000)
        }
        throw CNIError(.internalError, "the DNS server did not start within 0.5 s")
    }

    func stopServer(_ reg: DNSRegistry) {
        guard let bytes = try? sys.readFile(reg.pidFile), let pid = Int32(String(decoding: bytes, as: UTF8.self)) else { return }
        // Only our server: it holds the lock and runs `dns-server <this directory>`.
        if let cmd = try? sys.readFile("/proc/\(pid)/cmdline"),
           String(decoding: cmd, as: UTF8.self).contains("dns-server\u{0}\(reg.directory)") {
            sys.signal(pid, SIGTERM)
        }
        sys.remove(reg.pidFile)
    }
}

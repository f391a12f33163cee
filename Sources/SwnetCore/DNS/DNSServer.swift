import CNetlink
import Glibc
import JSONCore

/// The per-network DNS server (`swnet dns-server DIR`): authoritative for the network's domain
/// and reverse names from the records file, a forwarder for everything else. One process,
/// poll loop, no threads; forwarded queries get a fresh id and are matched back, so a slow
/// upstream never delays local answers.
public enum DNSServer {
    struct Config {
        var listen: [IPAddress]
        var domain: String
        var ttl: UInt32
        var upstream: [(IPAddress, UInt16)]
        var forward: [(domain: String, server: IPAddress, port: UInt16)]
        var subnets: [CIDR]
    }

    struct Pending {
        var socket: Int32
        var client: sockaddr_storage
        var clientLength: socklen_t
        var id: UInt16
        var deadline: Double
    }

    public static func main(directory: String) -> Int32 {
        // A daemon keeps nothing of whoever started it (a runtime waits on its pipes).
        _ = nl_close_from(3)
        let registry = DNSRegistry(directory: directory)
        let lockFd = open(registry.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        // Another server for this network is alive: nothing to do.
        guard lockFd >= 0, flock(lockFd, LOCK_EX | LOCK_NB) == 0 else { return 0 }
        guard let bytes = try? readSmallFileAny(registry.config), let json = try? JSONParser.parse(bytes),
              let config = parse(json) else { return 1 }
        var listeners: [Int32] = []
        for address in config.listen {
            let fd = socket(address.isV4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard fd >= 0, withSockaddr(address, 53, { bind(fd, $0, $1) }) == 0 else { return 1 }
            listeners.append(fd)
        }
        let up4 = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let up6 = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        _ = registry.writePid(getpid())

        var zone = Zone(registry: registry, config: config)
        var pending: [UInt16: Pending] = [:]
        var nextID = UInt16(truncatingIfNeeded: getpid())
        var buf = [UInt8](repeating: 0, count: 4096)
        // Until its network has no names left (DEL of the last pod also stops it), or its
        // directory is gone.
        while access(directory, F_OK) == 0 {
            zone.reloadIfChanged()
            if zone.byName.isEmpty { break }
            var fds = (listeners + [up4, up6]).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), 500)
            let now = monotonic()
            pending = pending.filter { $0.value.deadline > now }
            if ready <= 0 { continue }
            for p in fds where p.revents & Int16(POLLIN) != 0 {
                var from = sockaddr_storage()
                var fromLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = buf.withUnsafeMutableBytes { raw in
                    withUnsafeMutablePointer(to: &from) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(p.fd, raw.baseAddress, raw.count, 0, $0, &fromLength) }
                    }
                }
                guard n > 0 else { continue }
                let packet = Array(buf[0..<n])
                if p.fd == up4 || p.fd == up6 {
                    // An upstream's answer: back to the client with its own id.
                    guard n >= 2 else { continue }
                    let id = UInt16(packet[0]) << 8 | UInt16(packet[1])
                    guard var q = pending.removeValue(forKey: id) else { continue }
                    var reply = packet
                    reply[0] = UInt8(q.id >> 8)
                    reply[1] = UInt8(q.id & 0xff)
                    _ = withUnsafePointer(to: &q.client) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(q.socket, reply, reply.count, 0, $0, q.clientLength) }
                    }
                    continue
                }
                guard let query = DNSQuery(packet) else {
                    if let err = DNSQuery.formatError(packet) { send(p.fd, err, &from, fromLength) }
                    continue
                }
                zone.reloadIfChanged()
                switch zone.answer(query) {
                case .reply(let bytes):
                    send(p.fd, bytes, &from, fromLength)
                case .forward(let server, let port):
                    repeat { nextID &+= 1 } while pending[nextID] != nil
                    var out = packet
                    out[0] = UInt8(nextID >> 8)
                    out[1] = UInt8(nextID & 0xff)
                    pending[nextID] = Pending(socket: p.fd, client: from, clientLength: fromLength, id: query.id, deadline: now + 3)
                    _ = withSockaddr(server, port) { sendto(server.isV4 ? up4 : up6, out, out.count, 0, $0, $1) }
                case .drop:
                    break
                }
            }
        }
        return 0
    }

    static func send(_ fd: Int32, _ bytes: [UInt8], _ to: inout sockaddr_storage, _ length: socklen_t) {
        _ = withUnsafePointer(to: &to) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, length) }
        }
    }

    static func parse(_ json: JSONValue) -> Config? {
        func endpoint(_ s: String, _ defaultPort: UInt16) -> (IPAddress, UInt16)? {
            if let ip = IPAddress(s) { return (ip, defaultPort) }
            // "1.2.3.4:5353" or "[fd00::1]:5353"
            let trimmed = s.hasPrefix("[") ? String(s.dropFirst()) : s
            guard let colon = trimmed.lastIndex(of: ":"), let port = UInt16(trimmed[trimmed.index(after: colon)...]) else { return nil }
            let host = String(trimmed[..<colon]).replacingBracket()
            return IPAddress(host).map { ($0, port) }
        }
        let listen = (json["listen"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(IPAddress.init) }
        guard !listen.isEmpty else { return nil }
        let upstream = (json["upstream"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { endpoint($0, 53) } }
        let forward: [(domain: String, server: IPAddress, port: UInt16)] = (json["forward"]?.arrayValue ?? []).compactMap { f in
            guard let d = f["domain"]?.stringValue, let s = f["server"]?.stringValue, let e = endpoint(s, 53) else { return nil }
            return (d.lowercased(), e.0, e.1)
        }
        let subnets = (json["subnets"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(CIDR.init) }
        var ttl: UInt32 = 5
        if case .number(let t)? = json["ttl"], let v = UInt32(t) { ttl = v }
        return Config(listen: listen, domain: (json["domain"]?.stringValue ?? "").lowercased(), ttl: ttl,
                      upstream: upstream, forward: forward, subnets: subnets)
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// What the server knows: names and addresses from the records file.
struct Zone {
    enum Answer { case reply([UInt8]), forward(IPAddress, UInt16), drop }

    let registry: DNSRegistry
    var config: DNSServer.Config
    var byName: [String: [IPAddress]] = [:]
    var byAddress: [IPAddress: String] = [:]
    var stamp: (Int, Int) = (-1, -1)
    var configStamp: (Int, Int) = (-1, -1)

    init(registry: DNSRegistry, config: DNSServer.Config) {
        self.registry = registry
        self.config = config
        reloadIfChanged()
    }

    static func fileStamp(_ path: String) -> (Int, Int) {
        var st = stat()
        return stat(path, &st) == 0 ? (st.st_mtim.tv_sec, st.st_mtim.tv_nsec ^ Int(st.st_ino)) : (0, 0)
    }

    /// Two stats per query: a name is gone as soon as DEL rewrote the records, and a new peer's
    /// domain is forwarded as soon as its config was rewritten (listen addresses stay).
    mutating func reloadIfChanged() {
        let c = Zone.fileStamp(registry.config)
        if c != configStamp {
            configStamp = c
            if let bytes = try? readSmallFileAny(registry.config), let json = try? JSONParser.parse(bytes),
               let fresh = DNSServer.parse(json) {
                config = fresh
            }
        }
        let s = Zone.fileStamp(registry.records)
        guard s != stamp else { return }
        stamp = s
        byName = [:]
        byAddress = [:]
        for e in registry.entries() {
            byName[e.name, default: []].append(e.address)
            if byAddress[e.address] == nil { byAddress[e.address] = e.name }
        }
    }

    func answer(_ q: DNSQuery) -> Answer {
        let domain = config.domain
        for f in config.forward where q.name == f.domain || q.name.hasSuffix("." + f.domain) {
            return .forward(f.server, f.port)
        }
        if q.name.hasSuffix(".in-addr.arpa") || q.name.hasSuffix(".ip6.arpa") {
            if let ip = reverse(q.name) {
                if let name = byAddress[ip] {
                    let fqdn = domain.isEmpty ? name : name + "." + domain
                    let record = DNSRecord(type: DNSQuery.typePTR, ttl: config.ttl, data: DNSRecord.encodeName(fqdn))
                    return .reply(q.response(rcode: 0, answers: q.type == DNSQuery.typePTR ? [record] : [], authoritative: true))
                }
                if config.subnets.contains(where: { $0.contains(ip) }) {
                    return .reply(q.response(rcode: 3, answers: [], authoritative: true))
                }
            }
            return upstream(q)
        }
        var label: String?
        if !domain.isEmpty, q.name.hasSuffix("." + domain) {
            label = String(q.name.dropLast(domain.count + 1))
        } else if !q.name.contains(".") && !q.name.isEmpty {
            label = q.name
        } else if q.name == domain {
            return .reply(q.response(rcode: 0, answers: [], authoritative: true))
        }
        guard let label else { return upstream(q) }
        guard let addresses = byName[label] else {
            // A single label we do not know may still be a name upstream knows ("localhost").
            if !q.name.contains(".") { return upstream(q) }
            return .reply(q.response(rcode: 3, answers: [], authoritative: true))
        }
        let wanted = addresses.filter { (q.type == DNSQuery.typeA && $0.isV4) || (q.type == DNSQuery.typeAAAA && !$0.isV4) }
        let records = wanted.map { DNSRecord(type: q.type, ttl: config.ttl, data: $0.bytes) }
        return .reply(q.response(rcode: 0, answers: records, authoritative: true))
    }

    func upstream(_ q: DNSQuery) -> Answer {
        guard let (server, port) = config.upstream.first else {
            return .reply(q.response(rcode: 2, answers: [], authoritative: false))
        }
        return .forward(server, port)
    }

    func reverse(_ name: String) -> IPAddress? {
        if name.hasSuffix(".in-addr.arpa") {
            let parts = name.dropLast(13).split(separator: ".").reversed().map(String.init)
            return parts.count == 4 ? IPAddress(parts.joined(separator: ".")) : nil
        }
        let nibbles = name.dropLast(9).split(separator: ".").reversed().map(String.init)
        guard nibbles.count == 32, nibbles.allSatisfy({ $0.count == 1 }) else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            guard let hi = UInt8(nibbles[i], radix: 16), let lo = UInt8(nibbles[i + 1], radix: 16) else { return nil }
            bytes.append(hi << 4 | lo)
        }
        return IPAddress(bytes: bytes)
    }
}

extension String {
    func replacingBracket() -> String { hasSuffix("]") ? String(dropLast()) : self }
}

/// A sockaddr for an address and port, for bind/sendto.
func withSockaddr<T>(_ ip: IPAddress, _ port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    if ip.isV4 {
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        withUnsafeMutableBytes(of: &sa.sin_addr) { $0.copyBytes(from: ip.bytes) }
        return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }
    var sa = sockaddr_in6()
    sa.sin6_family = sa_family_t(AF_INET6)
    sa.sin6_port = port.bigEndian
    withUnsafeMutableBytes(of: &sa.sin6_addr) { $0.copyBytes(from: ip.bytes) }
    return withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
}

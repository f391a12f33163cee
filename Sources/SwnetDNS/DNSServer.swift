import CNI
import Glibc
import JSONCore
import LinuxSys

/// The per-network DNS server (`swnet dns-server DIR`): authoritative for the network's domain
/// and reverse names from the records file, a forwarder for everything else, on UDP and TCP
/// port 53. One process, poll loop, no threads.
///
/// Forwarding is built so that a pod cannot feed it answers (off-path cache poisoning): each
/// upstream query leaves from a socket of its own, connected to the server asked (the kernel
/// drops datagrams from anywhere else, and the source port is a fresh random one), with a
/// random id; an answer counts only with that id and the same question. The table of queries
/// in flight is bounded: when full, a client gets SERVFAIL at once. A local answer too big for
/// UDP's 512 bytes goes out truncated (TC) and the client asks again over TCP.
public enum DNSServer {
    struct Config {
        var listen: [IPAddress]
        var domain: String
        var ttl: UInt32
        var upstream: [(IPAddress, UInt16)]
        var forward: [(domain: String, server: IPAddress, port: UInt16)]
        var subnets: [CIDR]
    }

    /// Where an answer goes back to.
    enum Client {
        case udp(socket: Int32, address: sockaddr_storage, length: socklen_t)
        case tcp(socket: Int32, serial: UInt64)
    }

    struct Pending {
        var client: Client
        var clientID: UInt16
        var upstreamID: UInt16
        var question: [UInt8]
        var deadline: Double
    }

    struct TCPConnection {
        var serial: UInt64
        var buffer: [UInt8] = []
        var deadline: Double
    }

    static let maxPending = 512
    static let maxTCP = 64
    static let udpLimit = 512

    public static func main(directory: String) -> Int32 {
        // A daemon keeps nothing of whoever started it (a runtime waits on its pipes).
        Kernel.closeDescriptors(from: 3)
        let registry = DNSRegistry(directory: directory)
        let lockFd = open(registry.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        // Another server for this network is alive: nothing to do.
        guard lockFd >= 0, flock(lockFd, LOCK_EX | LOCK_NB) == 0 else { return 0 }
        guard let bytes = try? Files.read(registry.config), let json = try? JSONParser.parse(bytes),
              let config = parse(json) else { return 1 }
        signal(SIGPIPE, SIG_IGN)
        var listeners: [Int32] = []
        var tcpListeners: [Int32] = []
        for address in config.listen {
            for stream in [false, true] {
                let kind = stream ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
                let fd = socket(address.isV4 ? AF_INET : AF_INET6, kind | Int32(SOCK_CLOEXEC.rawValue), 0)
                var one: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
                guard fd >= 0, withSockaddr(address, 53, { bind(fd, $0, $1) }) == 0 else { return 1 }
                if stream {
                    guard listen(fd, 64) == 0 else { return 1 }
                    tcpListeners.append(fd)
                } else {
                    listeners.append(fd)
                }
            }
        }
        registry.writePid(getpid())

        var zone = Zone(registry: registry, config: config)
        var pending: [Int32: Pending] = [:]       // by upstream socket
        var connections: [Int32: TCPConnection] = [:]
        var serial: UInt64 = 0
        var buf = [UInt8](repeating: 0, count: 65536)

        func reply(_ client: Client, _ bytes: [UInt8]) {
            switch client {
            case .udp(let fd, var address, let length):
                var out = bytes
                if out.count > udpLimit { out = truncated(out) }
                send(fd, out, &address, length)
            case .tcp(let fd, let s):
                guard connections[fd]?.serial == s, bytes.count <= 65535 else { return }
                let framed = [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes
                if !writeAll(fd, framed) { close(fd); connections[fd] = nil }
            }
        }

        func handle(_ packet: [UInt8], from client: Client, now: Double) {
            guard let query = DNSQuery(packet) else {
                if let err = DNSQuery.formatError(packet) { reply(client, err) }
                return
            }
            zone.reloadIfChanged()
            switch zone.answer(query) {
            case .reply(let bytes):
                reply(client, bytes)
            case .forward(let server, let port):
                guard pending.count < maxPending, let (fd, id) = upstreamQuery(packet, server, port) else {
                    reply(client, query.response(rcode: 2, answers: [], authoritative: false))
                    return
                }
                pending[fd] = Pending(client: client, clientID: query.id, upstreamID: id, question: query.question, deadline: now + 3)
            case .drop:
                break
            }
        }

        // Until its network has no names left (DEL of the last pod also stops it), or its
        // directory is gone.
        while access(directory, F_OK) == 0 {
            zone.reloadIfChanged()
            if zone.byName.isEmpty { break }
            let upstreamFds = Array(pending.keys)
            let tcpFds = Array(connections.keys)
            var fds = (listeners + tcpListeners + upstreamFds + tcpFds).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), 500)
            let now = monotonicSeconds()
            for (fd, p) in pending where p.deadline <= now {
                close(fd)
                pending[fd] = nil
            }
            for (fd, c) in connections where c.deadline <= now {
                close(fd)
                connections[fd] = nil
            }
            if ready <= 0 { continue }
            for p in fds where p.revents != 0 {
                if tcpListeners.contains(p.fd) {
                    let fd = accept(p.fd, nil, nil)
                    guard fd >= 0 else { continue }
                    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    if connections.count >= maxTCP { close(fd); continue }
                    serial += 1
                    connections[fd] = TCPConnection(serial: serial, deadline: now + 10)
                    continue
                }
                if var connection = connections[p.fd] {
                    let n = buf.withUnsafeMutableBytes { recv(p.fd, $0.baseAddress, $0.count, 0) }
                    if n <= 0 {
                        if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                        close(p.fd)
                        connections[p.fd] = nil
                        continue
                    }
                    connection.buffer += buf[0..<n]
                    var messages: [[UInt8]] = []
                    while connection.buffer.count >= 2 {
                        let length = Int(connection.buffer[0]) << 8 | Int(connection.buffer[1])
                        guard connection.buffer.count >= 2 + length else { break }
                        messages.append(Array(connection.buffer[2..<(2 + length)]))
                        connection.buffer.removeFirst(2 + length)
                    }
                    connection.deadline = now + 10
                    connections[p.fd] = connection
                    for m in messages { handle(m, from: .tcp(socket: p.fd, serial: connection.serial), now: now) }
                    continue
                }
                if let q = pending[p.fd] {
                    // Connected: only the server asked can send here. Its answer counts with our
                    // id and the question we asked; anything else is ignored.
                    let n = buf.withUnsafeMutableBytes { recv(p.fd, $0.baseAddress, $0.count, 0) }
                    if n < 0 && errno != EAGAIN && errno != EINTR {
                        // The server is unreachable (ICMP): SERVFAIL now rather than at the deadline.
                        close(p.fd)
                        pending[p.fd] = nil
                        reply(q.client, servfail(q))
                        continue
                    }
                    guard n >= 12 + q.question.count else { continue }
                    let id = UInt16(buf[0]) << 8 | UInt16(buf[1])
                    let qdcount = UInt16(buf[4]) << 8 | UInt16(buf[5])
                    guard id == q.upstreamID, buf[2] & 0x80 != 0, qdcount == 1,
                          buf[12..<(12 + q.question.count)].elementsEqual(q.question) else { continue }
                    var answer = Array(buf[0..<n])
                    answer[0] = UInt8(q.clientID >> 8)
                    answer[1] = UInt8(q.clientID & 0xff)
                    close(p.fd)
                    pending[p.fd] = nil
                    reply(q.client, answer)
                    continue
                }
                guard p.revents & Int16(POLLIN) != 0, listeners.contains(p.fd) else { continue }
                var from = sockaddr_storage()
                var fromLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = buf.withUnsafeMutableBytes { raw in
                    withUnsafeMutablePointer(to: &from) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(p.fd, raw.baseAddress, raw.count, 0, $0, &fromLength) }
                    }
                }
                guard n > 0 else { continue }
                handle(Array(buf[0..<n]), from: .udp(socket: p.fd, address: from, length: fromLength), now: now)
            }
        }
        return 0
    }

    /// Sends `packet` to the server from a new socket connected to it (a fresh random port),
    /// under a random id. The socket and the id, or nil.
    static func upstreamQuery(_ packet: [UInt8], _ server: IPAddress, _ port: UInt16) -> (Int32, UInt16)? {
        let fd = socket(server.isV4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return nil }
        // (SystemRandomNumberGenerator: getrandom(2), unpredictable.)
        let id = UInt16.random(in: 0...UInt16.max)
        guard withSockaddr(server, port, { connect(fd, $0, $1) }) == 0 else {
            close(fd)
            return nil
        }
        var out = packet
        out[0] = UInt8(id >> 8)
        out[1] = UInt8(id & 0xff)
        guard Glibc.send(fd, out, out.count, 0) == out.count else {
            close(fd)
            return nil
        }
        return (fd, id)
    }

    /// SERVFAIL for a query in flight: its header and question, the client's id.
    static func servfail(_ q: Pending) -> [UInt8] {
        [UInt8(q.clientID >> 8), UInt8(q.clientID & 0xff), 0x81, 0x82, 0, 1, 0, 0, 0, 0, 0, 0] + q.question
    }

    /// The header and question of an answer, with TC set: the client asks again over TCP.
    static func truncated(_ answer: [UInt8]) -> [UInt8] {
        guard answer.count >= 12, let q = DNSQuery.questionEnd(answer) else { return Array(answer.prefix(12)) }
        var out = Array(answer[0..<q])
        out[2] |= 0x02
        out[6] = 0; out[7] = 0; out[8] = 0; out[9] = 0; out[10] = 0; out[11] = 0
        return out
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var off = 0
        var waited = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { off += n; continue }
            if n < 0 && errno == EINTR { continue }
            // A client that does not read: give it a second, then drop it.
            guard n < 0 && errno == EAGAIN && waited < 100 else { return false }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, 10)
            waited += 1
        }
        return true
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
}

/// What the server knows: names and addresses from the records file.
package struct Zone {
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
            if let bytes = try? Files.read(registry.config), let json = try? JSONParser.parse(bytes),
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
package func withSockaddr<T>(_ ip: IPAddress, _ port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
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

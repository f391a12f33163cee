import CNI
import Glibc
import JSONCore
import LinuxSys

/// A network's DNS state on disk, shared by the plugin (writer, under the network's lock) and
/// the server (reader): `<dataDir>/<network>/dns/` holds `records` ("name address" lines, one
/// attachment's names per "# id/ifname" block), `config.json` (what the server serves), and the
/// server's `server.lock` and `pid`.
public struct DNSRegistry {
    public let directory: String
    public var records: String { directory + "/records" }
    public var config: String { directory + "/config.json" }
    public var lock: String { directory + "/server.lock" }
    public var pidFile: String { directory + "/pid" }

    public init(dataDir: String, network: String) {
        directory = dataDir + "/" + network + "/dns"
    }

    public init(directory: String) { self.directory = directory }

    func writePid(_ pid: pid_t) { try? Files.write(pidFile, "\(pid)") }

    public struct Entry: Sendable {
        public var attachment: String   // "id/ifname"
        public var name: String
        public var address: IPAddress
    }

    public func entries() -> [Entry] {
        guard let bytes = try? Files.read(records) else { return [] }
        var out: [Entry] = []
        var attachment = ""
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("# ") { attachment = String(line.dropFirst(2)); continue }
            let parts = line.split(separator: " ")
            if parts.count == 2, let ip = IPAddress(String(parts[1])) {
                out.append(Entry(attachment: attachment, name: String(parts[0]), address: ip))
            }
        }
        return out
    }

    /// Replaces the names of one attachment (nil: removes them). Call under the network's lock.
    public func set(attachment: String, names: [String], addresses: [IPAddress]?) {
        _ = mkdir(directory, 0o755)
        var keep = entries().filter { $0.attachment != attachment }
        if let addresses {
            for name in names { for ip in addresses { keep.append(Entry(attachment: attachment, name: name, address: ip)) } }
        }
        var text = ""
        var current: String?
        for e in keep.sorted(by: { $0.attachment < $1.attachment }) {
            if e.attachment != current { text += "# \(e.attachment)\n"; current = e.attachment }
            text += "\(e.name) \(e.address)\n"
        }
        // Renamed over the old file: the server never reads half a file.
        try? Files.replace(records, text)
    }

    /// A DNS label from a pod name or alias ("My_Pod" -> "my-pod").
    public static func label(_ name: String) -> String {
        let mapped = name.lowercased().map { c -> Character in
            (c.isLetter && c.isASCII) || (c.isNumber && c.isASCII) || c == "-" ? c : "-"
        }
        return String(String(mapped).prefix(63))
    }
}


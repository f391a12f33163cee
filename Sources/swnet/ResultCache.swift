import CNI
import Glibc
import IPAM
import JSONCore
import LinuxSys
import SwnetBridge
import SwnetDNS

/// The command line's ADD results (for CHECK, DEL and GC), in libcni's record format
/// (`kind: cniCacheV1` with containerId, ifName, networkName, result). The attachment is read
/// from the record, never from the file name: libcni's `<network>-<id>-<ifname>` cannot be
/// split back when names hold `-`. Our files are `<network>+<id>+<ifname>` (a network name
/// and a container id never hold `+`), so two attachments never share one.
struct ResultCache {
    let dir: String
    let network: String
    var results: String { dir + "/results" }

    func path(_ id: String, _ ifname: String) -> String { "\(results)/\(network)+\(id)+\(ifname)" }
    /// Where swnet and libcni put results before.
    func legacyPath(_ id: String, _ ifname: String) -> String { "\(results)/\(network)-\(id)-\(ifname)" }

    func result(id: String, ifname: String) -> JSONValue? {
        for p in [path(id, ifname), legacyPath(id, ifname)] {
            guard let bytes = try? readFile(p), let json = try? JSONParser.parse(bytes) else { continue }
            if json["kind"]?.stringValue == "cniCacheV1" {
                guard json["containerId"]?.stringValue == id, json["ifName"]?.stringValue == ifname,
                      json["networkName"]?.stringValue == network else { continue }
                return json["result"]
            }
            return json  // an older swnet's file: the result alone
        }
        return nil
    }

    func store(id: String, ifname: String, result: JSONValue) {
        _ = mkdir(dir, 0o755)
        _ = mkdir(results, 0o700)
        let record = JSONValue.object([("kind", .string("cniCacheV1")), ("containerId", .string(id)), ("ifName", .string(ifname)),
                                       ("networkName", .string(network)), ("result", result)])
        try? Files.write(path(id, ifname), record.serialized())
    }

    func remove(id: String, ifname: String) {
        unlink(path(id, ifname))
        // A legacy-named file goes when it is this attachment's (or an older swnet's bare result).
        if let bytes = try? readFile(legacyPath(id, ifname)), let json = try? JSONParser.parse(bytes),
           json["kind"]?.stringValue != "cniCacheV1" || json["containerId"]?.stringValue == id && json["ifName"]?.stringValue == ifname {
            unlink(legacyPath(id, ifname))
        }
    }

    /// The attachments of this network that hold a cached result. An older file without a
    /// record counts, conservatively, as every attachment its name could be split into.
    func attachments() -> [NetworkConfig.Attachment] {
        var out: [NetworkConfig.Attachment] = []
        for name in Files.entries(results) ?? [] {
            guard name.hasPrefix(network + "+") || name.hasPrefix(network + "-") else { continue }
            guard let bytes = try? readFile(results + "/" + name), let json = try? JSONParser.parse(bytes) else { continue }
            if json["kind"]?.stringValue == "cniCacheV1" {
                if json["networkName"]?.stringValue == network, let id = json["containerId"]?.stringValue, let ifname = json["ifName"]?.stringValue {
                    out.append(.init(containerID: id, ifname: ifname))
                }
                continue
            }
            let rest = Array(name.utf8.dropFirst(network.utf8.count + 1))
            for (i, c) in rest.enumerated() where c == UInt8(ascii: "-") && i > 0 && i < rest.count - 1 {
                out.append(.init(containerID: String(decoding: rest[..<i], as: UTF8.self), ifname: String(decoding: rest[(i + 1)...], as: UTF8.self)))
            }
        }
        return out
    }
}

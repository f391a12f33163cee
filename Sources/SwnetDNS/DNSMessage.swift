import CNI
import JSONCore
import LinuxSys

/// The parts of RFC 1035 a small authoritative-and-forwarding server needs: read a query's
/// header and question (bounds-checked: a malformed packet is nil, never a crash), and build
/// answers.
public struct DNSQuery: Sendable {
    public var id: UInt16
    public var flags: UInt16
    public var name: String       // lower case, no trailing dot
    public var type: UInt16
    public var qclass: UInt16
    /// The question section as received (echoed in the answer).
    public var question: [UInt8]

    public static let typeA: UInt16 = 1, typePTR: UInt16 = 12, typeAAAA: UInt16 = 28

    public init?(_ packet: [UInt8]) {
        guard packet.count >= 12 else { return nil }
        id = UInt16(packet[0]) << 8 | UInt16(packet[1])
        flags = UInt16(packet[2]) << 8 | UInt16(packet[3])
        let qdcount = UInt16(packet[4]) << 8 | UInt16(packet[5])
        // A query (QR = 0) with exactly one question.
        guard flags & 0x8000 == 0, qdcount == 1 else { return nil }
        var i = 12
        var labels: [String] = []
        var length = 0
        while true {
            guard i < packet.count else { return nil }
            let n = Int(packet[i])
            if n == 0 { i += 1; break }
            guard n < 64, i + 1 + n <= packet.count else { return nil }  // no compression in a question
            length += n + 1
            guard length <= 255 else { return nil }
            labels.append(String(decoding: packet[(i + 1)..<(i + 1 + n)], as: UTF8.self).lowercased())
            i += 1 + n
        }
        guard i + 4 <= packet.count else { return nil }
        type = UInt16(packet[i]) << 8 | UInt16(packet[i + 1])
        qclass = UInt16(packet[i + 2]) << 8 | UInt16(packet[i + 3])
        question = Array(packet[12..<(i + 4)])
        name = labels.joined(separator: ".")
    }

    /// A response: rcode 0 (with `answers`), 3 (NXDOMAIN), 2 (SERVFAIL), 1 (FORMERR).
    public func response(rcode: UInt8, answers: [DNSRecord], authoritative: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out += [UInt8(id >> 8), UInt8(id & 0xff)]
        // QR, opcode of the query, AA, RD copied, RA; rcode.
        let rd = UInt8((flags >> 8) & 0x01)
        out.append(0x80 | UInt8((flags >> 11) & 0x0f) << 3 | (authoritative ? 0x04 : 0) | rd)
        out.append(0x80 | (rcode & 0x0f))
        out += [0, 1, UInt8(answers.count >> 8), UInt8(answers.count & 0xff), 0, 0, 0, 0]
        out += question
        for a in answers {
            out += [0xc0, 0x0c]  // the name: a pointer to the question
            out += [UInt8(a.type >> 8), UInt8(a.type & 0xff), 0, 1]
            out += [UInt8(a.ttl >> 24), UInt8((a.ttl >> 16) & 0xff), UInt8((a.ttl >> 8) & 0xff), UInt8(a.ttl & 0xff)]
            out += [UInt8(a.data.count >> 8), UInt8(a.data.count & 0xff)]
            out += a.data
        }
        return out
    }

    /// Where the (single, uncompressed) question of a message ends, or nil.
    public static func questionEnd(_ packet: [UInt8]) -> Int? {
        var i = 12
        while i < packet.count {
            let n = Int(packet[i])
            if n == 0 { return i + 5 <= packet.count ? i + 5 : nil }
            guard n < 64 else { return nil }
            i += 1 + n
        }
        return nil
    }

    /// Just the header of a packet that could not be parsed as a question: FORMERR.
    public static func formatError(_ packet: [UInt8]) -> [UInt8]? {
        guard packet.count >= 12, packet[2] & 0x80 == 0 else { return nil }
        return [packet[0], packet[1], 0x80, 0x81, 0, 0, 0, 0, 0, 0, 0, 0]
    }
}

public struct DNSRecord: Sendable {
    public var type: UInt16
    public var ttl: UInt32
    public var data: [UInt8]

    /// A name in wire format: "a.b" -> 1 a 1 b 0.
    public static func encodeName(_ name: String) -> [UInt8] {
        var out: [UInt8] = []
        for label in name.split(separator: ".") where !label.isEmpty {
            let bytes = Array(label.utf8.prefix(63))
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out.append(0)
        return out
    }
}

extension IPAddress {
    /// The reverse-lookup name: "4.3.2.1.in-addr.arpa" or the ip6.arpa nibbles.
    public var reverseName: String {
        if isV4 { return bytes.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa" }
        let hex = Array("0123456789abcdef")
        var nibbles: [String] = []
        for b in bytes.reversed() {
            nibbles.append(String(hex[Int(b & 0x0f)]))
            nibbles.append(String(hex[Int(b >> 4)]))
        }
        return nibbles.joined(separator: ".") + ".ip6.arpa"
    }
}
